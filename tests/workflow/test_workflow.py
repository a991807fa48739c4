"""End to end: Snakemake runs every rule on the micro config (two concentrations, a few minutes)."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ..conftest import ROOT

SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def _copy_project(dst: Path) -> None:
    for name in ("Snakefile", "workflow", "scripts", "config", "profiles", "envs", "tests"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst / name)


def test_paper_config_plans():
    out = subprocess.run(
        SNAKEMAKE + ["-n", "--configfile", "config/paper.yaml", "--quiet", "rules"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "dft_bundle" in out.stdout + out.stderr


def test_largest_md_box_is_scheduled_first():
    """MD jobs outrank everything else, and among them the largest box (n_salt / molarity) goes first."""
    out = subprocess.run(SNAKEMAKE + ["-n", "--verbose", "--configfile", "config/workstation.yaml"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    jobs = []  # (rule, wildcards, priority) of every planned job
    for block in re.split(r"^(?:local)?rule ", out.stdout + out.stderr, flags=re.M)[1:]:
        prio = re.search(r"^\s+priority: ([\d.]+)", block, flags=re.M)
        wc = re.search(r"^\s+wildcards: (.*)$", block, flags=re.M)
        jobs.append((block.split(":")[0], wc.group(1) if wc else "", float(prio.group(1)) if prio else 0.0))
    md = {wc: p for rule, wc, p in jobs if rule == "md"}
    assert sorted(md, key=md.get, reverse=True) == [f"conc={c}M" for c in (1, 2, 3, 4)], md
    other = [p for rule, _, p in jobs if rule != "md"]
    assert len(other) > 20 and max(other) < min(md.values())


def test_feedback_frames_are_labelled_in_round_0_and_production_hands_candidates_on(tmp_path):
    """potential.feedback_frames (e.g. an earlier campaign's production candidates) plan one labelling job whose
    labels every round trains on; without them no such job; a campaign that trains its potential writes each box's
    candidates."""
    import yaml
    from ase import Atoms
    from ase.io import write

    _copy_project(tmp_path)
    write(tmp_path / "earlier_2M.extxyz", Atoms("H2", positions=[[0, 0, 0], [0.74, 0, 0]], cell=[9, 9, 9], pbc=True))
    cfg = yaml.safe_load((ROOT / "config/workstation.yaml").read_text())

    def plan(feedback, *targets):
        cfg["potential"]["feedback_frames"] = feedback
        (tmp_path / "fb.yaml").write_text(yaml.safe_dump(cfg))
        out = subprocess.run(SNAKEMAKE + ["-n", *targets, "--configfile", "fb.yaml"], cwd=tmp_path,
                             capture_output=True, text=True)
        assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
        return out.stdout + out.stderr

    text = plan(["earlier_2M.extxyz"], "results/potential/round_1/model_0.pb")
    block = re.search(r"rule potential_label_feedback:\n(.*?)\n\n", text, flags=re.S).group(1)
    assert "earlier_2M.extxyz" in block and "results/potential/round_0/labels_feedback.extxyz" in block
    train = [b for b in re.split(r"\n(?=\S)", text) if b.startswith("rule potential_train")]
    # round 0's two members (both explore round 1) and round 1's member 0
    assert len(train) == 3 and all("labels_feedback.extxyz" in b for b in train)
    assert "potential_label_feedback" not in plan([], "results/potential/round_1/model_0.pb")
    assert all(f"results/md/{c}M/candidates.extxyz" in plan([]) for c in (1, 2, 3, 4))


@pytest.mark.slow
def test_micro_campaign_runs_every_rule(tmp_path):
    _copy_project(tmp_path)
    cmd = SNAKEMAKE + ["--cores", "2", "--configfile", "tests/micro.yaml", "--profile", "profiles/local"]
    out = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=1500)
    assert out.returncode == 0, out.stderr[-4000:]
    r = tmp_path / "results"
    for fig in ("spectra", "shift_vs_concentration", "parity", "solvation", "shift_per_class",
                "rdf", "convergence", "shift_per_motif", "learning_curve"):
        assert (r / "figures" / f"{fig}.png").stat().st_size > 10_000
        assert (r / "figures" / f"{fig}.pdf").exists()
    shifts = pd.read_csv(r / "dft/shifts.csv")
    # shifts, not shieldings (sigma ~ 90 ppm): |delta| stays well below that even for unequilibrated micro frames
    assert len(shifts) >= 3 and shifts["delta_ppm"].abs().max() < 40
    metrics = pd.read_csv(r / "model/metrics.csv")
    assert set(metrics["model"]) == {"nn_ensemble", "soap_ridge", "mean_predictor"}
    for conc, n_li in (("1M", 1), ("4M", 4)):
        pred = pd.read_csv(r / f"predictions/{conc}.csv")
        assert pred.groupby("frame")["li_index"].nunique().eq(n_li).all()  # every Li in every frame
        assert pred["spread_ppm"].ge(0).all()
    curve = pd.read_csv(r / "tables/shift_vs_concentration.csv")
    assert list(curve["concentration_mol_L"]) == [1.0, 4.0]
    assert curve["cn_O_anion"].notna().all() and (curve["r_min_O_anion_A"] > 1.5).all()
    lc = pd.read_csv(r / "model/learning_curve.csv")
    assert sorted(set(lc["fraction"])) == [0.5, 1.0] and set(lc["model"]) == set(metrics["model"])
    # the saved bundle, loaded in this (new) process, reproduces the training process's test predictions exactly
    from ase.io import read

    from linmr.ml import descriptors
    from linmr.ml.model import Bundle

    b = Bundle.load(r / "model/bundle")
    labels = pd.read_csv(r / "dft/shifts.csv", dtype={"cluster_id": str})
    trajs = {c: read(r / f"md/{c}/production.extxyz", index=":") for c in ("1M", "4M")}
    x = descriptors.labelled_features(labels, trajs, descriptors.Featurizer(descriptors.SoapSettings.from_dict(b.featurizer)))
    saved = pd.read_csv(r / "model/test_predictions.csv", dtype={"cluster_id": str})
    test = labels.reset_index().set_index("cluster_id").loc[saved["cluster_id"], "index"].to_numpy()
    assert (b.predict(x[test])[0] == saved["delta_nn_ppm"].to_numpy()).all()
    # prediction uses the bundle retrained by active learning, which saw the extra labels
    al = Bundle.load(r / "model/active_learning/bundle")
    al_labels = pd.read_csv(r / "model/active_learning/shifts.csv", dtype={"cluster_id": str})
    assert al.metadata["active_learning_rounds"] == 1 and al.metadata["n_labels"] == len(al_labels) > len(labels)
    metrics = pd.read_csv(r / "model/metrics.csv")
    assert set(metrics["evaluation"]) == {"test split", "grouped 2-fold CV"}
    assert (metrics.loc[metrics["evaluation"] == "grouped 2-fold CV", "n"] == len(labels)).all()
    # every rule wrote its log
    assert (tmp_path / "logs/md/4M.log").stat().st_size > 0
    assert (tmp_path / "logs/model/train.log").stat().st_size > 0
    # a second run has nothing to do
    again = subprocess.run(cmd + ["-n"], cwd=tmp_path, capture_output=True, text=True)
    assert "Nothing to be done" in again.stdout + again.stderr
    # only keys that change a result rerun a job: resources plan nothing, a plotting key only the figures,
    # a DFT key the DFT and everything after it
    assert _planned(tmp_path, md={"threads": 2}, dft={"threads": 2, "max_memory_mb": 6000, "max_failed_fraction": 0.9},
                    run_name="renamed", density_source="measured") == set()
    assert _planned(tmp_path, spectra={"linewidth_Hz": 60.0}) == {"figures", "provenance", "all"}
    assert _planned(tmp_path, solvation={"r_bind_A": 2.5}) == {"predict", "figures", "provenance", "all"}
    after_dft = {"dft_reference", "dft_bundle", "dft_collect", "train", "active_learning", "predict", "figures",
                 "provenance", "all"}
    assert _planned(tmp_path, dft={"method": "B3LYP"}) == after_dft
    assert _planned(tmp_path, model={"active_learning": {"rounds": 1, "per_round": 3}}) == {
        "active_learning", "predict", "figures", "provenance", "all"}
    assert _planned(tmp_path, md={"prod_steps": 28}) >= {"md", "clusters"} | after_dft - {"dft_reference"}
    # the level study (not in all): a ladder key plans nothing of the campaign; run on the finished micro campaign
    study = {"n_clusters": 3, "reference": "PBE/6-31G", "radii_A": [4.0],
             "levels": [{"name": "PBE/6-31G", "method": "PBE", "basis": {"default": "6-31G"}, "density_fit": True}]}
    assert _planned(tmp_path, dft={"level_study": study}) == set()
    out = subprocess.run(SNAKEMAKE + ["level_study", "--cores", "2", "--configfile", "changed.yaml"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-4000:]
    ladder = pd.read_csv(r / "dft/level_study/ladder.csv")
    assert len(ladder) == 6 and set(ladder["level"]) == {"campaign", "PBE/6-31G"} and set(ladder["status"]) == {"ok"}
    sizes = pd.read_csv(r / "dft/level_study/cluster_size.csv")
    assert sorted(set(sizes["second_shell_r_cut_A"])) == [0.0, 4.0]
    first, wide = (sizes[sizes["second_shell_r_cut_A"] == rad]["n_atoms"].to_numpy() for rad in (0.0, 4.0))
    assert (wide >= first).all()
    choice = json.loads((r / "dft/level_study/choice.json").read_text())
    assert choice["reference"] == "PBE/6-31G" and choice["n_clusters"] == 3
    for fig in ("level_ladder", "cluster_size"):
        assert (r / f"dft/level_study/{fig}.png").stat().st_size > 10_000
    assert (tmp_path / "logs/dft/level_study.log").stat().st_size > 0


def _planned(proj: Path, **changes) -> set[str]:
    """Rules a dry run plans on the finished micro campaign after ``changes`` (section -> {key: value})."""
    import yaml

    cfg = yaml.safe_load((proj / "tests/micro.yaml").read_text())
    for section, value in changes.items():
        if isinstance(value, dict):
            cfg[section].update(value)
        else:
            cfg[section] = value
    (proj / "changed.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))  # the same key order as the run
    out = subprocess.run(SNAKEMAKE + ["-n", "--configfile", "changed.yaml", "--quiet", "rules"], cwd=proj,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout + out.stderr
    if "Nothing to be done" in text:
        return set()
    table = text.split("Job stats:")[1]
    return {m for m, _ in re.findall(r"^(\w+)\s+(\d+)\s*$", table, flags=re.M)} - {"total"}
