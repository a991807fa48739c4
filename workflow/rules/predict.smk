rule predict:
    input:
        bundle=FINAL_BUNDLE,
        traj="results/md/{conc}/production.extxyz",
    output:
        "results/predictions/{conc}.csv",
    log:
        "logs/predict/{conc}.log",
    params:
        species=SPECIES,
        r_bind_A=config["solvation"]["r_bind_A"],
    threads: 1
    resources:
        gpu=GPU,
    script:
        "../../scripts/predict.py"
