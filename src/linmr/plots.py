"""Figures a paper would carry: spectra, shift vs concentration, parity, solvation classes.

Every axis names its quantity and unit; NMR ppm axes decrease to the right.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

plt.rcParams.update({"font.size": 9, "axes.titlesize": 9, "figure.dpi": 150, "savefig.bbox": "tight"})


def _save(fig, path: str | Path, footer: str | None = None) -> None:
    if footer:
        fig.text(0.99, 1.0, footer, fontsize=6, color="0.4", ha="right", va="bottom")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    fig.savefig(path.with_suffix(".pdf"))
    plt.close(fig)


def spectra(curves: dict, path, peaks: dict | None = None, footer: str | None = None) -> None:
    """``curves``: label -> (axis_ppm, intensity). Overlaid (left) and stacked (right)."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7.0, 3.0))
    colors = plt.cm.viridis(np.linspace(0.1, 0.85, max(len(curves), 1)))
    offset = 0.0
    for (label, (x, y)), c in zip(curves.items(), colors):
        ymax = float(np.max(y)) if len(y) else 1.0
        ax1.plot(x, y / ymax, color=c, label=label)
        ax2.plot(x, y / ymax + offset, color=c)
        ax2.text(x[0], offset + 0.3, label, fontsize=8, color=c)
        if peaks and label in peaks:
            ax1.axvline(peaks[label], color=c, lw=0.6, ls=":")
            ax2.plot([peaks[label]], [offset + 1.0], "v", color=c, ms=4)
        offset += 1.2
    for ax in (ax1, ax2):
        ax.set_xlabel(r"$\delta$($^7$Li) / ppm")
        ax.invert_xaxis()
    ax1.set_ylabel("normalised intensity")
    ax2.set_yticks([])
    ax1.legend(frameon=False, fontsize=7)
    ax1.set_title("overlaid")
    ax2.set_title("stacked")
    _save(fig, path, footer)


def shift_vs_concentration(conc, mean, err, path, experiment=None, footer: str | None = None) -> None:
    fig, ax = plt.subplots(figsize=(3.4, 2.8))
    ax.errorbar(conc, mean, yerr=err, marker="o", capsize=3, label="NN on MLMD")
    if experiment is not None:
        ax.plot(experiment[0], experiment[1], "s", mfc="none", label="experiment")
    ax.set_xlabel("LiFSI concentration / mol L$^{-1}$")
    ax.set_ylabel(r"mean $\delta$($^7$Li) / ppm")
    ax.legend(frameon=False, fontsize=7)
    _save(fig, path, footer)


def parity(y_true, y_pred, y_err, path, title: str = "", footer: str | None = None) -> None:
    fig, ax = plt.subplots(figsize=(3.2, 3.2))
    ax.errorbar(y_true, y_pred, yerr=y_err, fmt="o", ms=3, capsize=2, alpha=0.8)
    lo = min(np.min(y_true), np.min(y_pred)) - 0.2
    hi = max(np.max(y_true), np.max(y_pred)) + 0.2
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel(r"DFT $\delta$($^7$Li) / ppm")
    ax.set_ylabel(r"NN $\delta$($^7$Li) / ppm")
    ax.set_title(title)
    _save(fig, path, footer)


def solvation(conc, fractions: dict, cn: dict, path, footer: str | None = None) -> None:
    """Class fractions (SSIP/CIP/AGG) and coordination numbers vs concentration."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(6.8, 2.8))
    for name, values in fractions.items():
        ax1.plot(conc, values, marker="o", label=name)
    ax1.set_xlabel("LiFSI concentration / mol L$^{-1}$")
    ax1.set_ylabel("fraction of Li / 1")
    ax1.set_ylim(-0.05, 1.05)
    ax1.legend(frameon=False, fontsize=7)
    for name, values in cn.items():
        ax2.plot(conc, values, marker="s", label=name)
    ax2.set_xlabel("LiFSI concentration / mol L$^{-1}$")
    ax2.set_ylabel("coordination number / 1")
    ax2.legend(frameon=False, fontsize=7)
    _save(fig, path, footer)


def shift_per_class(table, path, footer: str | None = None) -> None:
    """``table``: rows of (concentration label, class, mean shift ppm, count)."""
    fig, ax = plt.subplots(figsize=(3.6, 2.8))
    classes = ["SSIP", "CIP", "AGG"]
    labels = sorted({r[0] for r in table}, key=lambda s: float(s.rstrip("M")))
    width = 0.8 / max(len(labels), 1)
    for k, lab in enumerate(labels):
        vals = [next((r[2] for r in table if r[0] == lab and r[1] == c), np.nan) for c in classes]
        ax.bar(np.arange(len(classes)) + k * width, vals, width, label=lab)
    ax.set_xticks(np.arange(len(classes)) + width * (len(labels) - 1) / 2, classes)
    ax.set_ylabel(r"mean $\delta$($^7$Li) / ppm")
    ax.legend(frameon=False, fontsize=7)
    _save(fig, path, footer)
