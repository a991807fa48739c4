"""Machine-learning MD with ASE: the calculator factory and the equilibration protocol.

The MLIP is chosen by name (``chgnet`` by default: its weights ship inside the
wheel, so it runs offline) through :func:`make_calculator`; adding a potential
adds a branch there, nothing in the rules.

The protocol (:func:`run_protocol`) is FIRE minimisation -> NVT heating (Langevin,
linear temperature ramp) -> NPT density equilibration (Berendsen barostat and
thermostat, isotropic) -> NVT production (Langevin), all lengths and constants from
:class:`Protocol`. Production is restartable (:mod:`linmr.md_restart`) and watched by
the bond monitor (:mod:`linmr.md_bonds`).
"""

from __future__ import annotations

from . import LinmrError
from .md_protocol import Protocol, plot_log, run_protocol, write_log  # noqa: F401  (public API)


def make_calculator(name: str, device: str = "cpu", model_path: str | None = None):
    """An ASE calculator for the MLIP ``name``.

    ``chgnet`` and ``sevennet`` (SevenNet-0) run offline with the weights their wheels ship
    (``model_path`` optionally names another checkpoint); ``mace``/``deepmd`` need ``model_path``.
    """
    if name == "chgnet":
        from chgnet.model import CHGNet, CHGNetCalculator

        from .validate import load_chgnet  # weights_only: CHGNet.from_file would unpickle code

        model = CHGNet.load(verbose=False) if model_path is None else load_chgnet(model_path)
        return CHGNetCalculator(model=model, use_device=device)
    if name == "sevennet":
        try:
            from sevenn.calculator import SevenNetCalculator
        except ImportError as exc:
            raise LinmrError("md.potential 'sevennet' needs the package sevenn, which is not installed") from exc
        # SevenNet-0 (11 July 2024) weights ship inside the sevenn wheel: offline like chgnet
        return SevenNetCalculator(model=model_path or "7net-0", device=device)
    if name == "mace":
        try:
            from mace.calculators import MACECalculator
        except ImportError as exc:
            raise LinmrError("md.potential 'mace' needs the package mace-torch, which is not installed") from exc
        if not model_path:
            raise LinmrError("md.potential 'mace' needs md.model_path (a MACE model file)")
        return MACECalculator(model_paths=model_path, device=device)
    if name == "deepmd":
        try:
            from deepmd.calculator import DP
        except ImportError as exc:
            raise LinmrError("md.potential 'deepmd' needs the package deepmd-kit, which is not installed") from exc
        if not model_path:
            raise LinmrError("md.potential 'deepmd' needs md.model_path (a frozen DeePMD model)")
        return DP(model=model_path)
    raise LinmrError(f"unknown MLIP {name!r} (key md.potential); choose one of: chgnet, sevennet, mace, deepmd")


def potential_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    pkg = {"chgnet": "chgnet", "sevennet": "sevenn", "mace": "mace-torch", "deepmd": "deepmd-kit"}.get(name, name)
    try:
        return f"{name} {version(pkg)}"
    except PackageNotFoundError:
        return name


