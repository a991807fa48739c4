"""Checked readers of structure files: one clear :class:`LinmrError` naming the file and frame.

Every stage reads boxes, trajectories and cluster bundles through these functions instead of the
raw ASE calls, so a box with overlapping atoms, a cell too small for a cutoff, an unknown element
or a truncated or foreign file stops the job at once with the file and the problem in the message,
never with a library traceback an hour later. (MLIP model files are read by
:mod:`linmr.md.registry`, model bundles by :meth:`linmr.ml.model.Bundle.load`, both without
executing pickled code.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase import Atoms

from . import LinmrError
from .geometry import cell_widths

MAX_CELL_A = 1.0e4  # no box of this campaign is larger (Å); a neighbour search over a larger one exhausts memory
MIN_DISTANCE_A = 0.6
MIN_WIDTH_A = 1.0  # no periodic cell is thinner than this between opposite faces (Å)  # no two atoms closer than this (Å): shorter than any bond, even X-H


def check_readable(path: Path, what: str) -> None:
    if not path.exists():
        raise LinmrError(f"{path}: {what} file does not exist")
    if path.is_dir():
        raise LinmrError(f"{path}: {what} is a directory, not a file")
    if path.stat().st_size == 0:
        raise LinmrError(f"{path}: {what} file is empty")


MAX_PROPERTY_COLUMNS = 64  # extxyz: columns of one per-atom property; more is a damaged header, not data


def check_extxyz_header(path: Path, what: str) -> None:
    """Refuse an extxyz file whose ``Properties=`` header asks for absurd column counts (``pos:R:10**80``):
    ASE would try to allocate them. One streaming pass over the bytes, before ASE parses anything."""
    import re

    pattern = re.compile(rb":[RISL]:(\d{3,})")
    tail = b""
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(1 << 22)
            if not chunk:
                return
            for m in pattern.finditer(tail + chunk):
                if len(m.group(1)) > 6 or int(m.group(1)) > MAX_PROPERTY_COLUMNS:
                    raise LinmrError(f"{path}: {what} has a Properties header with {m.group(1)[:20].decode()}... "
                                     f"columns in one property (at most {MAX_PROPERTY_COLUMNS}): a damaged extxyz header")
            tail = chunk[-32:]


def read_frames(
    path: str | Path,
    *,
    what: str = "structure",
    index=":",
    species=None,
    cutoff_A: float | None = None,
    periodic: bool | None = None,
    arrays: tuple[str, ...] = (),
    min_distance_A: float = MIN_DISTANCE_A,
    overlap_frames: str = "all",
    empty_ok: bool = False,
) -> list[Atoms]:
    """Frames of an extxyz file, each checked by :func:`check_structure` (see there for the checks).

    ``overlap_frames``: ``"all"`` checks interatomic distances in every frame (a k-d tree: tens of ms for a
    frame of thousands of atoms), ``"ends"`` in the first and last only. "all" by default: a student MD whose
    atoms fused mid-run and drifted apart again passed an ends-only check (3 M, 2026-12-05 workstation run).
    ``empty_ok``: an empty file holds no frames (``[]``) instead of being refused (files a job writes empty when
    it has nothing: a bundle without clusters, a round without labels, an exploration halted at once).
    """
    from ase.io import read

    path = Path(path)
    if empty_ok and path.is_file() and path.stat().st_size == 0:
        return []
    check_readable(path, what)
    check_extxyz_header(path, what)
    try:
        frames = read(path, index=index, format="extxyz")
    except KeyError as exc:  # ASE's lookup of a symbol that is no element
        raise LinmrError(f"{path}: {what} contains an unknown element symbol {exc.args[0]!r}") from None
    except UnicodeDecodeError:
        raise LinmrError(f"{path}: {what} is not a text extxyz file (binary content)") from None
    except Exception as exc:  # ASE raises XYZError, ValueError, IndexError... on malformed text
        text = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise LinmrError(f"{path}: {what} is not valid extxyz ({type(exc).__name__}: {text})") from None
    if isinstance(frames, Atoms):
        frames = [frames]
    if not frames:
        raise LinmrError(f"{path}: {what} holds no frame")
    last = len(frames) - 1
    for k, atoms in enumerate(frames):
        check_structure(
            atoms,
            f"{path} (frame {k})" if len(frames) > 1 else str(path),
            what=what,
            species=species,
            cutoff_A=cutoff_A,
            periodic=periodic,
            arrays=arrays,
            min_distance_A=min_distance_A if overlap_frames == "all" or k in (0, last) else None,
        )
    return frames


def iter_frames(
    path: str | Path, *, what: str = "trajectory", min_distance_A: float = MIN_DISTANCE_A, **checks
):
    """Stream the frames of an extxyz file (constant memory), each checked like :func:`read_frames`
    (interatomic distances in the first frame only); a malformed frame stops with the file and frame."""
    from ase.io import iread

    path = Path(path)
    check_readable(path, what)
    check_extxyz_header(path, what)
    frames = iread(path, index=":", format="extxyz")
    k = -1
    while True:
        try:
            atoms = next(frames)
        except StopIteration:
            break
        except KeyError as exc:
            raise LinmrError(f"{path} (frame {k + 1}): {what} contains an unknown element symbol {exc.args[0]!r}") from None
        except Exception as exc:
            text = str(exc).splitlines()[0][:200] if str(exc) else ""
            raise LinmrError(f"{path} (frame {k + 1}): {what} is not valid extxyz ({type(exc).__name__}: {text})") from None
        k += 1
        check_structure(atoms, f"{path} (frame {k})", what=what, min_distance_A=min_distance_A if k == 0 else None,
                        **checks)
        yield atoms
    if k < 0:
        raise LinmrError(f"{path}: {what} holds no frame")


def read_structure(path: str | Path, **kw) -> Atoms:
    """One checked structure (the last frame of the file); keywords as :func:`read_frames`."""
    return read_frames(path, index=-1, **kw)[-1]


def check_structure(
    atoms: Atoms,
    source: str = "structure",
    *,
    what: str = "structure",
    species=None,
    cutoff_A: float | None = None,
    periodic: bool | None = None,
    arrays: tuple[str, ...] = (),
    min_distance_A: float | None = MIN_DISTANCE_A,
) -> None:
    """Refuse a structure that no later stage could use, naming ``source`` and the problem.

    - no atoms, non-finite positions, or an element outside ``species`` (when given);
    - ``periodic=True``: the cell must be 3D periodic with a volume, and every face-to-face
      width at least ``2 cutoff_A`` (a cutoff sphere must not meet the atom's own image);
    - per-atom ``arrays`` (e.g. ``mol_id``) must be present;
    - no two atoms closer than ``min_distance_A`` (periodic images included).
    """
    if len(atoms) == 0:
        raise LinmrError(f"{source}: {what} has no atoms")
    pos = atoms.get_positions()
    bad = np.flatnonzero(~np.isfinite(pos).all(axis=1))
    if len(bad):
        raise LinmrError(f"{source}: {what} atom {int(bad[0])} has a non-finite position {pos[bad[0]].tolist()}")
    if species is not None:
        symbols = atoms.get_chemical_symbols()
        unknown = sorted(set(symbols) - set(species))
        if unknown:
            i = symbols.index(unknown[0])
            raise LinmrError(
                f"{source}: {what} contains element(s) {unknown} (first at atom {i}); allowed: {sorted(species)}"
            )
    for name in arrays:
        if name not in atoms.arrays:
            raise LinmrError(f"{source}: {what} lacks the per-atom column {name!r} (written by the box stage)")
    cell = atoms.cell.array
    if not np.isfinite(cell).all() or np.abs(cell).max() > MAX_CELL_A:
        raise LinmrError(
            f"{source}: {what} has a cell with non-finite or absurd entries {cell.round(3).tolist()} (A; "
            f"at most {MAX_CELL_A:g} A)"
        )
    if periodic is None:
        periodic = bool(atoms.pbc.any())
    if periodic:
        if not atoms.pbc.all() or abs(atoms.cell.volume) < 1e-6:
            raise LinmrError(
                f"{source}: {what} must be periodic in 3D with a cell (pbc {atoms.pbc.tolist()}, "
                f"volume {abs(atoms.cell.volume):.3g} A^3)"
            )
        w = cell_widths(atoms.cell.array)
        if w.min() < MIN_WIDTH_A:  # an atom would overlap its own image (and a neighbour search explode)
            raise LinmrError(
                f"{source}: {what} cell is only {w.min():.3g} A wide between opposite faces (< {MIN_WIDTH_A} A)"
            )
        if cutoff_A is not None:
            if w.min() < 2.0 * cutoff_A:
                raise LinmrError(
                    f"{source}: {what} cell is too small for the cutoff: width {w.min():.2f} A < 2 x {cutoff_A} A "
                    "(an atom would see its own periodic image); use a bigger box or a smaller cutoff"
                )
    if min_distance_A:
        pair = closest_pair(atoms, float(min_distance_A), periodic)
        if pair is not None:
            i, j, d = pair
            raise LinmrError(
                f"{source}: {what} has overlapping atoms {i} ({atoms[i].symbol}) and {j} "
                f"({atoms[j].symbol}) {d:.3f} A apart (< {min_distance_A} A)"
            )


def pairs_within(atoms: Atoms, cutoff: float, periodic: bool) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of atoms nearer than ``cutoff`` (Å, minimum image when ``periodic``): indices ``(n, 2)`` with
    i < j, and distances (Å). A k-d tree (periodic box size for orthorhombic cells) keeps this linear in the atom
    count: about 20 ms for a 6,000-atom box (ASE's neighbour list, used for triclinic cells, takes about 1 s)."""
    from scipy.spatial import cKDTree

    cell = np.asarray(atoms.cell)
    pos = atoms.get_positions()
    if periodic and np.allclose(cell, np.diag(np.diag(cell))):
        box = np.diag(cell).copy()
        pos = np.mod(pos, box)
        pos[pos >= box] = 0.0
        pairs = cKDTree(pos, boxsize=box).query_pairs(cutoff, output_type="ndarray")
        delta = pos[pairs[:, 0]] - pos[pairs[:, 1]]
        delta -= box * np.round(delta / box)
        d = np.linalg.norm(delta, axis=1)
    elif periodic:  # triclinic: ASE's neighbour list handles any cell
        from ase.neighborlist import neighbor_list

        i, j, d = neighbor_list("ijd", atoms, cutoff)
        keep = i < j
        pairs, d = np.stack([i[keep], j[keep]], axis=1), d[keep]
    else:
        pairs = cKDTree(pos).query_pairs(cutoff, output_type="ndarray")
        d = np.linalg.norm(pos[pairs[:, 0]] - pos[pairs[:, 1]], axis=1)
    return pairs.reshape(-1, 2).astype(int), np.asarray(d, float)


def closest_pair(atoms: Atoms, cutoff: float, periodic: bool) -> tuple[int, int, float] | None:
    """The closest pair of atoms nearer than ``cutoff`` (Å, periodic images included when ``periodic``), or None
    (:func:`pairs_within`)."""
    pairs, d = pairs_within(atoms, cutoff, periodic)
    if not len(d):
        return None
    k = int(np.argmin(d))
    return int(pairs[k, 0]), int(pairs[k, 1]), float(d[k])
