"""Per-rule logs: send a script's stdout/stderr (progress bars included) to its log file."""

from __future__ import annotations

import contextlib
import traceback
from pathlib import Path


@contextlib.contextmanager
def to_file(path: str | Path | None):
    """Redirect ``sys.stdout`` and ``sys.stderr`` to ``path`` (append) for the duration."""
    if not path:
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", buffering=1) as fh, contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
        try:
            yield
        except BaseException:
            traceback.print_exc(file=fh)  # the error stays in the rule's log, then propagates
            raise


def set_threads(n: int) -> None:
    """Cap BLAS/OpenMP/torch/PySCF threads at ``n`` (the rule's ``threads``)."""
    import os

    n = max(1, int(n))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:
        pass
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:
        pass
    try:
        from pyscf import lib

        lib.num_threads(n)
    except ImportError:
        pass
