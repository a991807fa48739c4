"""Rule train: SOAP of labelled Li (periodic frames) -> torch MLP ensemble; metrics, parity plot, bundle
(linmr.ml.training)."""
from linmr import provenance
from linmr.logs import job_device, rule_log
from linmr.ml import training

with rule_log(snakemake) as smk:
    p = smk.params
    shifts = training.read_labels(smk.input.shifts)
    data = training.Labelled.build(shifts, training.read_trajectories(p.concs, smk.input.trajs, p.descriptor["species"]),
                                   p.descriptor, p.model)
    level = str(shifts["level_of_theory"].iloc[0])
    device = job_device(smk)
    meta = provenance.stamp(smk.config, level_of_theory=level, n_train=int(len(data.train)), device=device)
    result = training.train_and_evaluate(data, p.model, meta, device=device)
    training.write_outputs(result, dict(smk.output.items()), footer=provenance.footer(smk.config, level=level))
