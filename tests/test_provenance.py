"""Provenance: every table and figure carries config hash, level of theory, potential, versions, git commit."""
import copy
import json
import re

from linmr import config, provenance

from .conftest import ROOT

CFG = config.load(ROOT / "tests/micro.yaml")


def test_sidecar_contents(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("a_ppm\n1.0\n")
    side = provenance.write_sidecar(table, CFG, rule="demo")
    assert side.name == "t.csv.provenance.json"
    rec = json.loads(side.read_text())
    assert rec["config_hash"] == provenance.config_hash(CFG) and len(rec["config_hash"]) == 12
    assert rec["level_of_theory"] == "PBE/Li:6-31G*,*:STO-3G/RI-GIAO/grid0"
    assert rec["potential"]["name"].startswith("chgnet ") and rec["potential"]["engine"] == "ase"
    assert {"torch", "pyscf", "ase", "snakemake"} <= set(rec["versions"])
    assert re.fullmatch(r"[0-9a-f]{4,40}|unknown", rec["git_commit"])
    assert rec["sha256"] == provenance.sha256_file(table) and rec["rule"] == "demo"
    assert not list(tmp_path.glob("*.tmp*"))  # written under a temporary name, then renamed


def test_config_hash_tracks_every_setting():
    other = copy.deepcopy(CFG)
    other["dft"]["basis"]["Li"] = "pcSseg-1"
    assert provenance.config_hash(other) != provenance.config_hash(CFG)
    assert provenance.record(other)["level_of_theory"] != provenance.record(CFG)["level_of_theory"]


def test_user_model_file_is_fingerprinted(tmp_path):
    model = tmp_path / "m.pt"
    model.write_bytes(b"weights")
    cfg = copy.deepcopy(CFG)
    cfg["md"]["model_path"] = str(model)
    assert provenance.potential(cfg)["model_sha256"] == provenance.sha256_file(model)


def test_job_sidecars_cover_tables_figures_and_pdf_twins(tmp_path):
    (tmp_path / "fig.png").write_bytes(b"\x89PNG")
    (tmp_path / "fig.pdf").write_bytes(b"%PDF")
    (tmp_path / "x.csv").write_text("a\n")
    (tmp_path / "bundle").mkdir()
    (tmp_path / "traj.extxyz").write_text("")
    done = provenance.write_sidecars(
        [tmp_path / "fig.png", tmp_path / "x.csv", tmp_path / "bundle", tmp_path / "traj.extxyz"], CFG
    )
    assert sorted(p.name for p in done) == ["fig.pdf.provenance.json", "fig.png.provenance.json", "x.csv.provenance.json"]
    summary = provenance.summary([tmp_path / "x.csv", tmp_path / "none.csv"], CFG)
    assert [f["sidecar"] for f in summary["files"]] == [True, False]
    page = provenance.html(summary)
    assert provenance.config_hash(CFG) in page and "NO SIDECAR" in page and "level of theory" in page


def test_every_rule_script_that_writes_results_stamps_them():
    """Each script runs inside ``linmr.logs.rule_log``, which stamps every table and figure of the job."""
    for script in sorted((ROOT / "scripts").glob("*.py")):
        if script.name == "provenance_report.py":
            continue
        assert "with rule_log(snakemake" in script.read_text(), f"{script.name} writes results without provenance"


def test_report_shows_provenance():
    rules = (ROOT / "workflow/rules/provenance.smk").read_text()
    assert 'report("results/provenance.html"' in rules and 'category="Provenance"' in rules
    assert '"results/provenance.html"' in (ROOT / "Snakefile").read_text()
