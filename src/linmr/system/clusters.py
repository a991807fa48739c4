"""Li+ solvation clusters of whole molecules cut from periodic frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ase import Atoms

from .. import LinmrError
from ..geometry import minimum_image


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


def spin_state(atoms: Atoms, charge: int, multiplicity: int | None = None) -> int:
    """The spin multiplicity of ``atoms`` at net ``charge`` (e), checked against its electron count by
    pymatgen's ``Molecule``: the lowest one (1 for an even count, 2 for an odd) when ``multiplicity`` is
    None; a given ``multiplicity`` that the electron count cannot have is refused."""
    from pymatgen.core import Molecule

    try:
        mol = Molecule(atoms.get_chemical_symbols(), atoms.positions, charge=charge, spin_multiplicity=multiplicity)
    except ValueError as exc:
        raise LinmrError(f"charge {charge} e and multiplicity {multiplicity} do not fit {len(atoms)} atoms "
                         f"({atoms.get_chemical_formula()}): {exc}") from None
    return int(mol.spin_multiplicity)


def cut_cluster(
    frame: Atoms,
    center: int,
    r_cut: float,
    charges: dict[str, int],
    donors: tuple[str, ...] | None = None,
    second_shell_r_cut: float | None = None,
) -> Atoms:
    """All whole molecules with any atom within ``r_cut`` (Å, minimum image) of atom ``center``.

    With ``donors`` (e.g. ``("O", "N")``) only atoms of those elements count, so the
    cluster is the first coordination shell: molecules that bind the centre through a
    donor atom, not ones whose hydrogens merely pass nearby. With ``second_shell_r_cut``
    (Å, larger than ``r_cut``) every whole molecule with *any* atom within that distance
    of the centre is added too (the second solvation shell).

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
    if second_shell_r_cut is not None:
        if second_shell_r_cut <= r_cut:
            raise LinmrError(f"second-shell radius {second_shell_r_cut} A must exceed r_cut {r_cut} A")
        near |= np.linalg.norm(rel, axis=1) <= second_shell_r_cut
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
    spin = spin_state(cluster, int(charge))
    cluster.info.update(
        charge=int(charge),
        multiplicity=spin,
        center_index=int(center),
        r_cut_A=float(r_cut),
        second_shell_r_cut_A=float(second_shell_r_cut or 0.0),
        **{f"n_{k}": v for k, v in sorted(counts.items())},
    )
    return cluster


def select_environments(
    frames: list[Atoms], n: int, skip: int = 0, seed: int = 0, li: str = "Li", stride: int = 1
) -> list[tuple[int, int]]:
    """``n`` (frame, Li index) pairs spread evenly over frames ``skip::stride``, Li taken in a seeded order.

    Frames are visited round-robin so labels come from as many MD frames as possible
    (the train/test split is grouped by frame).
    """
    if stride < 1:
        raise LinmrError(f"clusters.frame_stride must be >= 1, got {stride}")
    usable = list(range(min(skip, max(len(frames) - 1, 0)), len(frames), stride))
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


def farthest_point_sampling(x: np.ndarray, n: int) -> tuple[list[int], list[float]]:
    """``n`` rows of ``x`` chosen greedily so each maximises its Euclidean distance to those chosen.

    Deterministic: starts from the row farthest from the mean (an outlier, not a typical one).
    Returns the chosen row indices in selection order and, for each, its distance to the
    nearest row chosen before it (the first gets its distance to the mean).
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or len(x) == 0:
        raise LinmrError(f"farthest-point sampling needs a non-empty 2-D array, got shape {x.shape}")
    n = min(int(n), len(x))
    d_mean = np.linalg.norm(x - x.mean(axis=0), axis=1)
    first = int(np.argmax(d_mean))
    chosen, dist = [first], [float(d_mean[first])]
    dmin = np.linalg.norm(x - x[first], axis=1)
    dmin[first] = -1.0
    while len(chosen) < n:
        j = int(np.argmax(dmin))
        chosen.append(j)
        dist.append(float(dmin[j]))
        dmin = np.minimum(dmin, np.linalg.norm(x - x[j], axis=1))
        dmin[chosen] = -1.0
    return chosen, dist


def candidate_environments(frames: list[Atoms], skip: int = 0, stride: int = 1, li: str = "Li") -> list[tuple[int, int]]:
    """All (frame, Li index) pairs in frames ``skip, skip + stride, ...`` (after equilibration)."""
    if stride < 1:
        raise LinmrError(f"clusters.frame_stride must be >= 1, got {stride}")
    usable = list(range(min(skip, max(len(frames) - 1, 0)), len(frames), stride))
    if not usable:
        raise LinmrError("trajectory has no frames to sample clusters from")
    out = [(f, i) for f in usable for i, s in enumerate(frames[f].get_chemical_symbols()) if s == li]
    if not out:
        raise LinmrError("no Li atoms in the trajectory")
    return out


def select_diverse(
    frames: list[Atoms], n: int, featurizer, skip: int = 0, stride: int = 1, li: str = "Li"
) -> tuple[list[tuple[int, int]], list[float]]:
    """``n`` Li environments by farthest-point sampling of their SOAP vectors (``featurizer``,
    e.g. :class:`linmr.descriptors.Featurizer`), computed in the periodic frames, so rare
    solvation structures are labelled too. Returns (frame, Li index) pairs in selection
    order and each pick's SOAP distance to the nearest earlier pick."""
    cands = candidate_environments(frames, skip=skip, stride=stride, li=li)
    by_frame: dict[int, list[int]] = {}
    for f, i in cands:
        by_frame.setdefault(f, []).append(i)
    fs = sorted(by_frame)
    x = featurizer.many([frames[f] for f in fs], [by_frame[f] for f in fs])
    order = [(f, i) for f in fs for i in by_frame[f]]
    picks, dist = farthest_point_sampling(x, n)
    return [order[k] for k in picks], dist


