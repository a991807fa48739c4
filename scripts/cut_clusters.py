"""Rule clusters: pick Li environments from the trajectory and cut whole-molecule clusters."""
import csv

import numpy as np
from ase.io import write

from linmr import clusters, provenance, validate
from linmr.logs import to_file

with to_file(snakemake.log[0]):
    cfg = snakemake.params.clusters
    sp = snakemake.params.species
    conc = snakemake.wildcards.conc
    charges = {sp[r]["name"]: int(sp[r]["charge"]) for r in sp}
    frames = validate.read_frames(
        snakemake.input.traj, what="MD trajectory", periodic=True, cutoff_A=cfg["r_cut_A"], arrays=("mol_id", "mol_name")
    )
    chosen = clusters.select_environments(
        frames, cfg["per_concentration"], skip=cfg["skip_frames"], seed=snakemake.params.seed
    )
    cut, rows = [], []
    for k, (f, li) in enumerate(chosen):
        c = clusters.cut_cluster(frames[f], li, cfg["r_cut_A"], charges, donors=cfg.get("donor_elements"))
        cid = f"{conc}-{k:04d}"
        c.info.update(cluster_id=cid, concentration=conc, frame=f, time_ps=frames[f].info.get("time_ps"))
        cut.append(c)
        rows.append(
            {
                "cluster_id": cid,
                "concentration": conc,
                "frame": f,
                "time_ps": frames[f].info.get("time_ps"),
                "li_index": li,
                "n_atoms": len(c),
                "charge_e": c.info["charge"],
                "multiplicity": c.info["multiplicity"],
                **{f"n_{n}": c.info.get(f"n_{n}", 0) for n in charges},
            }
        )
    size = cfg["bundle_size"]
    for b, path in enumerate(snakemake.output.bundles):
        part = cut[b * size : (b + 1) * size]
        if part:
            write(path, part, format="extxyz")
        else:  # fewer environments than requested: an empty bundle is an empty, valid file
            open(path, "w").close()
    with open(snakemake.output.table, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"{len(cut)} clusters from {len(frames)} frames; atoms per cluster {np.mean([len(c) for c in cut]):.1f}")
    provenance.write_sidecars(snakemake.output, snakemake.config, rule=snakemake.rule)
