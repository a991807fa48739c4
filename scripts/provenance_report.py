"""Rule provenance: gather the sidecars of every table and figure into one page for the report."""
import json
from pathlib import Path

from linmr import atomic, provenance
from linmr.logs import to_file

with to_file(snakemake.log[0]):
    files = list(snakemake.input.tables) + list(snakemake.input.figures)
    # sidecars of any other result (PDF twins, JSON summaries, tables added later) are listed too
    extra = sorted(
        str(p)[: -len(provenance.SIDECAR_SUFFIX)] for p in Path("results").rglob("*" + provenance.SIDECAR_SUFFIX)
    )
    files += [f for f in extra if f not in files and f != snakemake.output.json]
    summary = provenance.summary(files, snakemake.config)
    atomic.write_text(snakemake.output.json, json.dumps(summary, indent=2, default=str))
    atomic.write_text(snakemake.output.html, provenance.html(summary))
    missing = [f["file"] for f in summary["files"] if not f["sidecar"]]
    print(f"{len(files)} files, {len(missing)} without a sidecar: {missing}")
