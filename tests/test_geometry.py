"""The shared periodic geometry against ASE's own minimum-image distances."""

import numpy as np
from ase import Atoms

from linmr.geometry import cell_widths, pair_distances


def _frame(cell, pbc=True, n=12, seed=3):
    rng = np.random.default_rng(seed)
    return Atoms("H" * n, scaled_positions=rng.random((n, 3)), cell=cell, pbc=pbc)


def test_pair_distances_match_ase_in_a_skewed_periodic_cell():
    fr = _frame([[9.0, 0.0, 0.0], [3.5, 8.0, 0.0], [-2.0, 1.5, 10.0]])
    a, b = [0, 3, 7], [1, 2, 5, 8, 11]
    want = np.array([fr.get_distances(i, b, mic=True) for i in a])
    got = pair_distances(fr, a, b)
    assert got.shape == (3, 5)
    np.testing.assert_allclose(got, want, atol=1e-10)
    assert got.max() <= np.linalg.norm(np.asarray(fr.cell).sum(axis=0))  # never longer than the cell diagonal


def test_pair_distances_without_periodicity_are_plain_distances():
    fr = _frame(np.eye(3) * 5.0, pbc=False)
    got = pair_distances(fr, [0], [1, 2])
    np.testing.assert_allclose(got[0], np.linalg.norm(fr.positions[[1, 2]] - fr.positions[0], axis=1))


def test_cell_widths_of_a_cube_and_a_skewed_cell():
    np.testing.assert_allclose(cell_widths(np.eye(3) * 7.0), [7.0, 7.0, 7.0])
    cell = np.array([[9.0, 0.0, 0.0], [3.5, 8.0, 0.0], [-2.0, 1.5, 10.0]])
    volume = abs(np.linalg.det(cell))
    areas = [np.linalg.norm(np.cross(cell[1], cell[2])), np.linalg.norm(np.cross(cell[2], cell[0])),
             np.linalg.norm(np.cross(cell[0], cell[1]))]
    np.testing.assert_allclose(cell_widths(cell), volume / np.array(areas))
