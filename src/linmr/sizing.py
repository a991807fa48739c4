"""Size the SLURM requests from measured jobs: every rule writes a Snakemake ``benchmark:`` record
(``results/benchmarks/<rule>/<wildcards>.tsv``: wall seconds, peak RSS in MB, CPU time); this turns them
into suggested ``runtime`` (minutes) and ``mem_mb`` per rule for ``profiles/slurm/config.yaml``.

    python -m linmr.sizing [results/benchmarks] [--margin 1.5]

The suggestion is the largest measured job of the rule times ``margin`` (rounded up to 10 min and 500 MB),
written as a Python expression of ``attempt`` like the profile's own, so a retry still gets more. Records of
a demo or rehearsal scale with the system: measure on the sizes the campaign will run.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pandas as pd


def read_benchmarks(folder: str | Path) -> pd.DataFrame:
    """One row per benchmark record: ``rule``, ``job`` (wildcards), ``s`` (wall, s), ``max_rss`` (MB), ``cpu_time`` (s)."""
    rows = []
    for path in sorted(Path(folder).glob("*/*.tsv")):
        t = pd.read_csv(path, sep="\t")
        for _, r in t.iterrows():
            rows.append({"rule": path.parent.name, "job": path.stem, "s": float(r["s"]),
                         "max_rss": float(pd.to_numeric(r.get("max_rss"), errors="coerce")),
                         "cpu_time": float(pd.to_numeric(r.get("cpu_time"), errors="coerce"))})
    return pd.DataFrame(rows, columns=["rule", "job", "s", "max_rss", "cpu_time"])


def suggest(table: pd.DataFrame, margin: float = 1.5) -> pd.DataFrame:
    """Per rule: jobs measured, the largest wall time (min) and peak memory (MB), and the suggested requests."""
    out = []
    for rule, t in table.groupby("rule"):
        wall_min = t["s"].max() / 60.0
        rss = t["max_rss"].max()
        out.append({
            "rule": rule, "jobs": len(t), "max_wall_min": round(wall_min, 2),
            "max_rss_MB": None if math.isnan(rss) else round(rss, 1),
            "runtime": int(10 * math.ceil(margin * wall_min / 10.0)) or 10,
            "mem_mb": None if math.isnan(rss) else int(500 * math.ceil(margin * max(rss, 1.0) / 500.0)),
        })
    return pd.DataFrame(out)


def profile_snippet(suggestions: pd.DataFrame) -> str:
    """``set-resources`` lines for ``profiles/slurm/config.yaml`` (keep each rule's ``slurm_partition``)."""
    lines = ["set-resources:"]
    for r in suggestions.itertuples():
        lines.append(f"  {r.rule}:")
        lines.append(f'    runtime: "{r.runtime} * attempt"   # measured at most {r.max_wall_min} min over {r.jobs} job(s)')
        if r.mem_mb is not None and not pd.isna(r.mem_mb):
            lines.append(f'    mem_mb: "{int(r.mem_mb)} * attempt"   # measured at most {r.max_rss_MB} MB')
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", nargs="?", default="results/benchmarks")
    ap.add_argument("--margin", type=float, default=1.5)
    args = ap.parse_args(argv)
    table = read_benchmarks(args.folder)
    if table.empty:
        sys.exit(f"no benchmark records under {args.folder}: run the campaign (every rule writes one) first")
    s = suggest(table, args.margin)
    print(s.to_string(index=False))
    print()
    print(profile_snippet(s), end="")


if __name__ == "__main__":
    main()
