"""The 7Li chemical-shift reference: a model compound computed at the clusters' level.

``Li(H2O)4+`` models 1 M LiCl(aq), the usual experimental 7Li reference: Li at the
centre of a tetrahedron of water oxygens (Li-O 1.96 Å), each water in its plane
of symmetry with the dipole pointing at Li (O-H 0.96 Å, H-O-H 104.5°).
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from .. import LinmrError


def li_h2o4(r_li_o: float = 1.96, r_oh: float = 0.96, hoh_deg: float = 104.5) -> Atoms:
    dirs = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float) / np.sqrt(3)
    half = np.radians(hoh_deg) / 2
    symbols, pos = ["Li"], [np.zeros(3)]
    for k, u in enumerate(dirs):
        o = r_li_o * u
        # a unit vector perpendicular to u, rotated per water so the Hs are staggered
        p = np.cross(u, dirs[(k + 1) % 4])
        p /= np.linalg.norm(p)
        for sign in (1, -1):
            h = o + r_oh * (np.cos(half) * u + sign * np.sin(half) * p)
            symbols.append("H")
            pos.append(h)
        symbols.insert(len(symbols) - 2, "O")
        pos.insert(len(pos) - 2, o)
    atoms = Atoms(symbols=symbols, positions=np.array(pos))
    atoms.info.update(charge=1, multiplicity=1, name="Li(H2O)4+")
    return atoms


REFERENCES = {"Li(H2O)4+": li_h2o4}


def reference_structure(name: str) -> Atoms:
    try:
        return REFERENCES[name]()
    except KeyError:
        raise LinmrError(
            f"unknown 7Li reference {name!r} (key dft.reference.name); choose one of {sorted(REFERENCES)} "
            "or give dft.reference.sigma_ref_ppm"
        ) from None


def compute_reference(dft: dict, max_memory_mb: int, nproc: int = 1) -> dict:
    """σ_ref (ppm) of the config's ``dft.reference``: the user's value, or the named model compound computed
    at exactly the clusters' level (the config's ``dft`` keys). Returns the ``reference.json`` record."""
    from . import get_backend, level_from_config, require_dft_executable

    level = level_from_config(dft)
    ref = dft["reference"]
    if ref["sigma_ref_ppm"] is not None:
        out = {"sigma_ref_ppm": float(ref["sigma_ref_ppm"]), "source": "user-given (dft.reference.sigma_ref_ppm)"}
    else:
        require_dft_executable(dft, where="this DFT job")  # on the node that runs it (SLURM too)
        backend = get_backend(dft["backend"])
        res = backend.shielding(reference_structure(ref["name"]), level, [0], max_memory_mb=max_memory_mb,
                                nproc=nproc)
        out = {
            "sigma_ref_ppm": res["sigma_iso_ppm"][0],
            "source": f"computed: {ref['name']}",
            "program": backend.program_version(),
            "wall_s": res["scf_s"] + res["nmr_s"],
        }
    out["level_of_theory"] = level.label()
    return out
