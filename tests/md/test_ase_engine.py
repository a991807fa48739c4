"""The ASE engine: every phase with CHGNet and SevenNet, SIGKILL/SIGTERM mid-production and resume."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from ase.io import read

from .conftest import PROTO, ROOT


@pytest.mark.slow
def test_protocol_runs_every_phase_with_chgnet(tiny_box, tmp_path):
    from linmr.analysis import plots
    from linmr.md import Protocol, ase_engine, registry

    atoms = read(tiny_box)
    calc = registry.make_calculator("chgnet")
    proto = Protocol(**{**PROTO, "prod_steps": 12, "npt_steps": 6})
    out, work = tmp_path / "prod.extxyz", tmp_path / "restart"
    timings, table = ase_engine.run_protocol(atoms, calc, out, work, proto, potential="chgnet", progress=False)
    assert list(table.phase.unique()) == ["minimise", "heat", "npt", "production"]
    frames = read(out, ":")
    assert [f.info["step"] for f in frames] == [4, 8, 12]
    assert np.allclose([f.info["time_ps"] for f in frames], [0.004, 0.008, 0.012])
    # NPT changed the volume (Berendsen barostat, P far from 1 bar in this box), production kept the NPT cell
    v0, v_npt = atoms.get_volume(), frames[0].get_volume()
    assert 1e-6 < abs(v_npt / v0 - 1) < 0.05
    assert np.allclose([f.get_volume() for f in frames], v_npt)
    md_rows = table[table.phase != "minimise"]
    assert np.isfinite(md_rows[["temperature_K", "pressure_bar", "density_g_cm3", "potential_energy_eV"]]).all().all()
    assert (np.diff(md_rows.time_ps) > 0).all()
    assert not work.exists() and timings["n_frames"] == 3 and timings["max_bond_stretch_ratio"] < 1.5
    plots.md_log(table, tmp_path / "log.png")
    assert (tmp_path / "log.png").stat().st_size > 10_000


CHILD = """
import sys
from ase.io import read
from linmr.md import Protocol, ase_engine, registry
box, out, work = sys.argv[1:4]
proto = Protocol(**{proto})
ase_engine.run_protocol(read(box), registry.make_calculator("chgnet"), out, work, proto, potential="chgnet", progress=False)
"""


def _child(box, out, work):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", CHILD.format(proto=PROTO), str(box), str(out), str(work)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for_checkpoint(proc, work, min_step, timeout=120):
    ck = work / "checkpoint.npz"
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise AssertionError("child finished before it could be killed:\n" + proc.stdout.read())
        try:
            with np.load(ck) as z:
                if int(z["step"]) >= min_step:
                    return int(z["step"])
        except (OSError, ValueError, EOFError, KeyError):
            pass
        time.sleep(0.02)
    raise AssertionError("no checkpoint appeared")


@pytest.mark.slow
def test_production_killed_mid_run_resumes_with_same_frames(tiny_box, tmp_path):
    # reference: one uninterrupted run
    ref_out = tmp_path / "ref.extxyz"
    p = _child(tiny_box, ref_out, tmp_path / "ref_work")
    assert p.wait(timeout=300) == 0, p.stdout.read()
    ref = read(ref_out, ":")

    out, work = tmp_path / "prod.extxyz", tmp_path / "work"
    # 1) SIGKILL mid-production: nothing gets to clean up
    p = _child(tiny_box, out, work)
    killed_at = _wait_for_checkpoint(p, work, 8)
    p.kill()
    p.wait()
    assert not out.exists() and (work / "checkpoint.npz").is_file()
    # 2) rerun, then SIGTERM (SLURM time limit): checkpoint at the current step and a clear error
    p = _child(tiny_box, out, work)
    _wait_for_checkpoint(p, work, killed_at + 8)
    p.send_signal(signal.SIGTERM)
    text = p.communicate(timeout=120)[0]
    assert p.returncode != 0 and "resuming from checkpoint" in text and "stopped by SIGTERM" in text, text
    assert not out.exists()
    # 3) rerun to the end
    p = _child(tiny_box, out, work)
    text = p.communicate(timeout=300)[0]
    assert p.returncode == 0 and "resuming from checkpoint" in text, text
    got = read(out, ":")
    assert len(got) == len(ref) == PROTO["prod_steps"] // PROTO["stride"]
    assert [f.info["step"] for f in got] == [f.info["step"] for f in ref] == list(range(4, 41, 4))
    assert [f.info["time_ps"] for f in got] == [f.info["time_ps"] for f in ref]
    # the checkpoint holds positions, momenta and the Langevin RNG state: the resumed run is the same trajectory
    assert np.allclose(np.array([f.positions for f in got]), np.array([f.positions for f in ref]), atol=1e-4)
    assert not work.exists()


@pytest.mark.slow
def test_sevennet_runs_the_protocol(tiny_box, tmp_path):
    pytest.importorskip("sevenn")
    from linmr.md import Protocol, ase_engine, registry

    calc = registry.make_calculator("sevennet")
    proto = Protocol(**{**PROTO, "min_steps": 2, "heat_steps": 2, "npt_steps": 2, "prod_steps": 4})
    timings, table = ase_engine.run_protocol(read(tiny_box), calc, tmp_path / "p.extxyz", tmp_path / "w", proto,
                                     potential="sevennet", progress=False)
    frames = read(tmp_path / "p.extxyz", ":")
    assert [f.info["step"] for f in frames] == [4]
    assert np.isfinite(table[table.phase != "minimise"].pressure_bar).all()
    assert -200 < frames[0].info["energy_eV"] / len(frames[0]) < 0  # eV/atom of a bound organic system


@pytest.mark.slow
def test_npt_density_drift_beyond_the_limit_stops_the_run(tiny_box, tmp_path):
    """md.max_density_change: a barostat that moves the density further than allowed (here 1e-7 of it, so
    CHGNet's first NPT steps do) stops the job with the densities named, before any production frame."""
    from linmr import LinmrError
    from linmr.md import Protocol, ase_engine, registry

    proto = Protocol(**{**PROTO, "prod_steps": 12, "npt_steps": 8, "max_density_change": 1e-7})
    out = tmp_path / "prod.extxyz"
    with pytest.raises(LinmrError, match=r"step 4 of NPT: the NPT density drifted from \d\.\d{4} to .*md\.max_density_change"):
        ase_engine.run_protocol(read(tiny_box), registry.make_calculator("chgnet"), out, tmp_path / "w", proto,
                                potential="chgnet", progress=False)
    assert not out.exists()


def test_temperature_runaway_stops_the_run(tiny_box, tmp_path):
    """md.max_temperature_factor in the ASE engine: velocities drawn at 1,000 K for a 300 K run are above
    2 x 300 K at the first check of heating (step 4); the job stops before any production frame."""
    from ase.calculators.lj import LennardJones

    from linmr import LinmrError
    from linmr.md import Protocol, ase_engine

    proto = Protocol(**{**PROTO, "heat_start_K": 1000.0, "max_temperature_factor": 2.0})
    out = tmp_path / "prod.extxyz"
    with pytest.raises(LinmrError, match=r"phase heat, step 4: the temperature reached \d+ K, beyond "
                                         r"md.max_temperature_factor = 2 x 300 K"):
        ase_engine.run_protocol(read(tiny_box), LennardJones(epsilon=0.001, sigma=1.0, rc=4.0), out, tmp_path / "w",
                                proto, potential="lj", progress=False)
    assert not out.exists()
