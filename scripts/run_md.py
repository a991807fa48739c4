"""Rule md: minimise + Langevin NVT with the configured MLIP (thin wrapper around linmr.md)."""
import json

from linmr import LinmrError, md, provenance, validate
from linmr.logs import set_threads, to_file

with to_file(snakemake.log[0]):
    set_threads(snakemake.threads)
    cfg = snakemake.params.md
    if cfg["engine"] != "ase":
        raise LinmrError(f"md.engine {cfg['engine']!r} is not available in this version; use 'ase'")
    c = snakemake.config  # minimum-image cutoffs of the cluster and solvation stages must fit the box
    cutoff = max(c["clusters"]["r_cut_A"], c["solvation"]["r_bind_A"])
    atoms = validate.read_structure(
        snakemake.input.box, what="MD input box", periodic=True, cutoff_A=cutoff, arrays=("mol_id", "mol_name")
    )
    calc = validate.make_calculator(cfg["potential"], device=cfg["device"], model_path=cfg.get("model_path"))
    timings = md.run_md(
        atoms,
        calc,
        snakemake.output.traj,
        temperature_K=cfg["temperature_K"],
        timestep_fs=cfg["timestep_fs"],
        friction_per_fs=cfg["friction_per_fs"],
        min_steps=cfg["min_steps"],
        fmax_eV_A=cfg["fmax_eV_A"],
        equil_steps=cfg["equil_steps"],
        prod_steps=cfg["prod_steps"],
        stride=cfg["stride"],
        seed=snakemake.params.seed,
    )
    summary = {"potential": md.potential_version(cfg["potential"]), "concentration": snakemake.wildcards.conc, **timings}
    with open(snakemake.output.summary, "w") as fh:
        json.dump(summary, fh, indent=2)
    print(json.dumps(summary, indent=2))
    provenance.write_sidecars(snakemake.output, snakemake.config, rule=snakemake.rule)
