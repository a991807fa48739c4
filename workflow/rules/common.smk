# Helpers shared by all rule files. The science lives in src/linmr; rules stay thin.
#
# Params carry only keys that change a rule's results (linmr.config.result_params drops the keys the
# schema marks x-resource: threads, memory, device, executables, run_name): Snakemake reruns a job when
# its params change, so editing a resource plans nothing and a plotting key reruns only the figures.
import math
from pathlib import Path

from linmr.config import potential_stage, result_params
from linmr.dft import MEMORY_OVERHEAD_MB
from linmr.system.composition import conc_label


CONCS = {conc_label(c["molarity_mol_L"]): c for c in config["concentrations"]}
N_BUNDLES = math.ceil(config["clusters"]["per_concentration"] / config["clusters"]["bundle_size"])
BUNDLES = [f"{b:03d}" for b in range(N_BUNDLES)]

FIGURES = [
    "results/figures/spectra.png",
    "results/figures/shift_vs_concentration.png",
    "results/figures/parity.png",
    "results/figures/solvation.png",
    "results/figures/shift_per_class.png",
    "results/figures/convergence.png",
    "results/figures/rdf.png",
    "results/figures/shift_per_motif.png",
    "results/figures/learning_curve.png",
]


# the model that predicts: the active-learning retrained bundle when rounds are configured, else the train rule's
AL_ROUNDS = config["model"]["active_learning"]["rounds"]
FINAL_BUNDLE = "results/model/active_learning/bundle" if AL_ROUNDS > 0 else "results/model/bundle"

# one GPU per job of the GPU rules (md, train, predict, potential training) where md.device is cuda
GPU = 1 if config["md"]["device"] == "cuda" else 0
# a DFT job's memory: what the program may use (dft.max_memory_mb) plus headroom for Python and the OS
DFT_MEM_MB = config["dft"]["max_memory_mb"] + MEMORY_OVERHEAD_MB

SPECIES = config["species"]
CHARGES = {sp["name"]: sp["charge"] for sp in SPECIES.values()}  # molecule name -> formal charge (e), from SMILES
# the level of theory and reference of every DFT job (dft keys that change a shielding)
DFT_LEVEL = result_params(config, "dft", exclude=["level_check", "level_study"])
# the cluster keys that decide which atoms a cluster holds (shared by the clusters and active-learning rules)
CLUSTER_CUT = {k: config["clusters"][k] for k in ("r_cut_A", "donor_elements", "second_shell_r_cut_A", "skip_frames")}


# the MD potential trained in the campaign (workflow/rules/potential.smk): where md.potential is deepmd and no
# md.model_path is given; its last round's first model drives production, the others record model deviation
POTENTIAL_STAGE = potential_stage(config)
# candidates_per_box only shapes what production hands on (md_candidates): it retrains nothing
POTENTIAL = result_params(config, "potential", exclude=("candidates_per_box",))
POTENTIAL_FEEDBACK = ["results/potential/round_0/labels_feedback.extxyz"] if config["potential"]["feedback_frames"] else []
POTENTIAL_ROUNDS = config["potential"]["rounds"]
POTENTIAL_N_SALT = dict(zip(CONCS, config["potential"]["n_salt"]))
# MD settings the exploration shares with production
MD_DYNAMICS = {k: config["md"][k] for k in ("timestep_fs", "friction_per_fs", "fmax_eV_A")}


def potential_models(round_):
    return [f"results/potential/round_{round_}/model_{m}.pb" for m in range(config["potential"]["ensemble"])]


def trajectory(conc):
    return f"results/md/{conc}/production.extxyz"


def md_model(wildcards):
    """The model files of the md rule: the campaign's trained ensemble, or a user model file (an input, so
    replacing it reruns MD and what follows; a file not there yet is left to the start-up check of a real run)."""
    if POTENTIAL_STAGE:
        models = potential_models(POTENTIAL_ROUNDS - 1)
        return {"model": models[0], "deviation": models[1:]}
    path = config["md"]["model_path"]
    return {"model": path} if path and Path(path).exists() else {}


def md_priority(wildcards):
    """MD is the critical path: every box starts before DFT of the first ones, the largest box first (its volume,
    n_salt / molarity in L/mol, sets the cost of its MD; the 1 M box of the workstation config is half the atoms)."""
    conc = CONCS[wildcards.conc]
    return 10 + conc["n_salt"] / conc["molarity_mol_L"]


def experiment(wildcards):
    path = config["spectra"]["experimental_csv"]
    return {"experiment": path} if path else {}


POTENTIAL_REPORT = ["results/potential/rounds.csv", "results/potential/accuracy.csv", "results/figures/potential_rounds.png"]
