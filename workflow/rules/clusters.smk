rule clusters:
    input:
        traj="results/md/{conc}/production.extxyz",
    output:
        bundles=expand("results/clusters/{{conc}}/bundle_{bundle}.extxyz", bundle=BUNDLES),
        table="results/clusters/{conc}/clusters.csv",
    log:
        "logs/clusters/{conc}.log",
    params:
        clusters=config["clusters"],
        species=config["species"],
        descriptor=config["descriptor"],
        seed=config["seed"],
    threads: 1
    script:
        "../../scripts/cut_clusters.py"
