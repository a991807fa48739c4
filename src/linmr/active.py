"""Active learning: score MD Li environments by ensemble spread, label the most uncertain with DFT.

One round: every Li in every eligible MD frame is featurised (periodic frame, as in training)
and scored by the spread of the ensemble; the most uncertain environments, at most one per MD
frame, are cut as clusters and sent to the DFT runner; the new labels join the *training* set
only. Frames that hold validation or test labels are never candidates, so the held-out sets stay
untouched and the test MAE of every round is measured on the same clusters.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import LinmrError
from .descriptors import Featurizer, SoapSettings
from .model import Bundle


def candidates(trajectories: dict, labelled: pd.DataFrame, exclude_frames: set, skip: int = 0, li_name: str = "Li"):
    """(concentration, frame, li_index) of every Li in frames ``>= skip`` that is not labelled yet and
    whose (concentration, frame) is not in ``exclude_frames``."""
    done = set(zip(labelled["concentration"], labelled["frame"].astype(int), labelled["li_index"].astype(int)))
    out = []
    for conc, frames in trajectories.items():
        for f in range(skip, len(frames)):
            if (conc, f) in exclude_frames:
                continue
            fr = frames[f]
            li = np.flatnonzero((fr.arrays["mol_name"] == li_name) & (fr.numbers == 3))
            out += [(conc, f, int(i)) for i in li if (conc, f, int(i)) not in done]
    return out


def select(bundle: Bundle, trajectories: dict, cands: list, n: int) -> pd.DataFrame:
    """The ``n`` candidates with the largest ensemble spread (ppm), at most one per MD frame."""
    if not cands:
        raise LinmrError("active learning: no unlabelled Li environments left to score")
    feat = Featurizer(SoapSettings.from_dict(bundle.featurizer))
    x = feat.many([trajectories[c][f] for c, f, _ in cands], [[i] for _, _, i in cands])
    mean, spread = bundle.predict(x)
    table = pd.DataFrame(cands, columns=["concentration", "frame", "li_index"])
    table["delta_nn_ppm"], table["spread_ppm"] = mean, spread
    table = table.sort_values("spread_ppm", ascending=False, kind="stable")
    return table.drop_duplicates(["concentration", "frame"]).head(n).reset_index(drop=True)


def label(selected: pd.DataFrame, trajectories: dict, r_cut: float, charges: dict, donors, backend, level,
          reference: dict, workdir: str | Path, tag: str, max_memory_mb: int = 4000) -> pd.DataFrame:
    """Cut a cluster around each selected Li, run the DFT runner on them, return their shifts (ppm)
    as rows like ``results/dft/shifts.csv`` (cluster ids ``<tag>-<conc>-NNNN``)."""
    from .clusters import cut_cluster
    from .dft.runner import run_bundle
    from .dft.shifts import collect

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    cut = []
    for k, row in enumerate(selected.itertuples()):
        frame = trajectories[row.concentration][int(row.frame)]
        c = cut_cluster(frame, int(row.li_index), r_cut, charges, donors=donors)
        c.info.update(cluster_id=f"{tag}-{row.concentration}-{k:04d}", concentration=row.concentration,
                      frame=int(row.frame), time_ps=frame.info.get("time_ps"))
        cut.append(c)
    out_csv = workdir / f"{tag}.csv"
    run_bundle(cut, backend, level, out_csv, max_memory_mb=max_memory_mb)
    shifts, _ = collect([out_csv], reference, max_failed_fraction=1.0)
    return shifts
