"""Li+ solvation structure: who binds each Li, and SSIP / CIP / AGG classes."""

from __future__ import annotations

import numpy as np
from ase import Atoms


def li_environments(
    frame: Atoms,
    li_name: str = "Li",
    anion_name: str = "FSI",
    solvent_name: str = "DME",
    r_bind: float = 2.6,
    donors: tuple[str, ...] = ("O", "N"),
) -> list[dict]:
    """One dict per Li: bound solvent/anion molecules (a donor atom within ``r_bind`` Å),
    O(solvent) and O(anion) coordination numbers, and the class:

    - ``SSIP``: no anion bound; ``CIP``: anions bound to this Li only;
    - ``AGG``: at least one bound anion also binds another Li.
    """
    names = frame.get_array("mol_name")
    mol = frame.get_array("mol_id")
    sym = np.array(frame.get_chemical_symbols())
    li = np.flatnonzero((names == li_name) & (sym == "Li"))
    donor = np.isin(sym, donors) & np.isin(names, [anion_name, solvent_name])
    donor_idx = np.flatnonzero(donor)
    if len(li) == 0:
        return []
    dist = np.array([frame.get_distances(i, donor_idx, mic=True) for i in li])
    bound = dist <= r_bind
    anions_of = []
    for k in range(len(li)):
        anions_of.append(set(mol[donor_idx[bound[k]]][names[donor_idx[bound[k]]] == anion_name].tolist()))
    out = []
    for k, i in enumerate(li):
        hit = donor_idx[bound[k]]
        solv = set(mol[hit][names[hit] == solvent_name].tolist())
        an = anions_of[k]
        shared = any(an & anions_of[j] for j in range(len(li)) if j != k)
        cls = "SSIP" if not an else ("AGG" if shared else "CIP")
        out.append(
            {
                "li_index": int(i),
                "n_solvent": len(solv),
                "n_anion": len(an),
                "cn_O_solvent": int(((sym[hit] == "O") & (names[hit] == solvent_name)).sum()),
                "cn_O_anion": int(((sym[hit] == "O") & (names[hit] == anion_name)).sum()),
                "cn_N_anion": int(((sym[hit] == "N") & (names[hit] == anion_name)).sum()),
                "solvation_class": cls,
            }
        )
    return out


CLASSES = ("SSIP", "CIP", "AGG")


def class_statistics(pred) -> dict:
    """Fractions of Li-frames per class, mean coordination numbers and mean shift (ppm) per class."""
    n = len(pred)
    out = {f"fraction_{c}": float((pred["solvation_class"] == c).sum() / n) if n else float("nan") for c in CLASSES}
    for col in ("cn_O_solvent", "cn_O_anion", "cn_N_anion", "n_solvent", "n_anion"):
        out[f"mean_{col}"] = float(pred[col].mean())
    for c in CLASSES:
        sub = pred[pred["solvation_class"] == c]
        out[f"delta_{c}_ppm"] = float(sub["delta_ppm"].mean()) if len(sub) else float("nan")
    return out
