"""Rule potential_explore_teacher: round 0 of the potential stage, MD of a training box driven by the teacher
(linmr.potential.explore_teacher); its frames keep the teacher's energies, forces and stresses."""
from linmr import potential, requirements
from linmr.logs import job_device, rule_log

with rule_log(snakemake) as smk:
    requirements.check(requirements.potential_needs(smk.config, job="explore_teacher"), "this job's node")
    p = smk.params
    print(potential.explore_teacher(smk.input.box, p.potential, p.md, p.seed, smk.output.frames, device=job_device(smk)))
