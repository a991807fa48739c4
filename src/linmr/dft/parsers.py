"""Readers of isotropic NMR shieldings printed by Gaussian and ORCA (any version that prints these tables).

cclib 1.8.1 (PyPI) reads ORCA 5 NMR tensors but fails on ORCA 6 and has no Gaussian NMR
support, so the shielding tables are read here directly, by their printed format:

- Gaussian: ``SCF GIAO Magnetic shielding tensor (ppm):`` followed by one line per atom,
  ``   1  C    Isotropic =   114.0880   Anisotropy =   147.6438`` (1-based atom numbers);
- ORCA: ``CHEMICAL SHIELDING SUMMARY (ppm)`` followed by a table
  ``Nucleus  Element  Isotropic  Anisotropy`` (0-based nucleus numbers).

The last block in a file wins (a multi-step job prints the final geometry's last).

:func:`read_nmr_output` is the one entry point the backends use: it asks cclib first where
cclib reads NMR tensors (ORCA), falls back to the table reader when cclib fails (ORCA 6,
other versions) and always reads Gaussian with the table reader; a truncated, crashed or
non-converged run raises :class:`LinmrError` naming the file and the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

from .. import LinmrError

_G_ISO = re.compile(r"^\s*(\d+)\s+([A-Z][a-z]?)\s+Isotropic\s*=\s*([-+]?\d+\.\d+(?:[EeDd][-+]?\d+)?)")
_O_ROW = re.compile(r"^\s*(\d+)\s+([A-Z][a-z]?)\s+([-+]?\d+\.\d+)\s+([-+]?\d+\.\d+)\s*$")


def detect_program(text: str) -> str:
    head = text[:20000]
    if "Entering Gaussian System" in head or "Gaussian, Inc." in head:
        return "gaussian"
    if "O   R   C   A" in head or "Program Version" in head and "ORCA" in head.upper():
        return "orca"
    raise LinmrError("not a Gaussian or ORCA output (no program banner found)")


def _gaussian(text: str, source: str) -> dict[int, tuple[str, float]]:
    blocks = text.split("Magnetic shielding tensor (ppm)")
    if len(blocks) < 2:
        raise LinmrError(f"{source}: Gaussian output has no 'Magnetic shielding tensor (ppm)' block (not an NMR job?)")
    out = {}
    for line in blocks[-1].splitlines()[1:]:
        m = _G_ISO.match(line)
        if m:
            out[int(m.group(1)) - 1] = (m.group(2), float(m.group(3).replace("D", "E").replace("d", "e")))
        elif "=" not in line and "Eigenvalues" not in line:
            break  # past the per-atom lines and their tensor components
    if not out:
        raise LinmrError(f"{source}: Gaussian shielding block holds no 'Isotropic =' lines")
    return out


def _orca(text: str, source: str) -> dict[int, tuple[str, float]]:
    blocks = text.split("CHEMICAL SHIELDING SUMMARY (ppm)")
    if len(blocks) < 2:
        raise LinmrError(f"{source}: ORCA output has no 'CHEMICAL SHIELDING SUMMARY (ppm)' table (not an NMR job?)")
    out = {}
    started = False
    for line in blocks[-1].splitlines():
        m = _O_ROW.match(line)
        if m:
            out[int(m.group(1))] = (m.group(2), float(m.group(3)))
            started = True
        elif started and line.strip():
            break
    if not out:
        raise LinmrError(f"{source}: ORCA shielding table is empty")
    return out


def _terminated_normally(text: str, program: str) -> bool:
    tail = text[-5000:]
    return ("Normal termination" in tail) if program == "gaussian" else ("ORCA TERMINATED NORMALLY" in tail)


def _scf_failure(text: str, program: str) -> str | None:
    """The program's own words when its SCF did not converge, else None."""
    markers = {
        "orca": ("SCF NOT CONVERGED", "This wavefunction IS NOT FULLY CONVERGED"),
        "gaussian": ("Convergence failure -- run terminated", ">>>>>>>>>> Convergence criterion not met"),
    }[program]
    for m in markers:
        if m in text:
            return m
    return None


def read_shieldings(path: str | Path, require_normal_termination: bool = True) -> dict:
    """``{'program': ..., 'sigma_iso_ppm': {index0: value}, 'elements': {index0: symbol}}`` from an output file.

    Raises :class:`LinmrError` naming the file for a truncated, crashed or foreign output.
    """
    path = Path(path)
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise LinmrError(f"{path}: cannot read DFT output ({exc.strerror})") from exc
    try:
        program = detect_program(text)
    except LinmrError as exc:
        raise LinmrError(f"{path}: {exc}") from None
    scf = _scf_failure(text, program)
    if scf is not None:
        raise LinmrError(f"{path}: {program} SCF not converged ('{scf}')")
    try:
        table = _gaussian(text, str(path)) if program == "gaussian" else _orca(text, str(path))
    except ValueError as exc:  # e.g. an atom number too long for int(): a corrupt table
        raise LinmrError(f"{path}: malformed number in the {program} shielding table ({str(exc)[:100]})") from None
    if require_normal_termination and not _terminated_normally(text, program):
        raise LinmrError(f"{path}: {program} output did not terminate normally (truncated or crashed run)")
    return {
        "program": program,
        "sigma_iso_ppm": {i: v for i, (_, v) in sorted(table.items())},
        "elements": {i: s for i, (s, _) in sorted(table.items())},
    }


def _cclib_isotropic(path: Path) -> dict[int, float] | None:
    """Isotropic shieldings (ppm) by 0-based atom from cclib's ``nmrtensors``, or None where cclib
    cannot read them (cclib 1.8.1: ORCA 6 raises IndexError, Gaussian NMR is not parsed)."""
    import logging

    try:
        import cclib

        data = cclib.io.ccread(str(path), loglevel=logging.CRITICAL)
        tensors = getattr(data, "nmrtensors", None)
        if not tensors:
            return None
        return {int(i): float(t["isotropic"]) for i, t in tensors.items()}
    except Exception:  # any cclib failure: fall back to the table reader
        return None


def read_nmr_output(path: str | Path) -> dict:
    """Shieldings from a Gaussian or ORCA NMR output: :func:`read_shieldings` plus ``parser``.

    The table reader always runs (it checks the program, SCF convergence and normal
    termination and gives the element of every atom); for ORCA the values are then taken
    from cclib when cclib reads the file, and must agree with the printed table within
    0.0015 ppm (ORCA prints three decimals).
    """
    path = Path(path)
    out = read_shieldings(path)
    out["parser"] = "table"
    if out["program"] == "orca":
        from importlib.metadata import version

        iso = _cclib_isotropic(path)
        if iso is not None and set(iso) == set(out["sigma_iso_ppm"]):
            worst = max(abs(iso[i] - v) for i, v in out["sigma_iso_ppm"].items())
            if worst > 1.5e-3:
                raise LinmrError(f"{path}: cclib and the shielding table disagree by {worst:.4f} ppm")
            out["sigma_iso_ppm"] = dict(sorted(iso.items()))
            out["parser"] = f"cclib {version('cclib')}"
    return out
