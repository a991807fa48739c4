# LiFSI/DME dynamic 7Li NMR campaign: boxes -> MLMD -> clusters -> DFT NMR -> SOAP+NN -> spectra.
import os
from pathlib import Path

from snakemake.utils import min_version

from linmr.config import check_runtime, prepare

min_version("9.0")

# every job imports the linmr package of this checkout, also inside the per-rule conda environments (envs/),
# which therefore name no path of the repository
_src = str(Path(workflow.basedir) / "src")
os.environ["PYTHONPATH"] = os.pathsep.join([_src] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != _src])


envvars:
    "PYTHONPATH",  # set just above; declared so that remote (SLURM) jobs receive it too


# the embedded default, unless the command line names config files: then those alone (plus the schema's
# defaults) make the config, so no demo key leaks into a paper or workstation run
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


# coerce command-line strings, fill every schema default, then schema + cross-field checks, before any
# job is planned: errors name the key path and the allowed values; afterwards every key exists
prepare(config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml")


onstart:
    # real runs only (not -n): the DFT executable must be on PATH where jobs run on this machine
    check_runtime(config, local=workflow.local_exec)


wildcard_constraints:
    conc=r"[0-9.]+M",
    bundle=r"[0-9]{3}",
    round=r"[0-9]+",
    member=r"[0-9]+",


include: "workflow/rules/common.smk"
include: "workflow/rules/boxes.smk"
include: "workflow/rules/potential.smk"
include: "workflow/rules/md.smk"
include: "workflow/rules/clusters.smk"
include: "workflow/rules/dft.smk"
include: "workflow/rules/model.smk"
include: "workflow/rules/predict.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/provenance.smk"


rule all:
    input:
        FIGURES,
        "results/provenance.html",
        "results/dft/shifts.csv",
        "results/model/metrics.csv",
        expand("results/predictions/{conc}.csv", conc=CONCS),
        POTENTIAL_REPORT if POTENTIAL_STAGE else [],
        expand("results/md/{conc}/candidates.extxyz", conc=CONCS) if POTENTIAL_STAGE else [],
    default_target: True
