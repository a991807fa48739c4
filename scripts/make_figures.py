"""Rule figures: spectra, shift vs concentration, solvation classes (from existing predictions only)."""
import pandas as pd

from linmr import plots, provenance, solvation, spectra
from linmr.labels import label_molarity
from linmr.logs import to_file

with to_file(snakemake.log[0]):
    p = snakemake.params
    sp = p.spectra
    fwhm = spectra.fwhm_ppm(sp["linewidth_Hz"], sp["spectrometer_MHz"])
    rows, curves, peaks, class_rows = [], {}, {}, []
    for conc, path in zip(p.concs, snakemake.input.predictions):
        pred = pd.read_csv(path)
        s = spectra.concentration_summary(pred, fwhm, sp.get("window_ps"))
        st = solvation.class_statistics(pred)
        curves[conc] = (s["axis_ppm"], s["intensity"])
        peaks[conc] = s["peak_ppm"]
        rows.append({
            "concentration": conc, "concentration_mol_L": label_molarity(conc),
            **{k: v for k, v in s.items() if k not in ("axis_ppm", "intensity")}, **st,
        })
        for c in solvation.CLASSES:
            class_rows.append((conc, c, st[f"delta_{c}_ppm"], st[f"fraction_{c}"]))
    table = pd.DataFrame(rows)
    table.to_csv(snakemake.output.table, index=False)
    pd.DataFrame(class_rows, columns=["concentration", "solvation_class", "mean_delta_ppm", "fraction"]).to_csv(
        snakemake.output.classes, index=False
    )
    foot = provenance.footer(p.config)
    plots.spectra(curves, snakemake.output.spectra, peaks=peaks, footer=foot)
    plots.shift_vs_concentration(
        table.concentration_mol_L, table.mean_delta_ppm, table.sem_ppm, snakemake.output.curve, footer=foot
    )
    plots.solvation(
        table.concentration_mol_L,
        {c: table[f"fraction_{c}"] for c in solvation.CLASSES},
        {"Li-O(DME)": table.mean_cn_O_solvent, "Li-O(FSI)": table.mean_cn_O_anion},
        snakemake.output.solvation,
        footer=foot,
    )
    plots.shift_per_class(class_rows, snakemake.output.per_class, footer=foot)
    print(table.to_string(index=False))
    provenance.write_sidecars(snakemake.output, snakemake.config, rule=snakemake.rule)
