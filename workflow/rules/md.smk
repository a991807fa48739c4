rule md:
    input:
        unpack(md_model),
        box="results/boxes/{conc}.extxyz",
    output:
        traj="results/md/{conc}/production.extxyz",
        summary="results/md/{conc}/summary.json",
        log_csv="results/md/{conc}/md_log.csv",
        log_png="results/md/{conc}/md_log.png",
        deviation="results/md/{conc}/model_deviation.csv",
    benchmark:
        "results/benchmarks/md/{conc}.tsv"
    log:
        "logs/md/{conc}.log",
    params:
        md=result_params(config, "md"),
        seed=config["seed"],
        trust_hi_eV_A=config["potential"]["trust_hi_eV_A"] if POTENTIAL_STAGE else None,
        # restart state (checkpoint, partial frames): not a declared output, so Snakemake keeps it
        # when the job fails or is killed, and a rerun resumes from it; removed when the run completes
        work_dir=lambda wc: f"results/md/{wc.conc}/restart",
    priority: md_priority
    threads: config["md"]["threads"]
    resources:
        gpu=GPU,
    conda:
        "../../envs/md.yaml"
    script:
        "../../scripts/run_md.py"


rule md_candidates:
    input:
        traj="results/md/{conc}/production.extxyz",
        deviation="results/md/{conc}/model_deviation.csv",
    output:
        frames="results/md/{conc}/candidates.extxyz",
        table="results/md/{conc}/candidates.csv",
    benchmark:
        "results/benchmarks/md_candidates/{conc}.tsv"
    log:
        "logs/md/candidates_{conc}.log",
    params:
        potential={k: config["potential"][k] for k in ("trust_lo_eV_A", "trust_hi_eV_A", "candidates_per_box")},
    conda:
        "../../envs/linmr.yaml"
    script:
        "../../scripts/md_candidates.py"
