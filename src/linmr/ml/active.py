"""Active learning: score MD Li environments by ensemble spread, label the most uncertain with DFT.

One round: every Li in every eligible MD frame is featurised (periodic frame, as in training)
and scored by the spread of the ensemble; the most uncertain environments, at most one per MD
frame, are cut as clusters and sent to the DFT runner; the new labels join the *training* set
only. Frames that hold validation or test labels are never candidates, so the held-out sets stay
untouched and the test MAE of every round is measured on the same clusters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import LinmrError
from .descriptors import Featurizer, SoapSettings, labelled_features
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


def label(selected: pd.DataFrame, trajectories: dict, clusters: dict, charges: dict, backend, level,
          reference: dict, workdir: str | Path, tag: str, max_memory_mb: int, nproc: int = 1, log=print) -> pd.DataFrame:
    """Cut a cluster around each selected Li exactly as the clusters stage does (the config's ``clusters``
    keys: ``r_cut_A``, ``donor_elements``, ``second_shell_r_cut_A``), run the DFT runner on them and return
    their shifts (ppm) as rows like ``results/dft/shifts.csv`` (cluster ids ``<tag>-<conc>-NNNN``)."""
    from ..dft.runner import run_bundle
    from ..dft.shifts import collect
    from ..system.clusters import cut_cluster

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    cut = []
    for k, row in enumerate(selected.itertuples()):
        frame = trajectories[row.concentration][int(row.frame)]
        c = cut_cluster(frame, int(row.li_index), clusters["r_cut_A"], charges, donors=clusters["donor_elements"],
                        second_shell_r_cut=clusters["second_shell_r_cut_A"])
        c.info.update(cluster_id=f"{tag}-{row.concentration}-{k:04d}", concentration=row.concentration,
                      frame=int(row.frame), time_ps=frame.info.get("time_ps"))
        cut.append(c)
    out_csv = workdir / f"{tag}.csv"
    run_bundle(cut, backend, level, out_csv, max_memory_mb=max_memory_mb, nproc=nproc, log=log, charges=charges)
    shifts, _ = collect([out_csv], reference, max_failed_fraction=1.0)
    return shifts


@dataclass
class ActiveLearningResult:
    curve: pd.DataFrame  # the train rule's learning curve plus one block of rows per round
    chosen: pd.DataFrame  # the picks of every round (concentration, frame, li_index, spread_ppm, round)
    shifts: pd.DataFrame  # every label so far
    bundle: Bundle  # retrained on every label (the train rule's bundle if no round ran)
    rounds_done: int
    n_train: int


def run_rounds(data, trajectories: dict, bundle: Bundle, curve: pd.DataFrame, reference: dict, model_cfg: dict,
               clusters: dict, species: dict, dft: dict, workdir: str | Path, max_memory_mb: int, nproc: int = 1,
               log=print) -> ActiveLearningResult:
    """Rounds of active learning (``model.active_learning``): score every unlabelled Li environment by the
    ensemble spread, DFT-label the most uncertain (at most one per frame), add them to the training set
    and retrain; the test set of the train rule stays fixed, so each round's test MAE is comparable.

    ``data`` is the train rule's :class:`linmr.ml.training.Labelled` (same split, same seed)."""
    from ..dft import get_backend, level_from_config
    from ..system.clusters import species_charges
    from . import model

    al = model_cfg["active_learning"]
    shifts, x, y, train, val, test = data.shifts, data.x, data.y, data.train, data.val, data.test
    feat = Featurizer(data.settings)
    held = np.r_[val, test]
    held_out = set(zip(shifts["concentration"].iloc[held], shifts["frame"].iloc[held]))
    held_out = {(c, int(f)) for c, f in held_out}
    ms = model.ModelSettings.from_config(model_cfg)
    charges = species_charges(species)
    backend, level = get_backend(dft["backend"]), level_from_config(dft)
    rows, picked, rounds_done = [], [], 0
    Path(workdir).mkdir(parents=True, exist_ok=True)
    for rnd in range(1, int(al["rounds"]) + 1):
        cands = candidates(trajectories, shifts, held_out, skip=clusters["skip_frames"], li_name=species["cation"]["name"])
        if not cands:  # every Li environment outside validation/test frames is labelled already
            log(f"round {rnd}: no unlabelled Li environment left to score; active learning stops here")
            break
        sel = select(bundle, trajectories, cands, int(al["per_round"]))
        log(f"round {rnd}: {len(cands)} candidates, spread of the chosen {sel['spread_ppm'].round(3).tolist()} ppm")
        new = label(sel, trajectories, clusters, charges, backend, level, reference, workdir, f"al{rnd}",
                    max_memory_mb=max_memory_mb, nproc=nproc, log=log)
        picked.append(sel.assign(round=rnd))
        if len(new) == 0:
            log(f"round {rnd}: every DFT job failed; stopping")
            break
        first = len(shifts)
        shifts = pd.concat([shifts, new[shifts.columns.intersection(new.columns)]], ignore_index=True)
        x = np.concatenate([x, labelled_features(new, trajectories, feat)])
        y = shifts["delta_ppm"].to_numpy(float)
        train = np.r_[train, np.arange(first, len(shifts))]
        bundle = model.train(x, y, train, val, ms, data.settings.as_dict(), metadata=bundle.metadata, progress=False,
                             groups=model.label_groups(shifts), log=log)
        rounds_done = rnd
        nn = bundle.predict(x[test])[0]
        for r in model.baseline_metrics(x, y, np.r_[train, val], test, nn):
            rows.append({"fraction": 1.0, "n_train": int(len(train)), **r, "round": rnd})
        log(pd.DataFrame(rows[-3:]).to_string(index=False))
    curve = pd.concat([curve, pd.DataFrame(rows)], ignore_index=True) if rows else curve
    chosen = (pd.concat(picked, ignore_index=True) if picked
              else pd.DataFrame(columns=["concentration", "frame", "li_index", "spread_ppm", "round"]))
    bundle.metadata.update(active_learning_rounds=rounds_done, n_labels=int(len(shifts)), n_train=int(len(train)))
    return ActiveLearningResult(curve, chosen, shifts, bundle, rounds_done, int(len(train)))
