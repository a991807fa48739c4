"""Rule figures: spectra, shift vs concentration, convergence, RDFs/coordination, classes and motifs
(from existing predictions and trajectories only: no MD, DFT or training)."""
from pathlib import Path

import pandas as pd
from ase.io import iread

from linmr import plots, provenance, solvation, spectra
from linmr.labels import label_molarity
from linmr.logs import to_file


def write_csv(df, path):
    tmp = Path(path).with_name(Path(path).name + ".tmp")
    df.to_csv(tmp, index=False)
    tmp.replace(path)


with to_file(snakemake.log[0]):
    p = snakemake.params
    sp, sv = p.spectra, p.solvation
    names = {r: p.species[r]["name"] for r in ("cation", "anion", "solvent")}
    fwhm = spectra.fwhm_ppm(sp["linewidth_Hz"], sp["spectrometer_MHz"])
    n_blocks = sp.get("n_blocks", 4)
    rows, curves, peaks, class_rows, motifs, rdfs, conv = [], {}, {}, [], [], [], {}
    for conc, path, traj in zip(p.concs, snakemake.input.predictions, snakemake.input.trajs):
        pred = pd.read_csv(path)
        s = spectra.concentration_summary(pred, fwhm, sp.get("window_ps"), n_blocks=n_blocks)
        st = solvation.class_statistics(pred)
        frames = iread(traj, index=":", format="extxyz")
        rdfs.append(solvation.rdf_table(frames, names, sv.get("rdf_r_max_A", 6.0), sv.get("rdf_bin_A", 0.05)).assign(concentration=conc))
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
    dr = sv.get("rdf_bin_A", 0.05)
    edges = {k: r + 0.5 * dr for k, r in radii.items()}
    per_li = pd.concat(
        [solvation.per_li_coordination(iread(traj, index=":", format="extxyz"), names, edges).assign(concentration=conc)
         for conc, traj in zip(p.concs, snakemake.input.trajs)],
        ignore_index=True,
    )
    for key in radii:
        d = per_li[per_li["pair"] == key].set_index("concentration").loc[table["concentration"]]
        table[f"cn_sem_{key}"] = d["cn_sem"].to_numpy()
    if "n_li" not in table:  # spectra.concentration_summary gives it (Li with predictions); else the trajectory's
        table["n_li"] = d["n_li"].to_numpy()
    write_csv(table, snakemake.output.table)
    write_csv(
        pd.DataFrame(class_rows, columns=["concentration", "solvation_class", "mean_delta_ppm", "fraction"]),
        snakemake.output.classes,
    )
    motif_table = pd.concat(motifs, ignore_index=True)
    write_csv(motif_table, snakemake.output.motifs)
    write_csv(rdf_table, snakemake.output.rdf_table)

    foot = provenance.footer(p.config)
    plots.spectra(curves, snakemake.output.spectra, peaks=peaks, footer=foot)
    experiment = None
    if sp.get("experimental_csv"):
        ex = spectra.read_experiment(sp["experimental_csv"])
        label = str(ex["source"].iloc[0]) if "source" in ex else "experiment"
        experiment = (ex["concentration_mol_L"], ex["delta_ppm"], label)
    plots.shift_vs_concentration(
        table.concentration_mol_L, table.mean_delta_ppm, table.sem_ppm, snakemake.output.curve,
        experiment=experiment, footer=foot,
    )
    plots.solvation(
        table.concentration_mol_L,
        {c: table[f"fraction_{c}"] for c in solvation.CLASSES},
        {solvation.pair_label(k, names): table[f"cn_{k}"] for k in solvation.RDF_PAIRS},
        snakemake.output.solvation,
        footer=foot,
        cn_err={solvation.pair_label(k, names): table[f"cn_sem_{k}"] for k in solvation.RDF_PAIRS},
        n_li=table["n_li"],
    )
    plots.rdfs(rdf_table, radii, snakemake.output.rdf, footer=foot)
    plots.shift_per_class(class_rows, snakemake.output.per_class, footer=foot)
    plots.shift_per_motif(motif_table, snakemake.output.per_motif, footer=foot)
    plots.convergence(conv, snakemake.output.convergence, footer=foot)
    print(table.to_string(index=False))
    print(motif_table.to_string(index=False))
    print("coordination numbers at the first minimum of the pooled RDF:")
    print(cn.to_string(index=False))
    print("per-Li coordination numbers (mean, SD and SE over Li; the mean matches the pooled CN up to binning):")
    print(per_li.to_string(index=False))
    provenance.write_sidecars(snakemake.output, snakemake.config, rule=snakemake.rule)
