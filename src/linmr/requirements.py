"""What each engine needs, and where: checked on the machine that runs the job.

Each stage declares its needs from the config: an executable on PATH, a Python package, LAMMPS with a given
``pair_style`` (``deepmd``), a file. A job checks its own needs on its node when it starts (:func:`check`,
called by the rule's package function); the Snakefile's ``onstart`` checks them all only where the jobs run on
this machine (a local run). On a cluster the login node is asked for nothing an engine needs on the compute
node: ``md.engine: lammps`` needs an ``lmp`` with ``pair_style deepmd`` where MD runs, not deepmd-kit's Python
package on the login node.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib.util import find_spec as _find_spec
from pathlib import Path
from typing import Callable

from . import LinmrError


@dataclass(frozen=True)
class Need:
    key: str  # the config key that asks for it
    what: str  # human description
    probe: Callable[[], str | None]  # None when met, else the reason

    def check(self, where: str) -> None:
        reason = self.probe()
        if reason:
            raise LinmrError(f"config key {self.key!r}: {self.what} is missing on {where}: {reason}")


def executable(name: str, which=shutil.which) -> Callable[[], str | None]:
    def probe():
        return None if which(name) or Path(name).is_file() else f"{name!r} is not on PATH"
    return probe


def package(module: str, find_spec=_find_spec) -> Callable[[], str | None]:
    def probe():
        try:
            return None if find_spec(module) is not None else f"Python package {module!r} is not installed"
        except (ImportError, ValueError):
            return f"Python package {module!r} is not installed"
    return probe


LMP_PROBE = """units metal
atom_style atomic
region b block 0 10 0 10 0 10
create_box 1 b
create_atoms 1 single 5 5 5
mass 1 1.0
pair_style {style} /nonexistent/linmr-probe.pb
"""


def lammps_pair_style(executable_name: str, style: str = "deepmd", which=shutil.which, timeout_s: float = 300):
    """Probe that ``executable_name`` (``lmp``) knows ``pair_style <style>``: run a one-atom input that asks for it
    with a model file that does not exist. A build without the style stops with "Unrecognized pair style"; one
    with it (built in, as in conda-forge's, or loaded as a plugin, as in the PyPI wheel whose ``lmp -h`` does
    not list it) gets as far as opening the model."""
    def probe():
        exe = which(executable_name) or (executable_name if Path(executable_name).is_file() else None)
        if exe is None:
            return f"{executable_name!r} is not on PATH"
        with tempfile.TemporaryDirectory(prefix="linmr-lmp-probe-") as tmp:
            (Path(tmp) / "in.probe").write_text(LMP_PROBE.format(style=style))
            try:
                out = subprocess.run([exe, "-in", "in.probe", "-log", "none"], cwd=tmp, capture_output=True,
                                     text=True, timeout=timeout_s)
            except (OSError, subprocess.TimeoutExpired) as exc:
                return f"{exe} does not run ({exc})"
        text = out.stdout + out.stderr
        if "Unrecognized pair style" in text or "Unknown pair style" in text:
            return f"{exe} has no pair_style {style} (install deepmd-kit's LAMMPS plugin, or conda-forge deepmd-kit + lammps)"
        if "linmr-probe.pb" in text or style.lower() in text.lower():
            return None
        return f"{exe} gave no sign of pair_style {style}: {text.strip()[-300:]}"
    return probe


def md_needs(config: dict, which=shutil.which, find_spec=_find_spec) -> list[Need]:
    """What the md job needs on its node."""
    from .md import registry

    md = config["md"]
    entry = registry.get(md["potential"])
    if md["engine"] == "lammps":
        out = [Need("md.lammps_executable", f"LAMMPS ({md['lammps_executable']})", executable(md["lammps_executable"], which))]
        if entry.lammps_pair_style:
            out.append(Need("md.potential", f"LAMMPS pair_style {entry.lammps_pair_style}",
                            lammps_pair_style(md["lammps_executable"], entry.lammps_pair_style, which)))
        return out
    return [Need("md.potential", f"the MLIP package of {entry.name!r}", package(entry.module, find_spec))]


def potential_needs(config: dict, which=shutil.which, find_spec=_find_spec, job: str | None = None) -> list[Need]:
    """What the jobs of the potential stage need on their nodes (only where the campaign trains its potential);
    ``job`` (explore_teacher, explore, label, train) narrows it to one job's needs."""
    from .md import registry

    if not registry.trained_in_campaign(config["md"]):
        return []
    pot = config["potential"]
    explorer = pot["teacher"] if pot["explorer"] == "teacher" else pot["explorer"]
    by_job = {
        "train": [Need("md.potential", "deepmd-kit (dp, Python API) to train the student", package("deepmd", find_spec)),
                  Need("md.potential", "dpdata", package("dpdata", find_spec))],
        "explore": [Need("md.lammps_executable", "LAMMPS pair_style deepmd for the student's exploration",
                         lammps_pair_style(config["md"]["lammps_executable"], "deepmd", which))],
        "explore_teacher": [Need("potential.explorer", f"the MLIP package of {explorer!r}",
                                 package(registry.get(explorer).module, find_spec))],
        "label": ([Need("potential.cp2k.executable", "CP2K", executable(pot["cp2k"]["executable"], which))]
                  if pot["teacher"] == "cp2k" else
                  [Need("potential.teacher", f"the MLIP package of {pot['teacher']!r}",
                        package(registry.get(pot["teacher"]).module, find_spec))]),
    }
    if job is not None:
        return by_job[job]
    return [n for needs in by_job.values() for n in needs]


def dft_needs(config: dict, which=shutil.which) -> list[Need]:
    from .dft import DFT_EXECUTABLES

    names = DFT_EXECUTABLES.get(config["dft"]["backend"])
    if not names:
        return []
    return [Need("dft.backend", f"the {config['dft']['backend']} executable ({' or '.join(names)})",
                 lambda: None if any(which(n) for n in names) else f"none of {list(names)} is on PATH")]


def check(needs: list[Need], where: str = "this node") -> None:
    for need in needs:
        need.check(where)
