rule provenance:
    input:
        tables=[
            "results/dft/shifts.csv",
            "results/dft/failures.csv",
            "results/model/metrics.csv",
            "results/model/test_predictions.csv",
            "results/tables/shift_vs_concentration.csv",
            "results/tables/solvation_classes.csv",
            *expand("results/predictions/{conc}.csv", conc=CONCS),
            *expand("results/clusters/{conc}/clusters.csv", conc=CONCS),
        ],
        figures=FIGURES,
    output:
        html=report("results/provenance.html", caption="../report/provenance.rst", category="Provenance"),
        json="results/provenance.json",
    benchmark:
        "results/benchmarks/provenance/job.tsv"
    log:
        "logs/provenance.log",
    conda:
        "../../envs/linmr.yaml"
    script:
        "../../scripts/provenance_report.py"
