"""Rule md: minimise -> NVT heat -> NPT density -> NVT production (thin wrapper around linmr.md)."""
import json
import time

from linmr import atomic, md, md_lammps, provenance, validate
from linmr.logs import set_threads, to_file
from linmr.provenance import footer

with to_file(snakemake.log[0]):
    set_threads(snakemake.threads)
    cfg = snakemake.params.md
    c = snakemake.config  # minimum-image cutoffs of the cluster and solvation stages must fit the box
    cutoff = max(c["clusters"]["r_cut_A"], c["solvation"]["r_bind_A"])
    atoms = validate.read_structure(
        snakemake.input.box, what="MD input box", periodic=True, cutoff_A=cutoff, arrays=("mol_id", "mol_name")
    )
    proto = md.Protocol.from_config(cfg, seed=snakemake.params.seed)
    label = md.potential_version(cfg["potential"])
    if cfg["engine"] == "lammps":
        t0 = time.perf_counter()
        frames, table = md_lammps.run(
            atoms, proto, snakemake.params.work_dir, snakemake.output.traj, potential=cfg["potential"],
            model_path=cfg.get("model_path"), executable=cfg.get("lammps_executable", "lmp"),
        )
        timings = {"engine": "lammps", "wall_s": time.perf_counter() - t0, "n_frames": len(frames)}
    else:
        calc = validate.make_calculator(cfg["potential"], device=cfg["device"], model_path=cfg.get("model_path"))
        timings, table = md.run_protocol(
            atoms, calc, snakemake.output.traj, snakemake.params.work_dir, proto,
            potential=f"{label} {cfg.get('model_path')}",
        )
    md.write_log(table, snakemake.output.log_csv)
    md.plot_log(table, snakemake.output.log_png, title=f"{snakemake.wildcards.conc}, {label}",
                footer=footer(snakemake.config))
    summary = {"potential": label, "concentration": snakemake.wildcards.conc, **timings}
    atomic.write_text(snakemake.output.summary, json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    provenance.write_sidecars(snakemake.output, snakemake.config, rule=snakemake.rule)
