"""Rule level_check: relative 7Li shifts at the campaign level vs a larger basis (MAE, ppm)."""
import json

from linmr import fileio
from linmr.dft import program_memory_mb
from linmr.dft.level_check import check_bundles
from linmr.logs import rule_log

with rule_log(snakemake) as smk:
    table, summary = check_bundles(smk.input.bundles, smk.params.dft, smk.params.check,
                                   program_memory_mb(smk.resources.mem_mb), nproc=smk.threads)
    fileio.write_csv(smk.output.table, table)
    fileio.write_json(smk.output.summary, summary)
    print(json.dumps(summary, indent=2))
