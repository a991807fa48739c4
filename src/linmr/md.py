"""Machine-learning MD with ASE: minimise, then Langevin NVT; frames as extxyz.

The MLIP is chosen by name (``chgnet`` by default: its weights ship inside the
wheel, so it runs offline) through :func:`make_calculator`; adding a potential
adds a branch there, nothing in the rules.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from ase import Atoms, units
from ase.io import write

from . import LinmrError


def make_calculator(name: str, device: str = "cpu", model_path: str | None = None):
    """An ASE calculator for the MLIP ``name`` (``chgnet``; ``mace``/``deepmd`` need ``model_path``)."""
    if name == "chgnet":
        from chgnet.model import CHGNet, CHGNetCalculator

        from .validate import load_chgnet  # weights_only: CHGNet.from_file would unpickle code

        model = CHGNet.load(verbose=False) if model_path is None else load_chgnet(model_path)
        return CHGNetCalculator(model=model, use_device=device)
    if name == "mace":
        try:
            from mace.calculators import MACECalculator
        except ImportError as exc:
            raise LinmrError("md.potential 'mace' needs the package mace-torch, which is not installed") from exc
        if not model_path:
            raise LinmrError("md.potential 'mace' needs md.model_path (a MACE model file)")
        return MACECalculator(model_paths=model_path, device=device)
    if name == "deepmd":
        try:
            from deepmd.calculator import DP
        except ImportError as exc:
            raise LinmrError("md.potential 'deepmd' needs the package deepmd-kit, which is not installed") from exc
        if not model_path:
            raise LinmrError("md.potential 'deepmd' needs md.model_path (a frozen DeePMD model)")
        return DP(model=model_path)
    raise LinmrError(f"unknown MLIP {name!r} (key md.potential); choose one of: chgnet, mace, deepmd")


def potential_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    pkg = {"chgnet": "chgnet", "mace": "mace-torch", "deepmd": "deepmd-kit"}.get(name, name)
    try:
        return f"{name} {version(pkg)}"
    except PackageNotFoundError:
        return name


def _frame(atoms: Atoms, step: int, time_ps: float) -> Atoms:
    out = atoms.copy()
    out.calc = None
    out.info.update(
        step=int(step),
        time_ps=float(time_ps),
        temperature_K=float(atoms.get_temperature()),
        energy_eV=float(atoms.get_potential_energy()),
    )
    return out


def run_md(
    atoms: Atoms,
    calc,
    out_path: str | Path,
    *,
    temperature_K: float = 300.0,
    timestep_fs: float = 1.0,
    friction_per_fs: float = 0.02,
    min_steps: int = 20,
    fmax_eV_A: float = 0.2,
    equil_steps: int = 50,
    prod_steps: int = 100,
    stride: int = 10,
    seed: int = 1,
    progress: bool = True,
    log=print,
) -> dict:
    """Minimise (FIRE), equilibrate and run production Langevin NVT; write production frames.

    Frames every ``stride`` steps go to ``out_path`` (extxyz) with ``time_ps``, ``step``,
    ``temperature_K`` and ``energy_eV`` in ``atoms.info``; per-atom arrays such as
    ``mol_id`` travel with every frame. The file is written under a temporary name and
    renamed when complete. Returns timings (s) and the final temperature (K).
    """
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
    from ase.optimize import FIRE
    from tqdm import tqdm

    atoms = atoms.copy()
    atoms.calc = calc
    timings = {}
    t0 = time.perf_counter()
    if min_steps > 0:
        opt = FIRE(atoms, logfile=None)
        opt.run(fmax=fmax_eV_A, steps=min_steps)
        log(f"minimisation: {opt.nsteps} FIRE steps, E = {atoms.get_potential_energy():.3f} eV")
    timings["minimise_s"] = time.perf_counter() - t0

    rng = np.random.default_rng(seed)
    MaxwellBoltzmannDistribution(atoms, temperature_K=temperature_K, rng=rng)
    dyn = Langevin(
        atoms, timestep_fs * units.fs, temperature_K=temperature_K, friction=friction_per_fs / units.fs, rng=rng
    )
    t1 = time.perf_counter()
    with tqdm(total=equil_steps + prod_steps, desc="MD", unit="step", disable=not progress, mininterval=5) as bar:
        for _ in range(equil_steps):
            dyn.run(1)
            bar.update(1)
        timings["equilibrate_s"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        frames = []
        for k in range(1, prod_steps + 1):
            dyn.run(1)
            bar.update(1)
            if k % stride == 0:
                frames.append(_frame(atoms, k, k * timestep_fs / 1000.0))
                bar.set_postfix(T=f"{atoms.get_temperature():.0f} K")
        timings["production_s"] = time.perf_counter() - t2
    if not frames:
        raise LinmrError(f"production of {prod_steps} steps with stride {stride} wrote no frame")
    out_path = Path(out_path)
    tmp = out_path.with_name(out_path.name + ".tmp")
    write(tmp, frames, format="extxyz")
    tmp.replace(out_path)
    n_steps = equil_steps + prod_steps
    sim_ns = n_steps * timestep_fs * 1e-6
    wall = timings["equilibrate_s"] + timings["production_s"]
    timings["ns_per_day"] = sim_ns / (wall / 86400.0) if wall > 0 else float("nan")
    timings["final_temperature_K"] = float(atoms.get_temperature())
    timings["n_frames"] = len(frames)
    return timings
