"""The campaign config, from file to a complete, checked mapping: one module, one pass.

:func:`prepare` is what the Snakefile calls when it parses, before any job is planned:

1. **coerce**: values that the command line delivers as strings (``--config 'md={prod_steps: 400}'``
   arrives as ``'400'``) become the number or boolean the schema asks for;
2. **fill defaults**: every key the schema gives a ``default:`` and the config omits is filled in,
   so every key exists afterwards and no code reads a key with a fallback of its own (the schema
   is the one place a default is written);
3. **check**: the JSON schema (types, ranges, enums, patterns), then the cross-field checks
   (:func:`check_config`).

Every error is a :class:`linmr.LinmrError` that names the key path (``md.temperature_K``,
``concentrations[2].density_g_cm3``) and what is allowed there. :func:`result_params` gives a
rule the part of a section that changes its results (keys marked ``x-resource: true`` in the
schema, such as threads, memory and device, never rerun a job). :func:`check_runtime` runs
from the Snakefile's ``onstart:`` handler (a real run, not ``-n``), where the executor is known.
"""

from __future__ import annotations

import difflib
import re
import shutil
from pathlib import Path

from . import LinmrError
from .md import registry
from .system.composition import conc_label

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


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


def load_schema(path: str | Path = SCHEMA) -> dict:
    import yaml

    with open(path) as fh:
        return yaml.safe_load(fh)


