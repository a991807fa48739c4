"""Rule active_learning: rounds of (score MD Li by ensemble spread -> DFT on the most uncertain -> retrain);
the learning curve (training-set size and AL rounds) with the test MAE of NN, ridge and mean predictor."""
import json
import os

import numpy as np
import pandas as pd
from ase.io import read

from linmr import active, descriptors, model, plots, provenance
from linmr.dft import get_backend, level_from_config
from linmr.logs import set_threads, to_file

with to_file(snakemake.log[0]):
    set_threads(snakemake.threads)
    p = snakemake.params
    al = p.model.get("active_learning", {"rounds": 0, "per_round": 0})
    shifts = pd.read_csv(snakemake.input.shifts, dtype={"cluster_id": str})
    trajs = {c: read(path, index=":", format="extxyz") for c, path in zip(p.concs, snakemake.input.trajs)}
    with open(snakemake.input.reference) as fh:
        reference = json.load(fh)
    curve = pd.read_csv(snakemake.input.learning_curve)
    settings = descriptors.settings_from_config(p.descriptor)
    feat = descriptors.Featurizer(settings)
    x = descriptors.labelled_features(shifts, trajs, feat)
    y = shifts["delta_ppm"].to_numpy(float)
    # the split of the train rule (same groups, same seed): validation and test stay fixed
    groups, train, val, test = model.split_labels(shifts, p.model)
    held_out = {(c, int(f)) for c, f in zip(shifts["concentration"].iloc[np.r_[val, test]], shifts["frame"].iloc[np.r_[val, test]])}
    ms = model.ModelSettings.from_config(p.model)
    charges = {p.species[r]["name"]: int(p.species[r]["charge"]) for r in p.species}
    backend, level = get_backend(p.dft["backend"]), level_from_config(p.dft)
    bundle = model.Bundle.load(snakemake.input.bundle)
    rows, picked, rounds_done = [], [], 0
    os.makedirs(snakemake.output.workdir, exist_ok=True)
    for rnd in range(1, int(al["rounds"]) + 1):
        cands = active.candidates(trajs, shifts, held_out, skip=p.clusters["skip_frames"], li_name=p.species["cation"]["name"])
        if not cands:  # every Li environment outside validation/test frames is labelled already
            print(f"round {rnd}: no unlabelled Li environment left to score; active learning stops here")
            break
        sel = active.select(bundle, trajs, cands, int(al["per_round"]))
        print(f"round {rnd}: {len(cands)} candidates, spread of the chosen {sel['spread_ppm'].round(3).tolist()} ppm")
        new = active.label(
            sel, trajs, p.clusters["r_cut_A"], charges, p.clusters.get("donor_elements"), backend, level, reference,
            snakemake.output.workdir, f"al{rnd}", max_memory_mb=p.dft["max_memory_mb"],
        )
        picked.append(sel.assign(round=rnd))
        if len(new) == 0:
            print(f"round {rnd}: every DFT job failed; stopping")
            break
        first = len(shifts)
        shifts = pd.concat([shifts, new[shifts.columns.intersection(new.columns)]], ignore_index=True)
        x = np.concatenate([x, descriptors.labelled_features(new, trajs, feat)])
        y = shifts["delta_ppm"].to_numpy(float)
        train = np.r_[train, np.arange(first, len(shifts))]
        groups = model.label_groups(shifts)
        bundle = model.train(x, y, train, val, ms, settings.as_dict(), metadata=bundle.metadata, progress=False,
                             groups=groups)
        rounds_done = rnd
        nn = bundle.predict(x[test])[0]
        for r in model.baseline_metrics(x, y, np.r_[train, val], test, nn):
            rows.append({"fraction": 1.0, "n_train": int(len(train)), **r, "round": rnd})
        print(pd.DataFrame(rows[-3:]).to_string(index=False))
    curve = pd.concat([curve, pd.DataFrame(rows)], ignore_index=True) if rows else curve
    curve.to_csv(snakemake.output.curve + ".tmp", index=False)
    os.replace(snakemake.output.curve + ".tmp", snakemake.output.curve)
    chosen = pd.concat(picked, ignore_index=True) if picked else pd.DataFrame(columns=["concentration", "frame", "li_index", "spread_ppm", "round"])
    chosen.to_csv(snakemake.output.chosen + ".tmp", index=False)
    os.replace(snakemake.output.chosen + ".tmp", snakemake.output.chosen)
    shifts.to_csv(snakemake.output.shifts + ".tmp", index=False)
    os.replace(snakemake.output.shifts + ".tmp", snakemake.output.shifts)
    print(curve.to_string(index=False))
    plots.learning_curve(curve, snakemake.output.figure, footer=provenance.footer(p.config))
    # the model the prediction stage uses: retrained on every label so far (the train rule's if no round ran)
    bundle.metadata.update(active_learning_rounds=rounds_done, n_labels=int(len(shifts)), n_train=int(len(train)))
    bundle.save(snakemake.output.bundle)
    print(f"saved the bundle after {rounds_done} active-learning round(s), {len(shifts)} labels, to {snakemake.output.bundle}")
    provenance.write_sidecars(snakemake.output, snakemake.config, rule=snakemake.rule)
