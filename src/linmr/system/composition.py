"""Electrolyte composition: molecule counts from molarity and solution density, and concentration labels.

Molarity ``c`` is mol of salt per litre of *solution*; with solution density
``rho`` (g/cm^3), one litre weighs ``1000 rho`` g, of which ``c M_salt`` is salt,
so the solvent:salt ratio is ``(1000 rho - c M_salt) / (c M_solvent)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .. import LinmrError

AVOGADRO = 6.02214076e23  # 1/mol
A3_PER_CM3 = 1e24


@dataclass(frozen=True)
class Composition:
    n_salt: int
    n_solvent: int
    requested_molarity_mol_L: float
    density_g_cm3: float
    molarity_mol_L: float  # realised by the integer counts at this density
    molality_mol_kg: float
    solvent_per_salt: float
    volume_A3: float
    cell_length_A: float

    def as_dict(self) -> dict:
        return asdict(self)


def solvent_per_salt(molarity: float, density: float, m_salt: float, m_solvent: float) -> float:
    """Solvent molecules per formula unit of salt (molarity in mol/L, density in g/cm^3, masses in g/mol)."""
    if molarity <= 0:
        raise LinmrError(f"molarity must be positive, got {molarity} mol/L")
    solvent_mass = 1000.0 * density - molarity * m_salt  # g of solvent per L of solution
    if solvent_mass <= 0:
        raise LinmrError(
            f"{molarity} mol/L of salt ({m_salt:.2f} g/mol) weighs more than a litre of solution "
            f"at {density} g/cm^3: density or molarity is wrong"
        )
    return solvent_mass / (molarity * m_solvent)


def composition(molarity: float, density: float, n_salt: int, m_salt: float, m_solvent: float) -> Composition:
    """Integer molecule counts for ``n_salt`` formula units at ``molarity`` and ``density``.

    The box volume follows from the mass of its contents and the density, so the
    realised molarity differs from the requested one only by the rounding of the
    solvent count.
    """
    if n_salt < 1:
        raise LinmrError(f"n_salt must be at least 1, got {n_salt}")
    ratio = solvent_per_salt(molarity, density, m_salt, m_solvent)
    n_solvent = max(1, round(n_salt * ratio))
    mass_g = (n_salt * m_salt + n_solvent * m_solvent) / AVOGADRO
    volume_cm3 = mass_g / density
    volume_A3 = volume_cm3 * A3_PER_CM3
    realised = n_salt / AVOGADRO / (volume_cm3 / 1000.0)
    molality = n_salt / (n_solvent * m_solvent / 1000.0)
    return Composition(
        n_salt=int(n_salt),
        n_solvent=int(n_solvent),
        requested_molarity_mol_L=float(molarity),
        density_g_cm3=float(density),
        molarity_mol_L=float(realised),
        molality_mol_kg=float(molality),
        solvent_per_salt=n_solvent / n_salt,
        volume_A3=float(volume_A3),
        cell_length_A=float(volume_A3 ** (1.0 / 3.0)),
    )


# ------------------------------------------------------------------ concentration labels
# the one helper that turns molarities into names like ``1M`` or ``2.5M`` (file names, tables)


def conc_label(molarity: float) -> str:
    """``1.0 -> '1M'``, ``2.5 -> '2.5M'`` (mol/L)."""
    m = float(molarity)
    if m <= 0:
        raise ValueError(f"concentration must be positive, got {molarity!r} mol/L")
    text = f"{m:.3f}".rstrip("0").rstrip(".")
    return f"{text}M"


def label_molarity(label: str) -> float:
    """Inverse of :func:`conc_label`: ``'2.5M' -> 2.5``."""
    if not label.endswith("M"):
        raise ValueError(f"concentration label {label!r} does not end in 'M'")
    return float(label[:-1])
