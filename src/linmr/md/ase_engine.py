"""The ASE MD engine (in-process MLIP): minimisation -> NVT heating -> NPT density -> NVT production.

* minimisation: FIRE to ``fmax_eV_A`` or ``min_steps`` steps;
* heating: Langevin NVT, target temperature ramped linearly from ``heat_start_K`` to
  ``temperature_K`` over ``heat_steps``;
* density: isotropic Berendsen NPT (ASE ``NPTBerendsen``: weak-coupling barostat and
  thermostat, ``taup_fs``/``taut_fs``, ``compressibility_per_bar``), chosen because it
  only relaxes the volume towards the target pressure and stays stable in a ~12 Å box
  with the large instantaneous pressure fluctuations of an MLIP (hundreds of bar); it
  does not sample the NPT ensemble, which production does not need (NVT);
* production: Langevin NVT at ``temperature_K``, frames every ``stride`` steps,
  checkpoints every ``checkpoint_every_steps`` (:mod:`linmr.md.restart`), resumable after
  SIGKILL; SIGTERM (SLURM time limit) writes a checkpoint at the current step and stops.

The bond monitor (:mod:`linmr.md.bonds`) runs every ``bond_check_every_steps`` in all
MD phases. The log of every phase (T, P, density, energies vs time) is returned as a
table (:data:`linmr.md.protocol.LOG_COLUMNS`) and plotted by :func:`linmr.analysis.plots.md_log`. Checks, frame writes and progress updates happen
only every few steps, so the driver costs about what a bare ASE Langevin loop costs.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import signal
import threading
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
from ase import Atoms, units
from ase.io.extxyz import key_val_str_to_dict, write_xyz

from .. import LinmrError
from ..fileio import copy_file, write_csv
from . import restart as rst
from .bonds import BondMonitor
from .protocol import LOG_COLUMNS, Progress, Protocol, density_drift_error, density_g_cm3, temperature_runaway_error

# ---------------------------------------------------------------- helpers

class _Term:
    """SIGTERM (SLURM's time-limit signal) sets a flag; the MD loops stop at the next chunk boundary."""

    def __init__(self):
        self.flag = False
        self._old = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGTERM, self._handler)
        return self

    def _handler(self, signum, frame):
        self.flag = True

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGTERM, self._old)


class _Stress:
    """Pressure (bar, ideal-gas part included) if the calculator gives stress, else NaN."""

    def __init__(self):
        self.ok = True

    def __call__(self, atoms: Atoms) -> float:
        if not self.ok:
            return math.nan
        try:
            s = atoms.get_stress(include_ideal_gas=True)
        except Exception:  # noqa: BLE001  calculators without stress
            self.ok = False
            return math.nan
        return float(-np.mean(s[:3]) / units.bar)


def _row(atoms: Atoms, phase: str, step: int, time_ps: float, pressure) -> dict:
    epot = float(atoms.get_potential_energy())
    return {
        "phase": phase, "step": int(step), "time_ps": float(time_ps),
        "temperature_K": float(atoms.get_temperature()), "pressure_bar": pressure(atoms),
        "density_g_cm3": density_g_cm3(atoms), "potential_energy_eV": epot,
        "total_energy_eV": epot + float(atoms.get_kinetic_energy()), "fmax_eV_A": math.nan,
    }


