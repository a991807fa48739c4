"""Faults: SIGKILL the Snakemake process (and its running job) in every stage of a tiny campaign,
rerun, and check that the run completes, no finished job is redone, no half-written file is taken as
complete, no temporary file is left, and the outputs equal those of an uninterrupted run with the same seeds.

One tiny project is killed stage by stage (each phase targets the next stage's output, so every stage
is hit once); an uninterrupted copy runs alongside it for the comparison. Each kill falls inside the work,
not at the job's start: the box packed but killed before its rename (the fault hook of linmr.fileio); MD after its equilibration checkpoint and first production frame;
clusters after SOAP and the selection; the DFT bundle after its first cluster; training mid-epochs;
prediction killed by its own process between a complete temporary table and the rename (the fault hook),
then again mid-frames; figures after the first tables.
"""
import base64
import copy
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ..conftest import ROOT

# (stage, target the phase asks for, the sign that the job is inside its work: "path" exists, "path:N" has
# N lines, "path~text" contains text, "proc:name" a process of that name runs; "fault:<suffix>": no marker,
# the job kills itself before renaming its complete temporary <suffix> file)
STAGES = [
    ("box", "results/boxes/1M.json", "fault:results/boxes/1M.extxyz"),  # packed, not yet renamed
    ("box", "results/boxes/1M.json", "logs/boxes/1M.log"),
    # after the equilibrated checkpoint and the first production frame: the rerun resumes production
    ("md", "results/md/1M/production.extxyz", "results/md/1M/restart/production.partial.extxyz:1"),
    ("clusters", "results/clusters/1M/clusters.csv", "logs/clusters/1M.log~clusters ("),
    ("dft_reference", "results/dft/reference.json", "logs/dft/reference.log"),
    # killed after its first cluster is recorded: the rerun resumes from the partial file
    ("dft_bundle", "results/dft/1M/bundle_000.csv", "results/dft/1M/bundle_000.csv.partial:2"),
    ("dft_collect", "results/dft/shifts.csv", "logs/dft/collect.log"),
    ("train", "results/model/metrics.csv", "logs/model/train.log~train="),
    ("active_learning", "results/model/active_learning/learning_curve.csv", "logs/model/active_learning.log"),
    ("predict", "results/predictions/1M.csv", "fault:results/predictions/1M.csv"),
    ("predict", "results/predictions/1M.csv", "logs/predict/1M.log~frame/s"),
    ("figures", "results/tables/shift_vs_concentration.csv", "logs/figures.log~coordination numbers"),
    ("provenance", "results/provenance.html", "logs/provenance.log"),
]


def _tiny_config() -> dict:
    c = yaml.safe_load((ROOT / "tests/micro.yaml").read_text())
    c["run_name"] = "faults"
    c["concentrations"] = [{"molarity_mol_L": 1.0, "density_g_cm3": 0.979, "n_salt": 1}]
    c["md"].update(min_steps=0, heat_steps=0, npt_steps=0, prod_steps=3, stride=1, checkpoint_every_steps=1)
    c["clusters"].update(per_concentration=3, bundle_size=2, skip_frames=0)
    c["descriptor"].update(n_max=2, l_max=1)
    c["model"].update(hidden=[8], ensemble=1, max_epochs=5, patience=5)
    return c


def _project(dst: Path, cfg: dict) -> Path:
    dst.mkdir()
    for name in ("Snakefile", "workflow", "scripts", "config", "profiles", "envs"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst / name)
    (dst / "faults.yaml").write_text(yaml.safe_dump(cfg))
    return dst


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    return env


def _cmd(*extra):
    return [sys.executable, "-m", "snakemake", "--cores", "1", "--configfile", "faults.yaml",
            "--profile", "profiles/local", *extra]


def _started(proj: Path, marker: str, pgid: int) -> bool:
    if marker.startswith("proc:"):
        out = subprocess.run(["pgrep", "-g", str(pgid), "-x", marker[5:]], capture_output=True)
        return out.returncode == 0
    if "~" in marker:
        path, _, text = marker.partition("~")
        p = proj / path
        return p.exists() and text in p.read_text(errors="replace")
    path, _, rows = marker.partition(":")
    p = proj / path
    if not p.exists():
        return False
    return not rows or len(p.read_text(errors="replace").splitlines()) >= int(rows)


def _incomplete(proj: Path) -> set[str]:
    d = proj / ".snakemake/incomplete"
    out = set()
    for f in d.iterdir() if d.is_dir() else []:  # one marker per output, named by its urlsafe base64 path
        name = f.name
        out.add(base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode(errors="replace"))
    return out


def _finished(proj: Path) -> dict[str, int]:
    """Result files Snakemake considers complete, with their mtimes (ns)."""
    bad = _incomplete(proj)
    out = {}
    for p in (proj / "results").rglob("*"):
        rel = p.relative_to(proj).as_posix()
        if p.suffix == ".partial" or ".tmp" in p.name or "/restart/" in rel:  # scratch a job resumes from
            continue
        # a provenance sidecar belongs to its output: a job killed after writing both is rerun as a whole
        owner = rel.removesuffix(".provenance.json")
        if owner.endswith(".pdf"):  # a figure's vector copy belongs to its declared .png
            owner = owner.removesuffix(".pdf") + ".png"
        if p.is_file() and owner not in bad and not any(owner.startswith(b.rstrip("/") + "/") for b in bad):
            out[rel] = p.stat().st_mtime_ns
    return out


