"""Rule box: pack one periodic LiFSI/DME box (thin wrapper around linmr.boxes)."""
import json

from linmr import atomic, boxes, composition, molecules, provenance
from linmr.logs import to_file

with to_file(snakemake.log[0]):
    p = snakemake.params
    sp = p.species
    templates = {role: (sp[role]["name"], molecules.from_smiles(sp[role]["smiles"], seed=p.seed)) for role in sp}
    m_salt = molecules.molar_mass(sp["cation"]["smiles"]) + molecules.molar_mass(sp["anion"]["smiles"])
    m_solv = molecules.molar_mass(sp["solvent"]["smiles"])
    comp = composition.composition(
        p.conc["molarity_mol_L"], p.conc["density_g_cm3"], p.conc["n_salt"], m_salt, m_solv
    )
    atoms = boxes.build_box(templates, comp, seed=p.seed, tolerance=p.tolerance_A)
    atoms.info["concentration"] = snakemake.wildcards.conc
    with atomic.atomic_path(snakemake.output.box) as tmp:
        atoms.write(tmp, format="extxyz")
    meta = {
        "concentration": snakemake.wildcards.conc,
        **comp.as_dict(),
        "n_atoms": len(atoms),
        "seed": p.seed,
        "density_source": p.density_source,
        "min_intermolecular_distance_A": atoms.info["min_intermolecular_distance_A"],
        "salt_molar_mass_g_mol": m_salt,
        "solvent_molar_mass_g_mol": m_solv,
    }
    atomic.write_text(snakemake.output.meta, json.dumps(meta, indent=2))
    print(json.dumps(meta, indent=2))
    provenance.write_sidecars(snakemake.output, snakemake.config, rule=snakemake.rule)
