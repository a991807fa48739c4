"""Rule potential_train: one DeePMD ensemble member of a round, on every label so far
(linmr.potential.train_member)."""
from linmr import potential, requirements
from linmr.logs import rule_log

with rule_log(snakemake) as smk:
    requirements.check(requirements.potential_needs(smk.config, job="train"), "this job's node")
    p, w = smk.params, smk.wildcards
    print(potential.train_member(smk.input.labels, smk.input.new, (smk.input.previous or [None])[0], p.potential,
                                 p.species, int(w.member), int(w.round), smk.output.model, p.work_dir,
                                 threads=smk.threads, previous_frozen=(smk.input.previous_frozen or [None])[0],
                                 out_frozen=smk.output.frozen))
