"""Malformed configs: each is refused before any job runs, by linmr's own error naming the key path
and what is allowed (schema + cross-field checks, the function the Snakefile calls), and two
through a real ``snakemake`` run that must stop before it makes any output."""
import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from linmr import LinmrError
from linmr.config import check_runtime, load_schema, prepare
from linmr.dft import require_dft_executable

from .conftest import ROOT

SCHEMA = load_schema(ROOT / "workflow/schemas/config.schema.yaml")
RAW = yaml.safe_load((ROOT / "tests/micro.yaml").read_text())
GOOD = prepare(copy.deepcopy(RAW), SCHEMA)


def _set(path, value):
    def mutate(c):
        *head, last = path
        node = c
        for k in head:
            node = node[k]
        node[last] = value
    return mutate


def _pop(path):
    def mutate(c):
        *head, last = path
        node = c
        for k in head:
            node = node[k]
        del node[last]
    return mutate


def _conc(*rows):
    def mutate(c):
        c["concentrations"] = [dict(molarity_mol_L=m, density_g_cm3=d, n_salt=n) for m, d, n in rows]
    return mutate


def _many(*fns):
    def mutate(c):
        for f in fns:
            f(c)
    return mutate


# (id, mutation of the micro config, substrings the message must contain: key path and allowed values)
CASES = [
    ("enum", _set(["md", "engine"], "gromacs"), ["md.engine", "'gromacs'", "allowed values", "'ase'", "'lammps'"]),
    ("typo-key", _set(["md", "temprature_K"], 300), ["md.temprature_K", "did you mean 'temperature_K'", "allowed keys"]),
    ("top-typo", _set(["sead"], 3), ["'sead'", "did you mean 'seed'"]),
    ("missing", _pop(["md", "stride"]), ["'md'", "missing required key(s) ['stride']"]),
    ("missing-section", _pop(["model"]), ["<top level>", "['model']"]),
    ("type-str", _set(["concentrations", 1, "density_g_cm3"], "heavy"),
     ["concentrations[1].density_g_cm3", "expected number", "g/cm^3"]),
    ("type-bool", _set(["model", "ensemble"], True), ["model.ensemble", "expected integer"]),
    ("type-float", _set(["seed"], 1.5), ["'seed'", "expected integer"]),
    ("range-neg", _set(["md", "timestep_fs"], -1.0), ["md.timestep_fs", "allowed range (0, 5]", "(fs)"]),
    ("range-zero-conc", _set(["concentrations", 0, "molarity_mol_L"], 0),
     ["concentrations[0].molarity_mol_L", "allowed range (0, 8]"]),
    ("range-hot", _set(["md", "temperature_K"], 5000), ["md.temperature_K", "(0, 2000]", "(K)"]),
    ("backend", _set(["dft", "backend"], "vasp"), ["dft.backend", "'pyscf'", "'orca'"]),
    ("device", _set(["md", "device"], "tpu"), ["md.device", "['cpu', 'cuda']"]),
    ("empty-run-name", _set(["run_name"], ""), ["run_name", "minLength"]),
    ("hidden-empty", _set(["model", "hidden"], []), ["model.hidden", "[]"]),
    ("split-len", _set(["model", "split_fractions"], [0.5, 0.5]), ["model.split_fractions"]),
    ("not-a-mapping", lambda c: c.clear() or c.update({"x": [1]}), ["unknown key 'x'"]),
    # cross-field
    ("unknown-element", _set(["descriptor", "species"], ["Li", "C", "H", "O", "N", "S", "F", "Xx"]),
     ["descriptor.species", "unknown element", "'Xx'"]),
    ("element-missing", _set(["descriptor", "species"], ["Li", "C", "H", "O", "N", "F"]),
     ["descriptor.species", "['S']", "species.*.smiles"]),
    ("donor-element", _set(["clusters", "donor_elements"], ["O", "Q"]), ["clusters.donor_elements", "'Q'"]),
    ("bad-smiles", _set(["species", "solvent", "smiles"], "C1CC(("), ["species.solvent.smiles", "RDKit"]),
    ("same-names", _set(["species", "anion", "name"], "DME"), ["'species'", "names must differ"]),
    ("duplicate-conc", _conc((1.0, 0.979, 1), (1.0004, 0.979, 1)), ["'concentrations'", "duplicate", "1M"]),
    ("salt-heavier-than-solution", _conc((6.0, 1.0, 6)), ["concentrations[0]", "weighs more than a litre"]),
    ("beyond-solubility", _conc((5.0, 1.3, 5)), ["concentrations[0].molarity_mol_L", "solvent per salt", "solubility"]),
    ("density-not-rising", _conc((1.0, 0.979, 1), (2.0, 1.9, 2), (3.0, 1.2, 3)),
     ["concentrations[2].density_g_cm3", "must rise with concentration"]),
    ("soap-cut-vs-box", _many(_conc((4.0, 1.311, 1)), _set(["descriptor", "r_cut_A"], 8.0)),
     ["concentrations[0].n_salt", "7.75 A wide", "descriptor.r_cut_A = 8.0", "below the box edge"]),
    ("cluster-cut-vs-box", _many(_set(["clusters", "r_cut_A"], 7.5)),
     ["clusters.r_cut_A = 7.5", "half the box edge"]),
    ("stride", _set(["md", "stride"], 50), ["md.stride", "md.prod_steps = 24", "no frame"]),
    ("skip-frames", _set(["clusters", "skip_frames"], 6), ["clusters.skip_frames", "allowed: 0 to 5"]),
    ("window", _set(["spectra", "window_ps"], 1.0), ["spectra.window_ps", "0.024 ps", "(0, 0.024]"]),
    ("split-sum", _set(["model", "split_fractions"], [0.7, 0.2, 0.2]), ["model.split_fractions", "sum to 1"]),
    ("patience", _set(["model", "patience"], 100), ["model.patience", "model.max_epochs = 60"]),
    ("mace-no-model", _set(["md", "potential"], "mace"), ["md.model_path", "'mace'"]),
    ("giao-df", _set(["dft", "density_fit"], False), ["dft.giao_density_fit", "dft.density_fit: true"]),
    ("no-reference", _set(["dft", "reference"], {"name": None, "sigma_ref_ppm": None}), ["dft.reference"]),
    # chemistry from the SMILES: a declared charge that disagrees is refused
    ("anion-charge", _set(["species", "anion", "charge"], -2), ["species.anion.charge", "-2 e", "formal charge -1 e"]),
    ("solvent-charge", _set(["species", "solvent", "charge"], 1), ["species.solvent.charge", "formal charge 0 e"]),
    ("anion-smiles-neutral", _many(_set(["species", "anion", "smiles"], "FS(=O)(=O)NS(F)(=O)=O"),
                                   _pop(["species", "anion", "charge"])), ["species.anion.smiles", "must be negative"]),
    ("radical", _many(_set(["species", "solvent", "smiles"], "C[CH2]"), _pop(["species", "solvent", "charge"])),
     ["species.solvent.smiles", "radical"]),
    # errors that used to arrive hours late, inside a job
    ("second-shell-inside-first", _set(["clusters", "second_shell_r_cut_A"], 2.0),
     ["clusters.second_shell_r_cut_A", "must exceed clusters.r_cut_A = 2.6"]),
    ("second-shell-beyond-half-box", _set(["clusters", "second_shell_r_cut_A"], 7.0),
     ["concentrations[0].n_salt", "clusters.second_shell_r_cut_A = 7.0", "half the box edge"]),
    ("unknown-reference", _set(["dft", "reference"], {"name": "LiCl", "sigma_ref_ppm": None}),
     ["dft.reference.name", "'LiCl'", "Li(H2O)4+"]),
    ("missing-experimental-csv", _set(["spectra", "experimental_csv"], "no/such/file.csv"),
     ["spectra.experimental_csv", "does not exist"]),
    ("level-check-basis-newline", _set(["dft", "level_check"], {"n_clusters": 4, "basis": {"default": "6-31G*\n"}}),
     ["dft.level_check.basis.default", "not allowed in an external program's input"]),
    ("level-check-basis-injection", _set(["dft", "level_check"], {"n_clusters": 4, "basis": {"default": "def2-SVP\n! Opt"}}),
     ["dft.level_check.basis"]),
    ("method-newline", _set(["dft", "method"], "PBE\n"), ["dft.method", "external program"]),
    ("level-check-one", _set(["dft", "level_check"], {"n_clusters": 1, "basis": {"default": "6-31G*"}}),
     ["dft.level_check.n_clusters"]),
    ("basis-gap", _set(["dft", "level_check"], {"n_clusters": 4, "basis": {"Li": "6-31G*", "O": "6-31G*"}}),
     ["dft.level_check.basis", "'default'"]),
    ("heat-above-target", _set(["md", "heat_start_K"], 400.0), ["md.heat_start_K", "above md.temperature_K"]),
    ("reuse-lr-below-stop", _many(_set(["md", "engine"], "lammps"), _set(["md", "potential"], "deepmd"),
                                  _set(["potential"], {"n_salt": [1, 1], "deepmd": {"reuse_steps": 100, "reuse_start_lr": 1e-6,
                                                                  "stop_lr": 1e-5}})),
     ["potential.deepmd.stop_lr", "reuse_start_lr"]),
    ("student-explore-shorter-than-stride", _many(_set(["md", "engine"], "lammps"), _set(["md", "potential"], "deepmd"),
                                                 _set(["potential"], {"n_salt": [1, 1], "explore_stride": 10,
                                                                      "student_explore_steps": 5})),
     ["potential.explore_stride", "potential.student_explore_steps = 5"]),
    ("final-steps-round-before-round-1", _many(_set(["md", "engine"], "lammps"), _set(["md", "potential"], "deepmd"),
                                              _set(["potential"], {"n_salt": [1, 1], "rounds": 2,
                                                                   "deepmd": {"final_steps_round": -2}})),
     ["potential.deepmd.final_steps_round", "-2", "potential.rounds = 2"]),
    ("level-study-unknown-reference", _set(["dft", "level_study"], {"reference": "PBE0/def2-QZVP"}),
     ["dft.level_study.reference", "'PBE0/def2-QZVP'", "PBE/pcSseg-2"]),
    ("level-study-duplicate", _set(["dft", "level_study"], {"levels": [
        {"name": "a", "method": "PBE", "basis": {"default": "6-31G"}, "density_fit": True},
        {"name": "a", "method": "PBE", "basis": {"default": "6-31G*"}, "density_fit": True}], "reference": "a"}),
     ["dft.level_study.levels", "unique"]),
    ("level-study-basis-newline", _set(["dft", "level_study"], {"levels": [
        {"name": "a", "method": "PBE", "basis": {"default": "6-31G*\n"}, "density_fit": True}], "reference": "a"}),
     ["dft.level_study.levels[0].basis.default", "external program"]),
    ("model-file-missing", _many(_set(["md", "potential"], "mace"), _set(["md", "model_path"], "no/such.model")),
     ["md.model_path", "does not exist"]),
]