def cluster_table_row(cluster: Atoms, charges: dict, soap_distance: float) -> dict:
    """The ``clusters.csv`` row of a cut cluster (ids and origin, size, charge, composition, pick distance)."""
    info = cluster.info
    return {
        "cluster_id": info["cluster_id"],
        "concentration": info["concentration"],
        "frame": info["frame"],
        "time_ps": info.get("time_ps"),
        "li_index": info["center_index"],
        "n_atoms": len(cluster),
        "charge_e": info["charge"],
        "multiplicity": info["multiplicity"],
        **{f"n_{n}": info.get(f"n_{n}", 0) for n in charges},
        "soap_distance_to_earlier_picks": soap_distance,
    }


def species_charges(species: dict) -> dict[str, int]:
    """Molecule name -> formal charge (e), from the config's ``species`` section."""
    return {species[r]["name"]: int(species[r]["charge"]) for r in species}


def cut_from_trajectory(traj_path, concentration: str, clusters: dict, species: dict, descriptor: dict,
                        seed: int, log=print) -> tuple[list[Atoms], pd.DataFrame]:
    """The clusters rule: pick ``clusters.per_concentration`` Li environments of the trajectory and cut them.

    Candidates are every Li in frames ``skip_frames::frame_stride``; ``selection: fps`` picks by
    farthest-point sampling of their SOAP vectors (``descriptor`` section, periodic frames),
    ``round_robin`` spreads them over frames (seeded). Each pick becomes a whole-molecule cluster
    (:func:`cut_cluster` with ``r_cut_A``, ``donor_elements``, ``second_shell_r_cut_A``) with id
    ``<concentration>-NNNN``. Returns the clusters and their ``clusters.csv`` table."""

    from ..ml.descriptors import Featurizer, settings_from_config
    from ..readers import read_frames

    charges = species_charges(species)
    frames = read_frames(traj_path, what="MD trajectory", periodic=True, cutoff_A=clusters["r_cut_A"],
                         arrays=("mol_id", "mol_name"))
    n, skip, stride = clusters["per_concentration"], clusters["skip_frames"], clusters["frame_stride"]
    if clusters["selection"] == "fps":
        featurizer = Featurizer(settings_from_config(descriptor))
        chosen, soap_dist = select_diverse(frames, n, featurizer, skip=skip, stride=stride)
    else:
        chosen = select_environments(frames, n, skip=skip, seed=seed, stride=stride)
        soap_dist = [float("nan")] * len(chosen)
    cut, rows = [], []
    for k, (f, li) in enumerate(chosen):
        c = cut_cluster(frames[f], li, clusters["r_cut_A"], charges, donors=clusters["donor_elements"],
                        second_shell_r_cut=clusters["second_shell_r_cut_A"])
        c.info.update(cluster_id=f"{concentration}-{k:04d}", concentration=concentration, frame=f,
                      time_ps=frames[f].info.get("time_ps"))
        cut.append(c)
        rows.append(cluster_table_row(c, charges, soap_dist[k]))
    log(f"{len(cut)} clusters ({clusters['selection']}) from {len(frames)} frames; "
        f"atoms per cluster {np.mean([len(c) for c in cut]):.1f}")
    return cut, pd.DataFrame(rows)
