"""Li+ solvation structure: who binds each Li, SSIP / CIP / AGG classes, RDFs and coordination numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ase import Atoms

from .. import LinmrError
from ..geometry import minimum_image, pair_distances

CLASSES = ("SSIP", "CIP", "AGG")
ENV_COLUMNS = ("solvation_class", "n_solvent", "n_anion", "cn_O_solvent", "cn_O_anion", "cn_N_anion")


class Topology:
    """Who is who in a frame (Li, donor atoms and their molecules), computed once per trajectory.

    MD frames share one topology, so prediction builds this once and reuses it while
    :meth:`matches` holds (same atomic numbers and ``mol_id`` array).
    """

    def __init__(self, frame: Atoms, li_name="Li", anion_name="FSI", solvent_name="DME", donors=("O", "N")):
        for key in ("mol_name", "mol_id"):
            if key not in frame.arrays:
                raise LinmrError(f"frame has no per-atom '{key}' array; solvation analysis needs molecule labels")
        names = frame.arrays["mol_name"]
        self.mol = frame.arrays["mol_id"].copy()
        self.numbers = frame.numbers.copy()
        sym = np.array(frame.get_chemical_symbols())
        self.li = np.flatnonzero((names == li_name) & (sym == "Li"))
        self.donor_idx = np.flatnonzero(np.isin(sym, donors) & np.isin(names, [anion_name, solvent_name]))
        d_name, d_sym = names[self.donor_idx], sym[self.donor_idx]
        self.is_anion = d_name == anion_name
        self.is_solv = d_name == solvent_name
        self.is_o = d_sym == "O"
        self.is_n = d_sym == "N"
        d_mol = self.mol[self.donor_idx]
        # one-hot donor -> molecule (anions and solvent separately), for vectorised counting
        self.anion_mols, a_inv = np.unique(d_mol[self.is_anion], return_inverse=True)
        self.solv_mols, s_inv = np.unique(d_mol[self.is_solv], return_inverse=True)
        # donor -> (anion molecules | solvent molecules | O(solvent), O(anion), N(anion)) in one matrix,
        # so that one integer matmul per frame gives every count
        n_a, n_s = len(self.anion_mols), len(self.solv_mols)
        m = np.zeros((len(self.donor_idx), n_a + n_s + 3), np.float32)
        m[np.flatnonzero(self.is_anion), a_inv] = 1
        m[np.flatnonzero(self.is_solv), n_a + s_inv] = 1
        m[:, n_a + n_s] = self.is_o & self.is_solv
        m[:, n_a + n_s + 1] = self.is_o & self.is_anion
        m[:, n_a + n_s + 2] = self.is_n & self.is_anion
        self.count_matrix, self.n_anion_mols, self.n_solv_mols = m, n_a, n_s
        self._cell, self._inv = None, None

    def minimum_image(self, vectors: np.ndarray, cell: np.ndarray) -> np.ndarray:
        """:func:`linmr.geometry.minimum_image` with the inverse cell cached (NVT frames share a cell)."""
        if self._cell is None or not np.array_equal(cell, self._cell):
            self._cell, self._inv = cell.copy(), np.linalg.inv(cell)
        return minimum_image(vectors, self._cell, inverse=self._inv)

    def matches(self, frame: Atoms) -> bool:
        return np.array_equal(frame.numbers, self.numbers) and np.array_equal(frame.arrays.get("mol_id"), self.mol)


def environment_columns(frame: Atoms, topo: Topology, r_bind: float = 2.6) -> dict:
    """Columns (one entry per Li of ``topo``) of ``li_index`` and :data:`ENV_COLUMNS`.

    A molecule binds a Li when one of its donor atoms is within ``r_bind`` Å. Classes:
    ``SSIP`` no anion bound; ``CIP`` anions bound to this Li only; ``AGG`` at least one
    bound anion also binds another Li.
    """
    return environment_batch([frame], topo, r_bind)


def environment_batch(frames: list[Atoms], topo: Topology, r_bind: float = 2.6) -> dict:
    """:func:`environment_columns` of several frames sharing ``topo`` in one vectorised pass;
    rows in frame order, then Li order."""
    if not frames:
        return {k: np.zeros(0, int) for k in ("li_index",) + ENV_COLUMNS}
    cells = [f.cell.array for f in frames]
    same_cell = all(np.array_equal(c, cells[0]) for c in cells[1:])
    if not same_cell and len(frames) > 1:
        parts = [environment_batch([f], topo, r_bind) for f in frames]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    pos = np.stack([f.positions for f in frames])  # (F, N, 3)
    d = pos[:, None, topo.donor_idx, :] - pos[:, topo.li, None, :]  # (F, n_li, n_donor, 3)
    if frames[0].pbc.any():
        d = topo.minimum_image(d, cells[0])
    bound = np.einsum("...k,...k->...", d, d) <= r_bind * r_bind
    counts = bound.astype(np.float32) @ topo.count_matrix  # (F, n_li, K)
    n_a, n_s = topo.n_anion_mols, topo.n_solv_mols
    li_anion = counts[..., :n_a] > 0  # (F, n_li, n_anion molecules)
    n_anion = li_anion.sum(axis=-1)
    agg = (li_anion & (li_anion.sum(axis=1, keepdims=True) >= 2)).any(axis=-1)
    cls = np.where(n_anion == 0, "SSIP", np.where(agg, "AGG", "CIP")).astype(object)
    cn = counts[..., n_a + n_s :].astype(np.int64)
    return {
        "li_index": np.tile(topo.li, len(frames)),
        "n_solvent": (counts[..., n_a : n_a + n_s] > 0).sum(axis=-1).ravel(),
        "n_anion": n_anion.ravel(),
        "cn_O_solvent": cn[..., 0].ravel(),
        "cn_O_anion": cn[..., 1].ravel(),
        "cn_N_anion": cn[..., 2].ravel(),
        "solvation_class": cls.ravel(),
    }


def li_environments(
    frame: Atoms,
    li_name: str = "Li",
    anion_name: str = "FSI",
    solvent_name: str = "DME",
    r_bind: float = 2.6,
    donors: tuple[str, ...] = ("O", "N"),
) -> list[dict]:
    """One dict per Li (see :func:`environment_columns`): bound molecules, coordination numbers, class."""
    topo = Topology(frame, li_name, anion_name, solvent_name, donors)
    if len(topo.li) == 0:
        return []
    cols = environment_columns(frame, topo, r_bind)
    keys = ("li_index",) + ENV_COLUMNS
    return [{k: (cols[k][n] if k == "solvation_class" else int(cols[k][n])) for k in keys} for n in range(len(topo.li))]


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


def motif_statistics(pred: pd.DataFrame) -> pd.DataFrame:
    """Mean shift (ppm), its standard deviation and the share of Li-frames per (n_DME, n_FSI) motif."""
    g = pred.groupby(["n_solvent", "n_anion"])["delta_ppm"]
    out = g.agg(mean_delta_ppm="mean", std_delta_ppm="std", n_li_frames="size").reset_index()
    out["fraction"] = out["n_li_frames"] / len(pred)
    return out


# ----------------------------------------------------------------------------------------------- RDFs

RDF_PAIRS = {  # key -> (molecule role, element); labels use the species names, e.g. "Li-O(DME)"
    "O_solvent": ("solvent", "O"),
    "O_anion": ("anion", "O"),
    "N_anion": ("anion", "N"),
}


def pair_label(key: str, names: dict) -> str:
    role, element = RDF_PAIRS[key]
    return f"{names['cation']}-{element}({names[role]})"


def rdf(frames, li_name: str, partner_name: str, partner_element: str, r_max: float = 6.0, dr: float = 0.05):
    """Li–X radial distribution function over ``frames`` (periodic), X the ``partner_element`` atoms of molecules
    named ``partner_name`` (per-atom ``mol_name``).

    Returns ``(r, g, cn)``: bin centres (Å), g(r) (1) and the running coordination number
    n(r) = number of X within r of a Li, averaged over Li and frames. ``r_max`` is clipped to
    half the shortest cell height so every distance is a unique minimum image.
    """
    def select(fr):
        names, sym = fr.arrays["mol_name"], np.array(fr.get_chemical_symbols())
        return (np.flatnonzero((names == li_name) & (sym == "Li")),
                np.flatnonzero((names == partner_name) & (sym == partner_element)))

    out = pair_rdf(frames, select, r_max, dr)
    if out is None:
        raise LinmrError(f"no Li-{partner_element}({partner_name}) pairs in the trajectory")
    return out


def pair_rdf(frames, select, r_max: float = 6.0, dr: float = 0.05):
    """A–B radial distribution function over ``frames``: ``select(frame)`` gives the A and B atom indices; frames
    without A or B are skipped. Returns ``(r, g, cn)`` as :func:`rdf` (bins up to ``r_max`` Å, clipped to half the
    shortest cell height of the first frame) or None when no frame has a pair."""
    edges = None
    hist, n_a_frames, rho_sum, n_frames = None, 0, 0.0, 0
    for fr in frames:
        a, b = select(fr)
        if edges is None:
            heights = fr.get_volume() / np.linalg.norm(np.cross(fr.cell[[1, 2, 0]], fr.cell[[2, 0, 1]]), axis=1)
            edges = np.arange(0.0, min(r_max, 0.5 * float(heights.min())) + 1e-9, dr)
            hist = np.zeros(len(edges) - 1)
        if len(a) == 0 or len(b) == 0:
            continue
        hist += np.histogram(pair_distances(fr, a, b).ravel(), edges)[0]
        n_a_frames += len(a)
        rho_sum += len(b) / fr.get_volume()
        n_frames += 1
    if edges is None or n_a_frames == 0:
        return None
    r = 0.5 * (edges[1:] + edges[:-1])
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    per_a = hist / n_a_frames
    return r, per_a / (rho_sum / n_frames * shell), np.cumsum(per_a)


def first_minimum(r, g, cn=None, smooth: int = 5, r_search: float = 1.5) -> tuple[float, float]:
    """Position (Å) of the first minimum of g(r) after its main peak, and the coordination number
    there (NaN without ``cn``). g is smoothed by a ``smooth``-bin running mean; the minimum is the
    lowest smoothed g within ``r_search`` Å after the highest peak."""
    g = np.asarray(g, float)
    gs = np.convolve(g, np.ones(smooth) / smooth, mode="same") if smooth > 1 else g
    if not np.any(gs > 0):
        return float("nan"), float("nan")
    peak = int(np.argmax(gs))
    dr = r[1] - r[0]
    hi = min(len(r), peak + max(2, int(round(r_search / dr))))
    k = peak + int(np.argmin(gs[peak:hi]))
    return float(r[k]), (float(cn[k]) if cn is not None else float("nan"))


def rdf_table(frames, names: dict, r_max: float = 6.0, dr: float = 0.05) -> pd.DataFrame:
    """RDFs of :data:`RDF_PAIRS` as one long table: ``pair`` key, ``label`` (e.g. Li-O(DME)),
    ``r_A``, ``g`` and ``cn`` (running coordination number) and ``n_li_frames`` (weight)."""
    frames = list(frames)
    n_li_frames = sum(int(((f.arrays["mol_name"] == names["cation"]) & (f.numbers == 3)).sum()) for f in frames)
    rows = []
    for key, (role, element) in RDF_PAIRS.items():
        r, g, cn = rdf(frames, names["cation"], names[role], element, r_max, dr)
        rows.append(pd.DataFrame({"pair": key, "label": pair_label(key, names), "r_A": r, "g": g, "cn": cn,
                                  "n_li_frames": n_li_frames}))
    return pd.concat(rows, ignore_index=True)


def coordination_numbers(table: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    """Coordination numbers at one first-minimum radius per pair, shared by all concentrations.

    ``table``: :func:`rdf_table` rows with a ``concentration`` column. The radius is the first
    minimum of the g(r) pooled over concentrations (weighted by Li-frames): with a few Li per box a
    single concentration's g(r) is too noisy to place its own minimum, and one radius makes the
    numbers comparable. Returns ``{pair: r_min_A}`` and a table ``concentration``, ``pair``,
    ``r_min_A``, ``cn``."""
    radii, rows = {}, []
    for key, t in table.groupby("pair", sort=False):
        pooled = t.groupby("r_A").apply(lambda d: np.average(d["g"], weights=d["n_li_frames"]), include_groups=False)
        r_min, _ = first_minimum(pooled.index.to_numpy(), pooled.to_numpy())
        radii[key] = r_min
        for conc, d in t.groupby("concentration", sort=False):
            d = d.sort_values("r_A")
            k = int(np.argmin(np.abs(d["r_A"].to_numpy() - r_min)))
            rows.append({"concentration": conc, "pair": key, "r_min_A": r_min, "cn": float(d["cn"].iloc[k])})
    return radii, pd.DataFrame(rows)


def per_li_counts(frames, names: dict, radii: dict) -> tuple[np.ndarray, dict]:
    """Each Li's number of partners closer than ``radii[pair]`` Å (strictly, as the bins of :func:`rdf`),
    averaged over ``frames`` (periodic, same atoms in every frame). ``radii``: ``{pair: r_A}`` for keys
    of :data:`RDF_PAIRS` (a non-finite radius gives NaN). Returns the Li atom indices and
    ``{pair: array (n_li,)}``."""
    keys = list(radii)
    for key in keys:
        if key not in RDF_PAIRS:
            raise LinmrError(f"unknown coordination pair {key!r}; expected one of {sorted(RDF_PAIRS)}")
    li = partners = None
    sums, n_frames = None, 0
    for fr in frames:
        if li is None:
            mol_name = fr.arrays["mol_name"]
            sym = np.array(fr.get_chemical_symbols())
            li = np.flatnonzero((mol_name == names["cation"]) & (sym == "Li"))
            partners = {k: np.flatnonzero((mol_name == names[RDF_PAIRS[k][0]]) & (sym == RDF_PAIRS[k][1])) for k in keys}
            sums = {k: np.zeros(len(li)) for k in keys}
        if len(li) == 0:
            break
        for k in keys:
            if len(partners[k]):
                sums[k] += (pair_distances(fr, li, partners[k]) < radii[k]).sum(axis=1)
        n_frames += 1
    if li is None or len(li) == 0 or n_frames == 0:
        raise LinmrError(f"no {names['cation']} in the frames: no per-Li coordination numbers")
    return li, {k: sums[k] / n_frames if np.isfinite(radii[k]) else np.full(len(li), np.nan) for k in keys}


def per_li_coordination(frames, names: dict, radii: dict) -> pd.DataFrame:
    """Per-Li coordination numbers at fixed radii, with their spread over Li.

    Each Li's count (:func:`per_li_counts`: partners closer than ``radii[pair]`` Å, averaged over
    ``frames``) is summarised over Li: ``cn_mean`` (equal to the running coordination number of
    :func:`rdf` at the same radius, which pools Li and frames), ``cn_sd`` (sample SD over Li),
    ``cn_sem`` = cn_sd / sqrt(n_li) (NaN for a single Li) and ``n_li``. One row per pair: ``pair``,
    ``label``, ``r_A``, ``n_li``, ``cn_mean``, ``cn_sd``, ``cn_sem``. The standard error treats the Li
    of one box as independent samples (for boxes as inserted in the embedded default it matches the
    standard error over boxes, see ``benchmarks/cn_statistics.py``); it covers neither correlation in
    time nor an unequilibrated start."""
    _, counts = per_li_counts(frames, names, radii)
    rows = []
    for k, per_li in counts.items():
        n = len(per_li)
        sd = float(np.std(per_li, ddof=1)) if n > 1 else float("nan")
        rows.append({"pair": k, "label": pair_label(k, names), "r_A": float(radii[k]), "n_li": n,
                     "cn_mean": float(per_li.mean()), "cn_sd": sd, "cn_sem": sd / np.sqrt(n) if n > 1 else float("nan")})
    return pd.DataFrame(rows)
