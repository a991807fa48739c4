"""Rule potential_label (and potential_label_feedback): the teacher's energies, forces and stresses of the selected
frames (linmr.potential.label); a frame the teacher fails on is recorded and left out. Feedback frames
(potential.feedback_frames, e.g. an earlier campaign's production candidates) are labelled in round 0 as training
frames (linmr.potential.feedback)."""
from linmr import fileio, potential, requirements
from linmr.logs import job_device, rule_log

with rule_log(snakemake) as smk:
    requirements.check(requirements.potential_needs(smk.config, job="label"), "this job's node")
    frames = potential.read_labels(list(smk.input.selected))
    if smk.params.get("feedback", False):
        frames = potential.feedback(frames)
    # the CP2K binary is a resource key (not in params, never reruns the job): taken from the config here
    settings = {**smk.params.potential,
                "cp2k": {**smk.params.potential["cp2k"], "executable": smk.config["potential"]["cp2k"]["executable"]}}
    labelled, table = potential.label(frames, settings, smk.params.work_dir, int(smk.wildcards.get("round", 0)),
                                      nproc=smk.threads, device=job_device(smk))
    fileio.write_frames(smk.output.labels, labelled)
    fileio.write_csv(smk.output.table, table)
    print(table.to_string(index=False))
