"""Run a bundle of clusters through a DFT backend; failures are recorded, not raised.

A bundle's rows are appended to a partial CSV as each cluster finishes, so a rerun
after a crash skips clusters already done.
"""

from __future__ import annotations

import csv
import time
import traceback
from pathlib import Path

from ase import Atoms

from .. import LinmrError
from ..fileio import atomic_path
from .level import Level

SHIELDING_COLUMNS = [
    "cluster_id",
    "concentration",
    "frame",
    "li_index",
    "sigma_iso_ppm",
    "n_atoms",
    "charge_e",
    "nao",
    "scf_s",
    "nmr_s",
    "wall_s",
    "level_of_theory",
    "program",
    "status",
    "reason",
]


def _done_ids(partial: Path) -> dict[str, dict]:
    if not partial.exists():
        return {}
    with open(partial, newline="") as fh:
        return {row["cluster_id"]: row for row in csv.DictReader(fh)}


def run_bundle(
    clusters: list[Atoms],
    backend,
    level: Level,
    out_csv: str | Path,
    max_memory_mb: int = 4000,
    progress: bool = True,
    log=print,
    nproc: int = 1,
    options: dict | None = None,
) -> list[dict]:
    """Shielding of the central Li (index 0) of every cluster; returns all rows (ok and failed).

    Each cluster must carry ``cluster_id``, ``concentration``, ``frame`` and
    ``center_index`` in ``info``. Rows go to ``<out_csv>.partial`` as they finish;
    the final CSV is written only when the whole bundle has been attempted. ``nproc`` and
    ``max_memory_mb`` (the job's cores and memory) and ``options`` go to ``backend.shielding``.
    """
    from tqdm import tqdm

    out_csv = Path(out_csv)
    partial = out_csv.with_name(out_csv.name + ".partial")
    done = _done_ids(partial)
    if done:
        log(f"resuming: {len(done)} cluster(s) already in {partial}")
    new_file = not partial.exists()
    with open(partial, "a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=SHIELDING_COLUMNS)
        if new_file:
            writer.writeheader()
        for atoms in tqdm(clusters, desc="DFT NMR", unit="cluster", disable=not progress):
            cid = str(atoms.info["cluster_id"])
            if cid in done:
                continue
            row = {
                "cluster_id": cid,
                "concentration": atoms.info.get("concentration", ""),
                "frame": atoms.info.get("frame", ""),
                "li_index": atoms.info.get("center_index", ""),
                "n_atoms": len(atoms),
                "charge_e": atoms.info.get("charge", ""),
                "level_of_theory": level.label(),
                "program": backend.program_version(),
            }
            t0 = time.perf_counter()
            try:
                if atoms.get_chemical_symbols()[0] != "Li":
                    raise LinmrError(f"cluster {cid}: atom 0 is {atoms.get_chemical_symbols()[0]}, not the central Li")
                res = backend.shielding(atoms, level, [0], max_memory_mb=max_memory_mb, nproc=nproc, **(options or {}))
                row.update(
                    sigma_iso_ppm=f"{res['sigma_iso_ppm'][0]:.6f}",
                    nao=res.get("nao", ""),
                    scf_s=f"{res.get('scf_s', 0):.2f}",
                    nmr_s=f"{res.get('nmr_s', 0):.2f}",
                    status="ok",
                    reason="",
                )
            except Exception as exc:  # a failed cluster is recorded and excluded, never fatal
                row.update(status="failed", reason=f"{type(exc).__name__}: {exc}".replace("\n", " ")[:500])
                log(f"cluster {cid} failed: {row['reason']}")
                log(traceback.format_exc(limit=3))
            row["wall_s"] = f"{time.perf_counter() - t0:.2f}"
            writer.writerow(row)
            fh.flush()
            done[cid] = row
    rows = [done[str(a.info["cluster_id"])] for a in clusters]
    with atomic_path(out_csv) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=SHIELDING_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    partial.unlink(missing_ok=True)
    return rows


def run_bundle_file(bundle_path: str | Path, dft: dict, out_csv: str | Path, max_memory_mb: int, nproc: int = 1,
                    log=print) -> list[dict]:
    """The dft_bundle rule: the clusters of one bundle file through the configured backend at the
    configured level (the config's ``dft`` keys); see :func:`run_bundle`. An empty bundle file (fewer
    environments than requested) gives a table with a header only."""
    import os

    from ..readers import read_frames
    from . import get_backend, level_from_config, require_dft_executable

    require_dft_executable(dft, where="this DFT job")  # on the node that runs it (SLURM too)
    clusters = []
    if os.path.getsize(bundle_path):
        clusters = read_frames(bundle_path, what="cluster bundle", periodic=False, overlap_frames="all")
    rows = run_bundle(clusters, get_backend(dft["backend"]), level_from_config(dft), out_csv,
                      max_memory_mb=max_memory_mb, nproc=nproc, log=log)
    log(f"{sum(r['status'] == 'ok' for r in rows)} of {len(rows)} clusters ok")
    return rows
