"""Fuzzing (hypothesis) of the DFT-output parsers and the structure reader on mutated files:
whatever the bytes, the only exception allowed is linmr's own LinmrError.

Bounded for CI: a fixed number of examples per test, derandomised (the same examples on every
run, no example database), so the whole file takes well under a minute.
"""
import re

import numpy as np
import pytest
from ase import Atoms
from ase.io import write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linmr import LinmrError, readers
from linmr.dft import nwchem
from linmr.dft.parsers import read_shieldings

from .conftest import SHARED

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

GAUSSIAN = b""" Entering Gaussian System, Link 0=g16
 Gaussian, Inc.  All Rights Reserved.
 SCF GIAO Magnetic shielding tensor (ppm):
      1  Li   Isotropic =    90.1234   Anisotropy =     1.2000
   XX=    90.0000   YX=     0.0000   ZX=     0.0000
   XY=     0.0000   YY=    90.0000   ZY=     0.0000
   Eigenvalues:    89.5000    90.0000    91.0000
      2  O    Isotropic =   300.5000   Anisotropy =    40.0000
   XX=   300.0000   YX=     0.0000   ZX=     0.0000
      3  H    Isotropic =    30.25D+00   Anisotropy =     4.0000
 End of Minotr F.D. properties file   721 does not exist.
 Normal termination of Gaussian 16 at Mon Jan  1 00:00:00 2024.
"""

ORCA = b"""                                 * O   R   C   A *
                          Program Version 6.0.0 -  RELEASE  -
--------------------------------
CHEMICAL SHIELDING SUMMARY (ppm)
--------------------------------

  Nucleus  Element    Isotropic     Anisotropy
  -------  -------  ------------   ------------
      0       Li          90.398         1.504
      1       O          300.053       132.469
      2       H           25.574         4.984

                             ****ORCA TERMINATED NORMALLY****
"""

NWCHEM = b"""  Northwest Computational Chemistry Package (NWChem) 7.2.2
          Chemical Shielding Tensors (GIAO, in ppm)
          -----------------------------------------
      Atom:    1  Li
        Total Shielding Tensor
     89.9000      0.0000      0.0000
        isotropic =      89.9000
      Atom:    2  O
        isotropic =     300.5000
"""

SAMPLES = {"gaussian": GAUSSIAN, "orca": ORCA}
for _name in ("gaussian16_dvb_nmr.log", "orca5_dvb_nmr.out", "orca6_dvb_nmr.out"):
    if (SHARED / _name).is_file():
        SAMPLES[_name] = (SHARED / _name).read_bytes()

MARKERS = (b"Magnetic shielding tensor (ppm)", b"CHEMICAL SHIELDING SUMMARY (ppm)", b"Chemical Shielding Tensors",
           b"Lattice=", b"Properties=")
NOISE = st.one_of(
    st.binary(max_size=40),
    st.text(alphabet="0123456789.-+EeDd =\n\t ", max_size=40).map(str.encode),
    st.integers(min_value=4000, max_value=6000).map(lambda n: b"9" * n),  # a number too long for int()
    st.sampled_from([b"nan", b"inf", b"-0.0", b"1e999", b"\xff\xfe", b"\x00", b"Isotropic =", b"Atom:", b"isotropic =",
                     b"Normal termination", b"ORCA TERMINATED NORMALLY", b"Entering Gaussian System", b'"', b"\r\n"]),
)


BAD_NUMBERS = st.one_of(
    st.sampled_from([b"1.2.3", b"--1", b"1e", b"1.5D+0D", b".", b"-", b"+.e", b"nan", b"inf", b"1e999", b"0x1F",
                     b"\xd9\xa3", b"", b" ", b"1,5"]),
    st.integers(min_value=4301, max_value=6000).map(lambda n: b"9" * n),  # too many digits for int()
    st.text(alphabet="0123456789.-+EeDd", min_size=1, max_size=12).map(str.encode),
)


def _numbers_near_markers(base: bytes) -> list[tuple[int, int]]:
    spans = []
    for m in MARKERS:
        at = base.find(m)
        if at >= 0:
            spans += [(at + x.start(), at + x.end()) for x in re.finditer(rb"[-+]?\d+(\.\d+)?([EeDd][-+]?\d+)?", base[at:at + 3000])]
    return spans


