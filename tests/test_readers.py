"""Checked structure readers: 15 malformed files, each refused naming the file, frame or atom."""
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.io import write

from linmr import LinmrError, readers

SPECIES = ["Li", "C", "H", "O", "N", "S", "F"]


def _box(edge=12.0, n=4) -> Atoms:
    """A periodic box of ``n`` water-like molecules on a grid plus Li, with mol_id/mol_name."""
    atoms = Atoms(cell=[edge] * 3, pbc=True)
    mol_id, mol_name = [], []
    for k in range(n):
        base = np.array([k % 2, (k // 2) % 2, k // 4], float) * edge / 2 + 1.5
        atoms += Atoms("OHH", positions=base + [[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
        mol_id += [k] * 3
        mol_name += ["W"] * 3
    atoms += Atoms("Li", positions=[[edge / 2 - 1, edge / 2 - 1, edge / 2 - 1]])
    mol_id.append(n)
    mol_name.append("Li")
    atoms.set_array("mol_id", np.array(mol_id))
    atoms.set_array("mol_name", np.array(mol_name, dtype="<U8"))
    atoms.set_cell([edge] * 3)
    return atoms


def _write(path: Path, atoms) -> Path:
    write(path, atoms, format="extxyz")
    return path


def _box_kw(**kw):
    return dict(what="MD input box", periodic=True, cutoff_A=4.5, arrays=("mol_id", "mol_name"), **kw)


def test_good_box_is_read(tmp_path):
    atoms = readers.read_structure(_write(tmp_path / "box.extxyz", _box()), species=SPECIES, **_box_kw())
    assert len(atoms) == 13 and "mol_id" in atoms.arrays


def _overlap(tmp_path):
    a = _box()
    a.positions[5] = a.positions[1] + [0.1, 0.0, 0.0]
    return _write(tmp_path / "overlap.extxyz", a), {}


def _overlap_through_boundary(tmp_path):
    a = _box()
    a.positions[12] = [11.95, 1.5, 1.5]  # Li near one face, O near the opposite face: 0.25 A apart through it
    a.positions[0] = [0.2, 1.5, 1.5]
    return _write(tmp_path / "overlap_pbc.extxyz", a), {}


def _small_cell(tmp_path):
    return _write(tmp_path / "small.extxyz", _box(edge=8.0)), {}


def _not_periodic(tmp_path):
    a = _box()
    a.pbc = False
    return _write(tmp_path / "nopbc.extxyz", a), {}


def _unknown_symbol(tmp_path):
    p = _write(tmp_path / "xx.extxyz", _box())
    lines = p.read_text().splitlines()
    lines[2] = "Xx" + lines[2][1:]  # first atom: "O ..." -> "Xx ..."
    p.write_text("\n".join(lines) + "\n")
    return p, {}


def _foreign_element(tmp_path):
    a = _box()
    a.symbols[3] = "U"
    return _write(tmp_path / "uranium.extxyz", a), {"species": SPECIES}


def _nan(tmp_path):
    a = _box()
    a.positions[2, 1] = np.nan
    return _write(tmp_path / "nan.extxyz", a), {}


def _truncated(tmp_path):
    p = _write(tmp_path / "trunc.extxyz", _box())
    p.write_text("\n".join(p.read_text().splitlines()[:-3]) + "\n")
    return p, {}


def _bad_number(tmp_path):
    p = _write(tmp_path / "badnum.extxyz", _box())
    lines = p.read_text().splitlines()
    lines[4] = lines[4].replace(lines[4].split()[2], "1.2.3", 1)
    p.write_text("\n".join(lines) + "\n")
    return p, {}


def _bad_lattice(tmp_path):
    p = _write(tmp_path / "lattice.extxyz", _box())
    lines = p.read_text().splitlines()
    lines[1] = 'Lattice="12 0 0 0 12" Properties=species:S:1:pos:R:3 pbc="T T T"'
    p.write_text("\n".join(lines) + "\n")
    return p, {}


def _empty(tmp_path):
    p = tmp_path / "empty.extxyz"
    p.write_text("")
    return p, {}


def _missing(tmp_path):
    return tmp_path / "nowhere.extxyz", {}


def _binary(tmp_path):
    p = tmp_path / "binary.extxyz"
    p.write_bytes(bytes(range(256)) * 4)
    return p, {}


def _no_mol_id(tmp_path):
    a = _box()
    del a.arrays["mol_id"]
    return _write(tmp_path / "nomol.extxyz", a), {}


def _pdb_as_extxyz(tmp_path):
    p = tmp_path / "box.pdb.extxyz"
    p.write_text("CRYST1   12.000   12.000   12.000  90.00  90.00  90.00 P 1\nATOM      1  O   HOH     1       1.500   1.500   1.500\nEND\n")
    return p, {}


STRUCTURE_CASES = [
    ("overlapping atoms", _overlap, "overlapping atoms 1 (H) and 5 (H)"),
    ("overlap through the boundary", _overlap_through_boundary, "0.250 A apart"),
    ("cell too small", _small_cell, "cell is too small for the cutoff: width 8.00 A < 2 x 4.5 A"),
    ("not periodic", _not_periodic, "must be periodic in 3D"),
    ("unknown element symbol", _unknown_symbol, "unknown element symbol 'Xx'"),
    ("element outside species", _foreign_element, "element(s) ['U'] (first at atom 3)"),
    ("non-finite position", _nan, "atom 2 has a non-finite position"),
    ("truncated extxyz", _truncated, "is not valid extxyz"),
    ("bad number", _bad_number, "is not valid extxyz"),
    ("bad lattice", _bad_lattice, "is not valid extxyz"),
    ("empty file", _empty, "file is empty"),
    ("missing file", _missing, "does not exist"),
    ("binary file", _binary, "MD input box"),
    ("no mol_id column", _no_mol_id, "lacks the per-atom column 'mol_id'"),
    ("PDB, not extxyz", _pdb_as_extxyz, "is not valid extxyz"),
]


@pytest.mark.parametrize("case", STRUCTURE_CASES, ids=[c[0] for c in STRUCTURE_CASES])
def test_bad_structure_file(tmp_path, case):
    _, make, expected = case
    path, extra = make(tmp_path)
    with pytest.raises(LinmrError) as err:
        readers.read_structure(path, **_box_kw(**extra))
    msg = str(err.value)
    assert str(path) in msg and expected in msg, msg


def test_trajectory_frame_is_named(tmp_path):
    frames = [_box() for _ in range(3)]
    frames[1].positions[4] = frames[1].positions[3]
    p = _write(tmp_path / "traj.extxyz", frames)
    with pytest.raises(LinmrError, match=r"traj\.extxyz \(frame 1\).*overlapping atoms 3 \(O\) and 4 \(H\)"):
        readers.read_frames(p, **_box_kw())  # default: distances checked in every frame
    assert len(readers.read_frames(p, **_box_kw(overlap_frames="ends"))) == 3  # first and last frame only


@pytest.mark.parametrize("cell", [[7.0, 8.0, 9.0], [[7.0, 0, 0], [2.0, 8.0, 0], [1.0, 1.5, 9.0]], None])
def test_closest_pair_matches_brute_force(cell):
    rng = np.random.default_rng(1)
    atoms = Atoms("H" * 60, positions=rng.uniform(-2, 10, (60, 3)))
    if cell is not None:
        atoms.set_cell(cell)
        atoms.pbc = True
    periodic = cell is not None
    d = atoms.get_all_distances(mic=periodic)
    d[np.diag_indices(60)] = np.inf
    i, j, dist = readers.closest_pair(atoms, 3.0, periodic)
    assert dist == pytest.approx(d.min()) and d[i, j] == pytest.approx(d.min())
    assert readers.closest_pair(atoms, 0.5 * d.min(), periodic) is None


def test_streamed_trajectory_names_the_bad_frame(tmp_path):
    frames = [_box() for _ in range(3)]
    p = _write(tmp_path / "stream.extxyz", frames)
    assert len(list(readers.iter_frames(p, periodic=True, species=["O", "H", "Li"]))) == 3
    lines = p.read_text().splitlines()
    n = len(frames[0]) + 2
    lines[2 * n + 2] = "Zz" + lines[2 * n + 2][1:]  # first atom of frame 2
    p.write_text("\n".join(lines) + "\n")
    it = readers.iter_frames(p, periodic=True)
    assert len([next(it), next(it)]) == 2  # streaming: good frames come out before the bad one is read
    with pytest.raises(LinmrError, match=r"stream\.extxyz \(frame 2\).*unknown element symbol 'Zz'"):
        next(it)
    empty = tmp_path / "none.extxyz"
    empty.write_text("\n")
    with pytest.raises(LinmrError, match=r"none\.extxyz: .*(holds no frame|not valid extxyz)"):
        list(readers.iter_frames(empty))


def test_empty_ok_reads_an_empty_file_as_no_frames_and_nothing_else(tmp_path):
    """Jobs with nothing to write leave empty extxyz files (a bundle without clusters, a halted exploration):
    empty_ok reads those as no frames; a missing file or an empty one without the flag is still refused."""
    p = tmp_path / "empty.extxyz"
    p.write_text("")
    assert readers.read_frames(p, what="cluster bundle", empty_ok=True) == []
    with pytest.raises(LinmrError, match="empty.extxyz: cluster bundle file is empty"):
        readers.read_frames(p, what="cluster bundle")
    with pytest.raises(LinmrError, match="missing.extxyz: cluster bundle file does not exist"):
        readers.read_frames(tmp_path / "missing.extxyz", what="cluster bundle", empty_ok=True)
