# The MD potential trained inside the campaign (only where md.potential is deepmd and md.model_path is null):
# round 0 explores each small training box with the teacher, later rounds with the student ensemble of the
# round before; selected frames are labelled by the teacher and an ensemble of DeePMD models is trained on
# every label so far. See linmr.potential.


rule potential_box:
    output:
        box="results/potential/boxes/{conc}.extxyz",
        meta="results/potential/boxes/{conc}.json",
    benchmark:
        "results/benchmarks/potential_box/{conc}.tsv"
    log:
        "logs/potential/boxes/{conc}.log",
    params:
        conc=lambda w: {**CONCS[w.conc], "n_salt": POTENTIAL_N_SALT[w.conc]},
        species=SPECIES,
        tolerance_A=config["box"]["tolerance_A"],
        clearance_A=None,  # training boxes keep strained Li+ sites (box.cation_clearance_A: production boxes only)
        seed=config["seed"],
    threads: 1
    conda:
        "../../envs/linmr.yaml"
    script:
        "../../scripts/build_box.py"


rule potential_explore_teacher:
    input:
        box="results/potential/boxes/{conc}.extxyz",
    output:
        frames="results/potential/round_0/explore_{conc}.extxyz",
    benchmark:
        "results/benchmarks/potential_explore_teacher/{conc}.tsv"
    log:
        "logs/potential/round_0/explore_{conc}.log",
    params:
        potential=POTENTIAL,
        md=MD_DYNAMICS,
        seed=config["seed"],
    threads: config["potential"]["threads"]
    resources:
        gpu=GPU,
    conda:
        "../../envs/md.yaml"
    script:
        "../../scripts/potential_explore_teacher.py"


rule potential_explore:
    input:
        box="results/potential/boxes/{conc}.extxyz",
        models=lambda w: potential_models(int(w.round) - 1),
    output:
        frames="results/potential/round_{round}/explore_{conc}.extxyz",
        deviation="results/potential/round_{round}/deviation_{conc}.csv",
    benchmark:
        "results/benchmarks/potential_explore/{round}_{conc}.tsv"
    log:
        "logs/potential/round_{round}/explore_{conc}.log",
    params:
        potential=POTENTIAL,
        md=MD_DYNAMICS,
        seed=lambda w: config["seed"] + 1000 * int(w.round),
        work_dir=lambda w: f"results/potential/round_{w.round}/lammps_{w.conc}",
    wildcard_constraints:
        round=r"[1-9][0-9]*",
    threads: config["potential"]["threads"]
    resources:
        gpu=GPU,
    conda:
        "../../envs/md.yaml"
    script:
        "../../scripts/potential_explore_student.py"


rule potential_select:
    input:
        frames=lambda w: expand("results/potential/round_{round}/explore_{conc}.extxyz", round=w.round, conc=CONCS),
    output:
        selected=expand("results/potential/round_{{round}}/selected_{conc}.extxyz", conc=CONCS),
        table="results/potential/round_{round}/selection.csv",
    benchmark:
        "results/benchmarks/potential_select/{round}.tsv"
    log:
        "logs/potential/round_{round}/select.log",
    params:
        potential=POTENTIAL,
        concs=list(CONCS),
    conda:
        "../../envs/linmr.yaml"
    script:
        "../../scripts/potential_select.py"


rule potential_label:
    input:
        selected=["results/potential/round_{round}/selected_{conc}.extxyz"],  # a list, as in potential_label_feedback
    output:
        labels="results/potential/round_{round}/labels_{conc}.extxyz",
        table="results/potential/round_{round}/labels_{conc}.csv",
    benchmark:
        "results/benchmarks/potential_label/{round}_{conc}.tsv"
    log:
        "logs/potential/round_{round}/label_{conc}.log",
    params:
        potential=POTENTIAL,
        work_dir=lambda w: f"results/potential/round_{w.round}/teacher_{w.conc}",
    threads: config["potential"]["threads"]
    # single points of the selected frames: CPU nodes (profiles/slurm puts this rule on the CPU partition) for
    # every teacher, so the partition never disagrees with a GPU request
    conda:
        "../../envs/md.yaml"
    script:
        "../../scripts/potential_label.py"


