"""Rule potential_train: one DeePMD ensemble member of a round, on every label so far
(linmr.potential.train_member)."""
from linmr import potential
from linmr.logs import rule_log

with rule_log(snakemake) as smk:
    p, w = smk.params, smk.wildcards
    print(potential.train_member(smk.input.labels, smk.input.new, (smk.input.previous or [None])[0], p.potential,
                                 p.species, int(w.member), int(w.round), smk.output.model, p.work_dir,
                                 threads=smk.threads))
