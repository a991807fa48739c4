"""Machine-learning MD of the packed boxes: one entry point, two engines, one MLIP registry.

:func:`run` dispatches on ``md.engine``: ``ase`` (:mod:`linmr.md.ase_engine`, the MLIP as an
in-process ASE calculator) or ``lammps`` (:mod:`linmr.md.lammps`, ``lmp`` with ``pair_style
deepmd``/``mace``). Both run the same :class:`~linmr.md.protocol.Protocol` (minimisation -> NVT
heating -> NPT density -> NVT production), resume production after a kill, show per-phase
progress in the rule's log and return the same log table. :mod:`linmr.md.registry` lists the
potentials.
"""

from __future__ import annotations

import time
from pathlib import Path

from .. import LinmrError
from . import registry
from .protocol import Protocol

ENGINES = ("ase", "lammps")


def run(
    box,
    md: dict,
    *,
    seed: int,
    work_dir: str | Path,
    traj_path: str | Path,
    device: str = "cpu",
    model_path: str | None = None,
    deviation_models=(),
    lammps_executable: str = "lmp",
    log=print,
):
    """Run the protocol of the ``md`` settings (the config's ``md:`` keys) on ``box`` with its engine.

    Production frames go to ``traj_path`` (extxyz); ``work_dir`` holds the restart state (keep
    it outside the rule's outputs). ``deviation_models`` (LAMMPS with DeePMD only): the rest of the ensemble,
    whose force deviation along production is returned as a third item (a table, or None).
    Returns (summary dict with the potential, engine and timings; the protocol log table; the deviation).
    """
    from ..fileio import sha256_file

    proto = Protocol.from_config(md, seed=seed)
    engine, potential = md["engine"], md["potential"]
    label = registry.version(potential)
    t0 = time.perf_counter()
    if engine == "ase":
        from .ase_engine import run_protocol

        calc = registry.make_calculator(potential, device=device, model_path=model_path)
        if deviation_models:
            raise LinmrError("model deviation along MD needs md.engine lammps")
        model_sha = sha256_file(model_path) if model_path else ""  # a retrained model at the same path: no resume
        timings, table = run_protocol(box, calc, traj_path, work_dir, proto,
                                      potential=f"{label} {model_path} {model_sha}", log=log)
        deviation = None
    elif engine == "lammps":
        from . import lammps

        frames, table = lammps.run(box, proto, work_dir, traj_path, potential=potential, model_path=model_path,
                                   executable=lammps_executable, deviation_models=deviation_models, log=log)
        deviation = lammps.production_deviation(work_dir, proto.prod_steps) if deviation_models else None
        timings = {"wall_s": time.perf_counter() - t0, "n_frames": len(frames)}
    else:
        raise LinmrError(f"unknown MD engine {engine!r} (key md.engine); choose one of: {', '.join(ENGINES)}")
    return {"potential": label, "engine": engine, **timings}, table, deviation


def simulate(box_path: str | Path, md: dict, *, seed: int, concentration: str, traj_path: str | Path,
             log_csv: str | Path, log_png: str | Path, deviation_csv: str | Path, work_dir: str | Path,
             device: str = "cpu", model_path: str | None = None, deviation_models=(), trust_hi_eV_A: float | None = None,
             lammps_executable: str = "lmp", footer: str | None = None) -> dict:
    """The md rule: read the packed box, :func:`run` the protocol, write the log table and its plot and the
    model deviation along production (an empty table without an ensemble).

    Returns the summary (potential, engine, timings, final state; with an ensemble the largest force
    deviation and the share of frames above ``trust_hi_eV_A``) for ``summary.json``."""
    import pandas as pd

    from ..analysis.plots import md_log
    from ..fileio import write_csv
    from ..readers import read_structure
    from .protocol import write_log

    box = read_structure(box_path, what="MD input box", periodic=True, arrays=("mol_id", "mol_name"))
    summary, table, deviation = run(box, md, seed=seed, work_dir=work_dir, traj_path=traj_path, device=device,
                                    model_path=model_path, deviation_models=deviation_models,
                                    lammps_executable=lammps_executable)
    write_log(table, log_csv)
    md_log(table, log_png, title=f"{concentration}, {summary['potential']}", footer=footer)
    if deviation is None:
        deviation = pd.DataFrame(columns=["step", "max_devi_f_eV_A"])
    else:
        d = deviation["max_devi_f_eV_A"]
        summary["max_devi_f_eV_A"] = float(d.max())
        if trust_hi_eV_A is not None:
            summary["fraction_frames_above_trust_hi"] = float((d > trust_hi_eV_A).mean())
            if summary["fraction_frames_above_trust_hi"] > 0.5:
                print(f"WARNING: {concentration}: {summary['fraction_frames_above_trust_hi']:.0%} of the production frames "
                      f"have a maximum force deviation above potential.trust_hi_eV_A = {trust_hi_eV_A} eV/A (largest "
                      f"{summary['max_devi_f_eV_A']:.2f} eV/A): the student is outside its training data there; "
                      f"see {deviation_csv} and md_log.png before trusting this trajectory")
    write_csv(deviation_csv, deviation)
    return {"concentration": concentration, **summary}
