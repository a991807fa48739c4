"""NMR output readers on real Gaussian/ORCA outputs, and outputs that are foreign, truncated or cut."""

import pytest

from linmr import LinmrError
from linmr.dft import nwchem
from linmr.dft.parsers import read_nmr_output, read_shieldings

from ..conftest import SHARED

needs_fixtures = pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared fixtures not found at {SHARED}")


@needs_fixtures
@pytest.mark.parametrize(
    "name, program, known, total",
    [
        ("gaussian16_dvb_nmr.log", "gaussian", {0: 114.0880, 2: 117.7630}, 1456.514),
        ("orca5_dvb_nmr.out", "orca", {0: 114.441}, 1459.474),
        ("orca6_dvb_nmr.out", "orca", {0: 114.398, 2: 118.053}, 1459.484),
    ],
)
def test_known_shieldings(name, program, known, total):
    r = read_shieldings(SHARED / name)
    assert r["program"] == program
    assert len(r["sigma_iso_ppm"]) == 20
    for i, v in known.items():
        assert r["sigma_iso_ppm"][i] == pytest.approx(v, abs=1e-3)
    assert sum(r["sigma_iso_ppm"].values()) == pytest.approx(total, abs=1e-3)
    assert r["elements"][0] == "C"


@needs_fixtures
@pytest.mark.parametrize("name", ["gaussian16_dvb_nmr.log", "orca5_dvb_nmr.out", "orca6_dvb_nmr.out"])
def test_truncated_output_is_refused(tmp_path, name):
    text = (SHARED / name).read_text()
    cut = tmp_path / name
    cut.write_text(text[: int(len(text) * 0.98)])
    with pytest.raises(LinmrError, match=name):
        read_shieldings(cut)


def test_foreign_output_is_refused(tmp_path):
    f = tmp_path / "nwchem.out"
    f.write_text("Northwest Computational Chemistry Package\n")
    with pytest.raises(LinmrError, match="not a Gaussian or ORCA output"):
        read_shieldings(f)
    with pytest.raises(LinmrError, match="cannot read"):
        read_shieldings(tmp_path / "missing.log")


# DFT outputs
GAUSSIAN_TEXT = """ Entering Gaussian System, Link 0=g16
 SCF GIAO Magnetic shielding tensor (ppm):
      1  Li   Isotropic =    90.1234   Anisotropy =     1.2000
   XX=    90.0000   YX=     0.0000   ZX=     0.0000
      2  O    Isotropic =   300.5000   Anisotropy =    40.0000
 End of Minotr F.D. properties file   721 does not exist.
 Normal termination of Gaussian 16 at Mon Jan  1 00:00:00 2024.
"""


def test_dft_output_from_another_program(tmp_path):
    g = tmp_path / "cluster.log"
    g.write_text(GAUSSIAN_TEXT)
    assert read_shieldings(g)["sigma_iso_ppm"][0] == pytest.approx(90.1234)
    with pytest.raises(LinmrError, match="not an NWChem GIAO run"):
        nwchem.parse_output(GAUSSIAN_TEXT, source=str(g))
    nw = tmp_path / "nwchem.out"
    nw.write_text("  Northwest Computational Chemistry Package (NWChem) 7.2\n Chemical Shielding Tensors (GIAO, in ppm)\n")
    with pytest.raises(LinmrError, match=r"nwchem\.out: not a Gaussian or ORCA output"):
        read_shieldings(nw)


def test_truncated_dft_outputs(tmp_path):
    g = tmp_path / "cut.log"
    g.write_text(GAUSSIAN_TEXT.rsplit(" Normal termination", 1)[0])
    with pytest.raises(LinmrError, match=r"cut\.log: gaussian output did not terminate normally"):
        read_shieldings(g)
    g.write_text(GAUSSIAN_TEXT.split(" SCF GIAO")[0])
    with pytest.raises(LinmrError, match=r"cut\.log: Gaussian output has no 'Magnetic shielding tensor"):
        read_shieldings(g)


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared fixtures not found at {SHARED}")
def test_orca_output_renamed_and_cut(tmp_path):
    text = (SHARED / "orca6_dvb_nmr.out").read_text()
    p = tmp_path / "orca.log"
    p.write_text(text[: text.index("CHEMICAL SHIELDING SUMMARY")])
    with pytest.raises(LinmrError, match=r"orca\.log: ORCA output has no 'CHEMICAL SHIELDING SUMMARY"):
        read_shieldings(p)


@needs_fixtures
def test_read_nmr_output_uses_cclib_where_it_works():
    o5 = read_nmr_output(SHARED / "orca5_dvb_nmr.out")
    assert o5["parser"].startswith("cclib") and o5["sigma_iso_ppm"][0] == pytest.approx(114.441, abs=1e-3)
    o6 = read_nmr_output(SHARED / "orca6_dvb_nmr.out")
    assert o6["parser"] == "table" and o6["sigma_iso_ppm"][2] == pytest.approx(118.053, abs=1e-3)
    g = read_nmr_output(SHARED / "gaussian16_dvb_nmr.log")
    assert g["parser"] == "table" and sum(g["sigma_iso_ppm"].values()) == pytest.approx(1456.514, abs=1e-3)