def _kill_during(proj: Path, target: str, marker: str, timeout: float = 900) -> None:
    if marker.startswith("fault:"):  # the job kills itself mid-write; Snakemake reports the failed job
        env = dict(_env(), LINMR_FAULT_KILL_BEFORE_RENAME=marker[6:])
        out = subprocess.run(_cmd("--nolock", target), cwd=proj, env=env, capture_output=True, text=True,
                             timeout=timeout)
        assert out.returncode != 0, "the fault hook did not kill the job"
        assert list((proj / Path(marker[6:]).parent).glob(Path(marker[6:]).stem + ".tmp*")), \
            "the killed job left no temporary file: the kill was not between write and rename"
        return
    proc = subprocess.Popen(_cmd("--nolock", target), cwd=proj, env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    t0 = time.time()
    try:
        while not _started(proj, marker, proc.pid):
            if proc.poll() is not None:
                raise AssertionError(f"snakemake ended (rc {proc.returncode}) before {marker} appeared")
            if time.time() - t0 > timeout:
                raise AssertionError(f"{marker} did not appear in {timeout} s")
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the Snakemake process and the job it runs
        proc.wait()


def _comparable(proj: Path) -> dict[str, str]:
    """Digest of every deterministic result: tables without wall-clock columns, structures, box metadata."""
    out = {}
    for p in sorted((proj / "results").rglob("*")):
        rel = p.relative_to(proj).as_posix()
        if rel.endswith(".csv"):
            df = pd.read_csv(p)
            df = df[[c for c in df.columns if not c.endswith("_s")]]  # seconds of wall time differ run to run
            out[rel] = hashlib.sha256(df.to_csv(index=False).encode()).hexdigest()
        elif rel.endswith(".extxyz") or rel.startswith("results/boxes/") and rel.endswith(".json"):
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.mark.slow
def test_kill_in_every_stage_and_rerun(tmp_path):
    cfg = _tiny_config()
    ref = _project(tmp_path / "uninterrupted", cfg)
    proj = _project(tmp_path / "killed", copy.deepcopy(cfg))
    ref_log = open(tmp_path / "uninterrupted.log", "w")  # a file, not a pipe: a full pipe would stall the run
    ref_run = subprocess.Popen(_cmd(), cwd=ref, env=_env(), stdout=ref_log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        finished = {}
        for stage, target, marker in STAGES:
            _kill_during(proj, target, marker)
            now = _finished(proj)
            for rel, mtime in finished.items():  # nothing finished before was redone by this phase
                assert now.get(rel) == mtime, f"{rel} (finished earlier) was rewritten in the {stage} phase"
            finished = now
        assert (proj / "results/dft/1M/bundle_000.csv.partial").exists() or (
            proj / "results/dft/1M/bundle_000.csv"
        ).exists()
        env = _env()
        subprocess.run(_cmd("--unlock"), cwd=proj, env=env, capture_output=True, check=True)
        out = subprocess.run(_cmd(), cwd=proj, env=env, capture_output=True, text=True, timeout=1200)
        assert out.returncode == 0, out.stderr[-4000:]
        final = _finished(proj)
        for rel, mtime in finished.items():
            assert final.get(rel) == mtime, f"{rel} was finished before the last kill but redone by the rerun"
        # the DFT bundle killed after its first cluster resumed instead of recomputing it; MD resumed production
        assert "resuming: 1 cluster(s)" in (proj / "logs/dft/1M/bundle_000.log").read_text()
        assert "production: resuming from checkpoint" in (proj / "logs/md/1M.log").read_text()
        again = subprocess.run(_cmd("-n"), cwd=proj, env=env, capture_output=True, text=True)
        assert "Nothing to be done" in again.stdout + again.stderr
        ref_run.wait(timeout=1200)
    finally:
        if ref_run.poll() is None:
            os.killpg(ref_run.pid, signal.SIGKILL)
            ref_run.wait()
        ref_log.close()
    assert ref_run.returncode == 0, (tmp_path / "uninterrupted.log").read_text()[-4000:]
    a, b = _comparable(ref), _comparable(proj)
    assert set(a) == set(b) and len(a) >= 12, sorted(set(a) ^ set(b))
    differ = [k for k in a if a[k] != b[k]]
    assert not differ, f"outputs differ from the uninterrupted run: {differ}"
    assert not [p for p in (proj / "results").rglob("*") if ".tmp" in p.name or p.suffix == ".partial"]
    # the report carries the provenance page
    rep = subprocess.run(_cmd("--report", "report.html"), cwd=proj, env=env, capture_output=True, text=True)
    assert rep.returncode == 0, rep.stderr[-2000:]
    assert "Provenance" in (proj / "report.html").read_text(errors="replace")


def test_atomic_path_never_leaves_a_half_written_file(tmp_path):
    from linmr.fileio import atomic_path

    target = tmp_path / "t.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            assert tmp.suffix == ".csv" and tmp.parent == tmp_path
            tmp.write_text("half")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]
    with atomic_path(target) as tmp:
        tmp.write_text("new\n")
    assert target.read_text() == "new\n" and sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]
