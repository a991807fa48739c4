import numpy as np
import pytest
from ase import Atoms

from linmr import LinmrError, boxes, clusters
from linmr.solvation import li_environments

from .conftest import CHARGES


def test_box_is_packed_periodic_and_labelled(box4):
    a = box4
    assert a.pbc.all()
    assert len(a) == 4 * 10 + 6 * 16
    assert sorted(set(a.get_array("mol_name"))) == ["DME", "FSI", "Li"]
    assert len(set(a.get_array("mol_id"))) == 4 + 4 + 6
    assert boxes.min_intermolecular_distance(a) >= 0.75 * 2.0
    # every molecule is intact: its atoms are within bonding reach of each other under minimum image
    for m in set(a.get_array("mol_id")):
        idx = np.flatnonzero(a.get_array("mol_id") == m)
        if len(idx) > 1:
            d = a.get_all_distances(mic=True)[np.ix_(idx, idx)]
            np.fill_diagonal(d, np.inf)
            assert d.min(axis=1).max() < 1.9  # each atom has a bonded neighbour


def _bonded_whole(cluster):
    """Every molecule in the cluster is whole: each atom has a neighbour within 1.9 Å in its molecule."""
    mol = cluster.get_array("mol_id")
    for m in set(mol):
        idx = np.flatnonzero(mol == m)
        if len(idx) == 1:
            continue
        d = cluster.get_all_distances()[np.ix_(idx, idx)]
        np.fill_diagonal(d, np.inf)
        if d.min(axis=1).max() > 1.9:
            return False
    return True


def test_clusters_hold_whole_molecules_and_right_charge(box4):
    li = [i for i, s in enumerate(box4.get_chemical_symbols()) if s == "Li"]
    for i in li:
        c = clusters.cut_cluster(box4, i, 4.0, CHARGES)
        assert c.get_chemical_symbols()[0] == "Li"
        assert np.allclose(c.positions[0], 0)
        assert not c.pbc.any()
        # whole molecules: atom counts per molecule equal the templates'
        names, mol = c.get_array("mol_name"), c.get_array("mol_id")
        for m in set(mol):
            n = {"Li": 1, "FSI": 9, "DME": 16}[names[mol == m][0]]
            assert (mol == m).sum() == n
        assert _bonded_whole(c)
        assert c.info["charge"] == c.info["n_Li"] - c.info.get("n_FSI", 0)
        assert c.info["multiplicity"] == 1


def test_molecule_split_across_box_edge_is_made_whole():
    # a water-like molecule straddling the x face of a 10 Å box, Li near the opposite side
    cell = 10.0
    atoms = Atoms(
        "LiOHH",
        # the second H sits at x = 0.0: wrapped to the other side of the box from its O at x = 9.3
        positions=[[0.5, 5, 5], [9.3, 5, 5], [8.8, 5.8, 5], [0.0, 4.5, 5]],
        cell=[cell] * 3,
        pbc=True,
    )
    atoms.set_array("mol_id", np.array([0, 1, 1, 1]))
    atoms.set_array("mol_name", np.array(["Li", "W", "W", "W"]))
    c = clusters.cut_cluster(atoms, 0, 2.0, {"Li": 1, "W": 0})
    assert len(c) == 4
    d = c.get_all_distances()
    assert d[1, 2] < 1.0 and d[1, 3] < 1.0  # O-H bonds are whole again
    assert d[0, 1] == pytest.approx(1.2, abs=1e-9)  # Li-O through the boundary


def test_li_at_corner_sees_neighbours_through_all_faces():
    atoms = Atoms("LiO", positions=[[0.1, 0.1, 0.1], [9.2, 9.2, 9.2]], cell=[10] * 3, pbc=True)
    atoms.set_array("mol_id", np.array([0, 1]))
    atoms.set_array("mol_name", np.array(["Li", "X"]))
    c = clusters.cut_cluster(atoms, 0, 2.0, {"Li": 1, "X": 0})
    assert c.get_distance(0, 1) == pytest.approx(np.sqrt(3) * 0.9)


def test_cluster_needs_molecule_labels():
    a = Atoms("Li", cell=[5] * 3, pbc=True)
    with pytest.raises(LinmrError, match="mol_id"):
        clusters.cut_cluster(a, 0, 2.0, {})


def test_select_environments_spreads_over_frames(box4):
    frames = [box4] * 5
    sel = clusters.select_environments(frames, 6, seed=0)
    assert len(sel) == 6 and len(set(sel)) == 6
    assert len({f for f, _ in sel}) == 5


def test_solvation_classes():
    # two Li sharing one anion (AGG), one Li with its own anion (CIP), one with solvent only (SSIP)
    sym = ["Li", "Li", "Li", "Li", "O", "O", "O", "O"]
    pos = [[0, 0, 0], [4, 0, 0], [10, 0, 0], [0, 10, 0], [2, 0, 0], [11.9, 0, 0], [0, 12, 0], [2.1, 2.0, 0]]
    a = Atoms(sym, positions=pos, cell=[20] * 3, pbc=True)
    a.set_array("mol_id", np.array([0, 1, 2, 3, 4, 5, 6, 7]))
    a.set_array("mol_name", np.array(["Li"] * 4 + ["FSI", "FSI", "DME", "DME"]))
    env = {e["li_index"]: e for e in li_environments(a, r_bind=2.2)}
    assert env[0]["solvation_class"] == "AGG" and env[1]["solvation_class"] == "AGG"
    assert env[2]["solvation_class"] == "CIP"
    assert env[3]["solvation_class"] == "SSIP" and env[3]["cn_O_solvent"] == 1


def test_inserted_li_starts_bound_to_donors(box4):
    sym = np.array(box4.get_chemical_symbols())
    donors = np.flatnonzero(np.isin(sym, ["O", "N"]))
    for i in np.flatnonzero(sym == "Li"):
        d = box4.get_distances(i, donors, mic=True)
        assert d.min() == pytest.approx(2.0, abs=0.3)  # bound, not in a packing cavity (~3.5 Å)
        others = np.delete(np.arange(len(box4)), i)
        assert box4.get_distances(i, others, mic=True).min() >= 1.7 - 1e-6
