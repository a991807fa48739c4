"""Two fixes that pyscf-properties 0.1.0 needs to run GIAO NMR with current PySCF.

1. ``prop/nmr/rks.py`` ``get_vxc_giao``: the grid block size must be a multiple of
   ``numint.BLKSIZE``; with a small grid it was set to the (unrounded) grid size.
2. ``prop/nmr/rhf.py`` ``gen_vind``: the response function must accept any number of
   trial vectors (reshape ``mo1`` as ``(-1, nmo, nocc)``, not ``(3, nmo, nocc)``).

Each fix rewrites one line of the installed function's source and re-executes it in
its own module, and refuses to run if that line is not found (a new, possibly fixed,
pyscf-properties), so a silent mismatch is impossible.
"""

from __future__ import annotations

import inspect
import textwrap

_applied = False

_FIXES = [
    (
        "pyscf.prop.nmr.rks",
        "get_vxc_giao",
        "blksize = min(int(max_memory/12*1e6/8/nao/BLKSIZE)*BLKSIZE, ngrids)",
        "blksize = min(int(max_memory/12*1e6/8/nao/BLKSIZE)*BLKSIZE, -(-ngrids//BLKSIZE)*BLKSIZE)",
    ),
    (
        "pyscf.prop.nmr.rhf",
        "gen_vind",
        "for x in mo1.reshape(3,nmo,nocc)]",
        "for x in mo1.reshape(-1,nmo,nocc)]",
    ),
]


def _patch(module_name: str, func_name: str, old: str, new: str) -> None:
    import importlib

    module = importlib.import_module(module_name)
    func = getattr(module, func_name)
    if getattr(func, "_linmr_patched", False):
        return
    src = textwrap.dedent(inspect.getsource(func))
    if old not in src:
        if new in src:
            return  # already fixed upstream
        raise RuntimeError(
            f"cannot patch {module_name}.{func_name}: expected line not found; "
            "pyscf-properties changed, review linmr/dft/pyscf_patches.py"
        )
    namespace: dict = {}
    exec(compile(src.replace(old, new), module.__file__, "exec"), module.__dict__, namespace)
    fixed = namespace[func_name]
    fixed._linmr_patched = True
    setattr(module, func_name, fixed)


def apply() -> None:
    """Apply both fixes once (idempotent)."""
    global _applied
    if _applied:
        return
    for fix in _FIXES:
        _patch(*fix)
    _applied = True
