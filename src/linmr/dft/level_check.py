"""Level-of-theory check: how well the campaign's (embedded) level reproduces *relative* 7Li shifts.

Recomputes a diverse subset of clusters at the campaign level and at a larger basis (same
functional, e.g. full 6-31G* on every atom) and compares the shift differences between
clusters. delta_i - delta_j = sigma_j - sigma_i at one level (the reference cancels), so the
check needs no reference compound. Reported: the MAE over all cluster pairs of
|(delta_i - delta_j)_campaign - (delta_i - delta_j)_large| and the MAE of the mean-centred shifts.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pandas as pd
from ase import Atoms

from .. import LinmrError
from .level import Level


def diverse_subset(clusters: list[Atoms], n: int) -> list[Atoms]:
    """``n`` clusters spread over compositions (n_FSI, n_DME, size) and concentrations, round-robin."""
    groups: dict[tuple, list[Atoms]] = {}
    for a in clusters:
        key = (int(a.info.get("n_FSI", 0)), int(a.info.get("n_DME", 0)), len(a))
        groups.setdefault(key, []).append(a)
    for g in groups.values():  # within a composition, alternate concentrations
        g.sort(key=lambda a: (str(a.info.get("cluster_id", ""))[::-1]))
    out: list[Atoms] = []
    keys = sorted(groups)
    while len(out) < n and any(groups.values()):
        for k in keys:
            if groups[k] and len(out) < n:
                out.append(groups[k].pop(0))
    return out


def pair_mae(sigma_small: np.ndarray, sigma_large: np.ndarray) -> tuple[float, float, float]:
    """(pairwise MAE, MAE of mean-centred shifts, max pairwise error), ppm."""
    a, b = np.asarray(sigma_small, float), np.asarray(sigma_large, float)
    if len(a) < 2:
        raise LinmrError("the level-of-theory check needs at least two clusters")
    pairs = list(itertools.combinations(range(len(a)), 2))
    err = np.array([abs((a[i] - a[j]) - (b[i] - b[j])) for i, j in pairs])
    centred = np.abs((a - a.mean()) - (b - b.mean()))
    return float(err.mean()), float(centred.mean()), float(err.max())


def run(
    clusters: list[Atoms],
    backend,
    level: Level,
    large_basis: dict,
    max_memory_mb: int = 4000,
    nproc: int = 1,
    log=print,
) -> tuple[pd.DataFrame, dict]:
    """Per-cluster table (sigma at both levels, mean-centred shifts, ppm) and a summary dict."""
    large = replace(level, basis=dict(large_basis))
    rows = []
    for a in clusters:
        cid = str(a.info.get("cluster_id", "?"))
        r = {"cluster_id": cid, "concentration": a.info.get("concentration", ""), "n_atoms": len(a),
             "n_FSI": int(a.info.get("n_FSI", 0)), "n_DME": int(a.info.get("n_DME", 0))}
        try:
            for tag, lvl in (("campaign", level), ("large", large)):
                res = backend.shielding(a, lvl, [0], max_memory_mb=max_memory_mb, nproc=nproc)
                r[f"sigma_{tag}_ppm"] = res["sigma_iso_ppm"][0]
                r[f"wall_{tag}_s"] = res.get("scf_s", 0) + res.get("nmr_s", 0)
            r["status"], r["reason"] = "ok", ""
        except Exception as exc:  # a failed cluster is reported, the check goes on
            r["status"], r["reason"] = "failed", f"{type(exc).__name__}: {exc}"[:300]
        log(f"{cid}: {r}")
        rows.append(r)
    table = pd.DataFrame(rows)
    ok = table[table["status"] == "ok"].copy()
    if len(ok) < 2:
        raise LinmrError(f"level-of-theory check: only {len(ok)} cluster(s) succeeded: {list(table['reason'])}")
    s, b = ok["sigma_campaign_ppm"].to_numpy(float), ok["sigma_large_ppm"].to_numpy(float)
    # delta = sigma_ref - sigma: mean-centred shifts need no reference
    table.loc[ok.index, "delta_centred_campaign_ppm"] = -(s - s.mean())
    table.loc[ok.index, "delta_centred_large_ppm"] = -(b - b.mean())
    mae_pair, mae_centred, max_pair = pair_mae(s, b)
    summary = {
        "level_campaign": level.label(),
        "level_large": large.label(),
        "n_clusters": int(len(ok)),
        "n_failed": int(len(table) - len(ok)),
        "mae_relative_shift_pairs_ppm": mae_pair,
        "max_relative_shift_pair_error_ppm": max_pair,
        "mae_mean_centred_shift_ppm": mae_centred,
        "mean_sigma_offset_large_minus_campaign_ppm": float((b - s).mean()),
        "spread_of_shifts_large_ppm": float(b.max() - b.min()),
    }
    return table, summary


def diverse_from_bundles(bundle_paths, n: int, log=print) -> list[Atoms]:
    """:func:`diverse_subset` of every cluster in the bundle files (an empty bundle holds none)."""
    from ..readers import read_frames

    pool = []
    for path in bundle_paths:
        pool += read_frames(path, what="cluster bundle", periodic=False, empty_ok=True)
    chosen = diverse_subset(pool, n)
    log(f"{len(chosen)} of {len(pool)} clusters: {[a.info['cluster_id'] for a in chosen]}")
    return chosen


def check_bundles(bundle_paths, dft: dict, check: dict, max_memory_mb: int, nproc: int = 1,
                  log=print) -> tuple[pd.DataFrame, dict]:
    """The level_check rule: ``check.n_clusters`` diverse clusters of the bundles (:func:`diverse_subset`),
    at the configured level and at ``check.basis`` (same functional); see :func:`run`."""
    from . import get_backend, level_from_config

    chosen = diverse_from_bundles(bundle_paths, check["n_clusters"], log=log)
    return run(chosen, get_backend(dft["backend"]), level_from_config(dft), check["basis"],
               max_memory_mb=max_memory_mb, nproc=nproc, log=log)
