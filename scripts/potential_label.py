"""Rule potential_label: the teacher's energies, forces and stresses of the selected frames
(linmr.potential.label); a frame the teacher fails on is recorded and left out."""
from linmr import fileio, potential, requirements
from linmr.logs import job_device, rule_log

with rule_log(snakemake) as smk:
    requirements.check(requirements.potential_needs(smk.config, job="label"), "this job's node")
    frames = potential.read_labels([smk.input.selected])
    # the CP2K binary is a resource key (not in params, never reruns the job): taken from the config here
    settings = {**smk.params.potential,
                "cp2k": {**smk.params.potential["cp2k"], "executable": smk.config["potential"]["cp2k"]["executable"]}}
    labelled, table = potential.label(frames, settings, smk.params.work_dir, int(smk.wildcards.round),
                                      nproc=smk.threads, device=job_device(smk))
    fileio.write_frames(smk.output.labels, labelled)
    fileio.write_csv(smk.output.table, table)
    print(table.to_string(index=False))
