"""The figures rule: the concentration tables (:mod:`linmr.analysis.tables`) written and drawn.

Spectra, shift vs concentration (with an optional experimental curve), solvation classes and
coordination numbers, RDFs, shift per class and per motif, convergence of the running mean.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..fileio import write_csv
from . import plots, solvation, spectra
from .tables import concentration_results, species_names


def make_figures(concs, prediction_paths, trajectory_paths, species: dict, spectra_cfg: dict, solvation_cfg: dict,
                 outputs: dict, experimental_csv: str | Path | None = None, footer: str | None = None, log=print):
    """Read predictions and trajectories, write the four tables and draw the seven figures of ``outputs``
    (keys as the figures rule names its outputs)."""
    from ase.io import iread

    preds = {c: pd.read_csv(p) for c, p in zip(concs, prediction_paths)}
    trajs = {c: (lambda p=p: iread(p, index=":", format="extxyz")) for c, p in zip(concs, trajectory_paths)}
    res = concentration_results(concs, preds, trajs, species, spectra_cfg, solvation_cfg)
    table, names = res.table, species_names(species)
    write_csv(outputs["table"], table)
    write_csv(outputs["classes"], res.classes)
    write_csv(outputs["motifs"], res.motifs)
    write_csv(outputs["rdf_table"], res.rdf)

    plots.spectra(res.curves, outputs["spectra"], peaks=res.peaks, footer=footer)
    experiment = None
    if experimental_csv:
        ex = spectra.read_experiment(experimental_csv)
        label = str(ex["source"].iloc[0]) if "source" in ex else "experiment"
        experiment = (ex["concentration_mol_L"], ex["delta_ppm"], label)
    plots.shift_vs_concentration(table.concentration_mol_L, table.mean_delta_ppm, table.sem_ppm, outputs["curve"],
                                 experiment=experiment, footer=footer)
    plots.solvation(
        table.concentration_mol_L,
        {c: table[f"fraction_{c}"] for c in solvation.CLASSES},
        {solvation.pair_label(k, names): table[f"cn_{k}"] for k in solvation.RDF_PAIRS},
        outputs["solvation"],
        footer=footer,
        cn_err={solvation.pair_label(k, names): table[f"cn_sem_{k}"] for k in solvation.RDF_PAIRS},
        n_li=table["n_li"],
    )
    plots.rdfs(res.rdf, res.radii, outputs["rdf"], footer=footer)
    class_rows = list(res.classes.itertuples(index=False, name=None))
    plots.shift_per_class(class_rows, outputs["per_class"], footer=footer)
    plots.shift_per_motif(res.motifs, outputs["per_motif"], footer=footer)
    plots.convergence(res.convergence, outputs["convergence"], footer=footer)
    log(table.to_string(index=False))
    log(res.motifs.to_string(index=False))
    log("coordination numbers at the first minimum of the pooled RDF:")
    log(res.cn.to_string(index=False))
    log("per-Li coordination numbers (mean, SD and SE over Li; the mean matches the pooled CN up to binning):")
    log(res.per_li.to_string(index=False))
    return res
