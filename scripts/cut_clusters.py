"""Rule clusters: pick Li environments from the trajectory and cut whole-molecule clusters
(linmr.system.clusters.cut_from_trajectory), bundled for the DFT jobs."""
from linmr import fileio
from linmr.logs import rule_log
from linmr.system.clusters import cut_from_trajectory

with rule_log(snakemake, threads=False) as smk:
    p = smk.params
    cut, table = cut_from_trajectory(smk.input.traj, smk.wildcards.conc, p.clusters, p.species, p.descriptor, p.seed)
    size = p.clusters["bundle_size"]
    for b, path in enumerate(smk.output.bundles):  # fewer environments than requested: empty, valid bundles
        fileio.write_frames(path, cut[b * size : (b + 1) * size])
    fileio.write_csv(smk.output.table, table)
