import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "fixtures" / "dft-nmr"

os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def templates():
    from linmr import molecules

    return {
        "cation": ("Li", molecules.from_smiles("[Li+]")),
        "anion": ("FSI", molecules.from_smiles("FS(=O)(=O)[N-]S(F)(=O)=O")),
        "solvent": ("DME", molecules.from_smiles("COCCOC")),
    }


@pytest.fixture(scope="session")
def masses():
    from linmr import molecules

    return molecules.molar_mass("[Li+].FS(=O)(=O)[N-]S(F)(=O)=O"), molecules.molar_mass("COCCOC")


@pytest.fixture(scope="session")
def box4(templates, masses):
    """A packed 4 M box (136 atoms)."""
    from linmr import boxes, composition

    comp = composition.composition(4.0, 1.311, 4, *masses)
    return boxes.build_box(templates, comp, seed=3)


CHARGES = {"Li": 1, "FSI": -1, "DME": 0}
