"""Plan the paper-scale campaign with a dry run and count what it would submit.

Prints the number of DFT clusters, the number of DFT scheduler submissions (bundles)
and the wall time of the dry run; the last line reads like
``8000 clusters, 80 submissions, 2.1 s``.
Usage: python benchmarks/plan_scale.py [config/paper.yaml]
"""

import re
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def main(configfile: str = "config/paper.yaml") -> None:
    cfg = yaml.safe_load(open(ROOT / configfile))
    n_clusters = cfg["clusters"]["per_concentration"] * len(cfg["concentrations"])
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--configfile", configfile, "--profile", "profiles/slurm"],
        cwd=ROOT, capture_output=True, text=True,
    )
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        sys.exit(f"dry run failed:\n{out.stderr[-3000:]}")
    text = out.stdout + out.stderr
    counts = dict(re.findall(r"^(\w+)\s+(\d+)\s*$", text, flags=re.M))
    print("jobs per rule:", {k: int(v) for k, v in counts.items() if k not in ("total",)})
    print(f"total jobs: {counts.get('total')}")
    print(f"{n_clusters} clusters, {int(counts.get('dft_bundle', 0))} submissions, {wall:.1f} s")


if __name__ == "__main__":
    main(*sys.argv[1:])
