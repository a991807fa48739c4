"""Atomic outputs: write under a temporary name in the same folder, rename when complete.

A reader (or a rerun after a crash) then sees either the previous file or the whole new one,
never a half-written file under the final name::

    with atomic_path("results/dft/shifts.csv") as tmp:
        table.to_csv(tmp, index=False)

The temporary name keeps the suffix (``shifts.tmp1234.csv``), so writers that infer the format
from it (matplotlib, ASE) still work; on an exception it is removed and the target is untouched.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | Path):
    path = Path(path)
    tmp = path.with_name(f"{path.stem}.tmp{os.getpid()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
