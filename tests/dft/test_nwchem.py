"""NWChem: the independent GIAO code PySCF is checked against."""
import shutil

import pytest

from linmr import LinmrError
from linmr.dft import Level, get_backend, pyscf_backend
from linmr.dft.reference import li_h2o4


def li_h2o2():
    a = li_h2o4()[[0, 1, 2, 3, 4, 5, 6]]
    a.info.update(charge=1, multiplicity=1)
    return a


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("nwchem") is None, reason="nwchem not installed (apt-get install nwchem)")
def test_pyscf_agrees_with_nwchem():
    # B3LYP/6-31G*, no density fitting, fine grids in both codes: the patched RKS GIAO path of PySCF
    a = li_h2o2()
    lvl = Level(method="B3LYP", basis={"default": "6-31G*"}, density_fit=False, giao_density_fit=False, grid_level=4)
    ours = pyscf_backend.shielding(a, lvl, [0])["sigma_iso_ppm"][0]
    theirs = get_backend("nwchem").shielding(a, lvl, [0])["sigma_iso_ppm"][0]
    assert abs(ours - theirs) < 0.05, (ours, theirs)


def test_nwchem_parser_rejects_other_output():
    from linmr.dft import nwchem

    with pytest.raises(LinmrError, match="no 'Chemical Shielding Tensors'"):
        nwchem.parse_output("Entering Gaussian System\n", source="x.log")
