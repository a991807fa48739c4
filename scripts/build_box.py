"""Rule box: pack one periodic LiFSI/DME box (linmr.system.boxes.concentration_box)."""
import json

from linmr import fileio
from linmr.logs import rule_log
from linmr.system.boxes import concentration_box

with rule_log(snakemake, threads=False) as smk:
    p = smk.params
    atoms, meta = concentration_box(smk.wildcards.conc, p.conc, p.species, p.tolerance_A, p.seed, p.clearance_A)
    meta["density_source"] = smk.config["density_source"]  # recorded, not a setting (never reruns the box)
    fileio.write_frames(smk.output.box, atoms)
    fileio.write_json(smk.output.meta, meta)
    print(json.dumps(meta, indent=2))
