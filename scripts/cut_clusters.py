"""Rule clusters: pick Li environments from the trajectory and cut whole-molecule clusters."""
import csv
import os

import numpy as np
from ase.io import write

from linmr import clusters, provenance, validate
from linmr.descriptors import Featurizer, settings_from_config
from linmr.logs import to_file

with to_file(snakemake.log[0]):
    cfg = snakemake.params.clusters
    sp = snakemake.params.species
    conc = snakemake.wildcards.conc
    charges = {sp[r]["name"]: int(sp[r]["charge"]) for r in sp}
    frames = validate.read_frames(
        snakemake.input.traj, what="MD trajectory", periodic=True, cutoff_A=cfg["r_cut_A"], arrays=("mol_id", "mol_name")
    )
    stride = cfg.get("frame_stride", 1)
    if cfg.get("selection", "round_robin") == "fps":
        featurizer = Featurizer(settings_from_config(snakemake.params.descriptor))
        chosen, soap_dist = clusters.select_diverse(
            frames, cfg["per_concentration"], featurizer, skip=cfg["skip_frames"], stride=stride
        )
    else:
        chosen = clusters.select_environments(
            frames, cfg["per_concentration"], skip=cfg["skip_frames"], seed=snakemake.params.seed, stride=stride
        )
        soap_dist = [float("nan")] * len(chosen)
    cut, rows = [], []
    for k, (f, li) in enumerate(chosen):
        c = clusters.cut_cluster(
            frames[f], li, cfg["r_cut_A"], charges, donors=cfg.get("donor_elements"),
            second_shell_r_cut=cfg.get("second_shell_r_cut_A"),
        )
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
                "soap_distance_to_earlier_picks": soap_dist[k],
            }
        )
    size = cfg["bundle_size"]
    for b, path in enumerate(snakemake.output.bundles):
        part = cut[b * size : (b + 1) * size]
        tmp = f"{path}.tmp"
        if part:
            write(tmp, part, format="extxyz")
        else:  # fewer environments than requested: an empty bundle is an empty, valid file
            open(tmp, "w").close()
        os.replace(tmp, path)
    tmp = f"{snakemake.output.table}.tmp"
    with open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, snakemake.output.table)
    print(
        f"{len(cut)} clusters ({cfg.get('selection', 'round_robin')}) from {len(frames)} frames; "
        f"atoms per cluster {np.mean([len(c) for c in cut]):.1f}"
    )
    provenance.write_sidecars(snakemake.output, snakemake.config, rule=snakemake.rule)
