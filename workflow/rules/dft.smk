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


# Not part of `all`: `snakemake level_study` computes n_clusters diverse clusters at a ladder of levels (error of
# relative shifts against a reference level vs CPU time) and re-cut with second-shell molecules out to increasing
# radii (change of sigma vs radius), and chooses the cheapest level within the target.
rule level_study:
    input:
        bundles=expand("results/clusters/{conc}/bundle_{bundle}.extxyz", conc=CONCS, bundle=BUNDLES),
        trajs=expand("results/md/{conc}/production.extxyz", conc=CONCS),
    output:
        ladder="results/dft/level_study/ladder.csv",
        ladder_summary="results/dft/level_study/ladder_summary.csv",
        sizes="results/dft/level_study/cluster_size.csv",
        sizes_summary="results/dft/level_study/cluster_size_summary.csv",
        choice="results/dft/level_study/choice.json",
        ladder_png=report("results/dft/level_study/level_ladder.png", caption="../report/level_ladder.rst",
                          category="DFT level"),
        sizes_png=report("results/dft/level_study/cluster_size.png", caption="../report/cluster_size.rst",
                         category="DFT level"),
    benchmark:
        "results/benchmarks/level_study/job.tsv"
    log:
        "logs/dft/level_study.log",
    params:
        dft=DFT_LEVEL,
        study=config["dft"]["level_study"],
        clusters=CLUSTER_CUT,
        charges=CHARGES,
    threads: config["dft"]["threads"]
    resources:
        mem_mb=DFT_MEM_MB,
    conda:
        "../../envs/linmr.yaml"
    script:
        "../../scripts/dft_level_study.py"
