rule train:
    input:
        shifts="results/dft/shifts.csv",
        trajs=[trajectory(c) for c in CONCS],
    output:
        bundle=directory("results/model/bundle"),
        metrics=report("results/model/metrics.csv", caption="../report/metrics.rst", category="Model"),
        test="results/model/test_predictions.csv",
        cv="results/model/cv_predictions.csv",
        parity=report("results/figures/parity.png", caption="../report/parity.rst", category="Model"),
        learning_curve="results/model/learning_curve.csv",
    benchmark:
        "results/benchmarks/train/job.tsv"
    log:
        "logs/model/train.log",
    params:
        descriptor=config["descriptor"],
        model=result_params(config, "model", exclude=["active_learning"]),
        concs=list(CONCS),
    threads: 2
    resources:
        gpu=GPU,
    conda:
        "../../envs/linmr.yaml"
    script:
        "../../scripts/train_model.py"


rule active_learning:
    input:
        shifts="results/dft/shifts.csv",
        reference="results/dft/reference.json",
        trajs=[trajectory(c) for c in CONCS],
        bundle="results/model/bundle",
        learning_curve="results/model/learning_curve.csv",
    output:
        curve="results/model/active_learning/learning_curve.csv",
        chosen="results/model/active_learning/chosen.csv",
        shifts="results/model/active_learning/shifts.csv",
        workdir=directory("results/model/active_learning/dft"),
        bundle=directory("results/model/active_learning/bundle"),
        figure=report("results/figures/learning_curve.png", caption="../report/learning_curve.rst", category="Model"),
    benchmark:
        "results/benchmarks/active_learning/job.tsv"
    log:
        "logs/model/active_learning.log",
    params:
        descriptor=config["descriptor"],
        model=result_params(config, "model"),
        clusters=CLUSTER_CUT,
        species=SPECIES,
        dft=DFT_LEVEL,
        concs=list(CONCS),
    threads: config["dft"]["threads"]
    resources:
        mem_mb=DFT_MEM_MB,
    conda:
        "../../envs/linmr.yaml"
    script:
        "../../scripts/active_learning.py"
