"""PySCF GIAO: density-fitted against exact response."""
import pytest

from linmr import LinmrError
from linmr.dft import Level, get_backend, pyscf_backend
from linmr.dft.reference import li_h2o4


def li_h2o2():
    a = li_h2o4()[[0, 1, 2, 3, 4, 5, 6]]
    a.info.update(charge=1, multiplicity=1)
    return a


def test_density_fitted_giao_matches_exact_giao():
    a = li_h2o2()
    common = dict(method="PBE", basis={"Li": "6-31G*", "default": "STO-3G"}, density_fit=True, grid_level=1)
    exact = pyscf_backend.shielding(a, Level(giao_density_fit=False, **common), [0])["sigma_iso_ppm"][0]
    fitted = pyscf_backend.shielding(a, Level(giao_density_fit=True, **common), [0])["sigma_iso_ppm"][0]
    assert 80 < exact < 100  # sigma_iso(7Li) of a hydrated Li+ is about 90 ppm
    assert abs(fitted - exact) < 0.01


def test_unknown_backend_is_named():
    with pytest.raises(LinmrError, match="dft.backend"):
        get_backend("turbomole")
