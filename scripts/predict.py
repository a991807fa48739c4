"""Rule predict: streaming NN prediction of every Li in every MD frame."""
from linmr import provenance, validate
from linmr.logs import set_threads, to_file
from linmr.predict import predict_trajectory

with to_file(snakemake.log[0]):
    set_threads(snakemake.threads)
    bundle = validate.load_bundle(snakemake.input.bundle)
    names = {r: snakemake.params.species[r]["name"] for r in ("cation", "anion", "solvent")}
    predict_trajectory(
        bundle,
        validate.iter_frames(
            snakemake.input.traj, what="MD trajectory", periodic=True, species=bundle.featurizer["species"]
        ),
        snakemake.wildcards.conc,
        names,
        r_bind=snakemake.params.solvation["r_bind_A"],
        out_csv=snakemake.output[0],
    )
    print(f"predictions written to {snakemake.output[0]}")
    provenance.write_sidecars(snakemake.output, snakemake.config, rule=snakemake.rule)
