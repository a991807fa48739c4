# LiFSI/DME dynamic 7Li NMR campaign: boxes -> MLMD -> clusters -> DFT NMR -> SOAP+NN -> spectra.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/boxes.smk"
include: "workflow/rules/md.smk"
include: "workflow/rules/clusters.smk"
include: "workflow/rules/dft.smk"
include: "workflow/rules/model.smk"
include: "workflow/rules/predict.smk"
include: "workflow/rules/figures.smk"


rule all:
    input:
        FIGURES,
        "results/dft/shifts.csv",
        "results/model/metrics.csv",
        expand("results/predictions/{conc}.csv", conc=CONCS),
    default_target: True
