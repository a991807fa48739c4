"""The 7Li reference compound."""
import numpy as np
import pytest

from linmr.dft.reference import li_h2o4


def test_reference_geometry():
    a = li_h2o4()
    d = a.get_all_distances()
    o = [i for i, s in enumerate(a.get_chemical_symbols()) if s == "O"]
    assert np.allclose(d[0, o], 1.96)
    assert a.info["charge"] == 1 and len(a) == 13
    assert np.sort(d[d > 0])[:8] == pytest.approx([0.96] * 8)
