"""Rule dft_reference: sigma_iso(7Li) of the reference at exactly the clusters' level."""
import json

from linmr import atomic, checks, provenance
from linmr.dft import get_backend, level_from_config
from linmr.dft.reference import reference_structure
from linmr.logs import set_threads, to_file

with to_file(snakemake.log[0]):
    set_threads(snakemake.threads)
    cfg = snakemake.params.dft
    checks.require_dft_executable(cfg, where="this DFT job")  # on the node that runs it (SLURM too)
    level = level_from_config(cfg)
    ref = cfg["reference"]
    if ref.get("sigma_ref_ppm") is not None:
        out = {"sigma_ref_ppm": float(ref["sigma_ref_ppm"]), "source": "user-given (dft.reference.sigma_ref_ppm)"}
    else:
        backend = get_backend(cfg["backend"])
        atoms = reference_structure(ref["name"])
        memory_mb = max(500, int(snakemake.resources.get("mem_mb", cfg["max_memory_mb"] + 1000)) - 1000)
        res = backend.shielding(atoms, level, [0], max_memory_mb=memory_mb, nproc=snakemake.threads)
        out = {
            "sigma_ref_ppm": res["sigma_iso_ppm"][0],
            "source": f"computed: {ref['name']}",
            "program": backend.program_version(),
            "wall_s": res["scf_s"] + res["nmr_s"],
        }
    out["level_of_theory"] = level.label()
    atomic.write_text(snakemake.output[0], json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
    provenance.write_sidecars(snakemake.output, snakemake.config, rule=snakemake.rule)
