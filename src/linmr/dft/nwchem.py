"""NWChem GIAO shieldings: input writer, runner and output parser (an independent cross-check of PySCF).

Debian's ``nwchem`` package runs here; the parser reads the "Chemical Shielding Tensors
(GIAO, in ppm)" block printed by ``task dft property`` / ``task scf property``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ase import Atoms

from .. import LinmrError
from .level import Level

PROGRAM = "nwchem"


def program_version() -> str:
    return "nwchem"


def write_input(atoms: Atoms, level: Level, atom_indices: list[int], memory_mb: int = 2000, grid: str = "xfine") -> str:
    """An NWChem input for GIAO shieldings of ``atom_indices`` (0-based) at ``level`` (no density fitting)."""
    lines = [
        "start cluster",
        f"memory total {int(memory_mb)} mb",
        f"charge {int(atoms.info.get('charge', 0))}",
        "geometry units angstrom noautoz nocenter noautosym",
    ]
    lines += [f"  {s} {x:.10f} {y:.10f} {z:.10f}" for s, (x, y, z) in zip(atoms.get_chemical_symbols(), atoms.positions)]
    lines += ["end", "basis spherical"]
    for s in sorted(set(atoms.get_chemical_symbols())):
        lines.append(f"  {s} library {level.basis_for(s)}")
    lines.append("end")
    method = level.method.upper()
    mult = int(atoms.info.get("multiplicity", 1))
    if method == "HF":
        lines += ["scf", "  rhf" if mult == 1 else "  uhf", f"  nopen {mult - 1}", "  thresh 1e-8", "end"]
        task = "scf"
    else:
        xc = {"B3LYP": "b3lyp", "PBE": "xpbe96 cpbe96", "PBE0": "pbe0"}.get(method)
        if xc is None:
            raise LinmrError(f"no NWChem name known for functional {level.method!r}")
        lines += ["dft", f"  xc {xc}", f"  mult {mult}", f"  grid {grid}", "  convergence energy 1e-9 density 1e-8", "end"]
        task = "dft"
    nuclei = " ".join(str(i + 1) for i in atom_indices)
    lines += ["property", f"  shielding {len(atom_indices)} {nuclei}", "end", f"task {task} property", ""]
    return "\n".join(lines)


_ATOM = re.compile(r"^\s*Atom:\s+(\d+)\s+(\w+)")
_ISO = re.compile(r"^\s*isotropic\s*=\s*([-+0-9.Ee]+)")


def parse_output(text: str, source: str = "NWChem output") -> dict[int, float]:
    """Isotropic shieldings (ppm) by 0-based atom index from an NWChem GIAO output."""
    if "Chemical Shielding Tensors" not in text:
        raise LinmrError(f"{source}: no 'Chemical Shielding Tensors' block (not an NWChem GIAO run, or it crashed)")
    block = text.split("Chemical Shielding Tensors", 1)[1]
    out, atom = {}, None
    for line in block.splitlines():
        try:
            m = _ATOM.match(line)
            if m:
                atom = int(m.group(1)) - 1
                continue
            m = _ISO.match(line)
            if m and atom is not None:
                out[atom] = float(m.group(1))
                atom = None
        except ValueError:  # '1.2.3' matches the pattern; a corrupt output, not a crash
            raise LinmrError(f"{source}: malformed number in the shielding block: {line.strip()[:100]!r}") from None
    if not out:
        raise LinmrError(f"{source}: shielding block has no isotropic values")
    return out


def shielding(atoms: Atoms, level: Level, atom_indices: list[int], max_memory_mb: int = 2000, nproc: int = 1, **_) -> dict:
    if level.solvent_epsilon is not None:
        raise LinmrError("dft.solvent (implicit solvent) is supported by the orca and gaussian backends only")
    exe = shutil.which("nwchem")
    if exe is None:
        raise LinmrError("dft.backend 'nwchem' needs the nwchem executable on PATH (Debian: apt-get install nwchem)")
    with tempfile.TemporaryDirectory(prefix="linmr-nwchem-") as tmp:
        inp = Path(tmp) / "cluster.nw"
        inp.write_text(write_input(atoms, level, atom_indices, memory_mb=max_memory_mb))
        cmd = [exe, inp.name]
        if nproc > 1 and shutil.which("mpirun"):
            cmd = ["mpirun", "--allow-run-as-root", "-np", str(nproc)] + cmd
        env = dict(os.environ, OMP_NUM_THREADS="1")
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, env=env)
        text = proc.stdout
    if proc.returncode != 0 and "Chemical Shielding Tensors" not in text:
        raise LinmrError(f"nwchem exited with {proc.returncode}: {(proc.stderr or text)[-500:]}")
    sigma = parse_output(text)
    missing = [i for i in atom_indices if i not in sigma]
    if missing:
        raise LinmrError(f"NWChem output lacks shieldings of atoms {missing}")
    return {"sigma_iso_ppm": {i: sigma[i] for i in atom_indices}, "converged": True, "output": text}
