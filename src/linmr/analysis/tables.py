"""The concentration tables: per concentration the time-averaged spectrum summary, solvation classes,
motifs, RDFs and coordination numbers (with standard errors over Li), from predictions and trajectories.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..system.composition import label_molarity
from . import solvation, spectra


def species_names(species: dict) -> dict:
    """Role (cation/anion/solvent) -> molecule name, from the config's ``species`` section."""
    return {r: species[r]["name"] for r in ("cation", "anion", "solvent")}


@dataclass
class ConcentrationResults:
    table: pd.DataFrame  # one row per concentration: the curve, peaks, classes, CN (+ SE), n_li
    classes: pd.DataFrame  # concentration, solvation_class, mean_delta_ppm, fraction
    motifs: pd.DataFrame  # shift per (n_DME, n_FSI) motif and concentration
    rdf: pd.DataFrame  # g(r) and n(r) per pair and concentration
    cn: pd.DataFrame  # CN at the pooled first minimum per pair and concentration
    per_li: pd.DataFrame  # per-Li CN summary (mean, SD, SE over Li) per pair and concentration
    radii: dict  # pair -> first minimum of the pooled g(r) (Å)
    curves: dict  # concentration -> (axis_ppm, intensity)
    peaks: dict  # concentration -> peak position (ppm)
    convergence: dict  # concentration -> (time_ps, running mean ppm, SE ppm)


def concentration_results(concs, predictions, trajectories, species: dict, spectra_cfg: dict,
                          solvation_cfg: dict) -> ConcentrationResults:
    """Everything the figures rule tabulates and draws.

    ``predictions`` and ``trajectories`` are, per concentration label in ``concs``, a predictions
    table (``results/predictions/{conc}.csv``) and a callable returning a fresh iterator over the MD
    frames (trajectories are streamed twice: RDFs, then per-Li coordination numbers). Coordination
    numbers are read at the first minimum of the g(r) pooled over concentrations (one radius per pair);
    the per-Li counts at the same radii give their standard errors over Li."""
    names = species_names(species)
    fwhm = spectra.fwhm_ppm(spectra_cfg["linewidth_Hz"], spectra_cfg["spectrometer_MHz"])
    n_blocks = spectra_cfg["n_blocks"]
    r_max, dr = solvation_cfg["rdf_r_max_A"], solvation_cfg["rdf_bin_A"]
    rows, curves, peaks, class_rows, motifs, rdfs, conv = [], {}, {}, [], [], [], {}
    for conc in concs:
        pred = predictions[conc]
        s = spectra.concentration_summary(pred, fwhm, spectra_cfg["window_ps"], n_blocks=n_blocks)
        st = solvation.class_statistics(pred)
        rdfs.append(solvation.rdf_table(trajectories[conc](), names, r_max, dr).assign(concentration=conc))
        curves[conc] = (s["axis_ppm"], s["intensity"])
        peaks[conc] = s["peak_ppm"]
        rows.append({
            "concentration": conc, "concentration_mol_L": label_molarity(conc),
            **{k: v for k, v in s.items() if k not in ("axis_ppm", "intensity")}, **st,
        })
        for c in solvation.CLASSES:
            class_rows.append((conc, c, st[f"delta_{c}_ppm"], st[f"fraction_{c}"]))
        motifs.append(solvation.motif_statistics(pred).assign(concentration=conc))
        cv = spectra.convergence(pred, n_blocks)
        conv[conc] = (cv["time_ps"], cv["mean_delta_ppm"], cv["sem_ppm"])
    rdf_table = pd.concat(rdfs, ignore_index=True)
    radii, cn = solvation.coordination_numbers(rdf_table)
    table = pd.DataFrame(rows)
    for key, r_min in radii.items():  # coordination numbers at the first RDF minimum
        table[f"r_min_{key}_A"] = r_min
        table[f"cn_{key}"] = cn[cn["pair"] == key].set_index("concentration").loc[table["concentration"], "cn"].to_numpy()
    # per-Li CN at the same radii, for error bars: the pooled running CN read at bin centre r_min counts
    # partners up to that bin's upper edge, so count to r_min + dr/2 (the means then equal the pooled CN)
    edges = {k: r + 0.5 * dr for k, r in radii.items()}
    per_li = pd.concat(
        [solvation.per_li_coordination(trajectories[conc](), names, edges).assign(concentration=conc) for conc in concs],
        ignore_index=True,
    )
    for key in radii:
        d = per_li[per_li["pair"] == key].set_index("concentration").loc[table["concentration"]]
        table[f"cn_sem_{key}"] = d["cn_sem"].to_numpy()
    if "n_li" not in table:  # spectra.concentration_summary gives it (Li with predictions); else the trajectory's
        table["n_li"] = d["n_li"].to_numpy()
    classes = pd.DataFrame(class_rows, columns=["concentration", "solvation_class", "mean_delta_ppm", "fraction"])
    return ConcentrationResults(table, classes, pd.concat(motifs, ignore_index=True), rdf_table, cn, per_li, radii,
                                curves, peaks, conv)
