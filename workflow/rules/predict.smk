rule predict:
    input:
        bundle=FINAL_BUNDLE,
        traj="results/md/{conc}/production.extxyz",
    output:
        "results/predictions/{conc}.csv",
    log:
        "logs/predict/{conc}.log",
    params:
        species=config["species"],
        solvation=config["solvation"],
    threads: 1
    resources:
        gpu=1 if config["md"]["device"] == "cuda" else 0,
    script:
        "../../scripts/predict.py"
