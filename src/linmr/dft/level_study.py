"""Level-of-theory and cluster-size studies: which labels are accurate enough for relative 7Li shifts.

Both studies work on *relative* shifts: at one level, delta_i - delta_j = sigma_j - sigma_i, so the reference
compound cancels and the error of a level is the error of its mean-centred shifts over a set of clusters
(:func:`centred_errors`). CPU time is wall time x threads.

- :func:`ladder`: the same clusters at each level of a ladder (functional x basis x density fitting); the
  error of each level against the ladder's reference level (``reference``), and its cost.
- :func:`cluster_sizes`: the same Li environments cut with the first shell only and with whole molecules out
  to increasing radii (``second_shell_r_cut``); the change of sigma and of the mean-centred shifts against the
  largest radius.
- :func:`choose`: the cheapest level whose centred-shift MAE is within the target (0.1 ppm), else within the
  limit (0.2 ppm), else none.
"""

from __future__ import annotations

import resource
import time

import numpy as np
import pandas as pd
from ase import Atoms

from .. import LinmrError
from .level import Level


def centred_errors(sigma: np.ndarray, sigma_ref: np.ndarray) -> tuple[float, float, float]:
    """(MAE, max abs error, mean offset) of the mean-centred shifts of ``sigma`` against ``sigma_ref``, ppm.
    Only clusters finite in both count."""
    a, b = np.asarray(sigma, float), np.asarray(sigma_ref, float)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 2:
        raise LinmrError(f"relative shifts need at least two clusters computed at both levels, got {int(ok.sum())}")
    a, b = a[ok], b[ok]
    err = np.abs((a - a.mean()) - (b - b.mean()))
    return float(err.mean()), float(err.max()), float((a - b).mean())


def level_from_entry(entry: dict, grid_level: int) -> Level:
    """A ladder entry ``{name, method, basis, density_fit}`` as a :class:`Level` (GIAO fitted with the SCF)."""
    df = bool(entry["density_fit"])
    return Level(method=str(entry["method"]), basis=dict(entry["basis"]), density_fit=df, giao_density_fit=df,
                 grid_level=grid_level)


class ResultCache:
    """Computed shieldings of the studies, one JSON line per calculation keyed by
    :func:`~linmr.dft.runner.input_hash` (geometry, charge, level, program): a rerun (another level added, the job
    killed) computes only what is new. A torn last line is ignored; lines of other inputs are never used."""

    def __init__(self, path):
        import json
        from pathlib import Path

        self.path = Path(path)
        self.rows: dict[str, dict] = {}
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    row = json.loads(line)
                    self.rows[row["input_sha256"]] = row
                except (ValueError, KeyError, TypeError):
                    continue

    def put(self, key: str, row: dict) -> None:
        import json
        import os

        self.rows[key] = {**row, "input_sha256": key}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "ab+") as fh:
            torn = fh.seek(0, os.SEEK_END) > 0 and (fh.seek(-1, os.SEEK_END), fh.read(1))[1] != b"\n"
            fh.write(("\n" if torn else "").encode() + (json.dumps(self.rows[key]) + "\n").encode())
            fh.flush()
            os.fsync(fh.fileno())


CPU_MEASURE = "getrusage"  # how _compute measures cpu_s (see _cpu_time); cached rows without the key: wall x threads


def _compute(backend, atoms: Atoms, level: Level, max_memory_mb: int, threads: int,
             cache: ResultCache | None = None) -> dict:
    if cache is not None:
        from .runner import input_hash

        key = input_hash(atoms, level, backend.program_version())
        if key in cache.rows:
            row = {k: v for k, v in cache.rows[key].items() if k != "input_sha256"}
            # rows cached before cpu_s was measured by getrusage hold wall x threads; say which measure a row has
            return {"cpu_measure": "wall x threads"} | row | {"cached": True}
        row = _compute(backend, atoms, level, max_memory_mb, threads)
        if row["status"] == "ok":  # a failure is tried again on the next run
            cache.put(key, row)
        return row | {"cached": False}
    t0, c0 = time.perf_counter(), _cpu_time()
    try:
        res = backend.shielding(atoms, level, [0], max_memory_mb=max_memory_mb, nproc=threads)
        return {"sigma_ppm": float(res["sigma_iso_ppm"][0]), "wall_s": time.perf_counter() - t0,
                "cpu_s": _cpu_time() - c0, "cpu_measure": CPU_MEASURE, "nao": int(res.get("nao", 0)), "status": "ok",
                "reason": ""}
    except Exception as exc:  # a failed calculation is a row, the study goes on
        return {"sigma_ppm": float("nan"), "wall_s": time.perf_counter() - t0, "cpu_s": _cpu_time() - c0,
                "cpu_measure": CPU_MEASURE, "nao": 0, "status": "failed", "reason": f"{type(exc).__name__}: {exc}"[:300]}


