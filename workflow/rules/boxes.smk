rule box:
    output:
        box="results/boxes/{conc}.extxyz",
        meta="results/boxes/{conc}.json",
    log:
        "logs/boxes/{conc}.log",
    params:
        conc=lambda w: CONCS[w.conc],
        species=config["species"],
        tolerance_A=config["box"]["tolerance_A"],
        seed=config["seed"],
        density_source=config["density_source"],
    threads: 1
    script:
        "../../scripts/build_box.py"
