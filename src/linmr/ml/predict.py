"""Streaming prediction: every Li in every frame, in chunks, with its solvation environment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import LinmrError
from ..analysis.solvation import ENV_COLUMNS, Topology, environment_batch
from ..fileio import finish_temp, start_temp
from .descriptors import Featurizer, SoapSettings
from .model import Bundle

COLUMNS = ["concentration", "frame", "time_ps", "li_index", "delta_ppm", "spread_ppm", *ENV_COLUMNS]


def predict_trajectory(
    bundle: Bundle,
    frames,
    concentration: str,
    names: dict,
    r_bind: float = 2.6,
    chunk: int = 256,
    out_csv: str | Path | None = None,
    progress: bool = True,
) -> pd.DataFrame | None:
    """Shift (ensemble mean, ppm) and spread (ppm) of every Li in every frame of ``frames`` (an iterable).

    Frames are featurised ``chunk`` at a time in one DScribe call. With ``out_csv`` rows are
    appended to a temporary file as chunks finish and nothing is kept in memory (returns
    ``None``; the file is renamed into place at the end), so memory does not grow with
    trajectory length; without it the rows are returned as one table. The topology (which
    atoms are Li and donors, species check) is worked out once and reused while frames share it.
    """
    from tqdm import tqdm

    feat = Featurizer(SoapSettings.from_dict(bundle.featurizer))
    parts, buf = [], []
    out_csv = Path(out_csv) if out_csv else None
    tmp = start_temp(out_csv) if out_csv else None
    header = True
    topo = None

    def flush():
        nonlocal header
        if not buf:
            return
        frames_ = [fr for _, fr in buf]
        env = environment_batch(frames_, topo, r_bind)
        x = feat.stream(frames_, [topo.li] * len(buf))
        mean, spread = bundle.predict(x)
        n_li = len(topo.li)
        cols = {
            "concentration": concentration,
            "frame": np.repeat([idx for idx, _ in buf], n_li),
            "time_ps": np.repeat([fr.info.get("time_ps", np.nan) for fr in frames_], n_li),
            "li_index": env["li_index"],
            "delta_ppm": mean,
            "spread_ppm": spread,
            **{c: env[c] for c in ENV_COLUMNS},
        }
        df = pd.DataFrame(cols, columns=COLUMNS)
        if tmp is not None:
            df.to_csv(tmp, mode="w" if header else "a", header=header, index=False)
            header = False
        else:
            parts.append(df)
        buf.clear()

    for idx, fr in enumerate(tqdm(frames, desc=f"predict {concentration}", unit="frame", disable=not progress)):
        if topo is None or not topo.matches(fr):
            flush()  # a chunk shares one topology
            feat.check_species(fr, f"frame {idx} of {concentration}")
            topo = Topology(fr, names["cation"], names["anion"], names["solvent"])
            if len(topo.li) == 0:
                raise LinmrError(f"frame {idx} of {concentration} has no Li to predict")
        buf.append((idx, fr))
        if len(buf) >= chunk:
            flush()
    flush()
    if tmp is not None:
        if header:
            raise LinmrError(f"trajectory for {concentration} has no frames")
        finish_temp(tmp, out_csv)
        return None
    if not parts:
        raise LinmrError(f"trajectory for {concentration} has no frames")
    return pd.concat(parts, ignore_index=True)


def predict_file(bundle_dir: str | Path, traj_path: str | Path, concentration: str, species: dict, r_bind: float,
                 out_csv: str | Path, device: str = "cpu") -> None:
    """The predict rule: the bundle in ``bundle_dir`` on every Li of every frame of ``traj_path`` (streamed),
    with each Li's solvation environment (bound within ``r_bind`` Å); rows to ``out_csv``. The ensemble runs on
    ``device``; SOAP vectors are computed on the CPU (DScribe)."""
    from ..readers import iter_frames

    bundle = Bundle.load(bundle_dir)
    bundle.device = device
    names = {r: species[r]["name"] for r in ("cation", "anion", "solvent")}
    frames = iter_frames(traj_path, what="MD trajectory", periodic=True, species=bundle.featurizer["species"])
    predict_trajectory(bundle, frames, concentration, names, r_bind=r_bind, out_csv=out_csv)
