"""Atomic outputs: every writer of the project writes under a temporary name in the same folder and
renames when complete, so a reader (or a rerun after a kill) sees either the previous file or the
whole new one, never a half-written file under the final name::

    with atomic_path("results/dft/shifts.csv") as tmp:
        table.to_csv(tmp, index=False)

The temporary name keeps the suffix (``shifts.tmp1234.csv``), so writers that infer the format
from it (matplotlib, ASE) still work; on an exception it is removed and the target is untouched. A temporary
file left by a killed writer (SIGKILL runs no clean-up) is removed by the next writer of the same target.

Fault injection for the kill tests: with ``LINMR_FAULT_KILL_BEFORE_RENAME`` set to a path suffix, a writer of a
matching target SIGKILLs its own process after the temporary file is complete and before the rename (the
moment a kill does the most harm); nothing else reads this variable.
:func:`write_text`, :func:`write_json`, :func:`write_csv` and :func:`write_frames` are the
common cases.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
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
    tmp = start_temp(path)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        finish_temp(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def start_temp(path: str | Path) -> Path:
    """For writers that stream into a temporary file themselves (not inside one ``with`` block): remove the
    temporary files killed writers left for ``path`` and return this writer's; end with :func:`finish_temp`."""
    path = Path(path)
    _remove_stale_temps(path)
    return temp_path(path)


def finish_temp(tmp: Path, path: str | Path) -> None:
    """Rename the complete temporary file ``tmp`` onto ``path`` (atomic on one file system)."""
    fault = os.environ.get("LINMR_FAULT_KILL_BEFORE_RENAME")
    if fault and Path(path).as_posix().endswith(fault):
        os.kill(os.getpid(), signal.SIGKILL)
    os.replace(tmp, path)


def _remove_stale_temps(path: Path) -> None:
    """Temporary files of ``path`` left by writers that were killed (other pids: one job writes a target)."""
    if not path.parent.is_dir():
        return
    pattern = re.compile(re.escape(path.stem) + r"\.tmp(\d+)" + re.escape(path.suffix) + "$")
    for old in path.parent.iterdir():
        m = pattern.match(old.name)
        if m and int(m.group(1)) != os.getpid():
            old.unlink(missing_ok=True)


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 (hex) of a file's bytes."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


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
