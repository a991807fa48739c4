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
