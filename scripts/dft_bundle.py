"""Rule dft_bundle: DFT NMR of one bundle of clusters; failed clusters are recorded, not fatal."""
from linmr.dft import program_memory_mb
from linmr.dft.runner import run_bundle_file
from linmr.logs import rule_log

with rule_log(snakemake) as smk:
    run_bundle_file(smk.input.bundle, smk.params.dft, smk.output[0], program_memory_mb(smk.resources.mem_mb),
                    nproc=smk.threads, charges=smk.params.charges)
