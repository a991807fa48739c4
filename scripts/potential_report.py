"""Rule potential_report: rounds table and figure, the student's accuracy against the teacher on held-out frames,
and student vs teacher MD structure on the training boxes (linmr.potential.report.evaluate)."""
from linmr import provenance
from linmr.logs import rule_log
from linmr.potential.report import evaluate

with rule_log(snakemake) as smk:
    p = smk.params
    evaluate(p.concs, smk.input, dict(smk.output.items()), p.potential, p.md, p.seed, p.work_dir,
             executable=smk.config["md"]["lammps_executable"], footer=provenance.footer(smk.config))
