"""Rule potential_select: the frames of a round that the teacher labels (linmr.potential.select)."""
import pandas as pd

from linmr import fileio, potential
from linmr.logs import rule_log
from linmr.readers import read_frames

with rule_log(snakemake, threads=False) as smk:
    p = smk.params
    # a student's exploration may collapse (atoms on top of each other): select counts such frames as failed,
    # so the reader's overlap check is off here
    # an exploration halted at once (potential.explore_halt_factor) leaves an empty file: no frames
    explored = {c: read_frames(f, what="explored frames", periodic=True, min_distance_A=0.0, empty_ok=True)
                for c, f in zip(p.concs, smk.input.frames)}
    chosen, row = potential.select(int(smk.wildcards.round), explored, p.potential)
    for conc, path in zip(p.concs, smk.output.selected):
        fileio.write_frames(path, chosen[conc])
    fileio.write_csv(smk.output.table, pd.DataFrame([row]))
    print(row)
