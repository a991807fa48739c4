"""Rule md: minimise -> NVT heat -> NPT density -> NVT production (linmr.md.simulate)."""
import json

from linmr import fileio, md, requirements
from linmr.logs import job_device, rule_log
from linmr.provenance import footer

with rule_log(snakemake) as smk:
    requirements.check(requirements.md_needs(smk.config), "this MD job's node")
    p = smk.params
    summary = md.simulate(
        smk.input.box, p.md, seed=p.seed, concentration=smk.wildcards.conc, traj_path=smk.output.traj,
        log_csv=smk.output.log_csv, log_png=smk.output.log_png, deviation_csv=smk.output.deviation,
        work_dir=p.work_dir, device=job_device(smk), model_path=smk.input.get("model"),
        deviation_models=list(smk.input.get("deviation", [])), trust_hi_eV_A=p.trust_hi_eV_A,
        lammps_executable=smk.config["md"]["lammps_executable"], footer=footer(smk.config),
    )
    fileio.write_json(smk.output.summary, summary)
    print(json.dumps(summary, indent=2))
