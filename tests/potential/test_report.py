"""The student's structure report: S–F bonds, Li–O g(r) and its first peak."""
import numpy as np
import pytest
from ase import Atoms

from linmr.potential.report import first_peak, li_o_rdf, sf_bond_lengths, structure_table


@pytest.mark.parametrize("centre", [1.93, 1.955, 1.98, 2.01])
def test_first_peak_resolves_positions_between_bins(centre):
    r = np.arange(0.025, 5.0, 0.05)  # bin centres of a 0.05 A histogram
    g = 8.0 * np.exp(-0.5 * ((r - centre) / 0.08) ** 2) + 0.9 * (r > 2.6)
    assert first_peak(r, g) == pytest.approx(centre, abs=0.005)
    # the bin of the maximum alone would be up to half a bin (0.025 A) off
    assert abs(r[np.argmax(g)] - centre) <= 0.025 + 1e-9


def test_first_peak_ignores_the_second_shell_and_empty_rdfs():
    r = np.arange(0.025, 5.0, 0.05)
    g = 2.0 * np.exp(-0.5 * ((r - 2.1) / 0.1) ** 2) + 5.0 * np.exp(-0.5 * ((r - 4.2) / 0.2) ** 2)
    assert first_peak(r, g) == pytest.approx(2.1, abs=0.005)
    assert np.isnan(first_peak(r, np.zeros_like(r)))


def test_li_o_rdf_is_one_for_uncorrelated_atoms_and_peaks_at_a_bond():
    rng = np.random.default_rng(3)
    frames = []
    for _ in range(20):
        n = 400
        a = Atoms(["Li"] * 20 + ["O"] * (n - 20), positions=rng.uniform(0, 20.0, (n, 3)), cell=[20.0] * 3, pbc=True)
        frames.append(a)
    r, g = li_o_rdf(frames, r_max=6.0, dr=0.2)
    assert np.mean(g[(r > 3.0) & (r < 6.0)]) == pytest.approx(1.0, abs=0.05)
    bonded = Atoms("LiO", positions=[[5, 5, 5], [5, 5, 6.97]], cell=[10.0] * 3, pbc=True)
    r, g = li_o_rdf([bonded])
    assert first_peak(r, g, smooth=1) == pytest.approx(1.97, abs=0.03)


def test_sf_bonds_are_intramolecular_and_across_the_boundary():
    a = Atoms("SFF", positions=[[0.2, 5, 5], [9.6, 5, 5], [2.0, 5, 5]], cell=[10.0] * 3, pbc=True)
    a.arrays["mol_id"] = np.array([0, 0, 1])  # the second F belongs to another molecule
    assert sf_bond_lengths([a]) == pytest.approx([0.6])
    table = structure_table({"x": [a]}, {"x": [a]})
    assert list(table["box"]) == ["x", "all"]
    assert table["sf_difference_A"].abs().max() == 0.0


def test_structure_table_pools_student_replicas_and_gives_the_error_of_the_difference():
    def sf(length):
        a = Atoms("SF", positions=[[5, 5, 5], [5, 5, 5 + length]], cell=[10.0] * 3, pbc=True)
        a.arrays["mol_id"] = np.array([0, 0])
        return a

    teacher = {"1M": [sf(1.64)], "2M": [sf(1.62)]}
    student = {"1M": [[sf(1.60)], [sf(1.62)], [sf(1.70)]], "2M": [[sf(1.62)], [sf(1.62)], [sf(1.62)]]}
    table = structure_table(teacher, student).set_index("box")
    assert table.loc["1M", "replicas"] == 3 and table.loc["1M", "frames_student"] == 3
    assert table.loc["1M", "sf_difference_A"] == pytest.approx(1.64 - 1.64, abs=1e-9)
    assert table.loc["1M", "sf_difference_se_A"] == pytest.approx(np.std([1.60, 1.62, 1.70], ddof=1) * np.sqrt(4 / 3))
    assert table.loc["2M", "sf_difference_se_A"] == pytest.approx(0.0, abs=1e-9)
    # pooled: replica k of every box together
    assert table.loc["all", "sf_difference_se_A"] == pytest.approx(
        np.std([1.61, 1.62, 1.66], ddof=1) * np.sqrt(4 / 3))
    # one replica: no error estimate
    single = structure_table(teacher, {"1M": [sf(1.6)], "2M": [sf(1.6)]})
    assert single["replicas"].eq(1).all() and single["sf_difference_se_A"].isna().all()
