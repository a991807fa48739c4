import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "fixtures" / "dft-nmr"

os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def templates():
    from linmr.system import molecules

    return {
        "cation": ("Li", molecules.from_smiles("[Li+]")),
        "anion": ("FSI", molecules.from_smiles("FS(=O)(=O)[N-]S(F)(=O)=O")),
        "solvent": ("DME", molecules.from_smiles("COCCOC")),
    }


@pytest.fixture(scope="session")
def masses():
    from linmr.system import molecules

    return molecules.molar_mass("[Li+].FS(=O)(=O)[N-]S(F)(=O)=O"), molecules.molar_mass("COCCOC")


@pytest.fixture(scope="session")
def box4(templates, masses):
    """A packed 4 M box (136 atoms)."""
    from linmr.system import boxes, composition

    comp = composition.composition(4.0, 1.311, 4, *masses)
    return boxes.build_box(templates, comp, seed=3)


CHARGES = {"Li": 1, "FSI": -1, "DME": 0}
NAMES = {"cation": "Li", "anion": "FSI", "solvent": "DME"}


def rattled(box, n, scale=0.4, seed=0):
    """``n`` copies of ``box`` with Gaussian noise (Å) on every position and ``time_ps`` 0.01, 0.02, ..."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        f = box.copy()
        f.positions += rng.normal(scale=scale, size=f.positions.shape)
        f.info["time_ps"] = 0.01 * (k + 1)
        out.append(f)
    return out


@pytest.fixture(scope="module")
def small_bundle(box4):
    """A two-member ensemble trained for a few epochs on rattled copies of the 4 M box."""
    from linmr.analysis import solvation
    from linmr.ml import descriptors, model

    s = descriptors.SoapSettings(r_cut=4.0, n_max=2, l_max=2, sigma=0.4)
    feat = descriptors.Featurizer(s)
    frames = rattled(box4, 8, scale=0.1)
    li = [list(solvation.Topology(frames[0]).li)] * len(frames)
    x = feat.many(frames, li)
    y = x[:, :3].sum(axis=1).astype(float)
    groups = np.repeat(np.arange(len(frames)), len(li[0]))
    tr, va, _ = model.grouped_split(groups)
    return model.train(x, y, tr, va, model.ModelSettings(hidden=(8,), ensemble=2, max_epochs=5), s.as_dict(),
                       progress=False, log=lambda *a: None)
