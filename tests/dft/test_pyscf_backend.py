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


def test_factored_hybrid_response_equals_pyscf_own(monkeypatch):
    """The orbital-factored exchange response of density-fitted hybrids gives PySCF's shieldings exactly."""
    import numpy as np

    a = li_h2o4()[:7]  # Li(H2O)2+
    a.info.update(charge=1, multiplicity=1)
    lvl = Level(method="PBE0", basis={"default": "6-31G"}, density_fit=True)
    used = []
    real = pyscf_backend._with_vind
    monkeypatch.setattr(pyscf_backend, "_with_vind", lambda n, v: used.append(1) or real(n, v))
    fast = pyscf_backend.shielding(a, lvl, [0, 1])["sigma_iso_ppm"]
    assert used == [1]
    monkeypatch.setattr(pyscf_backend, "_with_vind", lambda n, v: np.asarray(n.kernel()))
    own = pyscf_backend.shielding(a, lvl, [0, 1])["sigma_iso_ppm"]
    assert fast == pytest.approx(own, abs=1e-7)
    assert abs(own[1] - own[0]) > 100  # O and Li: real, different shieldings
