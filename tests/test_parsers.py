import pytest

from linmr import LinmrError
from linmr.dft.parsers import read_shieldings

from .conftest import SHARED

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
