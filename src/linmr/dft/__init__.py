"""DFT NMR shieldings of Li clusters: backends behind one interface.

A backend is chosen by name (``pyscf``, ``nwchem``, ``orca``, ``gaussian``); each takes an ASE ``Atoms``
cluster with ``info['charge']``/``info['multiplicity']`` and a level-of-theory
dict, and returns isotropic shieldings (ppm) of the requested atoms.
"""

from __future__ import annotations

from .level import Level, level_from_config

__all__ = ["Level", "level_from_config", "get_backend"]


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
