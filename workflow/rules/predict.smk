rule predict:
    input:
        bundle=FINAL_BUNDLE,
        traj="results/md/{conc}/production.extxyz",
    output:
        "results/predictions/{conc}.csv",
    benchmark:
        "results/benchmarks/predict/{conc}.tsv"
    log:
        "logs/predict/{conc}.log",
    params:
        species=SPECIES,
        r_bind_A=config["solvation"]["r_bind_A"],
    threads: 1
    resources:
        gpu=GPU,
    conda:
        "../../envs/linmr.yaml"
    script:
        "../../scripts/predict.py"
