"""One home for each thing: no import circle, no config default outside the schema, no Snakemake in the
package, rule params without resource keys, thin rule scripts, and the config key reference up to date."""
import ast
import re
from pathlib import Path

from linmr import config

from .conftest import ROOT

SRC = ROOT / "src" / "linmr"
SCHEMA = config.load_schema(ROOT / "workflow/schemas/config.schema.yaml")


def _module(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """linmr modules imported by ``path`` anywhere in it (lazy imports inside functions included)."""
    mod = _module(path)
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("linmr"):
                out.add(target)
                out |= {f"{target}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("linmr")}
    return out


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in SRC.rglob("*.py")}
    graph = {}
    for mod, path in files.items():
        deps = {d for d in _imports(path) if d in files and d != mod}
        # importing linmr.x.y runs linmr.x's __init__ too, but a package importing its own modules is no circle
        graph[mod] = {d for d in deps if not mod.startswith(d + ".")}
    return graph


def test_no_import_circle():
    graph = _graph()
    state: dict[str, int] = {}

    def visit(m, stack):
        state[m] = 1
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                raise AssertionError("import circle: " + " -> ".join(stack[stack.index(d):] + [d]))
            if d not in state:
                visit(d, stack + [d])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


def test_no_module_imports_snakemake():
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(import snakemake|from snakemake)", text, re.M), path


def _schema_keys(node=SCHEMA, out=None) -> set[str]:
    out = set() if out is None else out
    node = config._node(SCHEMA, node)
    for k, sub in node.get("properties", {}).items():
        out.add(k)
        _schema_keys(sub, out)
    if isinstance(node.get("items"), dict):
        _schema_keys(node["items"], out)
    for d in SCHEMA.get("definitions", {}).values():
        for k in d.get("properties", {}):
            out.add(k)
    return out


def _record(receiver: str) -> bool:
    """Receivers that are records, not config: ``atoms.info``/``arrays``, a job's inputs, provenance and result rows."""
    return receiver.endswith((".info", ".arrays", ".input")) or receiver in {"c", "f", "rec", "row", "r", "res", "meta"}


def test_no_config_key_is_read_with_a_literal_default():
    """``x.get("<schema key>", default)`` outside the config module would be a second home of a default."""
    keys = _schema_keys() - {"name"}  # 'name' is also an Atoms.info key of the reference compound
    sources = [p for p in SRC.rglob("*.py") if p.name != "config.py"] + sorted((ROOT / "scripts").glob("*.py"))
    bad = []
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                    and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value in keys
                    and not _record(ast.unparse(node.func.value))):
                bad.append(f"{path.name}:{node.lineno} .get({node.args[0].value!r})")
    rules = [ROOT / "Snakefile", *sorted((ROOT / "workflow/rules").glob("*.smk"))]
    for path in rules:
        for k, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"config\[[^\]]+\](\[[^\]]+\])*\.get\(", line):
                bad.append(f"{path.name}:{k} {line.strip()}")
    assert not bad, bad


def test_rule_params_carry_no_whole_config_and_no_resource_keys():
    text = "\n".join(p.read_text() for p in sorted((ROOT / "workflow/rules").glob("*.smk")))
    assert not re.search(r"=\s*config\s*,", text), "the whole config passed as params"
    for section in ("md", "dft"):
        assert not re.search(rf"=\s*config\[\"{section}\"\]\s*,", text), f"the whole {section} section as params"
    # and the helper that builds them drops every x-resource key
    cfg = config.load(ROOT / "config/config.yaml")
    for section in ("md", "dft", "spectra"):
        assert not set(config.result_params(cfg, section)) & config.resource_keys(SCHEMA, section)
    assert {"threads", "device", "lammps_executable", "model_path"} <= config.resource_keys(SCHEMA, "md")


def test_rule_scripts_are_thin():
    """A rule script reads ``snakemake.*``, calls the package and writes: no science of its own."""
    for script in sorted((ROOT / "scripts").glob("*.py")):
        code = [ln for ln in script.read_text().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        tree = ast.parse(script.read_text())
        defs = [n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        loops = [n for n in ast.walk(tree) if isinstance(n, (ast.For, ast.While))]
        assert len(code) <= 30 and not defs and len(loops) <= 1, f"{script.name}: {len(code)} lines, {defs}, loops"


def test_config_reference_matches_the_schema():
    assert (ROOT / "config/README.md").read_text() == config.key_reference(SCHEMA), (
        "config/README.md is out of date: python -m linmr.config > config/README.md")
    rows = config.key_rows(SCHEMA)
    assert all(r["reruns"] for r in rows if r["key"].count(".") <= 2), [r["key"] for r in rows if not r["reruns"]]


def test_every_optional_key_has_a_schema_default():
    """The config every rule sees has every key: each key the schema does not require has a default."""
    def walk(node, path):
        node = config._node(SCHEMA, node)
        req = set(node.get("required", []))
        for k, sub in node.get("properties", {}).items():
            sub_n = config._node(SCHEMA, sub)
            if k not in req and "x-derived" not in sub_n:  # derived keys are filled from other keys
                assert "default" in sub_n, f"optional key {'.'.join(path + [k])} has no default in the schema"
            walk(sub_n, path + [k])
        if isinstance(node.get("items"), dict):
            walk(node["items"], path + ["[]"])

    walk(SCHEMA, [])
