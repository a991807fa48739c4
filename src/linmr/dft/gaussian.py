"""Gaussian GIAO shieldings: input writer (ASE's Gaussian writer) and runner; outputs read by
:func:`linmr.dft.parsers.read_nmr_output` (the shielding-table reader: cclib 1.8.1 has no
Gaussian NMR support).

Input: ``%nprocshared``/``%mem`` from the rule's cores and memory, route
``#P <functional>/<basis> NMR=GIAO SCF=Tight Integral(Grid=<grid>) [SCRF=(PCM,Solvent=Generic,Read)]``;
a per-element basis becomes ``Gen`` with one block per basis set, a solvent its
``Eps``/``EpsInf`` (refractive index squared) lines after the geometry.
"""

from __future__ import annotations

import io

from ase import Atoms
from ase.io.gaussian import write_gaussian_in

from .. import LinmrError
from .external import shielding_function
from .level import Level

PROGRAM = "gaussian"
# Gaussian's own names of functionals whose common name differs
FUNCTIONALS = {"PBE": "PBEPBE", "PBE0": "PBE1PBE", "HF": "HF"}


def program_version() -> str:
    return "gaussian"


def grid_keyword(grid_level: int) -> str:
    """PySCF-style grid level 0-9 -> Gaussian integration grid."""
    return "FineGrid" if grid_level <= 2 else "UltraFine" if grid_level <= 4 else "SuperFineGrid"


def _gen_basis(symbols: list[str], level: Level) -> str:
    by_basis: dict[str, list[str]] = {}
    for s in symbols:
        by_basis.setdefault(level.basis_for(s), []).append(s)
    # ASE puts this after the blank line that ends the geometry; no trailing newline (ASE adds
    # the one blank line before the next section: two would end the input there)
    return "\n".join(f"{' '.join(els)} 0\n{b}\n****" for b, els in sorted(by_basis.items()))


def write_input(atoms: Atoms, level: Level, nproc: int = 1, memory_mb: int = 4000) -> str:
    """The Gaussian input text for GIAO shieldings of all atoms in ``atoms`` at ``level``."""
    if nproc < 1 or memory_mb < 100:
        raise LinmrError(f"Gaussian needs nproc >= 1 and memory_mb >= 100, got {nproc}, {memory_mb}")
    symbols = sorted(set(atoms.get_chemical_symbols()))
    bases = {level.basis_for(s) for s in symbols}
    kw = dict(
        method=FUNCTIONALS.get(level.method.upper(), level.method),
        charge=int(atoms.info.get("charge", 0)),
        mult=int(atoms.info.get("multiplicity", 1)),
        nprocshared=str(int(nproc)),
        mem=f"{int(memory_mb)}MB",
        nmr="GIAO",
        scf="Tight",
        integral=f"Grid={grid_keyword(level.grid_level)}",
    )
    if len(bases) == 1:
        kw["basis"] = bases.pop()
    else:
        kw["basis"] = "Gen"
        kw["basis_set"] = _gen_basis(symbols, level)
    if level.density_fit and level.method.upper() not in {"HF", "B3LYP", "PBE0"}:
        kw["fitting_basis"] = "Auto"  # density fitting of the Coulomb term (pure functionals only)
    if level.solvent_epsilon is not None:
        kw["scrf"] = "PCM,Solvent=Generic,Read"
        kw["addsec"] = f"Eps={level.solvent_epsilon:g}\nEpsInf={level.solvent_refractive_index ** 2:.4f}"
    atoms = atoms.copy()
    atoms.calc = None
    fd = io.StringIO()
    write_gaussian_in(fd, atoms, properties=[], output_type="P", **kw)
    return fd.getvalue()


shielding = shielding_function(
    write_input, "g16", "gaussian", "load Gaussian 16 (e.g. 'module load gaussian') on the DFT nodes",
    "cluster.com", "cluster.log", stdin_input=True,
)
