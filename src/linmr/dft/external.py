"""Running an external DFT program (ORCA, Gaussian) on one cluster: shared by both backends.

The program is looked up on PATH when a cluster is run, never at import, so input writers
work (and are tested) anywhere; where the executable is missing the run stops with a
:class:`LinmrError` naming it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .. import LinmrError
from .parsers import read_nmr_output


def find_executable(name: str, backend: str, hint: str) -> str:
    """Absolute path of ``name`` on PATH (ORCA needs it for parallel runs), or a clear error."""
    exe = shutil.which(name)
    if exe is None:
        raise LinmrError(
            f"dft.backend {backend!r} needs the {name!r} executable on PATH, and it is not there "
            f"(PATH={os.environ.get('PATH', '')}); {hint}"
        )
    return os.path.abspath(exe)


def run_and_parse(
    cmd: list[str],
    input_text: str,
    input_name: str,
    output_name: str,
    atom_indices: list[int],
    stdin_input: bool = False,
    keep_dir: str | Path | None = None,
) -> dict:
    """Write ``input_name``, run ``cmd`` in a scratch folder with stdout to ``output_name``, parse it.

    ``cmd`` gets the input file name appended unless ``stdin_input`` (Gaussian reads stdin).
    The output (and input) are copied to ``keep_dir`` when given. Raises :class:`LinmrError`
    with the parser's reason (truncated, crashed, SCF not converged, no shielding table).
    """
    with tempfile.TemporaryDirectory(prefix="linmr-dft-") as tmp:
        inp = Path(tmp) / input_name
        out = Path(tmp) / output_name
        inp.write_text(input_text)
        t0 = time.perf_counter()
        with open(out, "w") as fo:
            fi = open(inp) if stdin_input else subprocess.DEVNULL
            argv = list(cmd) if stdin_input else [*cmd, input_name]
            try:
                proc = subprocess.run(
                    argv,
                    cwd=tmp, stdin=fi, stdout=fo, stderr=subprocess.PIPE, text=True,
                )
            finally:
                if stdin_input:
                    fi.close()
        wall = time.perf_counter() - t0
        if keep_dir is not None:
            Path(keep_dir).mkdir(parents=True, exist_ok=True)
            for f in (inp, out):
                shutil.copy(f, Path(keep_dir) / f.name)
        try:
            res = read_nmr_output(out)
        except LinmrError as exc:
            raise LinmrError(
                f"{cmd[0]} exit status {proc.returncode}: {exc} {(proc.stderr or '')[-300:]}".strip()
            ) from None
    missing = [i for i in atom_indices if i not in res["sigma_iso_ppm"]]
    if missing:
        raise LinmrError(f"{output_name}: no shielding printed for atom(s) {missing} (0-based)")
    return {
        "sigma_iso_ppm": {i: res["sigma_iso_ppm"][i] for i in atom_indices},
        "converged": True,
        "scf_s": 0.0,
        "nmr_s": wall,
        "nao": "",
        "parser": res["parser"],
    }


def shielding_function(write_input, executable: str, backend: str, hint: str, input_name: str, output_name: str,
                       stdin_input: bool = False):
    """The ``shielding(atoms, level, atom_indices, max_memory_mb, nproc)`` of an external backend: find
    ``executable`` on PATH (or name it and the ``hint``), write the input with ``write_input(atoms, level,
    nproc=, memory_mb=)``, run the program and parse the output (:func:`run_and_parse`)."""

    def shielding(atoms, level, atom_indices: list[int], max_memory_mb: int = 4000, nproc: int = 1, **_) -> dict:
        exe = find_executable(executable, backend, hint)
        text = write_input(atoms, level, nproc=nproc, memory_mb=max_memory_mb)
        return run_and_parse([exe], text, input_name, output_name, list(atom_indices), stdin_input=stdin_input)

    shielding.__doc__ = f"Run ``{executable}`` (must be on PATH) and return the shieldings (ppm) of ``atom_indices``."
    return shielding