rule potential_label_feedback:
    input:
        selected=config["potential"]["feedback_frames"],
    output:
        labels="results/potential/round_0/labels_feedback.extxyz",
        table="results/potential/round_0/labels_feedback.csv",
    benchmark:
        "results/benchmarks/potential_label/0_feedback.tsv"
    log:
        "logs/potential/round_0/label_feedback.log",
    params:
        potential=POTENTIAL,
        work_dir="results/potential/round_0/teacher_feedback",
        feedback=True,
    threads: config["potential"]["threads"]
    conda:
        "../../envs/md.yaml"
    script:
        "../../scripts/potential_label.py"


rule potential_train:
    input:
        labels=lambda w: expand("results/potential/round_{r}/labels_{conc}.extxyz", r=range(int(w.round) + 1),
                                conc=CONCS) + POTENTIAL_FEEDBACK,
        new=lambda w: expand("results/potential/round_{round}/labels_{conc}.extxyz", round=w.round, conc=CONCS),
        previous=lambda w: [f"results/potential/round_{int(w.round) - 1}/model_{w.member}.pb"] if int(w.round) else [],
        previous_frozen=lambda w: [f"results/potential/round_{int(w.round) - 1}/frozen_{w.member}.pb"] if int(w.round) else [],
    output:
        model="results/potential/round_{round}/model_{member}.pb",
        frozen="results/potential/round_{round}/frozen_{member}.pb",  # uncompressed: the next round may start from it
    benchmark:
        "results/benchmarks/potential_train/{round}_{member}.tsv"
    log:
        "logs/potential/round_{round}/train_{member}.log",
    params:
        potential=POTENTIAL,
        species=config["descriptor"]["species"],
        work_dir=lambda w: f"results/potential/round_{w.round}/train_{w.member}",
    threads: config["potential"]["threads"]
    resources:
        gpu=GPU,
    conda:
        "../../envs/md.yaml"
    script:
        "../../scripts/potential_train.py"


rule potential_report:
    input:
        selections=expand("results/potential/round_{r}/selection.csv", r=range(POTENTIAL_ROUNDS)),
        deviations=expand("results/potential/round_{r}/deviation_{conc}.csv", r=range(1, POTENTIAL_ROUNDS), conc=CONCS),
        labels=expand("results/potential/round_{r}/labels_{conc}.extxyz", r=range(POTENTIAL_ROUNDS), conc=CONCS)
        + POTENTIAL_FEEDBACK,
        teacher_md=expand("results/potential/round_0/explore_{conc}.extxyz", conc=CONCS),
        boxes=expand("results/potential/boxes/{conc}.extxyz", conc=CONCS),
        models=potential_models(POTENTIAL_ROUNDS - 1),
    output:
        rounds=report("results/potential/rounds.csv", caption="../report/potential.rst", category="Potential"),
        accuracy=report("results/potential/accuracy.csv", caption="../report/potential.rst", category="Potential"),
        structure="results/potential/structure.csv",
        figure=report("results/figures/potential_rounds.png", caption="../report/potential.rst", category="Potential"),
        rdf=report("results/figures/potential_rdf.png", caption="../report/potential.rst", category="Potential"),
    benchmark:
        "results/benchmarks/potential_report/job.tsv"
    log:
        "logs/potential/report.log",
    params:
        potential=POTENTIAL,
        md=MD_DYNAMICS,
        concs=list(CONCS),
        species=SPECIES,
        seed=config["seed"],
        work_dir="results/potential/validate",
    threads: config["potential"]["threads"]
    resources:
        gpu=GPU,
    conda:
        "../../envs/md.yaml"
    script:
        "../../scripts/potential_report.py"
