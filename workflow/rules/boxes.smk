rule box:
    output:
        box="results/boxes/{conc}.extxyz",
        meta="results/boxes/{conc}.json",
    log:
        "logs/boxes/{conc}.log",
    params:
        conc=lambda w: CONCS[w.conc],
        species=SPECIES,
        tolerance_A=config["box"]["tolerance_A"],
        seed=config["seed"],
    threads: 1
    script:
        "../../scripts/build_box.py"