def protocol_key(atoms: Atoms, proto: Protocol, potential: str) -> str:
    """Hash of the starting box, the protocol and the potential: a checkpoint is reused only if it matches."""
    h = hashlib.sha256()
    h.update(json.dumps({"protocol": asdict(proto), "potential": potential}, sort_keys=True).encode())
    h.update(np.ascontiguousarray(atoms.numbers, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(atoms.positions, dtype=np.float64).round(6).tobytes())
    h.update(np.ascontiguousarray(atoms.cell.array, dtype=np.float64).round(6).tobytes())
    return h.hexdigest()


def _read_info_lines(path: Path) -> list[dict]:
    """``atoms.info`` of every frame of an extxyz file (comment lines only, positions skipped)."""
    out = []
    with open(path) as fh:
        while True:
            head = fh.readline()
            if not head.strip():
                break
            n = int(head)
            out.append(key_val_str_to_dict(fh.readline()))
            for _ in range(n):
                fh.readline()
    return out


# ---------------------------------------------------------------- phases

def _check_term(term: _Term, phase: str, step: int) -> None:
    if term.flag:
        raise LinmrError(
            f"MD stopped by SIGTERM in phase {phase} at step {step}; no checkpoint before production, "
            "the rerun repeats the equilibration"
        )


def _equilibrate(atoms, proto: Protocol, monitor: BondMonitor, term: _Term, progress: bool, log) -> tuple[list, dict]:
    from ase.md.langevin import Langevin
    from ase.md.nptberendsen import NPTBerendsen
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary
    from ase.optimize import FIRE

    rows, timings = [], {}
    pressure = _Stress()
    t0 = time.perf_counter()
    if proto.min_steps > 0:
        opt = FIRE(atoms, logfile=None)

        def _log_min():
            f = atoms.get_forces()
            rows.append({**_row(atoms, "minimise", opt.nsteps, math.nan, pressure),
                         "fmax_eV_A": float(np.sqrt((f**2).sum(axis=1).max()))})

        opt.attach(_log_min, interval=1)
        opt.run(fmax=proto.fmax_eV_A, steps=proto.min_steps)
        log(f"minimisation: {opt.nsteps} FIRE steps, E = {atoms.get_potential_energy():.3f} eV")
    timings["minimise_s"] = time.perf_counter() - t0
    _check_term(term, "minimise", proto.min_steps)

    rng = np.random.default_rng(proto.seed)
    MaxwellBoltzmannDistribution(atoms, temperature_K=proto.heat_start_K if proto.heat_steps else proto.temperature_K,
                                 rng=rng)
    Stationary(atoms)
    dt = proto.timestep_fs * units.fs
    t_ps = 0.0
    rows.append(_row(atoms, "heat", 0, t_ps, pressure))
    rho0 = density_g_cm3(atoms)  # the packed box's (minimisation and NVT heating keep the cell)
    phases = [("heat", proto.heat_steps), ("npt", proto.npt_steps)]
    for phase, n in phases:
        if n <= 0:
            timings[f"{phase}_s"] = 0.0
            continue
        if phase == "heat":
            dyn = Langevin(atoms, dt, temperature_K=proto.heat_start_K, friction=proto.friction_per_fs / units.fs,
                           fixcm=False, rng=rng)
        else:
            dyn = NPTBerendsen(
                atoms, dt, temperature_K=proto.temperature_K, pressure_au=proto.pressure_bar * units.bar,
                taut=proto.taut_fs * units.fs, taup=proto.taup_fs * units.fs,
                compressibility_au=proto.compressibility_per_bar / units.bar,
            )
        bar = Progress(phase, n, proto.timestep_fs, progress)
        step = 0
        while step < n:
            if phase == "heat":
                # linear ramp: one step at a time so the target follows the ramp
                target = proto.heat_start_K + (proto.temperature_K - proto.heat_start_K) * (step + 1) / n
                dyn.set_temperature(temperature_K=target)
                k = 1
            else:
                k = min(n - step, proto.bond_check_every_steps - step % proto.bond_check_every_steps,
                        proto.stride - step % proto.stride)
            dyn.run(k)
            step += k
            t_ps += k * proto.timestep_fs / 1000.0
            bar.update(k)
            if step % proto.bond_check_every_steps == 0 or step == n:
                monitor.check(atoms, f"phase {phase}, step {step} ({t_ps:.4f} ps after heating began)")
                _check_temperature(atoms, proto, f"phase {phase}, step {step}")
                if phase == "npt" and proto.max_density_change is not None:
                    rho = density_g_cm3(atoms)
                    if abs(rho / rho0 - 1) > proto.max_density_change:
                        raise density_drift_error(rho0, rho, f"step {step} of NPT", proto.max_density_change)
            if step % proto.stride == 0 or step == n:
                rows.append(_row(atoms, phase, step, t_ps, pressure))
            _check_term(term, phase, step)
        timings[f"{phase}_s"] = bar.close()
        r = rows[-1]
        log(f"{phase}: {n} steps, T = {r['temperature_K']:.0f} K, P = {r['pressure_bar']:.0f} bar, "
            f"density = {r['density_g_cm3']:.3f} g/cm3")
    return rows, timings


def _production(atoms, proto: Protocol, work_dir: Path, key: str, monitor: BondMonitor, term: _Term,
                progress: bool, log, t_offset_ps: float) -> dict:
    from ase.md.langevin import Langevin

    dt = proto.timestep_fs * units.fs
    n = proto.prod_steps
    ck = rst.load(work_dir, key, log=log)
    rng = np.random.default_rng([proto.seed, 1])
    pressure = _Stress()
    if ck is not None:
        rst.restore(atoms, ck)
        rng.bit_generator.state = ck["rng_state"]
        if len(ck["bond_count"]) == monitor.n_bonds:
            monitor.count = ck["bond_count"].copy()
        rst.truncate_frames(work_dir, ck["frames_bytes"])
        step, n_frames = ck["step"], ck["n_frames"]
        log(f"production: resuming from checkpoint at step {step} ({n_frames} frames kept)")
        fh = open(work_dir / rst.PARTIAL, "a")
    else:
        step, n_frames = 0, 0
        fh = open(work_dir / rst.PARTIAL, "w")
    dyn = Langevin(atoms, dt, temperature_K=proto.temperature_K, friction=proto.friction_per_fs / units.fs,
                   fixcm=False, rng=rng)

    def checkpoint():
        fh.flush()
        os.fsync(fh.fileno())
        rst.save(work_dir, atoms, step=step, n_frames=n_frames, frames_bytes=fh.tell(),
                 rng_state=rng.bit_generator.state, key=key, bond_count=monitor.count)

    if ck is None:
        checkpoint()  # the equilibrated state: a rerun after a kill skips the equilibration
    step0 = step
    bar = Progress("production", n, proto.timestep_fs, progress, initial=step)
    every = (proto.stride, proto.checkpoint_every_steps, proto.bond_check_every_steps)
    try:
        while step < n:
            k = min([n - step] + [e - step % e for e in every])
            dyn.run(k)
            step += k
            t_ps = step * proto.timestep_fs / 1000.0
            if step % proto.bond_check_every_steps == 0:
                monitor.check(atoms, f"production step {step} (frame {step // proto.stride}, {t_ps:.4f} ps)")
                _check_temperature(atoms, proto, f"production step {step}")
            if step % proto.stride == 0:
                frame = atoms.copy()
                frame.calc = None
                frame.info.update(
                    step=int(step), time_ps=float(t_ps), temperature_K=float(atoms.get_temperature()),
                    energy_eV=float(atoms.get_potential_energy()), pressure_bar=pressure(atoms),
                    density_g_cm3=density_g_cm3(atoms),
                )
                write_xyz(fh, [frame])
                n_frames += 1
            if step % proto.checkpoint_every_steps == 0 or step == n or term.flag:
                checkpoint()
            bar.update(k, T=f"{atoms.get_temperature():.0f}K")
            if term.flag:
                raise LinmrError(
                    f"MD stopped by SIGTERM at production step {step}; checkpoint written to {work_dir}, "
                    "rerun the rule to resume"
                )
    finally:
        fh.close()
        wall = bar.close()
    return {"production_s": wall, "production_steps_this_run": step - step0, "n_frames": n_frames,
            "resumed_from_step": step0 if ck is not None else None}


def _check_temperature(atoms: Atoms, proto: Protocol, where: str) -> None:
    """Raise when the instantaneous temperature exceeds ``max_temperature_factor`` x ``temperature_K``."""
    if proto.max_temperature_factor is not None:
        t = atoms.get_temperature()
        if t > proto.max_temperature_factor * proto.temperature_K:
            raise temperature_runaway_error(proto.temperature_K, t, where, proto.max_temperature_factor)


def run_protocol(
    atoms: Atoms,
    calc,
    out_path: str | Path,
    work_dir: str | Path,
    proto: Protocol,
    *,
    potential: str = "",
    progress: bool = True,
    log=print,
) -> tuple[dict, pd.DataFrame]:
    """Run the whole protocol on ``atoms`` with ``calc``; write production frames to ``out_path``.

    ``work_dir`` holds the restart state (checkpoint, partial frames, equilibration log);
    keep it outside the rule's declared outputs. A rerun with the same box, protocol and
    ``potential`` resumes from the last checkpoint; the finished trajectory is copied to
    ``out_path`` atomically and ``work_dir`` removed. Frames carry ``step``, ``time_ps``
    (from the start of production), ``temperature_K``, ``energy_eV``, ``pressure_bar`` and
    ``density_g_cm3``. Returns (timings and final state, log table with :data:`LOG_COLUMNS`).
    """
    proto.validate()
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    key = protocol_key(atoms, proto, potential)
    atoms = atoms.copy()
    atoms.calc = calc
    monitor = BondMonitor(atoms, proto.bond_break_factor, proto.bond_persist_checks)
    log(f"bond monitor: {monitor.n_bonds} intramolecular bonds, broken = longer than {proto.bond_break_factor} x "
        f"covalent sum in {proto.bond_persist_checks} consecutive checks every {proto.bond_check_every_steps} steps")
    eq_log = work_dir / rst.EQUIL_LOG
    timings: dict = {}
    with _Term() as term:
        if rst.load(work_dir, key, log=lambda *_: None) is not None and eq_log.is_file():
            rows = pd.read_csv(eq_log).to_dict("records")
            log(f"equilibration already done (checkpoint in {work_dir}); skipping to production")
        else:
            rows, timings = _equilibrate(atoms, proto, monitor, term, progress, log)
            write_csv(eq_log, pd.DataFrame(rows, columns=LOG_COLUMNS))
        t_eq_ps = (proto.heat_steps + proto.npt_steps) * proto.timestep_fs / 1000.0
        timings.update(_production(atoms, proto, work_dir, key, monitor, term, progress, log, t_eq_ps))
    expected = proto.prod_steps // proto.stride
    if timings["n_frames"] != expected:
        raise LinmrError(f"production wrote {timings['n_frames']} frames, expected {expected} ({work_dir})")
    partial = work_dir / rst.PARTIAL
    infos = _read_info_lines(partial)
    steps = [int(i["step"]) for i in infos]
    if steps != list(range(proto.stride, proto.prod_steps + 1, proto.stride)):
        raise LinmrError(f"frames in {partial} have steps {steps[:5]}..., not every {proto.stride} steps")
    for i in infos:
        rows.append({"phase": "production", "step": int(i["step"]), "time_ps": t_eq_ps + float(i["time_ps"]),
                     "temperature_K": i["temperature_K"], "pressure_bar": i["pressure_bar"],
                     "density_g_cm3": i["density_g_cm3"], "potential_energy_eV": i["energy_eV"],
                     "total_energy_eV": math.nan, "fmax_eV_A": math.nan})
    copy_file(partial, out_path)
    shutil.rmtree(work_dir, ignore_errors=True)
    table = pd.DataFrame(rows, columns=LOG_COLUMNS)
    prod = table[table.phase == "production"]
    eq_steps = proto.heat_steps + proto.npt_steps if "heat_s" in timings else 0
    md_steps = eq_steps + timings["production_steps_this_run"]
    md_wall = sum(timings.get(k, 0.0) for k in ("heat_s", "npt_s", "production_s"))
    timings.update(
        ns_per_day=md_steps * proto.timestep_fs * 1e-6 / (md_wall / 86400.0) if md_wall > 0 else math.nan,
        final_temperature_K=float(prod.temperature_K.iloc[-1]),
        mean_production_temperature_K=float(prod.temperature_K.mean()),
        mean_production_density_g_cm3=float(prod.density_g_cm3.mean()),
        max_bond_stretch_ratio=monitor.max_ratio,
    )
    return timings, table
