# Helpers shared by all rule files. The science lives in src/linmr; rules stay thin.
import math

from linmr.labels import conc_label


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


wildcard_constraints:
    conc=r"[0-9.]+M",
    bundle=r"[0-9]{3}",


# the model that predicts: the active-learning retrained bundle when rounds are configured, else the train rule's
AL_ROUNDS = int(config["model"].get("active_learning", {}).get("rounds", 0))
FINAL_BUNDLE = "results/model/active_learning/bundle" if AL_ROUNDS > 0 else "results/model/bundle"


def trajectory(conc):
    return f"results/md/{conc}/production.extxyz"
