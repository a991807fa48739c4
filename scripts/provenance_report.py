"""Rule provenance: gather the sidecars of every table and figure into one page for the report."""
from linmr import provenance
from linmr.logs import to_file

with to_file(snakemake.log[0]):
    out = provenance.gather([*snakemake.input.tables, *snakemake.input.figures], snakemake.config, "results",
                            snakemake.output.json, snakemake.output.html)
    missing = [f["file"] for f in out["files"] if not f["sidecar"]]
    print(f"{len(out['files'])} files, {len(missing)} without a sidecar: {missing}")
