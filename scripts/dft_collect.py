"""Rule dft_collect: shifts delta = sigma_ref - sigma_iso (ppm) and the failures table."""
import json

from linmr import atomic, provenance
from linmr.dft.shifts import collect
from linmr.logs import to_file

with to_file(snakemake.log[0]):
    with open(snakemake.input.reference) as fh:
        ref = json.load(fh)
    shifts, failures = collect(
        snakemake.input.bundles, ref, max_failed_fraction=snakemake.params.max_failed_fraction
    )
    for table, path in ((shifts, snakemake.output.shifts), (failures, snakemake.output.failures)):
        with atomic.atomic_path(path) as tmp:
            table.to_csv(tmp, index=False)
    print(f"{len(shifts)} shifts, {len(failures)} failures; sigma_ref = {ref['sigma_ref_ppm']:.3f} ppm")
    provenance.write_sidecars(snakemake.output, snakemake.config, rule=snakemake.rule)
