"""Rule dft_collect: shifts delta = sigma_ref - sigma_iso (ppm) and the failures table."""
import json

from linmr import fileio
from linmr.dft.shifts import collect
from linmr.logs import rule_log

with rule_log(snakemake, threads=False) as smk:
    with open(smk.input.reference) as fh:
        ref = json.load(fh)
    # a check, not a setting (dft.max_failed_fraction is a resource key: editing it reruns nothing)
    shifts, failures = collect(smk.input.bundles, ref, max_failed_fraction=smk.config["dft"]["max_failed_fraction"])
    fileio.write_csv(smk.output.shifts, shifts)
    fileio.write_csv(smk.output.failures, failures)
    print(f"{len(shifts)} shifts, {len(failures)} failures; sigma_ref = {ref['sigma_ref_ppm']:.3f} ppm")
