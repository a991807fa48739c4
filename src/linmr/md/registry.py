"""The MLIP registry: every machine-learning potential the campaign knows, in one table.

Start-up checks (:mod:`linmr.config`), both MD engines and provenance read this table: the
Python package that provides a potential, the distribution whose version is recorded, whether
it needs a model file (``md.model_path``), the LAMMPS ``pair_style`` that runs it, and how to
build its ASE calculator. Adding a potential adds one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import LinmrError


@dataclass(frozen=True)
class MLIP:
    name: str
    module: str  # Python import that provides the ASE calculator
    distribution: str  # pip distribution whose version is recorded
    needs_model_file: bool  # md.model_path is required (no weights ship in the wheel)
    lammps_pair_style: str | None  # LAMMPS pair_style, None: no LAMMPS route
    note: str = ""


REGISTRY = {
    "chgnet": MLIP("chgnet", "chgnet", "chgnet", False, None, "CHGNet 0.3.0 weights ship in the wheel (offline)"),
    "sevennet": MLIP("sevennet", "sevenn", "sevenn", False, None, "SevenNet-0 weights ship in the wheel (offline)"),
    "mace": MLIP("mace", "mace", "mace-torch", True, "mace", "a MACE model file"),
    "deepmd": MLIP("deepmd", "deepmd", "deepmd-kit", True, "deepmd", "a frozen DeePMD model (.pb)"),
}


def trained_in_campaign(md: dict) -> bool:
    """Whether the campaign trains its MD potential (the config's ``md``: potential deepmd, no model_path)."""
    return md["potential"] == "deepmd" and not md["model_path"]


def get(name: str) -> MLIP:
    try:
        return REGISTRY[name]
    except KeyError:
        raise LinmrError(f"unknown MLIP {name!r} (key md.potential); choose one of: {', '.join(REGISTRY)}") from None


def version(name: str) -> str:
    """``'<name> <version of its distribution>'``, or the bare name where the package is not installed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return f"{name} {dist_version(get(name).distribution)}"
    except PackageNotFoundError:
        return name


def load_chgnet(model_path: str | Path):
    """A CHGNet model from a file saved by ``CHGNet.save``, without executing pickled code.

    (``CHGNet.from_file`` calls ``torch.load(weights_only=False)``, which would run any code
    pickled into the file; this reads plain tensors and dicts only.)
    """
    import torch
    from chgnet.model import CHGNet

    from ..readers import check_readable

    path = Path(model_path)
    check_readable(path, "MLIP model (md.model_path)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        msg = str(exc).splitlines()[0][:300] if str(exc) else ""
        raise LinmrError(
            f"{path}: not a loadable CHGNet model file ({type(exc).__name__}: {msg}); only plain tensor files "
            "are read (weights_only=True: no pickled code is executed)"
        ) from None
    try:
        return CHGNet.from_dict(state["model"])
    except Exception as exc:
        raise LinmrError(
            f"{path}: not a CHGNet model (expected a file written by CHGNet.save; {type(exc).__name__}: {exc})"
        ) from None


def _calculator(name: str, device: str, model_path: str | None):
    entry = get(name)
    if entry.needs_model_file and not model_path:
        raise LinmrError(f"md.potential {name!r} needs md.model_path ({entry.note})")
    try:
        if name == "chgnet":
            from chgnet.model import CHGNet, CHGNetCalculator
        elif name == "sevennet":
            from sevenn.calculator import SevenNetCalculator
        elif name == "mace":
            from mace.calculators import MACECalculator
        else:
            from deepmd.calculator import DP
    except ImportError as exc:
        raise LinmrError(
            f"md.potential {name!r} needs the package {entry.distribution}, which is not installed ({exc})"
        ) from None
    if name == "chgnet":
        model = CHGNet.load(verbose=False) if model_path is None else load_chgnet(model_path)
        return CHGNetCalculator(model=model, use_device=device)
    if name == "sevennet":
        # SevenNet-0 (11 July 2024) weights ship inside the sevenn wheel: offline like chgnet
        return SevenNetCalculator(model=model_path or "7net-0", device=device)
    if name == "mace":
        return MACECalculator(model_paths=model_path, device=device)
    return DP(model=model_path)


def make_calculator(name: str, device: str = "cpu", model_path: str | Path | None = None):
    """The ASE calculator of MLIP ``name`` on ``device``; any failure to load is one clear :class:`LinmrError`.

    ``chgnet`` and ``sevennet`` run offline with the weights their wheels ship (``model_path``
    optionally names another checkpoint); ``mace``/``deepmd`` need ``model_path``.
    """
    from ..readers import check_readable

    if model_path is not None:
        check_readable(Path(model_path), f"MLIP model for md.potential {name!r} (md.model_path)")
    try:
        return _calculator(name, device, None if model_path is None else str(model_path))
    except LinmrError:
        raise
    except Exception as exc:
        where = f"{model_path}: " if model_path else ""
        raise LinmrError(
            f"{where}MLIP {name!r} (md.potential) does not load on device {device!r}: {type(exc).__name__}: {exc}"
        ) from None