def test_good_configs_pass():
    for name in ("config/config.yaml", "config/paper.yaml", "tests/micro.yaml"):
        prepare(yaml.safe_load((ROOT / name).read_text()), SCHEMA)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_malformed_config_is_refused_with_key_and_allowed_values(case):
    _, mutate, expected = case
    cfg = copy.deepcopy(RAW)
    mutate(cfg)
    with pytest.raises(LinmrError) as err:
        prepare(cfg, SCHEMA)
    msg = str(err.value)
    for part in expected:
        assert part in msg, f"{part!r} not in: {msg}"


def test_charges_come_from_the_smiles():
    cfg = copy.deepcopy(RAW)
    for role in ("cation", "anion", "solvent"):
        cfg["species"][role].pop("charge")
    out = prepare(cfg, SCHEMA)
    assert [out["species"][r]["charge"] for r in ("cation", "anion", "solvent")] == [1, -1, 0]


def test_experimental_csv_is_checked_before_planning(tmp_path):
    bad = tmp_path / "exp.csv"
    bad.write_text("conc,shift\n1,0.1\n")
    cfg = copy.deepcopy(RAW)
    cfg.setdefault("spectra", {})["experimental_csv"] = str(bad)
    with pytest.raises(LinmrError, match="lacks column"):
        prepare(cfg, SCHEMA)
    bad.write_text("concentration_mol_L,delta_ppm\n1,abc\n")
    with pytest.raises(LinmrError, match="not numbers"):
        prepare(copy.deepcopy(cfg), SCHEMA)
    bad.write_text("concentration_mol_L,delta_ppm,source\n1,-0.2,lit\n")
    prepare(copy.deepcopy(cfg), SCHEMA)


