"""CP2K as the teacher of the MD potential: energy, forces and stress of a periodic box by periodic DFT.

:func:`write_input` writes a single-point ``ENERGY_FORCE`` input with the analytic stress tensor from
the config's ``potential.cp2k`` settings (functional, dispersion, basis, plane-wave cutoff); :func:`run`
runs ``cp2k.psmp`` (Debian's ``cp2k`` package, data files in ``/usr/share/cp2k``) in a work folder and
:func:`parse_output` reads the log. Units returned are ASE's: eV, eV/Å and the ASE stress (eV/Å^3),
which is minus the pressure-like tensor CP2K prints. Checked against finite differences of the energy
(forces within 1e-3 eV/Å, stress within 1.2e-6 eV/Å^3 at DZVP/400 Ry). An unconverged SCF still exits
with status 0 in CP2K 2023.1: the parser turns its warning into an error, so the frame is recorded as a
failure and excluded, never learned.

dpdata 1.1.0's ``cp2k/output`` reader cannot be used for CP2K 2023.1 logs (it finds no coordinates at the
default print level and silently drops the stress at a higher one), so the log is parsed here and
dpdata only converts the labelled frames to DeePMD's format (:mod:`linmr.potential.deepmd`).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import numpy as np
from ase import Atoms, units

from .. import LinmrError

# valence charges of the GTH-PBE pseudopotentials (GTH_POTENTIALS)
GTH_Q = {"H": 1, "Li": 3, "C": 4, "N": 5, "O": 6, "F": 7, "S": 6, "Na": 9, "P": 5, "Cl": 7, "B": 3, "Si": 4}
DISPERSION = {"none": None, "D3": "DFTD3", "D3BJ": "DFTD3(BJ)"}
_ENERGY = re.compile(r"ENERGY\| Total FORCE_EVAL \( \w+ \) energy \[(?:a\.u\.|hartree)\]:\s+(\S+)")
_STRESS = re.compile(r"STRESS\| Analytical stress tensor \[(\w+)\]")
_FLOAT = r"[-+]?\d+\.\d*(?:[EeDd][-+]?\d+)?"


def valence_electrons(atoms: Atoms, charge: int = 0) -> int:
    unknown = sorted(set(atoms.get_chemical_symbols()) - set(GTH_Q))
    if unknown:
        raise LinmrError(f"no GTH pseudopotential valence known for {unknown} (potential.teacher cp2k)")
    return sum(GTH_Q[s] for s in atoms.get_chemical_symbols()) - charge


def write_input(atoms: Atoms, s: dict, project: str = "teacher") -> str:
    """The CP2K input of one frame; ``s`` is the config's ``potential.cp2k`` section."""
    if not atoms.pbc.all():
        raise LinmrError("the CP2K teacher labels fully periodic boxes only")
    symbols = atoms.get_chemical_symbols()
    nel = valence_electrons(atoms)
    mult = 1 if nel % 2 == 0 else 2
    lines = [
        "&GLOBAL", f"  PROJECT {project}", "  RUN_TYPE ENERGY_FORCE", "  PRINT_LEVEL LOW", "&END GLOBAL",
        "&FORCE_EVAL", "  METHOD QUICKSTEP", "  STRESS_TENSOR ANALYTICAL",
        "  &DFT", "    BASIS_SET_FILE_NAME BASIS_MOLOPT", "    POTENTIAL_FILE_NAME GTH_POTENTIALS",
        "    CHARGE 0", f"    MULTIPLICITY {mult}", *(["    UKS .TRUE."] if mult != 1 else []),
        "    &MGRID", f"      CUTOFF {s['cutoff_Ry']:g}", f"      REL_CUTOFF {s['rel_cutoff_Ry']:g}", "      NGRIDS 4",
        "    &END MGRID",
        "    &QS", "      EPS_DEFAULT 1.0E-12", "    &END QS",
        "    &SCF", "      SCF_GUESS ATOMIC", f"      EPS_SCF {s['eps_scf']:.1E}", f"      MAX_SCF {s['max_scf']}",
        "      &DIAGONALIZATION ON", "        ALGORITHM STANDARD", "      &END DIAGONALIZATION",
        "      &MIXING ON", "        METHOD BROYDEN_MIXING", "        ALPHA 0.3", "        NBROYDEN 8",
        "      &END MIXING",
        "      &PRINT", "        &RESTART OFF", "        &END RESTART", "      &END PRINT",
        "    &END SCF",
        "    &XC", f"      &XC_FUNCTIONAL {s['functional']}", "      &END XC_FUNCTIONAL",
    ]
    d3 = DISPERSION[s["dispersion"]]
    if d3:
        lines += ["      &VDW_POTENTIAL", "        POTENTIAL_TYPE PAIR_POTENTIAL", "        &PAIR_POTENTIAL",
                  f"          TYPE {d3}", "          PARAMETER_FILE_NAME dftd3.dat",
                  f"          REFERENCE_FUNCTIONAL {s['functional']}", "          R_CUTOFF [angstrom] 15.0",
                  "        &END PAIR_POTENTIAL", "      &END VDW_POTENTIAL"]
    lines += ["    &END XC", "  &END DFT", "  &SUBSYS", "    &CELL"]
    lines += [f"      {lab} [angstrom] {v[0]:.10f} {v[1]:.10f} {v[2]:.10f}" for lab, v in zip("ABC", atoms.cell[:])]
    lines += ["      PERIODIC XYZ", "    &END CELL", "    &COORD", "      UNIT angstrom"]
    lines += [f"      {sym:2s} {p[0]:.10f} {p[1]:.10f} {p[2]:.10f}" for sym, p in zip(symbols, atoms.positions)]
    lines += ["    &END COORD"]
    for sym in sorted(set(symbols)):
        lines += [f"    &KIND {sym}", f"      BASIS_SET {s['basis']}", f"      POTENTIAL GTH-{s['functional']}-q{GTH_Q[sym]}",
                  "    &END KIND"]
    lines += ["  &END SUBSYS", "  &PRINT", "    &FORCES ON", "    &END FORCES", "    &STRESS_TENSOR ON",
              "    &END STRESS_TENSOR", "  &END PRINT", "&END FORCE_EVAL"]
    return "\n".join(lines) + "\n"


