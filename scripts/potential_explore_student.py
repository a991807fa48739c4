"""Rule potential_explore: a later round of the potential stage, LAMMPS MD of a training box with the previous
round's DeePMD ensemble, recording its force deviation (linmr.potential.explore_student)."""
from linmr import potential, requirements
from linmr.logs import rule_log

with rule_log(snakemake) as smk:
    requirements.check(requirements.potential_needs(smk.config, job="explore"), "this job's node")
    p = smk.params
    print(potential.explore_student(smk.input.box, list(smk.input.models), p.potential, p.md, p.seed,
                                    smk.output.frames, smk.output.deviation, p.work_dir,
                                    executable=smk.config["md"]["lammps_executable"]))