@st.composite
def mutated(draw, base: bytes) -> bytes:
    """``base`` after 1-4 random edits, placed anywhere or near a parser's marker; a number there may be
    replaced by a malformed one."""
    numbers = _numbers_near_markers(base)
    if numbers and draw(st.booleans()):
        a, b = draw(st.sampled_from(numbers))
        base = base[:a] + draw(BAD_NUMBERS) + base[b:]
        if draw(st.booleans()):
            return base
    data = bytearray(base)
    anchors = [i for m in MARKERS for i in [base.find(m)] if i >= 0]
    for _ in range(draw(st.integers(1, 4))):
        n = len(data)
        if anchors and draw(st.booleans()):
            a = draw(st.sampled_from(anchors))
            pos = min(n, max(0, a + draw(st.integers(-200, 1500))))
        else:
            pos = draw(st.integers(0, n))
        op = draw(st.sampled_from(["truncate", "delete", "insert", "replace", "duplicate", "flip"]))
        if op == "truncate":
            del data[pos:]
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 300))]
        elif op == "insert":
            data[pos:pos] = draw(NOISE)
        elif op == "replace":
            k = draw(st.integers(1, 30))
            data[pos : pos + k] = draw(NOISE)
        elif op == "duplicate":
            k = draw(st.integers(1, 2000))
            data[pos:pos] = data[pos : pos + k]
        elif op == "flip" and n:
            i = min(pos, n - 1)
            data[i] ^= draw(st.integers(1, 255))
    return bytes(data)


def _only_linmr_errors(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except LinmrError:
        return None


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_fuzz_dft_output_parsers(tmp_path, name):
    base = SAMPLES[name]
    path = tmp_path / "out.log"
    assert read_shieldings(_write(path, base))["sigma_iso_ppm"]  # the unmutated sample parses

    @FUZZ
    @given(data=mutated(base), strict=st.booleans())
    def run(data, strict):
        res = _only_linmr_errors(read_shieldings, _write(path, data), require_normal_termination=strict)
        if res is not None:
            assert res["program"] in ("gaussian", "orca")
            assert set(res["sigma_iso_ppm"]) == set(res["elements"])
            assert all(isinstance(v, float) for v in res["sigma_iso_ppm"].values())

    run()


def test_fuzz_nwchem_parser():
    assert nwchem.parse_output(NWCHEM.decode())[0] == pytest.approx(89.9)

    @FUZZ
    @given(data=mutated(NWCHEM))
    def run(data):
        res = _only_linmr_errors(nwchem.parse_output, data.decode(errors="replace"), source="fuzz.out")
        if res is not None:
            assert all(isinstance(v, float) for v in res.values())

    run()


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def _box_bytes(tmp_path) -> bytes:
    edge = 12.0
    atoms = Atoms("OHHLi", positions=[[1.5, 1.5, 1.5], [2.46, 1.5, 1.5], [1.26, 2.43, 1.5], [6, 6, 6]],
                  cell=[edge] * 3, pbc=True)
    atoms.set_array("mol_id", np.array([0, 0, 0, 1]))
    atoms.set_array("mol_name", np.array(["W", "W", "W", "Li"], dtype="<U8"))
    p = tmp_path / "seed.extxyz"
    write(p, [atoms, atoms], format="extxyz")
    return p.read_bytes()


def test_fuzz_structure_reader(tmp_path):
    base = _box_bytes(tmp_path)
    path = tmp_path / "box.extxyz"
    kw = dict(periodic=True, cutoff_A=4.5, arrays=("mol_id",), species=["Li", "O", "H"], overlap_frames="all")
    assert len(readers.read_frames(_write(path, base), **kw)) == 2

    @FUZZ
    @given(data=mutated(base), periodic=st.sampled_from([True, False, None]))
    def run(data, periodic):
        frames = _only_linmr_errors(readers.read_frames, _write(path, data), **{**kw, "periodic": periodic})
        if frames is not None:
            assert frames and all(np.isfinite(f.positions).all() for f in frames)

    run()


def test_regressions_found_by_fuzzing(tmp_path):
    """Inputs the fuzzer found crashing with ValueError (or exhausting memory) before the readers caught them."""
    # a column count of 10**83 in the Properties header: ASE allocated until the machine ran out of memory
    huge = _box_bytes(tmp_path).replace(b"pos:R:3", b"pos:R:" + b"9" * 84, 1)
    with pytest.raises(LinmrError, match="Properties header with 9+"):
        readers.read_frames(_write(tmp_path / "huge.extxyz", huge))
    with pytest.raises(LinmrError, match="Properties header"):
        list(readers.iter_frames(_write(tmp_path / "huge.extxyz", huge)))
    with pytest.raises(LinmrError, match="fuzz.out: malformed number"):
        nwchem.parse_output(NWCHEM.decode().replace("89.9000", "8.9.9"), source="fuzz.out")
    long_atom = GAUSSIAN.replace(b"      1  Li   Isotropic", b" " + b"9" * 4400 + b"  Li   Isotropic")
    with pytest.raises(LinmrError, match=r"out\.log: malformed number in the gaussian shielding table"):
        read_shieldings(_write(tmp_path / "out.log", long_atom))
