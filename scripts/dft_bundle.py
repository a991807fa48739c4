"""Rule dft_bundle: DFT NMR of one bundle of clusters; failed clusters are recorded, not fatal."""
import os

from linmr.dft import get_backend, level_from_config
from linmr.dft.runner import run_bundle
from linmr import checks, provenance, validate
from linmr.logs import set_threads, to_file

with to_file(snakemake.log[0]):
    set_threads(snakemake.threads)
    cfg = snakemake.params.dft
    checks.require_dft_executable(cfg, where="this DFT job")  # on the node that runs it (SLURM too)
    path = snakemake.input.bundle
    clusters = []
    if os.path.getsize(path):  # an empty bundle (fewer environments than requested) is valid
        clusters = validate.read_frames(path, what="cluster bundle", periodic=False, overlap_frames="all")
    # the program gets the job's memory (resources.mem_mb, which a profile may raise) less 1000 MB headroom
    memory_mb = max(500, int(snakemake.resources.get("mem_mb", cfg["max_memory_mb"] + 1000)) - 1000)
    rows = run_bundle(
        clusters, get_backend(cfg["backend"]), level_from_config(cfg), snakemake.output[0],
        max_memory_mb=memory_mb, nproc=snakemake.threads,
    )
    print(f"{sum(r['status'] == 'ok' for r in rows)} of {len(rows)} clusters ok")
    provenance.write_sidecars(snakemake.output, snakemake.config, rule=snakemake.rule)
