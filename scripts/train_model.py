"""Rule train: SOAP of labelled Li (periodic frames) -> torch MLP ensemble; metrics, parity plot, bundle."""
import os

import numpy as np
import pandas as pd

from linmr import LinmrError, descriptors, model, plots, provenance, validate
from linmr.logs import set_threads, to_file

with to_file(snakemake.log[0]):
    set_threads(snakemake.threads)
    p = snakemake.params
    shifts = pd.read_csv(snakemake.input.shifts, dtype={"cluster_id": str})
    trajs = {
        c: validate.read_frames(path, what="MD trajectory", periodic=True, species=p.descriptor["species"])
        for c, path in zip(p.concs, snakemake.input.trajs)
    }
    settings = descriptors.settings_from_config(p.descriptor)
    feat = descriptors.Featurizer(settings)
    x = descriptors.labelled_features(shifts, trajs, feat)
    y = shifts["delta_ppm"].to_numpy(float)
    groups, train, val, test = model.split_labels(shifts, p.model)
    print(f"{len(y)} labelled Li: {len(train)} train, {len(val)} validation, {len(test)} test (grouped by MD frame)")
    ms = model.ModelSettings.from_config(p.model)
    meta = provenance.stamp(
        p.config,
        level_of_theory=str(shifts["level_of_theory"].iloc[0]),
        n_train=int(len(train)),
        device=model.device(),
    )
    bundle = model.train(x, y, train, val, ms, settings.as_dict(), metadata=meta, groups=groups)
    bundle.save(snakemake.output.bundle)
    nn_mean, nn_spread = bundle.predict(x[test])
    fit = np.concatenate([train, val])
    ridge = model.ridge_baseline(x[fit], y[fit], x[test])
    mean_pred = np.full(len(test), y[fit].mean())
    rows = model.comparison_rows(y[test], nn_mean, ridge, mean_pred)
    evaluation = [{**r, "evaluation": "test split"} for r in rows]
    folds = int(p.model.get("cv_folds", 5))
    if folds:
        # every label predicted once by models that never saw its MD frame: the MAE rests on all labels,
        # not on the ~8 of one test split; these rows come first in the table
        try:
            cv_table, cv_rows = model.cross_validate(x, y, groups, ms, folds=folds,
                                                     val_fraction=p.model["split_fractions"][1], seed=ms.seed)
        except LinmrError as exc:  # too few labelled frames: report the test split only
            print(f"WARNING: cross-validation skipped (config key 'model.cv_folds' = {folds}): {exc}")
            folds = 0
        else:
            evaluation = cv_rows + evaluation
            cv_table.insert(0, "cluster_id", shifts["cluster_id"].to_numpy())
            cv_table.insert(1, "concentration", shifts["concentration"].to_numpy())
    if not folds:
        cv_table = pd.DataFrame(columns=["cluster_id", "concentration", "fold", "delta_dft_ppm", "delta_nn_ppm"])
    cv_table.to_csv(snakemake.output.cv + ".tmp", index=False)
    os.replace(snakemake.output.cv + ".tmp", snakemake.output.cv)
    metrics = pd.DataFrame(evaluation)
    metrics["level_of_theory"] = meta["level_of_theory"]
    metrics["config_hash"] = meta["config_hash"]
    tmp = snakemake.output.metrics + ".tmp"
    metrics.to_csv(tmp, index=False)
    os.replace(tmp, snakemake.output.metrics)
    print(metrics.to_string(index=False))
    pd.DataFrame(
        {
            "cluster_id": shifts["cluster_id"].to_numpy()[test],
            "concentration": shifts["concentration"].to_numpy()[test],
            "delta_dft_ppm": y[test],
            "delta_nn_ppm": nn_mean,
            "spread_nn_ppm": nn_spread,
            "delta_ridge_ppm": ridge,
        }
    ).to_csv(snakemake.output.test + ".tmp", index=False)
    os.replace(snakemake.output.test + ".tmp", snakemake.output.test)
    def _line(label, t):
        t = t.set_index("model")["mae_ppm"]
        return f"{label} MAE {t['nn_ensemble']:.3f} ppm (ridge {t['soap_ridge']:.3f}, mean {t['mean_predictor']:.3f})"

    title = "\n".join(_line(e if e == "test split" else e.replace("grouped ", ""), t)
                      for e, t in metrics.groupby("evaluation", sort=False))
    plots.parity(
        y[test], nn_mean, nn_spread, snakemake.output.parity,
        title=title,
        cv=(cv_table["delta_dft_ppm"], cv_table["delta_nn_ppm"], cv_table["spread_nn_ppm"]) if folds else None,
        cv_label=f"{folds}-fold CV",
        footer=provenance.footer(p.config, level=meta["level_of_theory"]),
    )

    # learning curve: the same test set, random subsets of the training frames (groups), same validation set
    lc = model.learning_curve(
        x, y, groups, train, val, test, ms, p.model.get("learning_curve", [0.25, 0.5, 0.75, 1.0]),
        settings.as_dict(), full=(bundle, rows),
    )
    lc.to_csv(snakemake.output.learning_curve + ".tmp", index=False)
    os.replace(snakemake.output.learning_curve + ".tmp", snakemake.output.learning_curve)
    print(lc.to_string(index=False))
    provenance.write_sidecars(snakemake.output, snakemake.config, rule=snakemake.rule)
