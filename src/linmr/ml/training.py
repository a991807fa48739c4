"""The train stage: SOAP of every DFT-labelled Li in its periodic MD frame -> torch MLP ensemble,
evaluated against SOAP-ridge and the mean predictor on a grouped test split and by grouped K-fold
cross-validation, with a learning curve; writes the bundle, the tables and the parity figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import LinmrError
from . import descriptors, model

CV_COLUMNS = ["cluster_id", "concentration", "fold", "delta_dft_ppm", "delta_nn_ppm"]


def read_trajectories(concs, paths, species=None) -> dict:
    """Concentration label -> checked list of MD frames (periodic; elements within ``species`` if given)."""
    from ..readers import read_frames

    return {c: read_frames(p, what="MD trajectory", periodic=True, species=species) for c, p in zip(concs, paths)}


def read_labels(path: str | Path) -> pd.DataFrame:
    """A shifts table (``results/dft/shifts.csv`` or an active-learning one), cluster ids as text."""
    return pd.read_csv(path, dtype={"cluster_id": str})


@dataclass
class Labelled:
    """Labelled Li of the campaign: the shifts table, SOAP features, shifts (ppm) and the grouped split."""

    shifts: pd.DataFrame
    x: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    settings: descriptors.SoapSettings

    @classmethod
    def build(cls, shifts: pd.DataFrame, trajectories: dict, descriptor: dict, model_cfg: dict) -> "Labelled":
        settings = descriptors.settings_from_config(descriptor)
        x = descriptors.labelled_features(shifts, trajectories, descriptors.Featurizer(settings))
        y = shifts["delta_ppm"].to_numpy(float)
        groups, train, val, test = model.split_labels(shifts, model_cfg)
        return cls(shifts, x, y, groups, train, val, test, settings)


@dataclass
class TrainResult:
    bundle: model.Bundle
    metrics: pd.DataFrame  # CV rows first (if any), then the test split
    test_predictions: pd.DataFrame
    cv_predictions: pd.DataFrame
    learning_curve: pd.DataFrame
    folds: int  # 0 where cross-validation was skipped


def train_and_evaluate(data: Labelled, model_cfg: dict, metadata: dict, log=print, device: str = "cpu") -> TrainResult:
    """Train the ensemble on the grouped split, compare it with the baselines on the test split and by
    grouped K-fold CV (``model.cv_folds``; skipped with a warning when there are too few frames), and
    train the learning curve (``model.learning_curve`` fractions of the training frames); every NN on
    ``device``."""
    x, y, train, val, test = data.x, data.y, data.train, data.val, data.test
    log(f"{len(y)} labelled Li: {len(train)} train, {len(val)} validation, {len(test)} test (grouped by MD frame)")
    ms = model.ModelSettings.from_config(model_cfg)
    bundle = model.train(x, y, train, val, ms, data.settings.as_dict(), metadata=metadata, groups=data.groups, log=log,
                         device=device)
    nn_mean, nn_spread = bundle.predict(x[test])
    fit = np.concatenate([train, val])
    ridge = model.ridge_baseline(x[fit], y[fit], x[test])
    rows = model.comparison_rows(y[test], nn_mean, ridge, np.full(len(test), y[fit].mean()))
    evaluation = [{**r, "evaluation": "test split"} for r in rows]
    folds = int(model_cfg["cv_folds"])
    cv_table = pd.DataFrame(columns=CV_COLUMNS)
    if folds:
        # every label predicted once by models that never saw its MD frame: the MAE rests on all labels,
        # not on the ~8 of one test split; these rows come first in the table
        try:
            table, cv_rows = model.cross_validate(x, y, data.groups, ms, folds=folds,
                                                  val_fraction=model_cfg["split_fractions"][1], seed=ms.seed,
                                                  device=device)
        except LinmrError as exc:  # too few labelled frames: report the test split only
            log(f"WARNING: cross-validation skipped (config key 'model.cv_folds' = {folds}): {exc}")
            folds = 0
        else:
            evaluation = cv_rows + evaluation
            table.insert(0, "cluster_id", data.shifts["cluster_id"].to_numpy())
            table.insert(1, "concentration", data.shifts["concentration"].to_numpy())
            cv_table = table
    metrics = pd.DataFrame(evaluation)
    metrics["level_of_theory"] = metadata["level_of_theory"]
    metrics["config_hash"] = metadata["config_hash"]
    test_table = pd.DataFrame({
        "cluster_id": data.shifts["cluster_id"].to_numpy()[test],
        "concentration": data.shifts["concentration"].to_numpy()[test],
        "delta_dft_ppm": y[test],
        "delta_nn_ppm": nn_mean,
        "spread_nn_ppm": nn_spread,
        "delta_ridge_ppm": ridge,
    })
    # learning curve: the same test set, random subsets of the training frames (groups), same validation set
    lc = model.learning_curve(x, y, data.groups, train, val, test, ms, model_cfg["learning_curve"],
                              data.settings.as_dict(), full=(bundle, rows), device=device)
    return TrainResult(bundle, metrics, test_table, cv_table, lc, folds)


def parity_title(metrics: pd.DataFrame) -> str:
    """One line per evaluation: NN MAE with ridge and mean beside it (ppm)."""
    def line(label, t):
        t = t.set_index("model")["mae_ppm"]
        return f"{label} MAE {t['nn_ensemble']:.3f} ppm (ridge {t['soap_ridge']:.3f}, mean {t['mean_predictor']:.3f})"

    return "\n".join(line(e if e == "test split" else e.replace("grouped ", ""), t)
                     for e, t in metrics.groupby("evaluation", sort=False))


def write_outputs(result: TrainResult, outputs: dict, footer: str | None = None, log=print) -> None:
    """Bundle directory, ``metrics``/``test``/``cv``/``learning_curve`` tables and the ``parity`` figure."""
    from ..analysis import plots
    from ..fileio import write_csv

    result.bundle.save(outputs["bundle"])
    write_csv(outputs["cv"], result.cv_predictions)
    write_csv(outputs["metrics"], result.metrics)
    log(result.metrics.to_string(index=False))
    write_csv(outputs["test"], result.test_predictions)
    t = result.test_predictions
    cv = result.cv_predictions
    plots.parity(
        t["delta_dft_ppm"].to_numpy(), t["delta_nn_ppm"].to_numpy(), t["spread_nn_ppm"].to_numpy(), outputs["parity"],
        title=parity_title(result.metrics),
        cv=(cv["delta_dft_ppm"], cv["delta_nn_ppm"], cv["spread_nn_ppm"]) if result.folds else None,
        cv_label=f"{result.folds}-fold CV", footer=footer,
    )
    write_csv(outputs["learning_curve"], result.learning_curve)
    log(result.learning_curve.to_string(index=False))
