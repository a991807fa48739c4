"""ORCA GIAO shieldings: input writer (ASE's ORCA writer) and runner; outputs read by
:func:`linmr.dft.parsers.read_nmr_output` (cclib for ORCA 5, the table reader otherwise).

Input: ``! <functional> <basis> NMR TightSCF <grid> [RIJCOSX|RI] [CPCM]``, a ``%basis``
block for per-element basis sets, ``%pal``/``%maxcore`` from the rule's cores and memory,
``%cpcm`` with the solvent's dielectric constant and refractive index, and ``%eprnmr``
restricting shieldings to the Li nuclei.
"""

from __future__ import annotations

import io

from ase import Atoms
from ase.io.orca import write_orca

from .. import LinmrError
from .external import shielding_function
from .level import Level

PROGRAM = "orca"
# ORCA overshoots %maxcore; give it 75% of the memory per core (ORCA manual's advice)
MAXCORE_FRACTION = 0.75


def program_version() -> str:
    return "orca"


def grid_keyword(grid_level: int) -> str:
    """PySCF-style grid level 0-9 -> ORCA 5/6 integration grid (DefGrid1-3)."""
    return "DefGrid1" if grid_level <= 2 else "DefGrid2" if grid_level <= 4 else "DefGrid3"


def _hybrid(method: str) -> bool:
    return method.upper() in {"HF", "B3LYP", "PBE0", "B3PW91", "M06-2X", "M062X", "TPSSH", "BHANDHLYP", "X3LYP"}


def write_input(atoms: Atoms, level: Level, nproc: int = 1, memory_mb: int = 4000) -> str:
    """The ORCA input text for GIAO shieldings of every Li in ``atoms`` at ``level``.

    ``memory_mb`` is the job's total memory; ``%maxcore`` (per core) is 75% of it over ``nproc``.
    """
    if nproc < 1 or memory_mb < 100:
        raise LinmrError(f"ORCA needs nproc >= 1 and memory_mb >= 100, got {nproc}, {memory_mb}")
    symbols = sorted(set(atoms.get_chemical_symbols()))
    default = level.basis["default"]
    simple = [level.method, default, "NMR", "TightSCF", grid_keyword(level.grid_level)]
    if level.density_fit:
        simple += ["RIJCOSX" if _hybrid(level.method) else "RI", "AutoAux"]
    blocks = []
    if nproc > 1:
        blocks.append(f"%pal nprocs {int(nproc)} end")
    blocks.append(f"%maxcore {max(100, int(MAXCORE_FRACTION * memory_mb / nproc))}")
    special = [(s, level.basis_for(s)) for s in symbols if level.basis_for(s) != default]
    if special:
        blocks.append("%basis\n" + "\n".join(f'  NewGTO {s} "{b}" end' for s, b in special) + "\nend")
    if level.solvent_epsilon is not None:
        simple.append("CPCM")
        blocks.append(f"%cpcm\n  epsilon {level.solvent_epsilon:g}\n  refrac {level.solvent_refractive_index:g}\nend")
    if "Li" in symbols:
        blocks.append("%eprnmr\n  Nuclei = all Li { shift }\nend")
    params = {
        "orcasimpleinput": " ".join(simple),
        "orcablocks": "\n".join(blocks),
        "charge": int(atoms.info.get("charge", 0)),
        "mult": int(atoms.info.get("multiplicity", 1)),
    }
    fd = io.StringIO()
    write_orca(fd, atoms, params)
    return fd.getvalue()


shielding = shielding_function(
    write_input, "orca", "orca", "load ORCA (e.g. 'module load orca') on the node that runs the DFT rules",
    "cluster.inp", "cluster.out",
)
