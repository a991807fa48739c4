"""Rule level_study: relative 7Li shifts vs level of theory and vs cluster size (tables, figures, choice)."""
import json
from pathlib import Path

from linmr import fileio
from linmr.dft import program_memory_mb
from linmr.dft.level_study import study_bundles
from linmr.logs import rule_log

with rule_log(snakemake) as smk:
    out = study_bundles(smk.input.bundles, smk.input.trajs, smk.params.dft, smk.params.study, smk.params.clusters,
                        smk.params.charges, program_memory_mb(smk.resources.mem_mb), threads=smk.threads,
                        # every shielding computed so far (kept when the job fails): a rerun computes only new ones
                        cache_path=Path(smk.output.ladder).parent / "computed.jsonl")
    for key in ("ladder", "ladder_summary", "sizes", "sizes_summary"):
        fileio.write_csv(smk.output[key], out[key])
    fileio.write_json(smk.output.choice, out["choice"])
    from linmr.analysis import plots

    plots.level_ladder(out["ladder_summary"], out["choice"], smk.params.study, smk.output.ladder_png)
    plots.cluster_size(out["sizes"], out["sizes_summary"], smk.output.sizes_png)
    print(json.dumps(out["choice"], indent=2))
