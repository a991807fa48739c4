"""Rule dft_reference: sigma_iso(7Li) of the reference at exactly the clusters' level."""
import json

from linmr import fileio
from linmr.dft import program_memory_mb
from linmr.dft.reference import compute_reference
from linmr.logs import rule_log

with rule_log(snakemake) as smk:
    out = compute_reference(smk.params.dft, program_memory_mb(smk.resources.mem_mb), nproc=smk.threads)
    fileio.write_json(smk.output[0], out)
    print(json.dumps(out, indent=2))
