rule figures:
    input:
        unpack(experiment),
        predictions=expand("results/predictions/{conc}.csv", conc=CONCS),
        trajs=[trajectory(c) for c in CONCS],
        reference="results/dft/reference.json",
    output:
        spectra=report("results/figures/spectra.png", caption="../report/spectra.rst", category="Spectra"),
        curve=report(
            "results/figures/shift_vs_concentration.png",
            caption="../report/shift_vs_concentration.rst",
            category="Spectra",
        ),
        convergence=report(
            "results/figures/convergence.png", caption="../report/convergence.rst", category="Spectra"
        ),
        solvation=report("results/figures/solvation.png", caption="../report/solvation.rst", category="Solvation"),
        rdf=report("results/figures/rdf.png", caption="../report/rdf.rst", category="Solvation"),
        per_class=report(
            "results/figures/shift_per_class.png", caption="../report/shift_per_class.rst", category="Solvation"
        ),
        per_motif=report(
            "results/figures/shift_per_motif.png", caption="../report/shift_per_motif.rst", category="Solvation"
        ),
        table="results/tables/shift_vs_concentration.csv",
        classes="results/tables/solvation_classes.csv",
        motifs="results/tables/solvation_motifs.csv",
        rdf_table="results/tables/rdf.csv",
    benchmark:
        "results/benchmarks/figures/job.tsv"
    log:
        "logs/figures.log",
    params:
        concs=list(CONCS),
        species=SPECIES,
        spectra=result_params(config, "spectra"),
        solvation={k: config["solvation"][k] for k in ("rdf_r_max_A", "rdf_bin_A")},
    conda:
        "../../envs/linmr.yaml"
    script:
        "../../scripts/make_figures.py"
