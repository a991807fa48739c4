"""Rule active_learning: rounds of (score MD Li by ensemble spread -> DFT on the most uncertain -> retrain)
(linmr.ml.active.run_rounds); the learning curve with the test MAE of NN, ridge and mean predictor."""
import json

import pandas as pd

from linmr import fileio, provenance
from linmr.analysis import plots
from linmr.dft import program_memory_mb
from linmr.logs import rule_log
from linmr.ml import active, model, training

with rule_log(snakemake) as smk:
    p, out = smk.params, smk.output
    trajs = training.read_trajectories(p.concs, smk.input.trajs, p.descriptor["species"])
    data = training.Labelled.build(training.read_labels(smk.input.shifts), trajs, p.descriptor, p.model)
    with open(smk.input.reference) as fh:
        reference = json.load(fh)
    res = active.run_rounds(
        data, trajs, model.Bundle.load(smk.input.bundle), pd.read_csv(smk.input.learning_curve), reference, p.model,
        p.clusters, p.species, p.dft, out.workdir, program_memory_mb(smk.resources.mem_mb), nproc=smk.threads,
    )
    fileio.write_csv(out.curve, res.curve)
    fileio.write_csv(out.chosen, res.chosen)
    fileio.write_csv(out.shifts, res.shifts)
    print(res.curve.to_string(index=False))
    plots.learning_curve(res.curve, out.figure, footer=provenance.footer(smk.config))
    res.bundle.save(out.bundle)  # the model the prediction stage uses
    print(f"saved the bundle after {res.rounds_done} active-learning round(s), {len(res.shifts)} labels, to {out.bundle}")
