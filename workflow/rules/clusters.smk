rule clusters:
    input:
        traj="results/md/{conc}/production.extxyz",
    output:
        bundles=expand("results/clusters/{{conc}}/bundle_{bundle}.extxyz", bundle=BUNDLES),
        table="results/clusters/{conc}/clusters.csv",
    benchmark:
        "results/benchmarks/clusters/{conc}.tsv"
    log:
        "logs/clusters/{conc}.log",
    params:
        clusters=config["clusters"],
        species=SPECIES,
        # SOAP settings pick the clusters only with farthest-point sampling
        descriptor=config["descriptor"] if config["clusters"]["selection"] == "fps" else None,
        seed=config["seed"],
    threads: 1
    conda:
        "../../envs/linmr.yaml"
    script:
        "../../scripts/cut_clusters.py"