def _cpu_time() -> float:
    """CPU seconds (user + system) of this process, all its threads, and of its finished child processes: what an
    in-process program (PySCF) and a subprocess one (ORCA, NWChem) cost, less sensitive to other jobs than wall time."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _cluster_row(a: Atoms) -> dict:
    return {"cluster_id": str(a.info.get("cluster_id", "?")), "concentration": a.info.get("concentration", ""),
            "n_atoms": len(a), "n_FSI": int(a.info.get("n_FSI", 0)), "n_DME": int(a.info.get("n_DME", 0))}


def ladder(clusters: list[Atoms], backend, levels: dict[str, Level], max_memory_mb: int = 4000, threads: int = 1,
           log=print, cache: ResultCache | None = None) -> pd.DataFrame:
    """σ_iso(7Li) of atom 0 of every cluster at every level: one row per (cluster, level)."""
    rows = []
    for k, a in enumerate(clusters):
        for name, lvl in levels.items():
            r = {**_cluster_row(a), "level": name, "level_label": lvl.label(),
                 **_compute(backend, a, lvl, max_memory_mb, threads, cache)}
            log(f"[{k + 1}/{len(clusters)}] {r['cluster_id']} ({len(a)} atoms) {name}: "
                f"sigma {r['sigma_ppm']:.3f} ppm, {r['wall_s']:.1f} s wall, {r['nao']} AOs"
                f"{' (computed before)' if r.get('cached') else ''} {r['reason']}")
            rows.append(r)
    return pd.DataFrame(rows)


def cpu_measure(rows: pd.DataFrame) -> str:
    """How the ``cpu_s`` of ``rows`` was measured: one measure, or "mixed: ..." where cached rows of an older
    measure (wall x threads) sit beside new ones."""
    if not len(rows):
        return ""
    kinds = sorted(set(rows["cpu_measure"].fillna("wall x threads"))) if "cpu_measure" in rows else ["wall x threads"]
    return kinds[0] if len(kinds) == 1 else "mixed: " + ", ".join(kinds)


def summarise_ladder(table: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Per level: error of its mean-centred shifts against ``reference`` (ppm) and CPU seconds per cluster."""
    wide = table.pivot(index="cluster_id", columns="level", values="sigma_ppm")
    if reference not in wide:
        raise LinmrError(f"level study: the reference level {reference!r} is not in the ladder {list(wide)}")
    rows = []
    for name, g in table.groupby("level", sort=False):
        ok = g[g["status"] == "ok"]
        try:
            mae, worst, offset = centred_errors(wide[name].to_numpy(), wide[reference].to_numpy())
        except LinmrError:
            mae = worst = offset = float("nan")
        rows.append({"level": name, "level_label": g["level_label"].iloc[0], "n_ok": len(ok),
                     "n_failed": int(len(g) - len(ok)), "mae_centred_ppm": mae, "max_centred_error_ppm": worst,
                     "mean_sigma_offset_vs_reference_ppm": offset,
                     "cpu_s_per_cluster": float(ok["cpu_s"].mean()) if len(ok) else float("nan"),
                     "cpu_measure": cpu_measure(ok),
                     "spread_of_shifts_ppm": float(ok["sigma_ppm"].max() - ok["sigma_ppm"].min()) if len(ok) else float("nan"),
                     "mean_nao": float(ok["nao"].mean()) if len(ok) else float("nan"),
                     "is_reference": name == reference})
    return pd.DataFrame(rows)


def choose(summary: pd.DataFrame, target_ppm: float = 0.1, limit_ppm: float = 0.2, key: str = "mae_centred_ppm",
           cost: str = "cpu_s_per_cluster", name: str = "level") -> dict:
    """The cheapest row of ``summary`` (not the reference) with ``key`` <= target, else <= limit.
    Returns ``{'choice': name or None, 'within': 'target'|'limit'|None, ...}``."""
    cand = summary[~summary.get("is_reference", False)] if "is_reference" in summary else summary
    for tag, tol in (("target", target_ppm), ("limit", limit_ppm)):
        ok = cand[cand[key] <= tol].sort_values(cost)
        if len(ok):
            best = ok.iloc[0]
            return {"choice": str(best[name]), "within": tag, "tolerance_ppm": tol, key: float(best[key]),
                    cost: float(best[cost])}
    return {"choice": None, "within": None, "tolerance_ppm": limit_ppm,
            "best_available": None if cand[key].isna().all() else str(cand.loc[cand[key].idxmin(), name])}


def cluster_sizes(environments: list[tuple[Atoms, Atoms]], radii: list[float | None], backend, level: Level,
                  charges: dict, r_cut: float, donors, max_memory_mb: int = 4000, threads: int = 1,
                  log=print, cache: ResultCache | None = None) -> pd.DataFrame:
    """σ_iso(7Li) of each environment ``(cluster, frame)`` re-cut from its MD frame at each second-shell radius
    (None: first shell only, as the campaign cuts it): one row per (cluster, radius)."""
    from ..system.clusters import cut_cluster

    rows = []
    for k, (cluster, frame) in enumerate(environments):
        for radius in radii:
            cut = cut_cluster(frame, int(cluster.info["center_index"]), r_cut, charges, donors=donors,
                              second_shell_r_cut=radius)
            r = {**_cluster_row(cluster), "second_shell_r_cut_A": 0.0 if radius is None else float(radius),
                 "n_atoms": len(cut), "n_molecules": len(set(cut.get_array("mol_id").tolist())),
                 "charge_e": int(cut.info["charge"]), **_compute(backend, cut, level, max_memory_mb, threads, cache)}
            log(f"[{k + 1}/{len(environments)}] {r['cluster_id']} radius {r['second_shell_r_cut_A']:.1f} A: "
                f"{len(cut)} atoms, sigma {r['sigma_ppm']:.3f} ppm, {r['wall_s']:.1f} s"
                f"{' (computed before)' if r.get('cached') else ''} {r['reason']}")
            rows.append(r)
    return pd.DataFrame(rows)


