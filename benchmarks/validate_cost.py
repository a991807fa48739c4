"""Cost of the reliability checks at paper scale: config validation and checked structure reading.

Validates config/paper.yaml (schema + cross-field checks) and reads a synthetic paper-scale
trajectory (the 1 M box of config/paper.yaml: about 6,000 atoms) through
``linmr.readers.read_frames`` with every check on, against plain ``ase.io.read``.
The last line reads like ``config 0.3 s; 20 frames of 6256 atoms: plain 0.9 s, checked 1.0 s (+10%)``.
Usage: python benchmarks/validate_cost.py [n_frames]
"""

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import read, write

from linmr import readers
from linmr.config import load

ROOT = Path(__file__).resolve().parents[1]


def synthetic_box(n_mol: int = 391, edge: float = 40.48, seed: int = 0) -> Atoms:
    """``n_mol`` rigid 16-atom molecules on a jittered grid (no overlaps), like a packed DME box."""
    rng = np.random.default_rng(seed)
    template = np.array([[i % 4, (i // 4) % 2, i // 8] for i in range(16)], float) * 1.0
    n_side = int(np.ceil(n_mol ** (1 / 3)))
    step = edge / n_side
    pos, mol = [], []
    for k in range(n_mol):
        g = np.array([k % n_side, (k // n_side) % n_side, k // n_side**2], float) * step
        pos.append(template + g + rng.uniform(0, 0.3, 3))
        mol += [k] * 16
    atoms = Atoms(["C"] * (16 * n_mol), positions=np.concatenate(pos), cell=[edge] * 3, pbc=True)
    atoms.set_array("mol_id", np.array(mol))
    atoms.set_array("mol_name", np.array(["DME"] * len(mol), dtype="<U8"))
    atoms.wrap()
    return atoms


def main(n_frames: int = 20) -> None:
    t0 = time.perf_counter()
    load(ROOT / "config/paper.yaml")
    t_cfg = time.perf_counter() - t0
    box = synthetic_box()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "traj.extxyz"
        write(path, [box] * n_frames, format="extxyz")
        t0 = time.perf_counter()
        read(path, index=":", format="extxyz")
        t_plain = time.perf_counter() - t0
        t0 = time.perf_counter()
        readers.read_frames(path, what="MD trajectory", periodic=True, cutoff_A=6.0, arrays=("mol_id", "mol_name"))
        t_checked = time.perf_counter() - t0
        t0 = time.perf_counter()
        readers.read_frames(path, what="MD trajectory", periodic=True, cutoff_A=6.0, overlap_frames="all")
        t_all = time.perf_counter() - t0
    print(f"overlap check in every frame: {t_all:.2f} s")
    print(
        f"config {t_cfg:.2f} s; {n_frames} frames of {len(box)} atoms: plain {t_plain:.2f} s, "
        f"checked {t_checked:.2f} s ({100 * (t_checked / t_plain - 1):+.0f}%)"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
