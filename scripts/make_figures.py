"""Rule figures: spectra, shift vs concentration, convergence, RDFs/coordination, classes and motifs
(linmr.analysis.figures.make_figures, from existing predictions and trajectories only)."""
from linmr import provenance
from linmr.analysis.figures import make_figures
from linmr.logs import rule_log

with rule_log(snakemake, threads=False) as smk:
    p = smk.params
    make_figures(p.concs, smk.input.predictions, smk.input.trajs, p.species, p.spectra, p.solvation,
                 dict(smk.output.items()), experimental_csv=smk.input.get("experiment"),
                 footer=provenance.footer(smk.config))