def test_at_least_twenty_cases():
    assert len(CASES) >= 20


def test_every_error_is_listed_at_once():
    cfg = copy.deepcopy(RAW)
    cfg["md"]["engine"] = "x"
    cfg["seed"] = -1
    cfg["spectra"]["linewidth_Hz"] = 0
    with pytest.raises(LinmrError) as err:
        prepare(cfg, SCHEMA)
    assert all(k in str(err.value) for k in ("md.engine", "'seed'", "spectra.linewidth_Hz"))


def test_every_schema_leaf_has_a_description():
    def walk(node, path):
        if "properties" in node:
            for k, sub in node["properties"].items():
                walk(sub, path + [k])
        elif isinstance(node.get("items"), dict) and "properties" in node["items"]:
            walk(node["items"], path + ["[]"])
        elif "$ref" not in node:
            assert node.get("description"), f"schema key {'.'.join(map(str, path))} has no description"

    walk(SCHEMA, [])
    for d in SCHEMA.get("definitions", {}).values():
        walk(d, ["definitions"])


# runtime checks (the Snakefile's onstart: a real run, before any job; not -n)
def _no_exe(name):
    return None


def test_runtime_dft_executable_missing_locally():
    cfg = copy.deepcopy(GOOD)
    cfg["dft"]["backend"] = "nwchem"
    with pytest.raises(LinmrError, match=r"dft\.backend.*nwchem.*not on PATH.*'pyscf'"):
        check_runtime(cfg, local=True, which=_no_exe)
    check_runtime(cfg, local=False, which=_no_exe)  # cluster profile: checked on the compute node
    check_runtime(cfg, local=True, which=lambda n: f"/opt/bin/{n}")


