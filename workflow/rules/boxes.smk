rule box:
    output:
        box="results/boxes/{conc}.extxyz",
        meta="results/boxes/{conc}.json",
    benchmark:
        "results/benchmarks/box/{conc}.tsv"
    log:
        "logs/boxes/{conc}.log",
    params:
        conc=lambda w: CONCS[w.conc],
        species=SPECIES,
        tolerance_A=config["box"]["tolerance_A"],
        clearance_A=config["box"]["cation_clearance_A"],
        seed=config["seed"],
    threads: 1
    conda:
        "../../envs/linmr.yaml"
    script:
        "../../scripts/build_box.py"
