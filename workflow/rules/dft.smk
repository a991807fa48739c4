rule dft_reference:
    output:
        "results/dft/reference.json",
    benchmark:
        "results/benchmarks/dft_reference/job.tsv"
    log:
        "logs/dft/reference.log",
    params:
        dft=DFT_LEVEL,
    threads: config["dft"]["threads"]
    resources:
        mem_mb=DFT_MEM_MB,
    conda:
        "../../envs/linmr.yaml"
    script:
        "../../scripts/dft_reference.py"


rule dft_bundle:
    input:
        bundle="results/clusters/{conc}/bundle_{bundle}.extxyz",
    output:
        "results/dft/{conc}/bundle_{bundle}.csv",
    benchmark:
        "results/benchmarks/dft_bundle/{conc}_{bundle}.tsv"
    log:
        "logs/dft/{conc}/bundle_{bundle}.log",
    params:
        dft=DFT_LEVEL,
        charges=CHARGES,
    threads: config["dft"]["threads"]
    resources:
        mem_mb=DFT_MEM_MB,
    conda:
        "../../envs/linmr.yaml"
    script:
        "../../scripts/dft_bundle.py"


rule dft_collect:
    input:
        reference="results/dft/reference.json",
        bundles=expand("results/dft/{conc}/bundle_{bundle}.csv", conc=CONCS, bundle=BUNDLES),
    output:
        shifts="results/dft/shifts.csv",
        failures="results/dft/failures.csv",
    benchmark:
        "results/benchmarks/dft_collect/job.tsv"
    log:
        "logs/dft/collect.log",
    conda:
        "../../envs/linmr.yaml"
    script:
        "../../scripts/dft_collect.py"


# Not part of `all`: `snakemake level_check` recomputes a diverse subset of clusters at a larger
# basis (same functional) and reports how well the campaign level reproduces relative shifts.
rule level_check:
    input:
        bundles=expand("results/clusters/{conc}/bundle_{bundle}.extxyz", conc=CONCS, bundle=BUNDLES),
    output:
        table="results/dft/level_check.csv",
        summary="results/dft/level_check.json",
    benchmark:
        "results/benchmarks/level_check/job.tsv"
    log:
        "logs/dft/level_check.log",
    params:
        dft=DFT_LEVEL,
        check=config["dft"]["level_check"],
    threads: config["dft"]["threads"]
    resources:
        mem_mb=DFT_MEM_MB,
    conda:
        "../../envs/linmr.yaml"
    script:
        "../../scripts/dft_level_check.py"
