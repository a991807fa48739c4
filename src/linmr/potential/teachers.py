"""Teachers: what labels the frames the DeePMD student learns from (energy, forces, stress).

``potential.teacher`` names one: an MLIP of :mod:`linmr.md.registry` (``chgnet`` and ``sevennet`` run
offline with the weights their wheels ship; ``mace``/``deepmd`` or any of them with
``potential.teacher_model_path``, e.g. a foundation model on GPU nodes) as an ASE calculator, or
``cp2k``: periodic DFT (:mod:`linmr.potential.cp2k`, the paper's route). A frame the teacher fails on is
recorded with its reason and left out, never learned.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

from .. import LinmrError

TEACHERS = ("chgnet", "sevennet", "mace", "deepmd", "cp2k")


def is_mlip(teacher: str) -> bool:
    return teacher != "cp2k"


def version(potential: dict) -> str:
    """The teacher by name and version (and its level of theory for CP2K), for provenance and tables."""
    t = potential["teacher"]
    if t == "cp2k":
        from . import cp2k

        s = potential["cp2k"]
        return (f"{cp2k.version()} {s['functional']}-{s['dispersion']}/{s['basis']}/"
                f"{s['cutoff_Ry']:g}Ry")
    from ..md import registry

    return registry.version(t) + (f" {potential['teacher_model_path']}" if potential["teacher_model_path"] else "")


def labelled(atoms: Atoms, energy: float, forces, stress) -> Atoms:
    """A copy of ``atoms`` carrying the labels (eV, eV/Å, ASE stress eV/Å^3) as a single-point calculator."""
    out = atoms.copy()
    out.calc = SinglePointCalculator(out, energy=float(energy), free_energy=float(energy),
                                     forces=np.asarray(forces, float), stress=np.asarray(stress, float))
    return out


def label(frames: list[Atoms], potential: dict, work_dir: str | Path, nproc: int = 1, device: str = "cpu",
          log=print) -> tuple[list[Atoms], list[dict]]:
    """Label ``frames`` with the teacher of the ``potential`` settings.

    Returns the labelled frames (each with a single-point calculator holding energy, forces and stress)
    and one row per frame (``frame``, ``status`` ok/failed, ``reason``, ``wall_s``, energy per atom)."""
    teacher = potential["teacher"]
    if teacher not in TEACHERS:
        raise LinmrError(f"unknown teacher {teacher!r} (key potential.teacher); choose one of {list(TEACHERS)}")
    calc = None
    if is_mlip(teacher):
        from ..md import registry

        calc = registry.make_calculator(teacher, device=device, model_path=potential["teacher_model_path"])
    out, rows = [], []
    for k, fr in enumerate(frames):
        t0 = time.perf_counter()
        row = {"frame": k, "n_atoms": len(fr), "status": "ok", "reason": ""}
        try:
            if calc is not None:
                a = fr.copy()
                a.calc = calc
                res = {"energy": a.get_potential_energy(), "forces": a.get_forces(), "stress": a.get_stress()}
            else:
                from . import cp2k

                res = cp2k.run(fr, potential["cp2k"], Path(work_dir) / f"frame_{k:05d}", nproc=nproc)
            if not (np.isfinite(res["energy"]) and np.isfinite(res["forces"]).all() and np.isfinite(res["stress"]).all()):
                raise LinmrError("non-finite energy, forces or stress")
            out.append(labelled(fr, res["energy"], res["forces"], res["stress"]))
            row["energy_eV_per_atom"] = float(res["energy"]) / len(fr)
        except Exception as exc:  # noqa: BLE001  a failed frame is recorded and left out
            row.update(status="failed", reason=f"{type(exc).__name__}: {exc}".replace("\n", " ")[:300])
            log(f"frame {k}: teacher {teacher} failed: {row['reason']}")
        row["wall_s"] = time.perf_counter() - t0
        rows.append(row)
    return out, rows