def summarise_sizes(table: pd.DataFrame) -> pd.DataFrame:
    """Per radius: mean |Δσ| against the largest radius and the error of the mean-centred shifts against it."""
    wide = table.pivot(index="cluster_id", columns="second_shell_r_cut_A", values="sigma_ppm")
    largest = max(wide.columns)
    rows = []
    for radius in sorted(wide.columns):
        g = table[table["second_shell_r_cut_A"] == radius]
        ok = g[g["status"] == "ok"]
        try:
            mae, worst, offset = centred_errors(wide[radius].to_numpy(), wide[largest].to_numpy())
        except LinmrError:
            mae = worst = offset = float("nan")
        rows.append({"second_shell_r_cut_A": radius, "n_ok": len(ok), "mean_atoms": float(g["n_atoms"].mean()),
                     "mean_abs_delta_sigma_vs_largest_ppm": float(np.nanmean(np.abs(wide[radius] - wide[largest]))),
                     "mae_centred_vs_largest_ppm": mae, "max_centred_error_vs_largest_ppm": worst,
                     "mean_sigma_offset_vs_largest_ppm": offset,
                     "cpu_s_per_cluster": float(ok["cpu_s"].mean()) if len(ok) else float("nan"),
                     "cpu_measure": cpu_measure(ok),
                     "is_reference": radius == largest})
    return pd.DataFrame(rows)


def study_bundles(bundle_paths, traj_paths, dft: dict, study: dict, cut: dict, charges: dict,
                  max_memory_mb: int, threads: int = 1, log=print, cache_path=None) -> dict:
    """The level_study rule: ``study.n_clusters`` diverse clusters of the bundles
    (:func:`~linmr.dft.level_check.diverse_subset`) through the ladder (the campaign level added as
    ``campaign``) and, at ``study.size_level``, through the second-shell radii, re-cut from their MD frames
    (``traj_paths``, one ``results/md/<conc>/production.extxyz`` per concentration). Returns the four tables and
    the choice (cheapest level and smallest radius within ``target_ppm``, else ``limit_ppm``)."""
    from pathlib import Path

    from ..readers import read_frames
    from . import get_backend, level_from_config
    from .level_check import diverse_from_bundles

    # names unique, reference and size_level among them: checked with the config (linmr.config)
    levels = {"campaign": level_from_config(dft)} | {e["name"]: level_from_entry(e, dft["grid_level"])
                                                      for e in study["levels"]}
    chosen = diverse_from_bundles(bundle_paths, study["n_clusters"], log=log)
    backend = get_backend(dft["backend"])
    cache = ResultCache(cache_path) if cache_path else None
    if cache is not None and cache.rows:
        log(f"{len(cache.rows)} computed shielding(s) in {cache_path}: reused where the input is the same")
    table = ladder(chosen, backend, levels, max_memory_mb, threads, log=log, cache=cache)
    summary = summarise_ladder(table, study["reference"])

    trajs = {Path(p).parent.name: p for p in traj_paths}
    frames: dict[str, list[Atoms]] = {}
    envs = []
    for a in chosen:
        conc = str(a.info["concentration"])
        if conc not in trajs:
            raise LinmrError(f"cluster {a.info['cluster_id']}: no trajectory of concentration {conc!r} among {traj_paths}")
        if conc not in frames:
            frames[conc] = read_frames(trajs[conc], what="MD trajectory", periodic=True, cutoff_A=cut["r_cut_A"],
                                       arrays=("mol_id", "mol_name"))
        envs.append((a, frames[conc][int(a.info["frame"])]))
    radii = [None] + sorted(float(r) for r in study["radii_A"])
    sizes = cluster_sizes(envs, radii, backend, levels[study["size_level"]], charges, cut["r_cut_A"],
                          cut["donor_elements"], max_memory_mb, threads, log=log, cache=cache)
    sizes_summary = summarise_sizes(sizes)
    choice = {
        "reference": study["reference"], "reference_label": levels[study["reference"]].label(),
        "level": choose(summary, study["target_ppm"], study["limit_ppm"]),
        "cluster_size": choose(sizes_summary.assign(name=sizes_summary["second_shell_r_cut_A"]),
                               study["target_ppm"], study["limit_ppm"], key="mae_centred_vs_largest_ppm",
                               name="name"),
        "size_level": study["size_level"], "largest_radius_A": radii[-1], "n_clusters": len(chosen),
        "threads": threads,
    }
    return {"ladder": table, "ladder_summary": summary, "sizes": sizes, "sizes_summary": sizes_summary,
            "choice": choice}
