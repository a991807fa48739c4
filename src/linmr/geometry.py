"""Periodic geometry shared by every stage: minimum-image vectors, pair distances and cell widths.

One minimum-image function serves boxes, clusters, the bond monitor and the solvation analysis.
Rounding fractional coordinates gives the minimum image exactly only in an orthogonal cell; in
a skewed cell the shortest image can be a neighbour of the rounded one, so there the 27 images
around the rounded one are searched (exact for any cell whose cutoffs fit the box).
"""

from __future__ import annotations

import itertools

import numpy as np

_NEIGHBOURS = np.array(list(itertools.product((-1, 0, 1), repeat=3)), dtype=float)  # (27, 3)


def is_orthogonal(cell: np.ndarray, tol: float = 1e-8) -> bool:
    cell = np.asarray(cell, float)
    return bool(np.abs(cell - np.diag(np.diag(cell))).max() <= tol * max(1.0, np.abs(cell).max()))


def minimum_image(vectors: np.ndarray, cell: np.ndarray, inverse: np.ndarray | None = None) -> np.ndarray:
    """Minimum-image form of difference ``vectors`` (shape ``(..., 3)``, Å) in the periodic ``cell`` (rows = cell vectors).

    ``inverse`` (the inverse of ``cell``) may be passed to save its computation when one cell
    serves many calls. Exact for orthogonal and for skewed cells (see the module docstring).
    """
    cell = np.asarray(cell, float)
    inv = np.linalg.inv(cell) if inverse is None else inverse
    frac = vectors @ inv
    frac = frac - np.round(frac)
    out = frac @ cell
    if is_orthogonal(cell):
        return out
    images = out[..., None, :] + (_NEIGHBOURS @ cell)  # (..., 27, 3)
    best = np.argmin(np.einsum("...ij,...ij->...i", images, images), axis=-1)
    return np.take_along_axis(images, best[..., None, None], axis=-2)[..., 0, :]


def cell_widths(cell: np.ndarray) -> np.ndarray:
    """Distances (Å) between opposite faces of ``cell`` (the largest sphere that fits has radius min/2)."""
    rec = np.linalg.inv(np.asarray(cell, float)).T  # rows: reciprocal vectors without 2 pi
    return 1.0 / np.linalg.norm(rec, axis=1)


def pair_distances(frame, a, b) -> np.ndarray:
    """Distances (Å) between the atoms ``a`` and ``b`` of an ASE ``Atoms``, minimum image where the frame is
    periodic; shape ``(len(a), len(b))``, one vectorised call per frame."""
    pos = frame.positions
    d = pos[np.asarray(b)][None, :, :] - pos[np.asarray(a)][:, None, :]
    if frame.pbc.any():
        d = minimum_image(d, np.asarray(frame.cell))
    return np.linalg.norm(d, axis=-1)
