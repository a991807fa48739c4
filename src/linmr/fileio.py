"""Atomic outputs: every writer of the project writes under a temporary name in the same folder and
renames when complete, so a reader (or a rerun after a kill) sees either the previous file or the
whole new one, never a half-written file under the final name::

    with atomic_path("results/dft/shifts.csv") as tmp:
        table.to_csv(tmp, index=False)

The temporary name keeps the suffix (``shifts.tmp1234.csv``), so writers that infer the format
from it (matplotlib, ASE) still work; on an exception it is removed and the target is untouched.
:func:`write_text`, :func:`write_json`, :func:`write_csv` and :func:`write_frames` are the
common cases.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path


def temp_path(path: str | Path) -> Path:
    """The temporary name :func:`atomic_path` writes ``path`` under (same folder, same suffix)."""
    path = Path(path)
    return path.with_name(f"{path.stem}.tmp{os.getpid()}{path.suffix}")


@contextlib.contextmanager
def atomic_path(path: str | Path, fsync: bool = False):
    """Yield a temporary path beside ``path``; rename it onto ``path`` when the block ends without error.

    ``fsync``: flush the file to disk before the rename (checkpoints that must survive a power cut)."""
    path = Path(path)
    tmp = temp_path(path)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | Path, obj, indent: int = 2) -> None:
    write_text(path, json.dumps(obj, indent=indent, default=str) + "\n")


def write_csv(path: str | Path, table, **kw) -> None:
    """A pandas table as CSV (no index unless ``index=True``)."""
    kw.setdefault("index", False)
    with atomic_path(path) as tmp:
        table.to_csv(tmp, **kw)


def write_frames(path: str | Path, frames) -> None:
    """ASE ``Atoms`` (one or a list) as extxyz; an empty list gives an empty, valid file."""
    from ase.io import write

    with atomic_path(path) as tmp:
        if isinstance(frames, list) and not frames:
            tmp.write_text("")
        else:
            write(tmp, frames, format="extxyz")


def copy_file(src: str | Path, dest: str | Path) -> None:
    import shutil

    with atomic_path(dest) as tmp:
        shutil.copyfile(src, tmp)
