"""Rule level_check: relative 7Li shifts at the campaign level vs a larger basis (MAE, ppm)."""
import json
import os

from ase.io import read

from linmr import atomic, provenance
from linmr.dft import get_backend, level_from_config
from linmr.dft.level_check import diverse_subset, run
from linmr.logs import set_threads, to_file

with to_file(snakemake.log[0]):
    set_threads(snakemake.threads)
    cfg = snakemake.params.dft
    check = snakemake.params.check
    pool = []
    for path in snakemake.input.bundles:
        if os.path.getsize(path):
            pool += read(path, index=":", format="extxyz")
    chosen = diverse_subset(pool, check["n_clusters"])
    print(f"{len(chosen)} of {len(pool)} clusters: {[a.info['cluster_id'] for a in chosen]}")
    memory_mb = max(500, int(snakemake.resources.get("mem_mb", cfg["max_memory_mb"] + 1000)) - 1000)
    table, summary = run(
        chosen, get_backend(cfg["backend"]), level_from_config(cfg), check["basis"],
        max_memory_mb=memory_mb, nproc=snakemake.threads,
    )
    with atomic.atomic_path(snakemake.output.table) as tmp:
        table.to_csv(tmp, index=False)
    atomic.write_text(snakemake.output.summary, json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    provenance.write_sidecars(snakemake.output, snakemake.config, rule=snakemake.rule)
