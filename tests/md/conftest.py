"""Shared by the MD tests: a 26-atom packed box and a tiny protocol."""
from pathlib import Path

import pytest
from ase.io import write

from linmr import LinmrError

ROOT = Path(__file__).resolve().parents[2]


# tiny protocol: 3 FIRE + 4 heat + 4 NPT + 40 production steps, frames every 4, checkpoints every 8
PROTO = dict(min_steps=3, heat_steps=4, npt_steps=4, prod_steps=40, stride=4, checkpoint_every_steps=8,
             bond_check_every_steps=4, seed=5)


@pytest.fixture(scope="module")
def tiny_box(templates, tmp_path_factory):
    """1 Li+, 1 FSI-, 1 DME in a periodic 9 Å cube (26 atoms), packed by packmol."""
    from linmr.system import boxes

    atoms = boxes.pack([templates["cation"] + (1,), templates["anion"] + (1,), templates["solvent"] + (1,)],
                       9.0, seed=1, tolerance=2.0)
    path = tmp_path_factory.mktemp("md") / "tiny.extxyz"
    write(path, atoms, format="extxyz")
    return path


def _lmp_available():
    from linmr.md import lammps as md_lammps

    try:
        md_lammps.lmp_executable()
        return True
    except LinmrError:
        return False
