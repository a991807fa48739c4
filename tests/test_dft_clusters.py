"""Cluster selection (farthest-point sampling in SOAP space, stride) and the second-shell option."""

import numpy as np
import pytest
from ase import Atoms

from linmr import LinmrError, clusters
from linmr.descriptors import Featurizer, SoapSettings


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
