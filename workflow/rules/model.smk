rule train:
    input:
        shifts="results/dft/shifts.csv",
        trajs=[trajectory(c) for c in CONCS],
    output:
        bundle=directory("results/model/bundle"),
        metrics="results/model/metrics.csv",
        test="results/model/test_predictions.csv",
        parity=report("results/figures/parity.png", caption="../report/parity.rst", category="Model"),
        learning_curve="results/model/learning_curve.csv",
        learning_curve_png=report(
            "results/figures/learning_curve.png", caption="../report/learning_curve.rst", category="Model"
        ),
    log:
        "logs/model/train.log",
    params:
        descriptor=config["descriptor"],
        model=config["model"],
        concs=list(CONCS),
        config=config,
    threads: 2
    resources:
        gpu=1 if config["md"]["device"] == "cuda" else 0,
    script:
        "../../scripts/train_model.py"