def load(path: str | Path, schema: dict | str | Path = SCHEMA) -> dict:
    """Read a config file (plain YAML, no code evaluated) and :func:`prepare` it."""
    import yaml

    try:
        with open(path) as fh:
            config = yaml.safe_load(fh)
    except OSError as exc:
        raise LinmrError(f"{path}: cannot read the config file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise LinmrError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return prepare(config, schema)


def prepare(config: dict, schema: dict | str | Path = SCHEMA) -> dict:
    """Coerce, fill every schema default, then check (schema and cross-field): the config every rule sees.

    Works in place (the Snakefile's global ``config`` is the object its scripts receive) and
    returns the same mapping."""
    if not isinstance(schema, dict):
        schema = load_schema(schema)
    if not isinstance(config, dict):
        raise LinmrError(f"config must be a mapping of keys to values, got {type(config).__name__}")
    coerce(config, schema)
    fill_defaults(config, schema)
    validate_schema(config, schema)
    derive_charges(config)
    check_config(config)
    return config


def smiles_chemistry(smiles: str) -> tuple[int, int]:
    """Formal charge (e) and spin multiplicity (1 + radical electrons) of ``smiles`` as RDKit reads it."""
    from rdkit import Chem

    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise LinmrError(f"RDKit cannot parse SMILES {smiles!r}")
    charge = sum(a.GetFormalCharge() for a in mol.GetAtoms())
    radicals = sum(a.GetNumRadicalElectrons() for a in mol.GetAtoms())
    return int(charge), int(radicals) + 1


def derive_charges(config: dict) -> None:
    """Each species' charge comes from its SMILES: filled where the config omits it, refused where a declared
    value disagrees (a wrong charge would give every cluster a wrong net charge and multiplicity). Open-shell
    species are refused: the NMR backends compute closed-shell clusters only."""
    for role in ("cation", "anion", "solvent"):
        sp = config["species"][role]
        try:
            charge, mult = smiles_chemistry(sp["smiles"])
        except LinmrError as exc:
            raise LinmrError(f"config key 'species.{role}.smiles': {exc}") from None
        if mult != 1:
            raise LinmrError(f"config key 'species.{role}.smiles': {sp['smiles']!r} has {mult - 1} radical "
                             "electron(s); only closed-shell species are supported")
        if sp.get("charge") is None:
            sp["charge"] = charge
        elif int(sp["charge"]) != charge:
            raise LinmrError(f"config key 'species.{role}.charge': {sp['charge']} e disagrees with the formal charge "
                             f"{charge} e of its SMILES {sp['smiles']!r}; fix the SMILES or drop the charge key "
                             "(it is derived from the SMILES)")
        expected = {"cation": lambda q: q > 0, "anion": lambda q: q < 0, "solvent": lambda q: q == 0}[role]
        if not expected(charge):
            raise LinmrError(f"config key 'species.{role}.smiles': a {role} with formal charge {charge} e "
                             f"({sp['smiles']!r}); the {role} must be "
                             + {"cation": "positive", "anion": "negative", "solvent": "neutral"}[role])


def _node(schema: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        node = _resolve(schema, node["$ref"])
    return node if isinstance(node, dict) else {}


def _types(node: dict) -> list[str]:
    t = node.get("type", [])
    return [t] if isinstance(t, str) else list(t)


def _coerce_scalar(value: str, node: dict):
    """``value`` (a string) as the number/boolean/null the schema node allows, else unchanged."""
    import yaml

    types = _types(node)
    if "string" in types or not types:
        return value
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    if isinstance(parsed, bool):
        return parsed if "boolean" in types else value
    if isinstance(parsed, int) and ("integer" in types or "number" in types):
        return parsed
    if isinstance(parsed, float) and "number" in types:
        return parsed
    if parsed is None and "null" in types:
        return None
    return value


def coerce(config, schema: dict, node: dict | None = None):
    """Turn strings into the numbers, booleans or nulls the schema asks for, at every depth (in place).

    Snakemake parses ``--config KEY=VALUE`` itself only at the top level; nested mappings
    (``md={prod_steps: 400}``) arrive with string leaves. Strings the schema allows stay strings."""
    node = _node(schema, schema if node is None else node)
    if isinstance(config, dict):
        props = node.get("properties", {})
        extra = node.get("additionalProperties")
        for k, v in list(config.items()):
            sub = props.get(k, extra if isinstance(extra, dict) else None)
            if sub is None:
                continue
            sub = _node(schema, sub)
            config[k] = _coerce_scalar(v, sub) if isinstance(v, str) else coerce(v, schema, sub)
    elif isinstance(config, list) and isinstance(node.get("items"), dict):
        sub = _node(schema, node["items"])
        for i, v in enumerate(config):
            config[i] = _coerce_scalar(v, sub) if isinstance(v, str) else coerce(v, schema, sub)
    return config


def fill_defaults(config, schema: dict, node: dict | None = None):
    """Fill in every ``default:`` of the schema that ``config`` lacks, at every depth (in place)."""
    import copy

    node = _node(schema, schema if node is None else node)
    if isinstance(config, dict):
        for k, sub in node.get("properties", {}).items():
            sub = _node(schema, sub)
            if k not in config and "default" in sub:
                config[k] = copy.deepcopy(sub["default"])
            if k in config:
                fill_defaults(config[k], schema, sub)
    elif isinstance(config, list) and isinstance(node.get("items"), dict):
        for v in config:
            fill_defaults(v, schema, node["items"])
    return config


def resource_keys(schema: dict, section: str) -> set[str]:
    """Keys of ``section`` marked ``x-resource: true`` (threads, memory, device, ...): they never change a result."""
    props = _node(schema, schema["properties"][section]).get("properties", {})
    return {k for k, v in props.items() if _node(schema, v).get("x-resource")}


def result_params(config: dict, section: str, exclude=(), schema: dict | str | Path = SCHEMA) -> dict:
    """The keys of ``config[section]`` that change a rule's results: resource keys (at any depth) and
    ``exclude`` left out.

    What a rule passes as ``params`` (Snakemake reruns a job when its params change), so that
    editing threads, memory or the device plans no job, and a key of another stage plans none here."""
    if not isinstance(schema, dict):
        schema = _cached_schema(str(schema))

    def strip(value, node):
        node = _node(schema, node)
        if not isinstance(value, dict) or "properties" not in node:
            return value
        props = node["properties"]
        return {k: strip(v, props.get(k, {})) for k, v in value.items()
                if not _node(schema, props.get(k, {})).get("x-resource")}

    out = strip(config[section], schema["properties"][section])
    return {k: v for k, v in out.items() if k not in set(exclude)}


_SCHEMAS: dict = {}


def _cached_schema(path: str) -> dict:
    if path not in _SCHEMAS:
        _SCHEMAS[path] = load_schema(path)
    return _SCHEMAS[path]


def validate_schema(config: dict, schema: dict | str | Path = SCHEMA) -> None:
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


def validate_config(config: dict, schema: dict | str | Path = SCHEMA) -> None:
    """Schema, charges from SMILES, then cross-field checks (on a config whose defaults are filled: see
    :func:`prepare`)."""
    validate_schema(config, schema)
    derive_charges(config)
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
    if dft["giao_density_fit"] and not dft["density_fit"]:
        raise LinmrError("config key 'dft.giao_density_fit' needs 'dft.density_fit: true'")
    if dft["solvent"] and dft["backend"] not in ("orca", "gaussian"):
        raise LinmrError(f"config key 'dft.solvent' needs dft.backend orca or gaussian, not {dft['backend']!r}")
    ref = dft["reference"]
    if ref["sigma_ref_ppm"] is None and not ref["name"]:
        raise LinmrError("config key 'dft.reference': give 'name' (computed) or 'sigma_ref_ppm'")
    _check_elements(config)
    _check_md(config)
    _check_model(config)
    _check_concentrations(config)
    _check_clusters(config)
    _check_names_and_files(config)
    _check_program_strings(config)
    _check_protocol(config)


def _check_protocol(config: dict) -> None:
    md = config["md"]
    if md["heat_steps"] and md["heat_start_K"] > md["temperature_K"]:
        raise LinmrError(f"config key 'md.heat_start_K': {md['heat_start_K']} K is above md.temperature_K = "
                         f"{md['temperature_K']} K; the heating ramp goes up to the production temperature")
    pot = config.get("potential")
    if pot and potential_stage(config):
        dp = pot["deepmd"]
        for start in ["start_lr"] + (["reuse_start_lr"] if dp["reuse_steps"] else []):
            if dp["stop_lr"] > dp[start]:
                raise LinmrError(f"config key 'potential.deepmd.stop_lr': {dp['stop_lr']} is above "
                                 f"potential.deepmd.{start} = {dp[start]}; the learning rate decays")
    path = md["model_path"]
    if path and not Path(path).is_file():
        raise LinmrError(f"config key 'md.model_path': file {path!r} does not exist")


# what reaches an external program's input (ORCA/Gaussian/NWChem/CP2K/LAMMPS), matched whole (re.fullmatch:
# a JSON-schema pattern's `$` would let a trailing newline through)
_PROGRAM_STRINGS = {
    "dft.method": r"[A-Za-z0-9()+_-]+",
    "dft.basis": r"[A-Za-z0-9*+(),._-]+",
    "dft.level_check.basis": r"[A-Za-z0-9*+(),._-]+",
    "dft.level_study.levels[].method": r"[A-Za-z0-9()+_-]+",
    "dft.level_study.levels[].basis": r"[A-Za-z0-9*+(),._-]+",
    "potential.cp2k.functional": r"[A-Za-z0-9_-]+",
    "potential.cp2k.basis": r"[A-Za-z0-9-]+",
    "potential.cp2k.executable": r"[A-Za-z0-9_./-]+",
    "md.lammps_executable": r"[A-Za-z0-9_./-]+",
}


def _get(config: dict, dotted: str) -> list[tuple[str, object]]:
    """``(key, value)`` pairs at ``dotted``; ``name[]`` steps into every item of a list (``name[k]`` in the key)."""
    found = [("", config)]
    for k in dotted.split("."):
        step = []
        for where, node in found:
            name = k.removesuffix("[]")
            if not isinstance(node, dict) or name not in node:
                continue
            here = f"{where}.{name}".lstrip(".")
            if k.endswith("[]"):
                step += [(f"{here}[{i}]", item) for i, item in enumerate(node[name] or [])]
            else:
                step.append((here, node[name]))
        found = step
    return found


def _check_program_strings(config: dict) -> None:
    for key, pattern in _PROGRAM_STRINGS.items():
        for where, value in _get(config, key):
            for sub, v in value.items() if isinstance(value, dict) else [(None, value)]:
                if v is not None and (not isinstance(v, str) or not re.fullmatch(pattern, v)):
                    raise LinmrError(f"config key {f'{where}.{sub}' if sub else where!r}: {v!r} is not allowed in an "
                                     f"external program's input; allowed characters: {pattern[1:-2]}")


def _check_clusters(config: dict) -> None:
    cl = config["clusters"]
    second = cl["second_shell_r_cut_A"]
    if second is not None and second <= cl["r_cut_A"]:
        raise LinmrError(f"config key 'clusters.second_shell_r_cut_A': {second} A must exceed clusters.r_cut_A = "
                         f"{cl['r_cut_A']} A (the second shell lies beyond the first); or null")
    lc = config["dft"]["level_check"]
    if lc["n_clusters"] < 2:
        raise LinmrError("config key 'dft.level_check.n_clusters': relative shifts need at least 2 clusters")
    study = config["dft"].get("level_study")
    if not study or not {"levels", "reference", "size_level"} <= set(study):  # checked before defaults are filled
        return
    names = ["campaign"] + [e["name"] for e in study["levels"]]
    if len(set(names)) < len(names):
        raise LinmrError(f"config key 'dft.level_study.levels': level names must be unique and not 'campaign', got {names[1:]}")
    for key in ("reference", "size_level"):
        if study[key] not in names:
            raise LinmrError(f"config key 'dft.level_study.{key}': {study[key]!r} is not a level of the ladder {names}")


def _check_names_and_files(config: dict) -> None:
    from .dft.reference import REFERENCES

    ref = config["dft"]["reference"]
    if ref["sigma_ref_ppm"] is None and ref["name"] not in REFERENCES:
        raise LinmrError(f"config key 'dft.reference.name': unknown 7Li reference {ref['name']!r}; choose one of "
                         f"{sorted(REFERENCES)} or give dft.reference.sigma_ref_ppm")
    csv_path = config["spectra"]["experimental_csv"]
    if csv_path is not None:
        _check_experimental_csv(csv_path)
    pot = config.get("potential") or {}
    if potential_stage(config) and pot.get("teacher_model_path") and not Path(pot["teacher_model_path"]).is_file():
        raise LinmrError(f"config key 'potential.teacher_model_path': file {pot['teacher_model_path']!r} does not exist")


def _check_experimental_csv(path: str) -> None:
    import pandas as pd

    key = "config key 'spectra.experimental_csv'"
    if not Path(path).is_file():
        raise LinmrError(f"{key}: file {path!r} does not exist")
    try:
        table = pd.read_csv(path)
    except Exception as exc:
        raise LinmrError(f"{key}: {path!r} is not a readable CSV: {exc}") from None
    missing = {"concentration_mol_L", "delta_ppm"} - set(table.columns)
    if missing:
        raise LinmrError(f"{key}: {path!r} lacks column(s) {sorted(missing)} (concentration_mol_L in mol/L, "
                         "delta_ppm in ppm)")
    for col in ("concentration_mol_L", "delta_ppm"):
        if not pd.to_numeric(table[col], errors="coerce").notna().all():
            raise LinmrError(f"{key}: column {col!r} of {path!r} holds values that are not numbers")


def _check_elements(config: dict) -> None:
    for key, symbols in (
        ("descriptor.species", config["descriptor"]["species"]),
        ("clusters.donor_elements", config["clusters"]["donor_elements"] or []),
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
    trained = md["potential"] == "deepmd"  # without md.model_path the campaign trains it (potential section)
    if registry.get(md["potential"]).needs_model_file and not md["model_path"] and not trained:
        raise LinmrError(f"config key 'md.model_path': md.potential {md['potential']!r} needs a model file (got null)")
    if trained and not md["model_path"]:
        _check_potential(config)
    if md["stride"] > md["prod_steps"]:
        raise LinmrError(
            f"config key 'md.stride': {md['stride']} steps is longer than md.prod_steps = {md['prod_steps']}; "
            "production would save no frame"
        )
    if md["checkpoint_every_steps"] % md["stride"]:
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
    window = config["spectra"]["window_ps"]
    prod_ps = md["prod_steps"] * md["timestep_fs"] / 1000.0
    if window is not None and window > prod_ps:
        raise LinmrError(
            f"config key 'spectra.window_ps': {window} ps is longer than the production run "
            f"({prod_ps:g} ps = md.prod_steps x md.timestep_fs); allowed: (0, {prod_ps:g}] or null"
        )


def potential_stage(config: dict) -> bool:
    """Whether the campaign trains its MD potential (md.potential deepmd and no md.model_path)."""
    return registry.trained_in_campaign(config["md"])


def _check_potential(config: dict) -> None:
    pot = config["potential"]
    n_conc = len(config["concentrations"])
    if len(pot["n_salt"]) != n_conc:
        raise LinmrError(
            f"config key 'potential.n_salt': {len(pot['n_salt'])} training box size(s) for {n_conc} concentrations; "
            "give one n_salt per entry of 'concentrations', in the same order"
        )
    if pot["trust_lo_eV_A"] >= pot["trust_hi_eV_A"]:
        raise LinmrError(
            f"config key 'potential.trust_lo_eV_A': {pot['trust_lo_eV_A']} eV/A must be below potential.trust_hi_eV_A "
            f"= {pot['trust_hi_eV_A']} eV/A"
        )
    if pot["teacher"] == "cp2k" and pot["explorer"] == "teacher":
        raise LinmrError("config key 'potential.explorer': a cp2k teacher cannot drive the first round's MD; "
                         "choose chgnet or sevennet")
    if pot["teacher"] in ("mace", "deepmd") and not pot["teacher_model_path"]:
        raise LinmrError(f"config key 'potential.teacher_model_path': teacher {pot['teacher']!r} needs a model file")
    for key in ("explore_steps", "student_explore_steps"):
        if pot[key] is not None and pot["explore_stride"] > pot[key]:
            raise LinmrError(f"config key 'potential.explore_stride': {pot['explore_stride']} steps is longer than "
                             f"potential.{key} = {pot[key]}; exploration would save no frame")
    sel = pot["deepmd"]["sel"]
    if isinstance(sel, list) and len(sel) != len(config["descriptor"]["species"]):
        raise LinmrError(f"config key 'potential.deepmd.sel': {len(sel)} entries for the "
                         f"{len(config['descriptor']['species'])} species of descriptor.species (the type map)")
    if pot["rounds"] + pot["deepmd"]["final_steps_round"] < 1:
        raise LinmrError(f"config key 'potential.deepmd.final_steps_round': {pot['deepmd']['final_steps_round']} "
                         f"counts back past round 1 of potential.rounds = {pot['rounds']} (round 0 trains numb_steps "
                         "from scratch); raise potential.rounds or move final_steps_round toward -1")
    if pot["deepmd"]["rcut_smth_A"] >= pot["deepmd"]["rcut_A"]:
        raise LinmrError("config key 'potential.deepmd.rcut_smth_A' must be below potential.deepmd.rcut_A")


def _check_model(config: dict) -> None:
    m = config["model"]
    if m["cv_folds"] == 1:
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
    from .system.composition import composition
    from .system.molecules import molar_mass

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
    if config["clusters"]["second_shell_r_cut_A"] is not None:  # else each "cluster" would be the whole box
        cutoffs["clusters.second_shell_r_cut_A"] = (config["clusters"]["second_shell_r_cut_A"], 0.5)
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


def check_runtime(config: dict, local: bool = True, which=shutil.which, find_spec=None) -> None:
    """Checks that need the executor in use (Snakefile ``onstart:``, real runs only, before any job).

    Always: the DFT backend is one this version implements (a user model file is checked with the config,
    before planning). Where the jobs run on this machine (``local``), also everything the chosen
    engines need here (:mod:`linmr.requirements`: executables, LAMMPS pair styles, Python packages). On a
    cluster profile each job checks its own needs on its node, so the login node is asked for nothing an engine
    needs only where the jobs run."""
    from importlib.util import find_spec as _fs

    from . import requirements
    from .dft import get_backend, require_dft_executable

    try:
        get_backend(config["dft"]["backend"])
    except LinmrError as exc:
        raise LinmrError(f"config key 'dft.backend': {exc}") from None
    if local:
        require_dft_executable(config["dft"], which=which)
        fs = find_spec or _fs
        needs = requirements.md_needs(config, which, fs) + requirements.potential_needs(config, which, fs)
        requirements.check(needs, "this machine (the jobs run here)")


# ----------------------------------------------------------------------------------------- key reference

def key_rows(schema: dict | None = None) -> list[dict]:
    """One row per config key (depth first, schema order): ``key``, ``type``, ``required``, ``default``,
    ``description`` (with its unit) and ``reruns`` (what a change plans again: ``x-reruns`` of the key or
    of its section; ``nothing`` for ``x-resource`` keys)."""
    import json

    schema = schema or load_schema()
    rows = []

    def kind(node):
        if "enum" in node:
            return " | ".join(json.dumps(v) for v in node["enum"])
        t = _types(node)
        if "array" in t and isinstance(node.get("items"), dict):
            inner = _node(schema, node["items"])
            t = [x if x != "array" else f"list of {'/'.join(_types(inner)) or 'object'}" for x in t]
        return " or ".join(t) or "object"

    def walk(node, path, reruns, required):
        node = _node(schema, node)
        here = node.get("x-reruns", reruns)
        if path:
            rows.append({
                "key": ".".join(path),
                "type": kind(node),
                "required": required,
                "default": json.dumps(node["default"]) if "default" in node else "",
                "description": node.get("description", ""),
                "reruns": "nothing (a resource or a record)" if node.get("x-resource") else here,
            })
        props = node.get("properties", {})
        if not props and isinstance(node.get("items"), dict):
            item = _node(schema, node["items"])
            props, path = item.get("properties", {}), path[:-1] + [path[-1] + "[]"] if path else path
            node = item
        for k, sub in props.items():
            walk(sub, path + [k], here, k in node.get("required", []))

    walk(schema, [], "", True)
    return rows


def key_reference(schema: dict | None = None) -> str:
    """``config/README.md``: every key with type, default, meaning and unit, and what a change reruns."""
    rows = key_rows(schema)
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    out = [
        "# Config keys",
        "",
        "Generated from `workflow/schemas/config.schema.yaml` by `python -m linmr.config > config/README.md`",
        "(a test checks that this file matches the schema). The schema is the one place a default is written:",
        "`linmr.config.prepare` fills every default before any job is planned. *Reruns* is what Snakemake plans",
        "again when the key changes on a finished campaign (each rule's `params` carry only the keys that change",
        "its results); keys marked *nothing* are resources or records and never rerun a job.",
        "",
        "Config files and profiles are read by Snakemake, which can evaluate code in them (YAML with",
        "`__use_yte__: true`): trust a config file like code.",
        "",
        "| key | type | default | meaning (unit) | reruns |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        default = r["default"] if r["default"] else ("required" if r["required"] else "")
        out.append(f"| `{r['key']}` | {esc(r['type'])} | {esc(default)} | {esc(r['description'])} | {esc(r['reruns'])} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # python -m linmr.config > config/README.md
    print(key_reference(), end="")
