"""Rule md_candidates: production frames where the student ensemble disagrees, handed on for active learning
(linmr.potential.production_candidates)."""
import pandas as pd

from linmr import fileio, potential
from linmr.logs import rule_log
from linmr.readers import read_frames

with rule_log(snakemake, threads=False) as smk:
    frames = read_frames(smk.input.traj, what="production trajectory", periodic=True)
    deviation = pd.read_csv(smk.input.deviation)
    chosen, table = potential.production_candidates(frames, deviation, smk.params.potential,
                                                    concentration=smk.wildcards.conc)
    fileio.write_frames(smk.output.frames, chosen)
    fileio.write_csv(smk.output.table, table)
    print(table.groupby("class").size().to_string())
    print(f"{len(chosen)} candidate frames written to {smk.output.frames}")
