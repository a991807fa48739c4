"""Packed periodic boxes and cation insertion."""
import numpy as np
import pytest

from linmr.system import boxes


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


def test_inserted_li_starts_bound_to_donors(box4):
    sym = np.array(box4.get_chemical_symbols())
    donors = np.flatnonzero(np.isin(sym, ["O", "N"]))
    for i in np.flatnonzero(sym == "Li"):
        d = box4.get_distances(i, donors, mic=True)
        assert d.min() == pytest.approx(2.0, abs=0.3)  # bound, not in a packing cavity (~3.5 Å)
        others = np.delete(np.arange(len(box4)), i)
        assert box4.get_distances(i, others, mic=True).min() >= 1.7 - 1e-6


def _nearest_non_donor(box):
    sym = np.array(box.get_chemical_symbols())
    rest = np.flatnonzero(~np.isin(sym, ["O", "N", "Li"]))
    return np.array([box.get_distances(i, rest, mic=True).min() for i in np.flatnonzero(sym == "Li")])


def test_cation_clearance_keeps_li_off_methyls(templates, masses):
    """box.cation_clearance_A: every inserted Li+ starts bound to a donor and >= the clearance from C, H, S, F;
    the same box without it starts some Li+ nearer (the seventh workstation run's methyl pockets)."""
    from linmr.system import composition

    comp = composition.composition(4.0, 1.311, 8, *masses)
    plain = boxes.build_box(templates, comp, seed=3)
    clear = boxes.build_box(templates, comp, seed=3, clearance=2.5)
    assert _nearest_non_donor(plain).min() < 2.5
    assert _nearest_non_donor(clear).min() >= 2.5 - 1e-6
    sym = np.array(clear.get_chemical_symbols())
    donors = np.flatnonzero(np.isin(sym, ["O", "N"]))
    for i in np.flatnonzero(sym == "Li"):
        assert clear.get_distances(i, donors, mic=True).min() == pytest.approx(2.0, abs=0.3)
