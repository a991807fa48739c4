"""DFT NMR shieldings of Li clusters: backends behind one interface.

A backend is chosen by name (``pyscf``, ``nwchem``, ``orca``, ``gaussian``); each takes an ASE ``Atoms``
cluster with ``info['charge']``/``info['multiplicity']`` and a level-of-theory
dict, and returns isotropic shieldings (ppm) of the requested atoms.
"""

from __future__ import annotations

from .level import Level, level_from_config

__all__ = ["Level", "level_from_config", "get_backend", "MEMORY_OVERHEAD_MB", "program_memory_mb"]

# a DFT job requests the program's memory (dft.max_memory_mb) plus this much for Python and the OS (MB)
MEMORY_OVERHEAD_MB = 1000


def program_memory_mb(job_mem_mb: int | None) -> int:
    """The memory (MB) the DFT program may use in a job of ``job_mem_mb`` (its ``resources.mem_mb``, which a
    profile may raise): the job's memory less :data:`MEMORY_OVERHEAD_MB`, at least 500 MB."""
    if job_mem_mb is None:
        raise ValueError("the DFT job has no mem_mb resource")
    return max(500, int(job_mem_mb) - MEMORY_OVERHEAD_MB)


def get_backend(name: str):
    """The module implementing backend ``name`` (exposes ``shielding(atoms, level, atom_indices, ...)``)."""
    from .. import LinmrError

    if name == "pyscf":
        from . import pyscf_backend

        return pyscf_backend
    if name == "nwchem":
        from . import nwchem

        return nwchem
    if name == "orca":
        from . import orca

        return orca
    if name == "gaussian":
        from . import gaussian

        return gaussian
    raise LinmrError(f"unknown DFT backend {name!r} (key dft.backend); choose one of: pyscf, nwchem, orca, gaussian")


# executables each external DFT backend runs (first one found wins)
DFT_EXECUTABLES = {"nwchem": ("nwchem",), "orca": ("orca",), "gaussian": ("g16", "g09")}


def require_dft_executable(dft: dict, which=None, where: str = "this local run") -> None:
    """The executable of an external DFT backend must be on PATH (a DFT job calls this first, on its node)."""
    import shutil

    from .. import LinmrError

    which = which or shutil.which
    backend = dft["backend"]
    names = DFT_EXECUTABLES.get(backend)
    if names and not any(which(n) for n in names):
        raise LinmrError(
            f"config key 'dft.backend': {backend!r} runs the executable {' or '.join(names)}, which is not on "
            f"PATH for {where}; install it, put it on PATH, or choose dft.backend 'pyscf'"
        )
