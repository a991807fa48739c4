rule dft_reference:
    output:
        "results/dft/reference.json",
    log:
        "logs/dft/reference.log",
    params:
        dft=config["dft"],
    threads: config["dft"]["threads"]
    resources:
        mem_mb=config["dft"]["max_memory_mb"] + 1000,
    script:
        "../../scripts/dft_reference.py"


rule dft_bundle:
    input:
        bundle="results/clusters/{conc}/bundle_{bundle}.extxyz",
    output:
        "results/dft/{conc}/bundle_{bundle}.csv",
    log:
        "logs/dft/{conc}/bundle_{bundle}.log",
    params:
        dft=config["dft"],
    threads: config["dft"]["threads"]
    resources:
        mem_mb=config["dft"]["max_memory_mb"] + 1000,
    script:
        "../../scripts/dft_bundle.py"


rule dft_collect:
    input:
        reference="results/dft/reference.json",
        bundles=expand("results/dft/{conc}/bundle_{bundle}.csv", conc=CONCS, bundle=BUNDLES),
    output:
        shifts="results/dft/shifts.csv",
        failures="results/dft/failures.csv",
    log:
        "logs/dft/collect.log",
    params:
        max_failed_fraction=config["dft"]["max_failed_fraction"],
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
    log:
        "logs/dft/level_check.log",
    params:
        dft=config["dft"],
        check=config["dft"].get("level_check", {"n_clusters": 10, "basis": {"default": "6-31G*"}}),
    threads: config["dft"]["threads"]
    resources:
        mem_mb=config["dft"]["max_memory_mb"] + 1000,
    script:
        "../../scripts/dft_level_check.py"
