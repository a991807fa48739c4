"""Whole-molecule clusters, second shell, and the selection of environments (round robin, FPS)."""
import numpy as np
import pytest
from ase import Atoms

from linmr import LinmrError
from linmr.ml.descriptors import Featurizer, SoapSettings
from linmr.system import clusters

from ..conftest import CHARGES


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


def test_farthest_point_sampling_hand_checked():
    x = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])
    # mean 4.8: 11 is farthest -> then 0 (11 away) -> then 2 (min distance 2; 1 and 10 have 1)
    picks, dist = clusters.farthest_point_sampling(x, 3)
    assert picks == [4, 0, 2]
    assert dist == pytest.approx([6.2, 11.0, 2.0])
    assert clusters.farthest_point_sampling(x, 10)[0] == [4, 0, 2, 1, 3]  # capped at the number of rows
    with pytest.raises(LinmrError, match="non-empty 2-D"):
        clusters.farthest_point_sampling(np.zeros((0, 3)), 2)


def _frames(n=6, odd=3):
    """Periodic 12 A boxes with two Li, each with a 'solvent' O at 2.0 A; in frame ``odd`` the second
    Li has a second O at 2.0 A too (a rare environment)."""
    frames = []
    for f in range(n):
        sym = ["Li", "O", "Li", "O"]
        pos = [[2, 2, 2], [4.0, 2, 2], [8, 8, 8], [8, 10.0, 8]]
        if f == odd:
            sym.append("O")
            pos.append([8, 8, 10.0])
        frames.append(Atoms(sym, positions=pos, cell=[12.0] * 3, pbc=True))
    return frames


def test_fps_selection_labels_the_rare_environment_first():
    feat = Featurizer(SoapSettings(species=("Li", "O"), r_cut=3.5, n_max=2, l_max=2, sigma=0.4))
    picks, dist = clusters.select_diverse(_frames(), 3, feat, skip=1, stride=1)
    assert picks[0] == (3, 2)  # the only Li with two O neighbours
    assert len(set(picks)) == 3 and all(f >= 1 for f, _ in picks)
    assert dist[1] > 0 and dist[2] == pytest.approx(0, abs=1e-6)  # the rest are all alike
    # stride: only frames 1, 3, 5 are candidates; with stride 2 from skip 2 the odd frame is skipped
    assert sorted({f for f, _ in clusters.candidate_environments(_frames(), skip=1, stride=2)}) == [1, 3, 5]
    picks2, _ = clusters.select_diverse(_frames(), 2, feat, skip=2, stride=2)
    assert {f for f, _ in picks2} <= {2, 4} and (3, 2) not in picks2


def test_round_robin_respects_stride_and_bad_stride_is_named():
    sel = clusters.select_environments(_frames(), 4, skip=1, stride=2, seed=0)
    assert {f for f, _ in sel} <= {1, 3, 5} and len(set(sel)) == 4
    with pytest.raises(LinmrError, match="frame_stride"):
        clusters.candidate_environments(_frames(), stride=0)


def test_second_shell_adds_whole_molecules_beyond_the_first_shell():
    # Li at a corner; first-shell water O at 2.0 A through the x face; a second water whose O is
    # 3.82 A away through the y face and whose H is wrapped to the other side of the box; an anion (X) 6 A away
    L = 12.0
    sym = ["Li", "O", "H", "H", "O", "H", "H", "X"]
    pos = [[0.2, 0.2, 0.2], [10.2, 0.2, 0.2], [9.6, 0.9, 0.2], [9.6, 11.5, 0.2],
           [4.0, 11.8, 0.2], [4.0, 0.76, 0.2], [4.6, 11.1, 0.2], [6.2, 0.2, 0.2]]
    atoms = Atoms(sym, positions=pos, cell=[L] * 3, pbc=True)
    atoms.set_array("mol_id", np.array([0, 1, 1, 1, 2, 2, 2, 3]))
    atoms.set_array("mol_name", np.array(["Li", "W", "W", "W", "W", "W", "W", "A"]))
    charges = {"Li": 1, "W": 0, "A": -1}
    first = clusters.cut_cluster(atoms, 0, 2.6, charges, donors=("O",))
    assert len(first) == 4 and first.info["n_W"] == 1 and first.info["charge"] == 1
    both = clusters.cut_cluster(atoms, 0, 2.6, charges, donors=("O",), second_shell_r_cut=4.5)
    assert len(both) == 7 and both.info["n_W"] == 2 and "n_A" not in both.info and both.info["charge"] == 1
    o2 = [i for i in range(len(both)) if both.get_array("frame_index")[i] == 4][0]
    assert both.get_distance(0, o2) == pytest.approx(np.hypot(3.8, 0.4), abs=1e-9)  # through the y face
    d = both.get_all_distances()
    h = [i for i in range(len(both)) if both.get_array("frame_index")[i] in (5, 6)]
    assert all(d[o2, j] < 1.1 for j in h)  # the split water is whole again
    with_anion = clusters.cut_cluster(atoms, 0, 2.6, charges, donors=("O",), second_shell_r_cut=6.5)
    assert with_anion.info["n_A"] == 1 and with_anion.info["charge"] == 0
    with pytest.raises(LinmrError, match="must exceed r_cut"):
        clusters.cut_cluster(atoms, 0, 2.6, charges, second_shell_r_cut=2.0)