def test_dft_job_checks_its_executable_on_its_own_node():
    dft = {**GOOD["dft"], "backend": "orca"}
    with pytest.raises(LinmrError, match=r"dft\.backend.*'orca'.*orca.*not on PATH for this DFT job"):
        require_dft_executable(dft, which=_no_exe, where="this DFT job")
    require_dft_executable(GOOD["dft"], which=_no_exe)  # pyscf needs no executable


def test_runtime_unimplemented_or_missing_backend():
    cfg = copy.deepcopy(GOOD)
    cfg["dft"]["backend"] = "gaussian"
    with pytest.raises(LinmrError, match=r"dft\.backend.*(unknown DFT backend|g16)"):
        check_runtime(cfg, local=True, which=_no_exe)


def test_runtime_model_file_missing(tmp_path):
    cfg = copy.deepcopy(GOOD)
    cfg["md"]["model_path"] = str(tmp_path / "nope.pt")
    with pytest.raises(LinmrError, match=r"md\.model_path.*nope\.pt.*does not exist"):
        prepare(cfg, SCHEMA)  # before planning, not only at the start of a real run
    check_runtime(copy.deepcopy(GOOD), local=True)


# the real entry: snakemake itself, in a throwaway copy of the project
def _project(tmp_path: Path) -> Path:
    for name in ("Snakefile", "workflow", "scripts", "config", "profiles", "envs"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    return tmp_path


def _snakemake(cwd: Path, cfg: dict, *extra, path=None):
    (cwd / "bad.yaml").write_text(yaml.safe_dump(cfg))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    if path is not None:
        env["PATH"] = path
    cmd = [sys.executable, "-m", "snakemake", "--cores", "1", "--configfile", "bad.yaml", *extra]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
def test_snakemake_refuses_bad_config_before_any_job(tmp_path):
    proj = _project(tmp_path)
    cfg = copy.deepcopy(GOOD)
    cfg["md"]["temperature_K"] = "300 K"
    cfg["dft"]["backend"] = "gaussian09"
    out = _snakemake(proj, cfg, "-n")
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert "LinmrError" in text and "md.temperature_K" in text and "expected number" in text
    assert "dft.backend" in text and "'pyscf'" in text
    out = _snakemake(proj, cfg)  # a real run: still nothing runs
    assert out.returncode != 0 and "md.temperature_K" in out.stdout + out.stderr
    assert not (proj / "results").exists() and not (proj / "logs").exists()


@pytest.mark.slow
def test_snakemake_refuses_missing_dft_executable_before_any_job(tmp_path):
    proj = _project(tmp_path)
    cfg = copy.deepcopy(GOOD)
    cfg["dft"]["backend"] = "nwchem"
    tools = tmp_path / "bin"  # the slurm plugin asks `which` at start-up; nwchem is not offered
    tools.mkdir()
    for tool in ("which", "git"):
        if shutil.which(tool):
            (tools / tool).symlink_to(shutil.which(tool))
    bindir = os.pathsep.join([str(Path(sys.executable).parent), str(tools)])
    out = _snakemake(proj, cfg, "-n", path=bindir)
    assert out.returncode == 0, out.stderr[-2000:]  # planning is fine: the executable is needed only to run
    out = _snakemake(proj, cfg, path=bindir)
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert "dft.backend" in text and "nwchem" in text and "not on PATH" in text, text[-3000:]
    assert not (proj / "results").exists()


# ------------------------------------------------------------------ one pass: coerce, defaults, checks

def test_defaults_come_from_the_schema_and_every_key_exists():
    cfg = copy.deepcopy(RAW)
    for section, key in (("clusters", "selection"), ("spectra", "n_blocks"), ("model", "active_learning")):
        cfg[section].pop(key, None)
    prepare(cfg, SCHEMA)
    props = SCHEMA["properties"]
    assert cfg["clusters"]["selection"] == props["clusters"]["properties"]["selection"]["default"] == "round_robin"
    assert cfg["spectra"]["n_blocks"] == props["spectra"]["properties"]["n_blocks"]["default"]
    assert cfg["model"]["active_learning"] == {"rounds": 0, "per_round": 4}
    assert cfg["md"]["lammps_executable"] == "lmp" and cfg["dft"]["level_check"]["n_clusters"] == 10


def test_command_line_strings_become_the_numbers_the_schema_asks_for():
    """``--config 'md={prod_steps: 400}'`` reaches the Snakefile with string leaves."""
    cfg = copy.deepcopy(RAW)
    cfg["md"].update(prod_steps="48", timestep_fs="0.5", device="cpu")
    cfg["dft"]["density_fit"] = "true"
    cfg["spectra"]["window_ps"] = "null"
    cfg["model"]["hidden"] = ["16", "8"]
    cfg["run_name"] = "123"  # a string key stays a string
    prepare(cfg, SCHEMA)
    assert cfg["md"]["prod_steps"] == 48 and isinstance(cfg["md"]["prod_steps"], int)
    assert cfg["md"]["timestep_fs"] == 0.5 and cfg["dft"]["density_fit"] is True
    assert cfg["spectra"]["window_ps"] is None and cfg["model"]["hidden"] == [16, 8] and cfg["run_name"] == "123"
    bad = copy.deepcopy(RAW)
    bad["md"]["prod_steps"] = "forty"
    with pytest.raises(LinmrError, match=r"md\.prod_steps.*expected integer.*'forty'"):
        prepare(bad, SCHEMA)


def test_paper_config_is_complete_on_its_own():
    """Every key a paper run uses is written in config/paper.yaml (none comes from a schema default)."""
    raw = yaml.safe_load((ROOT / "config/paper.yaml").read_text())

    def leaves(d, path=()):
        if isinstance(d, dict):
            for k, v in d.items():
                yield from leaves(v, path + (k,))
        else:
            yield path

    full = prepare(copy.deepcopy(raw), SCHEMA)
    assert set(leaves(full)) == set(leaves(raw))


@pytest.mark.slow
def test_a_config_file_on_the_command_line_is_not_merged_with_the_demo(tmp_path):
    """With --configfile the demo's config/config.yaml is not read, so no demo key leaks into the run: here
    the copy's demo config holds a value the schema refuses, and a file without that key plans cleanly."""
    proj = _project(tmp_path)
    demo = yaml.safe_load((proj / "config/config.yaml").read_text())
    demo["clusters"]["frame_stride"] = 0
    (proj / "config/config.yaml").write_text(yaml.safe_dump(demo))
    cfg = copy.deepcopy(RAW)
    cfg["clusters"].pop("frame_stride", None)
    out = _snakemake(proj, cfg, "-n", "--quiet", "rules")
    assert out.returncode == 0, out.stderr[-2000:]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    demo_run = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1"], cwd=proj,
                              capture_output=True, text=True, env=env, timeout=300)
    assert demo_run.returncode != 0 and "clusters.frame_stride" in demo_run.stdout + demo_run.stderr


