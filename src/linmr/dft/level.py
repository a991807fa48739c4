"""Level of theory: one small value object, written into every DFT output."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Level:
    method: str = "B3LYP"  # 'HF' or a DFT functional name
    basis: dict = field(default_factory=lambda: {"default": "6-31G*"})  # element -> basis; 'default' for the rest
    density_fit: bool = True
    grid_level: int = 1
    giao_density_fit: bool = True  # density-fit the GIAO two-electron term too (needs density_fit)
    # implicit solvent (CPCM in ORCA, PCM in Gaussian): static dielectric constant and refractive
    # index of the solvent; None: gas phase
    solvent_epsilon: float | None = None
    solvent_refractive_index: float | None = None

    def basis_for(self, symbol: str) -> str:
        return self.basis.get(symbol, self.basis["default"])

    def label(self) -> str:
        """A stable, human-readable string naming the level, e.g. ``B3LYP/Li:6-31G*,*:STO-3G/RI/grid1``."""
        parts = [f"{k}:{v}" for k, v in sorted(self.basis.items()) if k != "default"]
        parts.append(f"*:{self.basis['default']}")
        text = f"{self.method}/{','.join(parts)}"
        if self.density_fit:
            text += "/RI" + ("-GIAO" if self.giao_density_fit else "")
        if self.method.upper() != "HF":
            text += f"/grid{self.grid_level}"
        if self.solvent_epsilon is not None:
            text += f"/PCM(eps={self.solvent_epsilon:g},n={self.solvent_refractive_index:g})"
        return text


def level_from_config(cfg: dict) -> Level:
    """The level of theory of the config's ``dft:`` section (every key present: see :func:`linmr.config.prepare`)."""
    solvent = cfg["solvent"] or {}
    return Level(
        method=str(cfg["method"]),
        basis=dict(cfg["basis"]),
        density_fit=bool(cfg["density_fit"]),
        grid_level=int(cfg["grid_level"]),
        giao_density_fit=bool(cfg["giao_density_fit"]),
        solvent_epsilon=None if not solvent else float(solvent["epsilon"]),
        solvent_refractive_index=None if not solvent else float(solvent["refractive_index"]),
    )
