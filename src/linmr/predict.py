"""Streaming prediction: every Li in every frame, in chunks, with its solvation environment."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import LinmrError
from .descriptors import Featurizer, SoapSettings
from .model import Bundle
from .solvation import li_environments

COLUMNS = [
    "concentration", "frame", "time_ps", "li_index", "delta_ppm", "spread_ppm",
    "solvation_class", "n_solvent", "n_anion", "cn_O_solvent", "cn_O_anion", "cn_N_anion",
]


def predict_trajectory(
    bundle: Bundle,
    frames,
    concentration: str,
    names: dict,
    r_bind: float = 2.6,
    chunk: int = 64,
    out_csv: str | Path | None = None,
    progress: bool = True,
) -> pd.DataFrame | None:
    """Shift (ensemble mean, ppm) and spread (ppm) of every Li in every frame of ``frames`` (an iterable).

    Frames are featurised ``chunk`` at a time. With ``out_csv`` rows are appended to that file
    as chunks finish and nothing is kept in memory (returns ``None``), so memory does not grow
    with trajectory length; without it the rows are returned as one table.
    """
    from tqdm import tqdm

    feat = Featurizer(SoapSettings.from_dict(bundle.featurizer))
    parts, buf = [], []
    out_csv = Path(out_csv) if out_csv else None
    tmp = out_csv.with_name(out_csv.name + ".tmp") if out_csv else None
    header = True

    def flush():
        nonlocal header
        if not buf:
            return
        centers = [[e["li_index"] for e in envs] for _, _, envs in buf]
        x = feat.many([fr for _, fr, _ in buf], centers)
        mean, spread = bundle.predict(x)
        rows, k = [], 0
        for idx, fr, envs in buf:
            for e in envs:
                rows.append({
                    "concentration": concentration, "frame": idx, "time_ps": fr.info.get("time_ps", float("nan")),
                    "li_index": e["li_index"], "delta_ppm": float(mean[k]), "spread_ppm": float(spread[k]),
                    **{c: e[c] for c in COLUMNS[6:]},
                })
                k += 1
        df = pd.DataFrame(rows, columns=COLUMNS)
        if tmp is not None:
            df.to_csv(tmp, mode="w" if header else "a", header=header, index=False)
            header = False
        else:
            parts.append(df)
        buf.clear()

    for idx, fr in enumerate(tqdm(frames, desc=f"predict {concentration}", unit="frame", disable=not progress)):
        envs = li_environments(fr, names["cation"], names["anion"], names["solvent"], r_bind=r_bind)
        if not envs:
            raise LinmrError(f"frame {idx} of {concentration} has no Li to predict")
        buf.append((idx, fr, envs))
        if len(buf) >= chunk:
            flush()
    flush()
    if tmp is not None:
        if header:
            raise LinmrError(f"trajectory for {concentration} has no frames")
        tmp.replace(out_csv)
        return None
    return pd.concat(parts, ignore_index=True)
