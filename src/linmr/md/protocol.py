"""The MD protocol shared by both engines: its settings, its log table and its progress bar.

minimisation -> NVT heating (linear ramp) -> NPT density equilibration (Berendsen) -> NVT production.
:class:`Protocol` holds every length and constant (from the config's ``md:`` section);
:data:`LOG_COLUMNS` are the columns of ``md_log.csv`` that the ASE engine and the LAMMPS engine
both write; :class:`Progress` is the per-phase progress bar (steps, ns/day, ETA) both show in the
rule's log.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from pathlib import Path

from ase import Atoms

from .. import LinmrError
from ..fileio import atomic_path

AMU_PER_A3_TO_G_CM3 = 1.66053906660

LOG_COLUMNS = [
    "phase", "step", "time_ps", "temperature_K", "pressure_bar", "density_g_cm3",
    "potential_energy_eV", "total_energy_eV", "fmax_eV_A",
]


@dataclass(frozen=True)
class Protocol:
    temperature_K: float = 300.0
    pressure_bar: float = 1.0
    timestep_fs: float = 1.0
    friction_per_fs: float = 0.02
    min_steps: int = 10
    fmax_eV_A: float = 0.2
    heat_start_K: float = 50.0
    heat_steps: int = 15
    npt_steps: int = 25
    taut_fs: float = 100.0
    taup_fs: float = 500.0
    compressibility_per_bar: float = 1.0e-4
    max_density_change: float | None = 0.25
    max_temperature_factor: float | None = 2.0
    prod_steps: int = 200
    stride: int = 10
    checkpoint_every_steps: int = 50
    bond_check_every_steps: int = 10
    bond_break_factor: float = 1.5
    bond_persist_checks: int = 3
    contact_factor: float | None = 0.5
    seed: int = 1

    @classmethod
    def from_config(cls, md: dict, seed: int) -> "Protocol":
        """The protocol of the config's ``md:`` section (keys as in the schema)."""
        bc = md["bond_check"]
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in md.items() if k in names}
        kw.update(
            bond_check_every_steps=bc["every_steps"],
            bond_break_factor=bc["break_factor"],
            bond_persist_checks=bc["persist_checks"],
            contact_factor=bc["contact_factor"],
            seed=seed,
        )
        return cls(**kw)

    def validate(self) -> None:
        if self.prod_steps < self.stride:
            raise LinmrError(f"md.prod_steps ({self.prod_steps}) < md.stride ({self.stride}): no frame would be written")
        if self.checkpoint_every_steps % self.stride:
            raise LinmrError(
                f"md.checkpoint_every_steps ({self.checkpoint_every_steps}) must be a multiple of md.stride ({self.stride})"
            )


def density_drift_error(rho0: float, rho: float, where: str, limit: float) -> LinmrError:
    """The error of an NPT phase whose density left the packed box's by more than ``limit`` (a fraction)."""
    return LinmrError(
        f"{where}: the NPT density drifted from {rho0:.4f} to {rho:.4f} g/cm3 ({rho / rho0 - 1:+.1%}), beyond "
        f"md.max_density_change = {limit:g}. The potential's pressure is not trustworthy here (a DeePMD student "
        f"trained without virials, potential.deepmd.virial_pref: 0, or on a few small boxes cannot drive a "
        f"barostat), or the box's density_g_cm3 is far from this potential's own. Run at the given density with "
        f"md.npt_steps: 0, or train the pressure better; md.max_density_change: null switches the check off.")


def temperature_runaway_error(target_K: float, temperature_K: float, where: str, factor: float) -> LinmrError:
    """The error of an MD run whose temperature exceeded ``factor`` x its target: the potential left its domain."""
    return LinmrError(
        f"{where}: the temperature reached {temperature_K:.0f} K, beyond md.max_temperature_factor = {factor:g} x "
        f"{target_K:g} K. The potential releases energy the thermostat cannot remove: it has left the configurations "
        f"it was trained on (a DeePMD student: more rounds of concurrent learning, potential.rounds, or more teacher "
        f"data), or md.timestep_fs is too long; md.max_temperature_factor: null switches the check off.")


class Progress:
    """tqdm bar per phase with ns/day and ETA (tqdm's remaining time)."""

    def __init__(self, phase: str, total: int, timestep_fs: float, enabled: bool, initial: int = 0):
        from tqdm import tqdm

        self.dt = timestep_fs
        self.t0 = time.perf_counter()
        self.n0 = initial
        self.bar = tqdm(
            total=total, initial=initial, desc=phase, unit="step", disable=not enabled, mininterval=5,
            bar_format="{desc}: {percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt} steps [{elapsed}<{remaining} ETA{postfix}]",
        )

    def update(self, n: int, **extra) -> None:
        self.bar.update(n)
        if self.bar.disable:
            return
        wall = time.perf_counter() - self.t0
        done = self.bar.n - self.n0
        nsd = done * self.dt * 1e-6 / (wall / 86400.0) if wall > 0 else 0.0
        txt = f"{nsd:.3g} ns/day" + "".join(f", {k}={v}" for k, v in extra.items())
        self.bar.set_postfix_str(txt, refresh=False)

    def close(self) -> float:
        self.bar.close()
        return time.perf_counter() - self.t0


def density_g_cm3(atoms: Atoms) -> float:
    return float(atoms.get_masses().sum() / atoms.get_volume() * AMU_PER_A3_TO_G_CM3)


def write_log(table, csv_path: str | Path) -> None:
    """The protocol log (:data:`LOG_COLUMNS`) as CSV."""
    with atomic_path(csv_path) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
