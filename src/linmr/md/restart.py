"""Checkpoints of production MD: state + the byte length of the frames written so far.

A checkpoint is one ``.npz`` file written under a temporary name, fsynced and renamed,
so a kill at any moment leaves either the previous or the new checkpoint, never a
torn one. Frames are appended to a partial extxyz file; the checkpoint records the
file's length after its last frame, and a resumed run truncates the file back to that
length, so frames written after the last checkpoint (and a frame torn by the kill) are
dropped and recomputed: no duplicated and no missing frames.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from ase import Atoms

from ..fileio import atomic_path

CHECKPOINT = "checkpoint.npz"
PARTIAL = "production.partial.extxyz"
EQUIL_LOG = "equilibration.csv"


def save(work_dir: Path, atoms: Atoms, *, step: int, n_frames: int, frames_bytes: int, rng_state: dict,
         key: str, bond_count: np.ndarray) -> None:
    """Write the checkpoint of ``atoms`` at production ``step`` atomically."""
    with atomic_path(Path(work_dir) / CHECKPOINT, fsync=True) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            positions=atoms.positions,
            momenta=atoms.get_momenta(),
            cell=atoms.cell.array,
            step=np.int64(step),
            n_frames=np.int64(n_frames),
            frames_bytes=np.int64(frames_bytes),
            rng_state=np.array(json.dumps(rng_state)),
            key=np.array(key),
            bond_count=np.asarray(bond_count, dtype=np.int64),
        )


def load(work_dir: Path, key: str, log=print) -> dict | None:
    """The checkpoint in ``work_dir`` if it exists, matches ``key`` and its frames file is intact; else None."""
    path = Path(work_dir) / CHECKPOINT
    if not path.is_file():
        return None
    try:
        with np.load(path) as z:
            ck = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError) as exc:
        log(f"checkpoint {path} unreadable ({exc}); starting production afresh")
        return None
    if str(ck["key"]) != key:
        log(f"checkpoint {path} belongs to another input/protocol (key {str(ck['key'])[:12]} != {key[:12]}); "
            "starting afresh")
        return None
    partial = Path(work_dir) / PARTIAL
    size = partial.stat().st_size if partial.is_file() else -1
    if size < int(ck["frames_bytes"]):
        log(f"checkpoint {path}: frames file {partial} is shorter than recorded ({size} < {int(ck['frames_bytes'])} "
            "bytes); starting production afresh")
        return None
    return {
        "positions": ck["positions"],
        "momenta": ck["momenta"],
        "cell": ck["cell"],
        "step": int(ck["step"]),
        "n_frames": int(ck["n_frames"]),
        "frames_bytes": int(ck["frames_bytes"]),
        "rng_state": json.loads(str(ck["rng_state"])),
        "bond_count": ck["bond_count"],
    }


def restore(atoms: Atoms, ck: dict) -> None:
    atoms.set_cell(ck["cell"], scale_atoms=False)
    atoms.positions = ck["positions"]
    atoms.set_momenta(ck["momenta"])


def truncate_frames(work_dir: Path, n_bytes: int) -> None:
    """Cut the partial frames file back to ``n_bytes`` (its length at the checkpoint)."""
    with open(Path(work_dir) / PARTIAL, "rb+") as fh:
        fh.truncate(n_bytes)
        os.fsync(fh.fileno())
