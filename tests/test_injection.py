"""Security of inputs: no config value or file name reaches a shell; model files and YAML are
loaded without executing code."""
import ast
import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from linmr import LinmrError
from linmr.config import load_schema, prepare

from .conftest import ROOT

SOURCES = sorted((ROOT / "src").rglob("*.py")) + sorted((ROOT / "scripts").glob("*.py"))
RULE_FILES = [ROOT / "Snakefile"] + sorted((ROOT / "workflow/rules").glob("*.smk"))
GOOD = yaml.safe_load((ROOT / "tests/micro.yaml").read_text())


def _calls(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def _name(func) -> str:
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


def _kw(call, name):
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def test_sources_found():
    assert len(SOURCES) > 20 and len(RULE_FILES) >= 8


def test_every_torch_load_is_weights_only():
    found = 0
    for path in SOURCES:
        for call in _calls(path):
            if _name(call.func) == "torch.load":
                found += 1
                wo = _kw(call, "weights_only")
                assert isinstance(wo, ast.Constant) and wo.value is True, (
                    f"{path}:{call.lineno}: torch.load without weights_only=True would unpickle code"
                )
    assert found >= 2  # the model bundle and user CHGNet files


UNSAFE = {
    "pickle.load", "pickle.loads", "cPickle.load", "dill.load", "joblib.load", "pd.read_pickle", "pandas.read_pickle",
    "yaml.load", "yaml.unsafe_load", "yaml.full_load", "yaml.load_all", "CHGNet.from_file", "eval", "exec",
    "os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput",
}
# reviewed exceptions: (file, call) -> why it is safe
ALLOWED = {
    ("src/linmr/dft/pyscf_patches.py", "exec"): "recompiles pyscf-properties' own source with a fixed line; no user input",
}


def test_no_unsafe_loader_or_shell_call_in_the_package():
    for path in SOURCES:
        rel = path.relative_to(ROOT).as_posix()
        for call in _calls(path):
            name = _name(call.func)
            if (rel, name) in ALLOWED:
                continue
            assert name not in UNSAFE, f"{path}:{call.lineno}: {name} (unsafe loader or shell)"
            if name.startswith("subprocess."):
                shell = _kw(call, "shell")
                assert shell is None or (isinstance(shell, ast.Constant) and shell.value is False), (
                    f"{path}:{call.lineno}: subprocess with shell=True"
                )
                cmd = call.args[0] if call.args else _kw(call, "args")
                assert isinstance(cmd, (ast.List, ast.Name)), f"{path}:{call.lineno}: command must be an argv list"
            if name.endswith("np.load") or name.endswith("numpy.load"):
                ap = _kw(call, "allow_pickle")
                assert ap is None or (isinstance(ap, ast.Constant) and ap.value is False), f"{path}:{call.lineno}"
        text = path.read_text()
        assert not re.search(r"YAML\(\s*typ\s*=\s*['\"]unsafe", text), f"{path}: ruamel unsafe loader"


def test_rules_never_put_config_into_a_shell():
    """Rules run scripts (script:); any shell: must quote every placeholder with :q."""
    for path in RULE_FILES:
        text = path.read_text()
        for block in re.findall(r"^\s*shell:\s*\n?(.*?)(?=^\s*\w+:|\Z)", text, flags=re.M | re.S):
            for field in re.findall(r"(?<!\{)\{([^{}]+)\}(?!\})", block):
                assert field.endswith(":q") or field in ("threads", "resources.mem_mb"), (
                    f"{path}: shell placeholder {{{field}}} is not quoted with :q"
                )
        assert not re.search(r"os\.system|subprocess\.[a-z_]+\(.*shell\s*=\s*True", text), path


def test_yaml_configs_need_no_unsafe_tags():
    for path in [ROOT / "config/config.yaml", ROOT / "config/paper.yaml", ROOT / "tests/micro.yaml"]:
        yaml.safe_load(path.read_text())
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.safe_load("run_name: !!python/object/apply:os.system ['touch /tmp/linmr-pwned']")


@pytest.mark.parametrize(
    "key, value",
    [
        (["species", "solvent", "name"], "DME;rm"),
        (["species", "anion", "name"], "$(touch x)"),
        (["dft", "method"], "PBE\ntask shell 'touch x'"),
        (["dft", "basis", "Li"], "6-31G* `touch x`"),
        (["descriptor", "species"], ["Li", "C", "H", "O", "N", "S", "F", "$(id)"]),
        (["dft", "reference", "name"], "$(touch x)"),  # only names the code knows
        (["dft", "level_check"], {"n_clusters": 4, "basis": {"default": "6-31G*\n! Opt"}}),
        (["md", "lammps_executable"], "lmp; touch x"),
    ],
)
def test_strings_that_reach_files_or_programs_are_restricted(key, value):
    """Values written into packmol/NWChem inputs or used in file names only take plain tokens."""
    cfg = copy.deepcopy(GOOD)
    node = cfg
    for k in key[:-1]:
        node = node[k]
    node[key[-1]] = value
    with pytest.raises(LinmrError, match=re.escape(".".join(key))):
        prepare(cfg, load_schema(ROOT / "workflow/schemas/config.schema.yaml"))


@pytest.mark.slow
def test_shell_metacharacters_in_config_and_file_names_run_nothing(tmp_path):
    """A real run of the box job with metacharacters in every free-text config value and in the config
    file's name: the job succeeds, the strings land verbatim, and no command they hold ever runs."""
    for name in ("Snakefile", "workflow", "scripts", "config", "profiles", "envs"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    pwned = tmp_path / "pwned"
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    evil = f"$(touch {pwned}); rm -rf {victim}; `touch {pwned}` && touch {pwned} | touch {pwned} '\" > {pwned}"
    cfg = copy.deepcopy(GOOD)
    cfg["run_name"] = evil[:100]
    cfg["density_source"] = evil
    cfg_name = f"cfg $(touch {pwned.name}); `touch {pwned.name}`.yaml"
    (tmp_path / cfg_name).write_text(yaml.safe_dump(cfg))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "snakemake", "--cores", "1", "--configfile", cfg_name, "--printshellcmds",
           "results/boxes/1M.json"]
    out = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    import json

    meta = json.loads((tmp_path / "results/boxes/1M.json").read_text())
    assert meta["density_source"] == evil  # stored verbatim, never interpreted
    assert not pwned.exists() and victim.read_text() == "keep me"
    assert not list(tmp_path.rglob("pwned*"))
