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


@contextlib.contextmanager
def rule_log(smk, threads: bool = True):
    """The frame of every rule script: output to the rule's log, thread caps at the rule's ``threads``,
    and after the body a provenance sidecar for each table and figure of the job (:mod:`linmr.provenance`).

    ``smk`` is the ``snakemake`` object Snakemake hands a script (only its ``log``, ``threads``,
    ``output``, ``config`` and ``rule`` attributes are read; this module does not import Snakemake)."""
    from . import provenance

    with to_file(smk.log[0] if len(smk.log) else None):
        if threads:
            set_threads(smk.threads)
        yield smk
        provenance.write_sidecars(smk.output, smk.config, rule=smk.rule)


def job_device(smk, log=print) -> str:
    """``cuda`` where the job holds a GPU (``resources: gpu``, the one GPU request of a rule) and torch sees one,
    else ``cpu``; a requested GPU that torch cannot see is said in the log (a GPU partition without a usable
    GPU, as on the test cluster, or a CPU build of torch)."""
    if int(smk.resources.get("gpu", 0) or 0) <= 0:
        return "cpu"
    try:
        import torch

        if torch.cuda.is_available():
            return "cuda"
    except ImportError:
        pass
    log("WARNING: the job holds a GPU (resources: gpu) but torch sees none; running on the CPU")
    return "cpu"