@pytest.mark.slow
def test_nested_command_line_override_of_a_number_plans(tmp_path):
    proj = _project(tmp_path)
    out = _snakemake(proj, RAW, "-n", "--quiet", "rules", "--config", "md={prod_steps: 48, stride: 4}")
    assert out.returncode == 0, (out.stdout + out.stderr)[-2000:]


# ------------------------------------------------------------------ what each engine needs, and where

def _fake_lmp(tmp_path, knows_deepmd: bool) -> str:
    """An executable standing in for lmp: answers the pair_style probe as a build with or without DeePMD does."""
    exe = tmp_path / ("lmp_dp" if knows_deepmd else "lmp_plain")
    msg = ("ERROR on proc 0: DeePMD-kit C API Error: DeePMD-kit Error: Failed to open file: /nonexistent/linmr-probe.pb"
           if knows_deepmd else "ERROR: Unrecognized pair style 'deepmd' (src/force.cpp:275)")
    exe.write_text(f"#!/bin/sh\necho '{msg}'\nexit 1\n")
    exe.chmod(0o755)
    return str(exe)


def test_lammps_engine_needs_lmp_with_pair_style_deepmd_not_the_python_package(tmp_path):
    cfg = prepare(yaml.safe_load((ROOT / "config/paper.yaml").read_text()), SCHEMA)
    model = tmp_path / "model.pb"
    model.write_bytes(b"graph")
    cfg["md"]["model_path"] = str(model)  # a user model: the potential stage is skipped
    cfg["dft"]["backend"] = "pyscf"
    no_deepmd = lambda name: None if name.split(".")[0] == "deepmd" else object()  # noqa: E731
    cfg["md"]["lammps_executable"] = _fake_lmp(tmp_path, knows_deepmd=True)
    check_runtime(cfg, local=True, find_spec=no_deepmd)  # a local run: lmp with pair_style deepmd is enough
    cfg["md"]["lammps_executable"] = _fake_lmp(tmp_path, knows_deepmd=False)
    with pytest.raises(LinmrError, match=r"md\.potential.*pair_style deepmd.*no pair_style deepmd"):
        check_runtime(cfg, local=True, find_spec=no_deepmd)
    # on a cluster the login node is asked for nothing the MD node needs
    check_runtime(cfg, local=False, which=_no_exe, find_spec=no_deepmd)


