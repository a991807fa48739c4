"""The potential stage through Snakemake: a DeePMD student trained from CHGNet in two rounds of concurrent
learning, then production MD with LAMMPS pair_style deepmd and the ensemble's deviation recorded."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from ase.io import read

from ..conftest import ROOT
from ..md.conftest import _lmp_available

pytest.importorskip("deepmd", reason="deepmd-kit not installed")


def _config() -> dict:
    c = yaml.safe_load((ROOT / "tests/micro.yaml").read_text())
    c["run_name"] = "potential"
    c["concentrations"] = [{"molarity_mol_L": 1.0, "density_g_cm3": 0.979, "n_salt": 2}]
    c["md"].update(engine="lammps", potential="deepmd", model_path=None, timestep_fs=0.5, min_steps=10,
                   heat_steps=40, npt_steps=40, prod_steps=400, stride=20, checkpoint_every_steps=200)
    c["potential"] = {
        "teacher": "chgnet", "n_salt": [1], "rounds": 2, "ensemble": 2, "explore_steps": 40, "explore_stride": 4,
        "frames_per_round": 8, "test_every": 4, "trust_lo_eV_A": 0.05, "trust_hi_eV_A": 5.0,
        "deepmd": {"numb_steps": 200, "rcut_A": 4.0, "embedding_neurons": [4, 8], "fitting_neurons": [16, 16]},
    }
    return c


@pytest.mark.slow
@pytest.mark.skipif(not _lmp_available(), reason="LAMMPS not installed")
def test_student_is_trained_in_the_campaign_and_runs_production(tmp_path):
    for name in ("Snakefile", "workflow", "scripts", "config", "profiles", "envs"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    (tmp_path / "pot.yaml").write_text(yaml.safe_dump(_config()))
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", "pot.yaml", "--profile", "profiles/local"]
    plan = subprocess.run(cmd + ["-n", "--quiet", "rules"], cwd=tmp_path, capture_output=True, text=True)
    for rule in ("potential_box", "potential_explore_teacher", "potential_select", "potential_label",
                 "potential_train", "potential_explore", "potential_report"):
        assert rule in plan.stdout, plan.stdout + plan.stderr[-2000:]
    targets = ["results/potential/rounds.csv", "results/md/1M/summary.json"]
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    out = subprocess.run(cmd + targets, cwd=tmp_path, capture_output=True, text=True, timeout=1500, env=env)
    assert out.returncode == 0, out.stderr[-4000:]
    r = tmp_path / "results"
    rounds = pd.read_csv(r / "potential/rounds.csv")
    assert list(rounds["round"]) == [0, 1] and rounds["selected_frames"].iloc[0] == 8
    assert rounds["explored_frames"].iloc[1] == 10  # the student explored in round 1, its deviation recorded
    assert (r / "potential/round_1/model_0.pb").stat().st_size > 10_000
    acc = pd.read_csv(r / "potential/accuracy.csv").iloc[0]
    assert acc["n_frames"] == 2 and acc["force_rmse_eV_A"] > 0 and acc["teacher"].startswith("chgnet")
    structure = pd.read_csv(r / "potential/structure.csv")
    assert set(structure["box"]) == {"1M", "all"} and structure["sf_mean_student_A"].notna().all()
    assert (r / "figures/potential_rdf.png").exists() and (r / "figures/potential_rounds.png").exists()
    frames = read(r / "md/1M/production.extxyz", ":")
    assert [f.info["step"] for f in frames] == list(range(20, 401, 20))
    deviation = pd.read_csv(r / "md/1M/model_deviation.csv")
    assert list(deviation["step"]) == list(range(20, 401, 20)) and (deviation["max_devi_f_eV_A"] >= 0).all()
    log = (tmp_path / "logs/md/1M.log").read_text()
    assert "LAMMPS step" in log and "ns/day" in log  # progress of the LAMMPS engine in the rule log
