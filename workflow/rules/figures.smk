rule figures:
    input:
        predictions=expand("results/predictions/{conc}.csv", conc=CONCS),
        reference="results/dft/reference.json",
    output:
        spectra=report("results/figures/spectra.png", caption="../report/spectra.rst", category="Spectra"),
        curve=report(
            "results/figures/shift_vs_concentration.png",
            caption="../report/shift_vs_concentration.rst",
            category="Spectra",
        ),
        solvation=report("results/figures/solvation.png", caption="../report/solvation.rst", category="Solvation"),
        per_class=report(
            "results/figures/shift_per_class.png", caption="../report/shift_per_class.rst", category="Solvation"
        ),
        table="results/tables/shift_vs_concentration.csv",
        classes="results/tables/solvation_classes.csv",
    log:
        "logs/figures.log",
    params:
        concs=list(CONCS),
        spectra=config["spectra"],
        config=config,
    script:
        "../../scripts/make_figures.py"
