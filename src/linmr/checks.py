"""Cross-field config checks the JSON schema cannot express; errors name the key path."""

from __future__ import annotations

from . import LinmrError
from .labels import conc_label


def check_config(config: dict) -> None:
    labels = [conc_label(c["molarity_mol_L"]) for c in config["concentrations"]]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise LinmrError(f"config key 'concentrations': duplicate concentration(s) {dupes}")
    names = [config["species"][r]["name"] for r in ("cation", "anion", "solvent")]
    if len(set(names)) != 3:
        raise LinmrError(f"config key 'species': names must differ, got {names}")
    desc = set(config["descriptor"]["species"])
    if config["species"]["cation"]["name"] != "Li" or "Li" not in desc:
        raise LinmrError("config key 'species.cation.name' must be 'Li' and 'descriptor.species' must include Li")
    dft = config["dft"]
    if dft.get("giao_density_fit") and not dft.get("density_fit"):
        raise LinmrError("config key 'dft.giao_density_fit' needs 'dft.density_fit: true'")
    if dft.get("solvent") and dft["backend"] not in ("orca", "gaussian"):
        raise LinmrError(f"config key 'dft.solvent' needs dft.backend orca or gaussian, not {dft['backend']!r}")
    ref = dft["reference"]
    if ref.get("sigma_ref_ppm") is None and not ref.get("name"):
        raise LinmrError("config key 'dft.reference': give 'name' (computed) or 'sigma_ref_ppm'")
