"""Cost of one GIAO shielding (central Li) per cluster at the demo's DFT level.

Cuts ``--n`` clusters (default 3) from an extxyz trajectory with the per-atom arrays
``mol_id``/``mol_name`` (e.g. ``results/md/4M/production.extxyz``), runs
:func:`linmr.dft.pyscf_backend.shielding` for the central Li of each and prints atoms,
nao, SCF/NMR/total wall time and sigma_iso(Li). Threads are whatever the environment
sets; for the demo's per-job cost run it as::

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/dft_cost.py [trajectory.extxyz]
"""

from __future__ import annotations

import argparse
import resource
import time

from ase.io import read

from linmr import clusters
from linmr.dft.level import Level
from linmr.dft.pyscf_backend import shielding


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("trajectory", nargs="?", default="/tmp/linmr-scratch/md4.extxyz")
    p.add_argument("--n", type=int, default=3, help="number of clusters")
    p.add_argument("--seed", type=int, default=1, help="seed of the Li environment selection")
    p.add_argument("--r-cut", type=float, default=2.6, help="cluster cut radius (A)")
    p.add_argument("--method", default="PBE")
    p.add_argument("--li-basis", default="6-31G*")
    p.add_argument("--default-basis", default="STO-3G")
    p.add_argument("--grid-level", type=int, default=0)
    p.add_argument("--exact-giao", action="store_true", help="4-centre GIAO integrals instead of density fitting")
    args = p.parse_args()

    level = Level(
        method=args.method,
        basis={"Li": args.li_basis, "default": args.default_basis},
        density_fit=True,
        grid_level=args.grid_level,
        giao_density_fit=not args.exact_giao,
    )
    frames = read(args.trajectory, index=":")
    charges = {"Li": 1, "FSI": -1, "DME": 0}
    print(f"level {level.label()}")
    print(f"{'frame':>5} {'Li':>4} {'atoms':>5} {'nao':>4} {'scf_s':>7} {'nmr_s':>7} {'wall_s':>7} {'sigma_ppm':>10}")
    worst = 0.0
    for f, li in clusters.select_environments(frames, args.n, seed=args.seed):
        cluster = clusters.cut_cluster(frames[f], li, args.r_cut, charges)
        t0 = time.perf_counter()
        out = shielding(cluster, level, [0])
        wall = time.perf_counter() - t0
        worst = max(worst, wall)
        print(
            f"{f:5d} {li:4d} {len(cluster):5d} {out['nao']:4d} {out['scf_s']:7.1f} {out['nmr_s']:7.1f} "
            f"{wall:7.1f} {out['sigma_iso_ppm'][0]:10.4f}",
            flush=True,
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak_mb:.0f} MB")
    print(f"max wall per cluster: {worst:.1f} s")


if __name__ == "__main__":
    main()
