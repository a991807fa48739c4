"""Config validation before any job starts: JSON schema, then cross-field checks.

Every error is a :class:`linmr.LinmrError` that names the key path (``md.temperature_K``,
``concentrations[2].density_g_cm3``) and what is allowed there. :func:`validate_config`
is what the Snakefile calls when it parses; :func:`check_runtime` runs from its
``onstart:`` handler (a real run, not ``-n``), where the executor in use is known.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

from . import LinmrError
from .labels import conc_label

# executables each external DFT backend runs (first one found wins)
DFT_EXECUTABLES = {"nwchem": ("nwchem",), "orca": ("orca",), "gaussian": ("g16", "g09")}
MLIP_PACKAGES = {"chgnet": "chgnet", "mace": "mace", "deepmd": "deepmd", "sevennet": "sevenn"}


def _path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<top level>"


def _schema_at(schema: dict, root: dict, parts) -> dict:
    """The sub-schema at a config key path (follows properties/items/$ref), for its description."""
    node = schema
    for p in parts:
        if "$ref" in node:
            node = _resolve(root, node["$ref"])
        if isinstance(p, int):
            node = node.get("items", {}) if isinstance(node.get("items"), dict) else {}
        else:
            node = node.get("properties", {}).get(p, {})
    if "$ref" in node:
        node = _resolve(root, node["$ref"])
    return node


def _resolve(root: dict, ref: str) -> dict:
    node = root
    for part in ref.lstrip("#/").split("/"):
        node = node.get(part, {})
    return node


def _describe(error, schema: dict) -> str:
    """One line naming the key path, the offending value and what is allowed."""
    parts = list(error.absolute_path)
    key = _path(parts)
    v = error.validator
    val = error.validator_value
    inst = error.instance
    sub = _schema_at(schema, schema, parts)
    hint = f" ({sub['description']})" if sub.get("description") else ""
    if v == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(inst) - set(allowed)) if isinstance(inst, dict) else []
        msg = []
        for k in extra:
            close = difflib.get_close_matches(k, allowed, n=1)
            msg.append(f"unknown key {_path(parts + [k])!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        return f"{'; '.join(msg)}; allowed keys under {key!r}: {allowed}"
    if v == "required":
        missing = [k for k in val if isinstance(inst, dict) and k not in inst]
        return f"config key {key!r}: missing required key(s) {missing}; required: {list(val)}"
    if v == "enum":
        return f"config key {key!r}: {inst!r} is not allowed; allowed values: {list(val)}{hint}"
    if v == "type":
        want = val if isinstance(val, str) else " or ".join(val)
        return f"config key {key!r}: expected {want}, got {type(inst).__name__} {inst!r}{hint}"
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        lo, hi = sub.get("minimum", sub.get("exclusiveMinimum")), sub.get("maximum", sub.get("exclusiveMaximum"))
        lo_b = "(" if "exclusiveMinimum" in sub else "["
        hi_b = ")" if "exclusiveMaximum" in sub else "]"
        rng = f"{lo_b}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{hi_b}"
        return f"config key {key!r}: {inst!r} is out of range; allowed range {rng}{hint}"
    if v in ("minItems", "maxItems", "uniqueItems"):
        return f"config key {key!r}: {error.message}{hint}"
    if v in ("pattern", "minLength", "maxLength"):
        return f"config key {key!r}: {inst!r} does not match {v} {val!r}{hint}"
    return f"config key {key!r}: {error.message}{hint}"


def load_schema(path: str | Path) -> dict:
    import yaml

    with open(path) as fh:
        return yaml.safe_load(fh)


def validate_schema(config: dict, schema: dict | str | Path) -> None:
    """Check ``config`` against the JSON schema; one :class:`LinmrError` listing every violation."""
    import jsonschema

    if not isinstance(schema, dict):
        schema = load_schema(schema)
    if not isinstance(config, dict):
        raise LinmrError(f"config must be a mapping of keys to values, got {type(config).__name__}")
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    if errors:
        lines = list(dict.fromkeys(_describe(e, schema) for e in errors))
        raise LinmrError("invalid config:\n  " + "\n  ".join(lines))


def validate_config(config: dict, schema: dict | str | Path) -> None:
    """Schema, then cross-field checks: what the Snakefile runs before it plans any job."""
    validate_schema(config, schema)
    check_config(config)


def _elements(smiles: str) -> set[str]:
    from rdkit import Chem

    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return set()
    return {a.GetSymbol() for a in Chem.AddHs(mol).GetAtoms()}


def _known_element(symbol: str) -> bool:
    from ase.data import atomic_numbers

    return symbol in atomic_numbers and symbol != "X"


def check_config(config: dict) -> None:
    """Cross-field checks the JSON schema cannot express; errors name the key path."""
    labels = [conc_label(c["molarity_mol_L"]) for c in config["concentrations"]]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise LinmrError(f"config key 'concentrations': duplicate concentration(s) {dupes}")
    names = [config["species"][r]["name"] for r in ("cation", "anion", "solvent")]
    if len(set(names)) != 3:
        raise LinmrError(f"config key 'species': names must differ, got {names}")
    desc = config["descriptor"]["species"]
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
    _check_elements(config)
    _check_md(config)
    _check_model(config)
    _check_concentrations(config)


def _check_elements(config: dict) -> None:
    for key, symbols in (
        ("descriptor.species", config["descriptor"]["species"]),
        ("clusters.donor_elements", config["clusters"].get("donor_elements") or []),
        ("dft.basis", [k for k in config["dft"]["basis"] if k != "default"]),
    ):
        bad = [s for s in symbols if not _known_element(s)]
        if bad:
            raise LinmrError(f"config key {key!r}: unknown element symbol(s) {bad}; use symbols such as 'Li', 'O', 'N'")
    needed = set()
    for role in ("cation", "anion", "solvent"):
        smiles = config["species"][role]["smiles"]
        found = _elements(smiles)
        if not found:
            raise LinmrError(f"config key 'species.{role}.smiles': RDKit cannot parse {smiles!r}")
        needed |= found
    missing = sorted(needed - set(config["descriptor"]["species"]))
    if missing:
        raise LinmrError(
            f"config key 'descriptor.species': element(s) {missing} occur in 'species.*.smiles' but not in "
            f"{config['descriptor']['species']}; the SOAP model could not featurise them"
        )


def _check_md(config: dict) -> None:
    md = config["md"]
    if md["potential"] in ("mace", "deepmd") and not md.get("model_path"):
        raise LinmrError(f"config key 'md.model_path': md.potential {md['potential']!r} needs a model file (got null)")
    if md["stride"] > md["prod_steps"]:
        raise LinmrError(
            f"config key 'md.stride': {md['stride']} steps is longer than md.prod_steps = {md['prod_steps']}; "
            "production would save no frame"
        )
    if md.get("checkpoint_every_steps", md["stride"]) % md["stride"]:
        raise LinmrError(
            f"config key 'md.checkpoint_every_steps': {md['checkpoint_every_steps']} must be a multiple of "
            f"md.stride = {md['stride']} so that a checkpoint falls on a saved frame"
        )
    n_frames = md["prod_steps"] // md["stride"]
    skip = config["clusters"]["skip_frames"]
    if skip >= n_frames:
        raise LinmrError(
            f"config key 'clusters.skip_frames': {skip} skips all {n_frames} production frames "
            f"(md.prod_steps / md.stride); allowed: 0 to {n_frames - 1}"
        )
    window = config["spectra"].get("window_ps")
    prod_ps = md["prod_steps"] * md["timestep_fs"] / 1000.0
    if window is not None and window > prod_ps:
        raise LinmrError(
            f"config key 'spectra.window_ps': {window} ps is longer than the production run "
            f"({prod_ps:g} ps = md.prod_steps x md.timestep_fs); allowed: (0, {prod_ps:g}] or null"
        )


def _check_model(config: dict) -> None:
    m = config["model"]
    if m.get("cv_folds", 5) == 1:
        raise LinmrError("config key 'model.cv_folds': 1 fold cannot hold out anything; use 0 (no cross-validation) or at least 2")
    total = sum(m["split_fractions"])
    if abs(total - 1.0) > 1e-6:
        raise LinmrError(
            f"config key 'model.split_fractions': {m['split_fractions']} sums to {total:g}; "
            "train, validation and test fractions must sum to 1"
        )
    if m["patience"] > m["max_epochs"]:
        raise LinmrError(
            f"config key 'model.patience': {m['patience']} epochs exceeds model.max_epochs = {m['max_epochs']}; "
            f"allowed: 1 to {m['max_epochs']}"
        )


def _check_concentrations(config: dict) -> None:
    """Each concentration must give a real solution and a box large enough for every cutoff.

    Cluster cutting and solvation analysis use minimum-image distances, so ``clusters.r_cut_A``
    and ``solvation.r_bind_A`` may not exceed half the box edge. Descriptors are taken in the
    periodic MD frame (not in the cut cluster), so the SOAP cutoff is bounded by the box, not by
    ``clusters.r_cut_A``: DScribe sums over periodic images, but ``descriptor.r_cut_A`` must stay
    below the box edge or a Li would see its own image (an artefact of the finite box).
    """
    from .composition import composition
    from .molecules import molar_mass

    sp = config["species"]
    try:
        m_salt = molar_mass(sp["cation"]["smiles"]) + molar_mass(sp["anion"]["smiles"])
        m_solv = molar_mass(sp["solvent"]["smiles"])
    except LinmrError as exc:
        raise LinmrError(f"config key 'species': {exc}") from None
    cutoffs = {  # key -> (value in A, largest allowed fraction of the box edge)
        "descriptor.r_cut_A": (config["descriptor"]["r_cut_A"], 1.0),
        "clusters.r_cut_A": (config["clusters"]["r_cut_A"], 0.5),
        "solvation.r_bind_A": (config["solvation"]["r_bind_A"], 0.5),
    }
    rows = []
    for i, c in enumerate(config["concentrations"]):
        key = f"concentrations[{i}]"
        try:
            comp = composition(c["molarity_mol_L"], c["density_g_cm3"], c["n_salt"], m_salt, m_solv)
        except LinmrError as exc:
            raise LinmrError(f"config key {key!r}: {exc}") from None
        if comp.n_solvent < 1 or comp.solvent_per_salt < 1.0:
            raise LinmrError(
                f"config key '{key}.molarity_mol_L': {c['molarity_mol_L']} mol/L at "
                f"{c['density_g_cm3']} g/cm3 leaves {comp.solvent_per_salt:.2f} solvent per salt (< 1): "
                "beyond any solubility limit; check molarity_mol_L and density_g_cm3"
            )
        edge = comp.cell_length_A
        for ck, (r, frac) in cutoffs.items():
            if r > frac * edge or (frac == 1.0 and r >= edge):
                what = "below the box edge" if frac == 1.0 else "<= half the box edge"
                raise LinmrError(
                    f"config key '{key}.n_salt': the {c['n_salt']}-salt box is {edge:.2f} A wide, "
                    f"too small for {ck} = {r} A (must be {what}, {frac * edge:.2f} A); "
                    f"raise n_salt or lower {ck}"
                )
        rows.append((c["molarity_mol_L"], c["density_g_cm3"], key))
    rows.sort()
    for (c0, d0, k0), (c1, d1, k1) in zip(rows, rows[1:]):
        if d1 < d0:
            raise LinmrError(
                f"config key '{k1}.density_g_cm3': {d1} g/cm3 at {c1} mol/L is below {d0} g/cm3 at {c0} mol/L "
                f"({k0}); the salt is denser than the solvent, so density must rise with concentration"
            )


def require_dft_executable(dft: dict, which=shutil.which, where: str = "this local run") -> None:
    """The executable of an external DFT backend must be on PATH (a DFT job calls this first, on its node)."""
    backend = dft["backend"]
    names = DFT_EXECUTABLES.get(backend)
    if names and not any(which(n) for n in names):
        raise LinmrError(
            f"config key 'dft.backend': {backend!r} runs the executable {' or '.join(names)}, which is not on "
            f"PATH for {where}; install it, put it on PATH, or choose dft.backend 'pyscf'"
        )


def check_runtime(config: dict, local: bool = True, which=shutil.which) -> None:
    """Checks that need the executor in use (Snakefile ``onstart:``, real runs only, before any job).

    The DFT backend must be one this version implements and, for a run on this machine
    (``local``), its executable must be on PATH. On a cluster profile (jobs run elsewhere)
    the executable is checked by the job itself on the compute node. A user model file
    (``md.model_path``) must exist when jobs run here.
    """
    from importlib.util import find_spec

    backend = config["dft"]["backend"]
    try:
        from .dft import get_backend

        get_backend(backend)
    except LinmrError as exc:
        raise LinmrError(f"config key 'dft.backend': {exc}") from None
    if local:
        require_dft_executable(config["dft"], which=which)
    pkg = MLIP_PACKAGES.get(config["md"]["potential"])
    if pkg and find_spec(pkg) is None:
        raise LinmrError(f"config key 'md.potential': {config['md']['potential']!r} needs the Python package {pkg!r}")
    path = config["md"].get("model_path")
    if local and path and not Path(path).is_file():
        raise LinmrError(f"config key 'md.model_path': file {path!r} does not exist")
