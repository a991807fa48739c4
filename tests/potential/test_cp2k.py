"""The CP2K teacher: input text, a real CP2K run on a 16-atom box (energy, forces checked against a finite
difference, stress), and an unconverged SCF or a cut log refused."""
import shutil

import numpy as np
import pytest

from linmr import LinmrError
from linmr.potential import cp2k

CHEAP = {"executable": "cp2k.psmp", "functional": "PBE", "dispersion": "D3", "basis": "SZV-MOLOPT-SR-GTH",
         "cutoff_Ry": 200, "rel_cutoff_Ry": 40, "eps_scf": 1e-6, "max_scf": 60}
needs_cp2k = pytest.mark.skipif(shutil.which("cp2k.psmp") is None, reason="cp2k.psmp not installed (apt-get install cp2k)")


@pytest.fixture(scope="module")
def small_box(templates):
    """LiFSI and one methanol in a periodic 8 Å cube: 16 atoms, all seven elements but none missing a GTH set."""
    from linmr.system import boxes, molecules

    meoh = molecules.from_smiles("CO")
    return boxes.pack([templates["cation"] + (1,), templates["anion"] + (1,), ("MeOH", meoh, 1)], 8.0, seed=3,
                      tolerance=1.6)


def test_input_names_functional_dispersion_basis_cutoff_and_spin(small_box):
    text = cp2k.write_input(small_box, CHEAP)
    for line in ("RUN_TYPE ENERGY_FORCE", "STRESS_TENSOR ANALYTICAL", "CUTOFF 200", "REL_CUTOFF 40",
                 "&XC_FUNCTIONAL PBE", "TYPE DFTD3", "MULTIPLICITY 1", "BASIS_SET SZV-MOLOPT-SR-GTH",
                 "POTENTIAL GTH-PBE-q3", "POTENTIAL GTH-PBE-q7", "PERIODIC XYZ"):
        assert line in text, line
    assert "UKS" not in text and text.count("&KIND") == len(set(small_box.get_chemical_symbols()))
    odd = small_box[[i for i in range(len(small_box)) if small_box[i].symbol != "H"][:3]]  # Li, F, S: 16 e-
    odd = odd + small_box[[i for i in range(len(small_box)) if small_box[i].symbol == "H"][:1]]
    odd.pbc, odd.cell = True, small_box.cell
    assert "MULTIPLICITY 2" in cp2k.write_input(odd, CHEAP) and "UKS .TRUE." in cp2k.write_input(odd, CHEAP)
    assert "VDW_POTENTIAL" not in cp2k.write_input(small_box, {**CHEAP, "dispersion": "none"})


def test_cut_or_aborted_logs_are_refused():
    with pytest.raises(LinmrError, match="did not end normally"):
        cp2k.parse_output(" PROGRAM STARTED AT  2026\n ENERGY| Total FORCE_EVAL ( QS ) energy [hartree]:  -1.0\n", 1)
    aborted = (" PROGRAM STARTED AT\n * [ABORT]                                       *\n"
               " *  \\___/   Use the LSD option for an odd number of electrons        *\n"
               " *    |                                                          *\n **********\n")
    with pytest.raises(LinmrError, match="aborted: Use the LSD option"):
        cp2k.parse_output(aborted, 1)


@pytest.mark.slow
@needs_cp2k
def test_real_cp2k_labels_with_consistent_forces_and_stress(small_box, tmp_path):
    res = cp2k.run(small_box, CHEAP, tmp_path / "a", nproc=2)
    assert np.isfinite(res["energy"]) and res["forces"].shape == (16, 3) and res["stress"].shape == (6,)
    assert np.abs(res["forces"]).max() < 50 and np.abs(res["stress"]).max() < 0.5  # eV/Å, eV/Å^3
    # the force on the Li is minus the energy's derivative: central difference of +-0.01 Å along x
    li = small_box.get_chemical_symbols().index("Li")
    e = []
    for sign in (1, -1):
        b = small_box.copy()
        b.positions[li, 0] += sign * 0.01
        e.append(cp2k.run(b, CHEAP, tmp_path / f"d{sign}", nproc=2)["energy"])
    assert res["forces"][li, 0] == pytest.approx(-(e[0] - e[1]) / 0.02, abs=0.02)
    # the log of a second run in the same folder replaces the first (cp2k -o appends otherwise)
    again = cp2k.run(small_box, CHEAP, tmp_path / "a", nproc=2)
    assert again["energy"] == pytest.approx(res["energy"], abs=1e-6)
    with pytest.raises(LinmrError, match="SCF not converged"):
        cp2k.run(small_box, {**CHEAP, "max_scf": 2}, tmp_path / "b", nproc=2)


@pytest.mark.slow
@needs_cp2k
def test_teacher_labels_frames_and_records_failures(small_box, tmp_path):
    from linmr import config
    from linmr.potential import label

    pot = config.load(config.SCHEMA.parents[2] / "tests/micro.yaml")["potential"]
    pot.update(teacher="cp2k", explorer="chgnet", cp2k={**CHEAP, "max_scf": 60})
    bad = small_box.copy()
    bad[0].symbol = "Xe"  # no GTH pseudopotential known: the frame fails, is recorded and left out
    frames, table = label([small_box, bad], pot, tmp_path, round_=0, nproc=2)
    assert len(frames) == 1 and table["status"].tolist() == ["ok", "failed"]
    assert "Xe" in table["reason"].iloc[1]
    assert frames[0].get_forces().shape == (16, 3) and frames[0].info["labelled_by"].startswith("cp2k")
    assert (table["wall_s"] > 0).all()
