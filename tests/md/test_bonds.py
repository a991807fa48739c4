"""The bond monitor: topology across box faces, vibrations ignored, dissociation caught."""
import numpy as np
import pytest

from linmr import LinmrError
from linmr.md.bonds import BondMonitor, bond_topology


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


def test_close_contacts_find_fused_li_but_not_bonds_or_li_li_in_an_aggregate(templates):
    """Two Li+ 0.6 Å apart (a student's production box) are fused; bonded S-F/S-O and a Li-Li pair of an
    aggregate (2.7 Å) are not; across the box face too."""
    from ase import Atoms

    fsi = _fsi_box(templates, shift=(6.0, 6.0, 6.0))
    li = Atoms("Li3", positions=[[0.3, 1.0, 1.0], [11.7, 1.0, 1.0], [1.0, 3.7, 1.0]], cell=fsi.cell, pbc=True)
    li.arrays["mol_id"] = np.array([1, 2, 3])
    li.arrays["mol_name"] = np.array(["Li"] * 3)
    box = fsi + li
    mon = BondMonitor(box)
    n = len(fsi)
    assert mon.close_contacts(box) == [(n, n + 1, pytest.approx(0.6))]
    assert mon.close_contacts(fsi) == []  # every pair under 0.5 x covalent sum of a molecule is a bond


def test_production_with_fused_atoms_stops_with_the_step_and_atoms(templates):
    """lammps.check_bonds: a production frame with two Li+ 0.6 Å apart stops the md job, naming step and atoms;
    the same frames with the pair 2.7 Å apart pass."""
    from ase import Atoms

    from linmr.md import lammps
    from linmr.md.protocol import Protocol

    fsi = _fsi_box(templates, shift=(6.0, 6.0, 6.0))
    li = Atoms("Li2", positions=[[1.0, 1.0, 1.0], [3.7, 1.0, 1.0]], cell=fsi.cell, pbc=True)
    li.arrays["mol_id"] = np.array([1, 2])
    li.arrays["mol_name"] = np.array(["Li"] * 2)
    box = fsi + li
    frames = []
    for step, gap in ((100, 2.7), (200, 0.6), (300, 0.5)):
        f = box.copy()
        f.positions[-1, 0] = 1.0 + gap
        f.info["step"] = step
        frames.append(f)
    proto = Protocol(stride=100)
    n = len(fsi)
    with pytest.raises(LinmrError, match=rf"2 of 3 production frames .* from step 200 \(atoms {n} Li and {n + 1} Li "
                                         rf"0.60 Å apart; closest 0.50 Å at step 300\)"):
        lammps.check_bonds(box, frames, proto, where="test box", log=lambda *a: None)
    lammps.check_bonds(box, frames[:1], proto, where="test box", log=lambda *a: None)
