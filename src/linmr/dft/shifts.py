"""Shieldings -> shifts: delta = sigma_ref - sigma_iso (ppm), at one level of theory only."""

from __future__ import annotations

import pandas as pd

from .. import LinmrError
from .runner import SHIELDING_COLUMNS


def collect(bundle_csvs, reference: dict, max_failed_fraction: float = 0.5) -> tuple[pd.DataFrame, pd.DataFrame]:
    frames = []
    for path in bundle_csvs:
        try:
            frames.append(pd.read_csv(path, dtype={"cluster_id": str}))
        except pd.errors.EmptyDataError:
            continue
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SHIELDING_COLUMNS)
    ok = table[table["status"] == "ok"].copy()
    failed = table[table["status"] != "ok"].copy()
    n = len(table)
    if n == 0:
        raise LinmrError("no DFT results at all: every bundle is empty")
    if len(failed) / n > max_failed_fraction:
        raise LinmrError(
            f"{len(failed)} of {n} DFT clusters failed (> dft.max_failed_fraction = {max_failed_fraction}); "
            f"reasons: {sorted(set(failed['reason'].astype(str)))[:5]}"
        )
    levels = set(ok["level_of_theory"]) | {reference["level_of_theory"]}
    if len(levels) > 1:
        raise LinmrError(f"refusing to mix levels of theory in one training set: {sorted(levels)}")
    ok["sigma_ref_ppm"] = float(reference["sigma_ref_ppm"])
    ok["delta_ppm"] = ok["sigma_ref_ppm"] - ok["sigma_iso_ppm"].astype(float)
    return ok, failed
