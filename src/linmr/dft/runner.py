"""Run a bundle of clusters through a DFT backend; failures are recorded, not raised.

A bundle's rows are appended to a partial CSV as each cluster finishes, so a rerun
after a crash skips clusters already done. Each partial row carries a hash of what it was computed from
(the cluster's atoms, charge and multiplicity, the level of theory, the program and the options): a row whose
cluster has changed since (re-cut clusters after new MD, another level) is discarded with a log line and
recomputed, and so is a torn last row.
"""

from __future__ import annotations

import csv
import hashlib
import json
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


PARTIAL_COLUMNS = [*SHIELDING_COLUMNS, "input_sha256"]


def input_hash(atoms: Atoms, level: Level, program: str, options: dict | None = None) -> str:
    """SHA-256 of what a cluster's shielding depends on: symbols, positions (1e-6 A), charge, multiplicity,
    the level of theory, the program (version) and the backend options."""
    doc = {
        "symbols": atoms.get_chemical_symbols(),
        "positions": [[round(float(x), 6) for x in p] for p in atoms.positions],
        "charge": int(atoms.info.get("charge", 0)),
        "multiplicity": int(atoms.info.get("multiplicity", 1)),
        "level": level.label(),
        "program": program,
        "options": options or {},
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _resumable_rows(partial: Path, hashes: dict[str, str], log=print) -> dict[str, dict]:
    """Rows of ``partial`` that belong to the current clusters (same id and same input hash); the file is
    rewritten with only those rows, so a stale row or a torn last line is recomputed, not kept."""
    if not partial.exists():
        return {}
    with open(partial, newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        rows = list(reader)
    keep, stale, torn = {}, 0, 0
    for row in rows:
        if header != PARTIAL_COLUMNS or None in row.values() or None in row or row.get("status") not in ("ok", "failed"):
            torn += 1
        elif hashes.get(row["cluster_id"]) != row["input_sha256"]:
            stale += 1
        else:
            keep[row["cluster_id"]] = row
    if stale:
        log(f"{partial}: discarded {stale} row(s) computed for other inputs (clusters or DFT settings changed)")
    if torn:
        log(f"{partial}: discarded {torn} incomplete or unreadable row(s); they are recomputed")
    if stale or torn:
        with atomic_path(partial) as tmp, open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=PARTIAL_COLUMNS)
            writer.writeheader()
            writer.writerows(keep.values())
    return keep


def check_cluster_state(atoms: Atoms, charges: dict[str, int] | None = None) -> None:
    """Before a DFT input is written: the cluster's ``charge`` must equal the sum of its molecules' formal
    charges (``charges``: molecule name -> e, where the cluster carries ``mol_id``/``mol_name``) and its
    ``multiplicity`` must fit its electron count. Raises :class:`LinmrError` naming the cluster."""
    from ..system.clusters import spin_state

    cid = atoms.info.get("cluster_id", "?")
    charge, mult = int(atoms.info.get("charge", 0)), int(atoms.info.get("multiplicity", 1))
    if charges and "mol_id" in atoms.arrays and "mol_name" in atoms.arrays:
        names = dict(zip(atoms.arrays["mol_id"].tolist(), atoms.arrays["mol_name"].tolist()))
        unknown = sorted(set(names.values()) - set(charges))
        if unknown:
            raise LinmrError(f"cluster {cid}: molecule name(s) {unknown} are not among the species {sorted(charges)}")
        expected = sum(charges[n] for n in names.values())
        if charge != expected:
            raise LinmrError(f"cluster {cid}: charge {charge} e, but its molecules ({len(names)}) sum to {expected} e")
    try:
        spin_state(atoms, charge, mult)
    except LinmrError as exc:
        raise LinmrError(f"cluster {cid}: {exc}") from None


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
    charges: dict[str, int] | None = None,
) -> list[dict]:
    """Shielding of the central Li (index 0) of every cluster; returns all rows (ok and failed).

    Each cluster must carry ``cluster_id``, ``concentration``, ``frame`` and
    ``center_index`` in ``info``. Rows go to ``<out_csv>.partial`` as they finish;
    the final CSV is written only when the whole bundle has been attempted. ``nproc`` and
    ``max_memory_mb`` (the job's cores and memory) and ``options`` go to ``backend.shielding``. Each cluster's
    charge and multiplicity are checked first (:func:`check_cluster_state`, ``charges`` per molecule name); a
    cluster that fails the check is recorded as failed, no input is written for it.
    """
    from tqdm import tqdm

    out_csv = Path(out_csv)
    partial = out_csv.with_name(out_csv.name + ".partial")
    program = backend.program_version()
    hashes = {str(a.info["cluster_id"]): input_hash(a, level, program, options) for a in clusters}
    done = _resumable_rows(partial, hashes, log=log)
    if done:
        log(f"resuming: {len(done)} cluster(s) already in {partial}")
    new_file = not partial.exists() or partial.stat().st_size == 0
    with open(partial, "a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=PARTIAL_COLUMNS)
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
                "program": program,
                "input_sha256": hashes[cid],
            }
            t0 = time.perf_counter()
            try:
                if atoms.get_chemical_symbols()[0] != "Li":
                    raise LinmrError(f"cluster {cid}: atom 0 is {atoms.get_chemical_symbols()[0]}, not the central Li")
                check_cluster_state(atoms, charges)
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
    rows = [{k: done[str(a.info["cluster_id"])].get(k, "") for k in SHIELDING_COLUMNS} for a in clusters]
    with atomic_path(out_csv) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=SHIELDING_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    partial.unlink(missing_ok=True)
    return rows


def run_bundle_file(bundle_path: str | Path, dft: dict, out_csv: str | Path, max_memory_mb: int, nproc: int = 1,
                    log=print, charges: dict[str, int] | None = None) -> list[dict]:
    """The dft_bundle rule: the clusters of one bundle file through the configured backend at the
    configured level (the config's ``dft`` keys); see :func:`run_bundle`. An empty bundle file (fewer
    environments than requested) gives a table with a header only."""
    from ..readers import read_frames
    from . import get_backend, level_from_config, require_dft_executable

    require_dft_executable(dft, where="this DFT job")  # on the node that runs it (SLURM too)
    clusters = read_frames(bundle_path, what="cluster bundle", periodic=False, empty_ok=True)
    rows = run_bundle(clusters, get_backend(dft["backend"]), level_from_config(dft), out_csv,
                      max_memory_mb=max_memory_mb, nproc=nproc, log=log, charges=charges)
    log(f"{sum(r['status'] == 'ok' for r in rows)} of {len(rows)} clusters ok")
    return rows
