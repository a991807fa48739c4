rule md:
    input:
        box="results/boxes/{conc}.extxyz",
    output:
        traj="results/md/{conc}/production.extxyz",
        summary="results/md/{conc}/summary.json",
    log:
        "logs/md/{conc}.log",
    params:
        md=config["md"],
        seed=config["seed"],
    threads: config["md"]["threads"]
    resources:
        gpu=1 if config["md"]["device"] == "cuda" else 0,
    script:
        "../../scripts/run_md.py"
