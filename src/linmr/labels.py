"""Concentration labels: the one helper that turns molarities into names like ``1M`` or ``2.5M``."""

from __future__ import annotations


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
