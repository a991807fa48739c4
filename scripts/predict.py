"""Rule predict: streaming NN prediction of every Li in every MD frame (linmr.ml.predict.predict_file)."""
from linmr.logs import job_device, rule_log
from linmr.ml.predict import predict_file

with rule_log(snakemake) as smk:
    predict_file(smk.input.bundle, smk.input.traj, smk.wildcards.conc, smk.params.species, smk.params.r_bind_A,
                 smk.output[0], device=job_device(smk))
    print(f"predictions written to {smk.output[0]}")
