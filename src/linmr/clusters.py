"""Li+ solvation clusters of whole molecules cut from periodic frames."""

from __future__ import annotations

import numpy as np
from ase import Atoms

from . import LinmrError


def minimum_image(vectors: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Minimum-image vectors for an orthorhombic or general cell (fractional rounding)."""
    inv = np.linalg.inv(cell)
    frac = vectors @ inv
    frac -= np.round(frac)
    return frac @ cell


def unwrap_molecule(positions: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Make a molecule whole: each atom is moved to the image nearest the one before it
    along a breadth-first walk over near neighbours (bonds are far shorter than half a cell)."""
    n = len(positions)
    out = positions.copy()
    placed = np.zeros(n, bool)
    placed[0] = True
    order = [0]
    while len(order) < n:
        rest = np.flatnonzero(~placed)
        # nearest unplaced atom to any placed one, by minimum image
        best = None
        for i in order:
            d = np.linalg.norm(minimum_image(positions[rest] - out[i], cell), axis=1)
            j = int(np.argmin(d))
            if best is None or d[j] < best[0]:
                best = (d[j], i, rest[j])
        _, i, j = best
        out[j] = out[i] + minimum_image((positions[j] - out[i])[None], cell)[0]
        placed[j] = True
        order.append(j)
    return out


def cut_cluster(
    frame: Atoms,
    center: int,
    r_cut: float,
    charges: dict[str, int],
    donors: tuple[str, ...] | None = None,
) -> Atoms:
    """All whole molecules with any atom within ``r_cut`` (Å, minimum image) of atom ``center``.

    With ``donors`` (e.g. ``("O", "N")``) only atoms of those elements count, so the
    cluster is the first coordination shell: molecules that bind the centre through a
    donor atom, not ones whose hydrogens merely pass nearby.

    ``frame`` must carry the per-atom arrays ``mol_id`` and ``mol_name``; ``charges``
    maps molecule name to its formal charge (e). The cluster is centred on the
    central atom (which becomes index 0), has no cell and no periodicity, and carries
    ``charge``, ``multiplicity``, ``center_index`` (in the frame), per-name counts
    ``n_<name>`` and the arrays ``mol_id``/``mol_name``/``frame_index``.
    """
    if "mol_id" not in frame.arrays or "mol_name" not in frame.arrays:
        raise LinmrError("frame lacks the per-atom arrays 'mol_id'/'mol_name' needed to cut whole molecules")
    cell = np.asarray(frame.cell)
    if not frame.pbc.all() or abs(np.linalg.det(cell)) < 1e-6:
        raise LinmrError("cut_cluster needs a fully periodic frame with a cell")
    pos = frame.positions
    mol_id = frame.get_array("mol_id")
    names = frame.get_array("mol_name")
    c = pos[center]
    rel = minimum_image(pos - c, cell)
    near = np.linalg.norm(rel, axis=1) <= r_cut
    if donors is not None:
        near &= np.isin(frame.get_chemical_symbols(), list(donors))
    near[center] = True
    chosen = sorted(set(mol_id[near].tolist()), key=lambda m: (m != mol_id[center], m))
    idx, new_pos = [], []
    for m in chosen:
        members = np.flatnonzero(mol_id == m)
        whole = unwrap_molecule(pos[members], cell)
        # place the molecule's image so that its atom nearest the centre is the minimum image
        k = int(np.argmin(np.linalg.norm(rel[members], axis=1)))
        shift = (c + rel[members[k]]) - whole[k]
        whole = whole + shift
        idx.extend(members.tolist())
        new_pos.extend(whole.tolist())
    idx = np.array(idx)
    # put the central atom first
    first = int(np.flatnonzero(idx == center)[0])
    order = [first] + [i for i in range(len(idx)) if i != first]
    idx = idx[order]
    new_pos = np.array(new_pos)[order] - c
    cluster = Atoms(symbols=[frame[i].symbol for i in idx], positions=new_pos)
    cluster.set_array("mol_id", mol_id[idx].astype(int))
    cluster.set_array("mol_name", names[idx])
    cluster.set_array("frame_index", idx.astype(int))
    counts: dict[str, int] = {}
    for m in chosen:
        nm = str(names[mol_id == m][0])
        counts[nm] = counts.get(nm, 0) + 1
    unknown = set(counts) - set(charges)
    if unknown:
        raise LinmrError(f"no formal charge configured for molecule name(s) {sorted(unknown)}")
    charge = sum(charges[n] * k for n, k in counts.items())
    n_electrons = int(cluster.numbers.sum()) - charge
    cluster.info.update(
        charge=int(charge),
        multiplicity=1 if n_electrons % 2 == 0 else 2,
        center_index=int(center),
        r_cut_A=float(r_cut),
        **{f"n_{k}": v for k, v in sorted(counts.items())},
    )
    return cluster


def select_environments(frames: list[Atoms], n: int, skip: int = 0, seed: int = 0, li: str = "Li") -> list[tuple[int, int]]:
    """``n`` (frame, Li index) pairs spread evenly over frames ``skip:``, Li taken in a seeded order.

    Frames are visited round-robin so labels come from as many MD frames as possible
    (the train/test split is grouped by frame).
    """
    usable = list(range(min(skip, max(len(frames) - 1, 0)), len(frames)))
    if not usable:
        raise LinmrError("trajectory has no frames to sample clusters from")
    rng = np.random.default_rng(seed)
    pools = {}
    for f in usable:
        idx = [i for i, s in enumerate(frames[f].get_chemical_symbols()) if s == li]
        rng.shuffle(idx)
        pools[f] = idx
    if not any(pools.values()):
        raise LinmrError("no Li atoms in the trajectory")
    out: list[tuple[int, int]] = []
    while len(out) < n and any(pools.values()):
        for f in usable:
            if pools[f] and len(out) < n:
                out.append((f, int(pools[f].pop())))
    return out