def test_potential_stage_needs_deepmd_and_the_teacher_where_its_jobs_run(tmp_path):
    from linmr import requirements

    cfg = prepare(yaml.safe_load((ROOT / "config/paper.yaml").read_text()), SCHEMA)
    cfg["md"]["lammps_executable"] = _fake_lmp(tmp_path, knows_deepmd=True)
    needs = {n.what for n in requirements.potential_needs(cfg)}
    assert {"CP2K", "deepmd-kit (dp, Python API) to train the student", "the MLIP package of 'chgnet'"} <= needs
    with pytest.raises(LinmrError, match=r"potential\.cp2k\.executable.*CP2K.*cp2k\.psmp"):
        requirements.check(requirements.potential_needs(cfg, which=lambda n: None if "cp2k" in n else shutil.which(n)),
                           "this node")


def _flat(d, prefix=""):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


# what config/rehearsal.yaml may change against config/paper.yaml: sizes, the teacher (CHGNet: CP2K labels enough
# for a stable student cost half an hour here) and the DFT program and level (ORCA is not installable here;
# PySCF at the demo's level runs in minutes)
REHEARSAL_SIZES = {
    "run_name", "concentrations", "potential.n_salt", "potential.rounds", "potential.ensemble",
    "potential.explore_steps", "potential.candidates_per_box", "potential.explore_stride",
    "potential.frames_per_round", "potential.test_every", "potential.stretch_frames",
    "potential.threads", "potential.teacher", "potential.explorer", "potential.deepmd.embedding_neurons", "potential.deepmd.axis_neuron",
    "potential.deepmd.fitting_neurons", "potential.deepmd.numb_steps", "potential.deepmd.start_lr",
    "potential.deepmd.stop_lr", "potential.cp2k.basis", "potential.cp2k.cutoff_Ry", "potential.cp2k.rel_cutoff_Ry",
    "md.threads", "md.min_steps", "md.heat_steps", "md.npt_steps", "md.prod_steps", "md.stride",
    "md.checkpoint_every_steps", "md.bond_check.every_steps", "clusters.per_concentration", "clusters.bundle_size",
    "clusters.skip_frames", "clusters.frame_stride", "descriptor.n_max", "descriptor.l_max", "model.hidden",
    "model.ensemble", "model.max_epochs", "model.patience", "model.cv_folds", "model.learning_curve",
    "model.active_learning.rounds", "model.active_learning.per_round", "spectra.window_ps", "spectra.n_blocks",
    "dft.backend", "dft.method", "dft.basis.Li", "dft.basis.O", "dft.basis.N", "dft.basis.default",
    "dft.giao_density_fit", "dft.grid_level",
    "dft.max_memory_mb", "dft.threads", "dft.max_failed_fraction", "dft.level_check.n_clusters",
    "dft.level_check.basis.Li", "dft.level_check.basis.default", "dft.level_study.n_clusters",
    "dft.level_study.reference", "dft.level_study.levels", "dft.level_study.size_level", "dft.level_study.radii_A",
}


def test_rehearsal_keeps_every_paper_setting_but_sizes():
    paper = _flat(prepare(yaml.safe_load((ROOT / "config/paper.yaml").read_text()), SCHEMA))
    rehearsal = _flat(prepare(yaml.safe_load((ROOT / "config/rehearsal.yaml").read_text()), SCHEMA))
    changed = {k for k in paper.keys() | rehearsal.keys() if paper.get(k) != rehearsal.get(k)}
    assert changed <= REHEARSAL_SIZES, sorted(changed - REHEARSAL_SIZES)
    # the paper's path itself: LAMMPS + the DeePMD student trained in the campaign from CP2K, GPU rules on GPUs
    assert rehearsal["md.engine"] == "lammps" and rehearsal["md.potential"] == "deepmd"
    assert rehearsal["md.model_path"] is None and rehearsal["potential.teacher"] == "chgnet"
    assert rehearsal["md.device"] == "cuda"
