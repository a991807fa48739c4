"""Periodic electrolyte boxes packed with packmol."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import read, write

from . import LinmrError
from .composition import Composition


def packmol_executable() -> str:
    exe = shutil.which("packmol")
    if exe is None:
        raise LinmrError("packmol executable not found on PATH (pip install packmol)")
    return exe


def pack(
    molecules: list[tuple[str, Atoms, int]],
    cell_length: float,
    seed: int = 1,
    tolerance: float = 2.0,
    retries: int = 3,
) -> Atoms:
    """Pack ``(name, template, count)`` molecules into a periodic cube of edge ``cell_length`` (Å).

    Uses packmol's ``pbc`` keyword, so molecules may cross the faces of the cell and
    distances are checked through the periodic boundaries. The result carries the
    per-atom arrays ``mol_id`` (0-based molecule index) and ``mol_name``.
    A failed pack is retried with a new seed ``retries`` times, then raises.
    """
    exe = packmol_executable()
    last_log = ""
    for attempt in range(retries + 1):
        this_seed = seed + 1000 * attempt
        with tempfile.TemporaryDirectory(prefix="linmr-packmol-") as tmp:
            tmp = Path(tmp)
            lines = [
                f"tolerance {tolerance}",
                "filetype xyz",
                "output packed.xyz",
                f"seed {this_seed}",
                f"pbc 0. 0. 0. {cell_length:.4f} {cell_length:.4f} {cell_length:.4f}",
            ]
            for name, template, count in molecules:
                if count <= 0:
                    continue
                write(tmp / f"{name}.xyz", template, format="xyz")
                lines += [
                    f"structure {name}.xyz",
                    f"  number {count}",
                    f"  inside box 0. 0. 0. {cell_length:.4f} {cell_length:.4f} {cell_length:.4f}",
                    "end structure",
                ]
            (tmp / "pack.inp").write_text("\n".join(lines) + "\n")
            with open(tmp / "pack.inp") as stdin:
                proc = subprocess.run([exe], stdin=stdin, cwd=tmp, capture_output=True, text=True)
            last_log = proc.stdout[-2000:] + proc.stderr[-2000:]
            out = tmp / "packed.xyz"
            if proc.returncode == 0 and out.exists() and "Success!" in proc.stdout:
                atoms = read(out, format="xyz")
                break
    else:
        raise LinmrError(
            f"packmol failed to pack a {cell_length:.2f} Å box after {retries + 1} seeds; last output:\n{last_log}"
        )
    mol_id, mol_name = [], []
    k = 0
    for name, template, count in molecules:
        for _ in range(max(count, 0)):
            mol_id += [k] * len(template)
            mol_name += [name] * len(template)
            k += 1
    if len(mol_id) != len(atoms):
        raise LinmrError(f"packmol returned {len(atoms)} atoms, expected {len(mol_id)}")
    atoms.set_cell([cell_length] * 3)
    atoms.set_pbc(True)
    atoms.wrap()
    atoms.set_array("mol_id", np.array(mol_id, dtype=int))
    atoms.set_array("mol_name", np.array(mol_name, dtype="<U8"))
    return atoms


def min_intermolecular_distance(atoms: Atoms) -> float:
    """Smallest distance (Å, minimum image) between atoms of different molecules."""
    d = atoms.get_all_distances(mic=True)
    mol = atoms.get_array("mol_id")
    same = mol[:, None] == mol[None, :]
    d[same] = np.inf
    return float(d.min())


def build_box(species: dict, comp: Composition, seed: int, tolerance: float = 2.0) -> Atoms:
    """A packed box for ``comp``; ``species`` maps role (cation/anion/solvent) to ``(name, Atoms)``."""
    cation_name, cation = species["cation"]
    anion_name, anion = species["anion"]
    solvent_name, solvent = species["solvent"]
    atoms = pack(
        [
            (cation_name, cation, comp.n_salt),
            (anion_name, anion, comp.n_salt),
            (solvent_name, solvent, comp.n_solvent),
        ],
        comp.cell_length_A,
        seed=seed,
        tolerance=tolerance,
    )
    gap = min_intermolecular_distance(atoms)
    # packmol's tolerance is a soft target; accept a small violation, refuse a real overlap
    if gap < 0.75 * tolerance:
        raise LinmrError(
            f"packed box has atoms of different molecules {gap:.2f} Å apart (< 0.75 x tolerance {tolerance} Å)"
        )
    atoms.info.update({k: v for k, v in comp.as_dict().items()})
    atoms.info["seed"] = seed
    atoms.info["min_intermolecular_distance_A"] = gap
    return atoms