def parse_output(text: str, n_atoms: int, source: str = "CP2K output") -> dict:
    """Energy (eV), forces (eV/Å) and ASE stress (Voigt, eV/Å^3) of the last run in a CP2K log.

    Raises :class:`LinmrError` on an abort, an abnormal end, an unconverged SCF or missing forces/stress."""
    start = text.rfind("PROGRAM STARTED AT")  # cp2k -o appends: only the last run counts
    if start > 0:
        text = text[text.rfind("\n", 0, start) + 1:]
    lines = text.splitlines()
    if "[ABORT]" in text:
        i = next(k for k, ln in enumerate(lines) if "[ABORT]" in ln)
        msg = []
        for ln in lines[i + 1:]:
            if ln.startswith(" ****"):
                break
            msg.append(ln[10:].rstrip(" *").strip())
        raise LinmrError(f"{source}: CP2K aborted: {' '.join(m for m in msg if m)}")
    if "PROGRAM ENDED AT" not in text:
        raise LinmrError(f"{source}: CP2K did not end normally (truncated or killed)")
    if "SCF run NOT converged" in text or "outer SCF loop FAILED to converge" in text:
        raise LinmrError(f"{source}: SCF not converged (potential.cp2k.max_scf)")
    energy = _ENERGY.findall(text)
    if not energy:
        raise LinmrError(f"{source}: no total energy")
    forces = None
    for i, ln in enumerate(lines):
        if ln.strip().startswith("ATOMIC FORCES in [a.u.]"):  # CP2K <= 2023
            forces = [[float(x) for x in b.split()[3:6]] for b in lines[i + 3:i + 3 + n_atoms]]
        elif ln.startswith(" FORCES| Atomic forces [hartree/bohr]"):  # CP2K >= 2024
            forces = [[float(x) for x in b.split()[-4:-1]] for b in lines[i + 2:i + 2 + n_atoms]]
    if forces is None or np.shape(forces) != (n_atoms, 3):
        raise LinmrError(f"{source}: no forces for {n_atoms} atoms")
    stress = None
    for i, ln in enumerate(lines):
        m = _STRESS.search(ln)
        if m:
            rows = [re.findall(_FLOAT, lines[i + 2 + k].split("|", 1)[1]) for k in range(3)]
            tensor = np.array([[float(x.replace("D", "E")) for x in r[-3:]] for r in rows])
            stress = -tensor * {"GPa": units.GPa, "bar": units.bar}[m.group(1)]  # CP2K prints a pressure
    if stress is None:
        raise LinmrError(f"{source}: no stress tensor (STRESS_TENSOR ANALYTICAL)")
    return {
        "energy": float(energy[-1]) * units.Hartree,
        "forces": np.asarray(forces) * units.Hartree / units.Bohr,
        "stress": stress[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]],  # Voigt xx yy zz yz xz xy
    }


def executable(name: str = "cp2k.psmp") -> str:
    import shutil

    exe = shutil.which(name)
    if exe is None:
        raise LinmrError(
            f"potential.teacher 'cp2k' runs {name!r} (key potential.cp2k.executable), which is not on PATH; "
            "install Debian's cp2k package (apt-get install cp2k) or load the cluster's CP2K module"
        )
    return exe


def run(atoms: Atoms, settings: dict, work_dir: str | Path, nproc: int = 1, timeout_s: float | None = None) -> dict:
    """Label one frame: write ``in.inp`` in ``work_dir``, run CP2K with ``nproc`` OpenMP threads, parse ``out.log``."""
    wd = Path(work_dir)
    wd.mkdir(parents=True, exist_ok=True)
    (wd / "in.inp").write_text(write_input(atoms, settings))
    (wd / "out.log").unlink(missing_ok=True)  # cp2k -o appends, never overwrites
    env = dict(os.environ, OMP_NUM_THREADS=str(nproc))
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([executable(settings["executable"]), "-i", "in.inp", "-o", "out.log"], cwd=wd, env=env,
                              capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise LinmrError(f"{wd}: CP2K ran longer than {timeout_s} s") from None
    text = (wd / "out.log").read_text() if (wd / "out.log").exists() else ""
    res = parse_output(text, len(atoms), source=str(wd / "out.log"))
    if proc.returncode != 0:
        raise LinmrError(f"{wd}: cp2k exited with status {proc.returncode}: {proc.stderr[-300:]}")
    res["wall_s"] = time.perf_counter() - t0
    return res


def version() -> str:
    try:
        out = subprocess.run([executable(), "--version"], capture_output=True, text=True, timeout=60).stdout
    except (LinmrError, OSError, subprocess.TimeoutExpired):
        return "cp2k"
    m = re.search(r"CP2K version\s+(\S+)", out)
    return f"cp2k {m.group(1)}" if m else "cp2k"
