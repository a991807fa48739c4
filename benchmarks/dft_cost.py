"""Wall time of one GIAO shielding (central Li) per Li(DME)2+-sized cluster at the config's DFT level.

Reads the level from the ``dft`` section of a config (default ``config/config.yaml``) and the
clusters from cut bundles (default ``results/clusters/*/bundle_*.extxyz``, written by the
``clusters`` rule), keeps those of ``--min-atoms``..``--max-atoms`` atoms (Li(DME)2+ has 33),
runs :func:`linmr.dft.pyscf_backend.shielding` on ``--n`` of them with ``--threads`` threads
(the target: <= 20 s wall each on 2 cores) and prints atoms, nao, SCF/NMR/total wall time,
sigma_iso(Li), the CPU seconds of all threads (on a busy machine wall > cpu / threads), the load
average (other jobs on the machine inflate the times) and the maximum::

    PYTHONPATH=src python benchmarks/dft_cost.py --threads 2 --n 3
"""

from __future__ import annotations

import argparse
import glob
import os
import resource
import time

from ase.io import read


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default="config/config.yaml")
    p.add_argument("--bundles", default="results/clusters/*/bundle_*.extxyz", help="glob of cluster bundles")
    p.add_argument("--n", type=int, default=3, help="number of clusters")
    p.add_argument("--min-atoms", type=int, default=30)
    p.add_argument("--max-atoms", type=int, default=36)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--target-s", type=float, default=20.0)
    args = p.parse_args()

    from linmr.logs import set_threads

    set_threads(args.threads)
    from linmr import config
    from linmr.dft import level_from_config
    from linmr.dft.pyscf_backend import shielding

    cfg = config.load(args.config)["dft"]
    level = level_from_config(cfg)
    pool = []
    for path in sorted(glob.glob(args.bundles)):
        if os.path.getsize(path):
            pool += [a for a in read(path, index=":", format="extxyz") if args.min_atoms <= len(a) <= args.max_atoms]
    if not pool:
        raise SystemExit(f"no clusters of {args.min_atoms}-{args.max_atoms} atoms in {args.bundles} (run the clusters rule)")
    print(f"level {level.label()}; threads {args.threads}; {len(pool)} clusters of {args.min_atoms}-{args.max_atoms} atoms")
    print(f"{'cluster':>8} {'atoms':>5} {'nao':>4} {'scf_s':>7} {'nmr_s':>7} {'wall_s':>7} {'cpu_s':>7} {'sigma_ppm':>10} {'load1':>5}")
    walls = []
    for atoms in pool[: args.n]:
        t0, c0 = time.perf_counter(), time.process_time()
        out = shielding(atoms, level, [0], max_memory_mb=cfg["max_memory_mb"])
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        walls.append(wall)
        print(
            f"{atoms.info.get('cluster_id', '?'):>8} {len(atoms):5d} {out['nao']:4d} {out['scf_s']:7.1f} "
            f"{out['nmr_s']:7.1f} {wall:7.1f} {cpu:7.1f} {out['sigma_iso_ppm'][0]:10.4f} {os.getloadavg()[0]:5.2f}",
            flush=True,
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak_mb:.0f} MB")
    verdict = "meets" if max(walls) <= args.target_s else "MISSES"
    print(f"max wall per cluster: {max(walls):.1f} s ({verdict} the {args.target_s:.0f} s target)")


if __name__ == "__main__":
    main()
