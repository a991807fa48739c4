"""Figures a paper would carry: spectra, shift vs concentration, parity, solvation classes.

Every axis names its quantity and unit; NMR ppm axes decrease to the right. Each function saves the
figure (PNG and a PDF twin, written atomically) and returns the matplotlib ``Figure`` for inspection.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..fileio import atomic_path  # noqa: E402

plt.rcParams.update({"font.size": 9, "axes.titlesize": 9, "figure.dpi": 150, "savefig.bbox": "tight"})


def _save(fig, path: str | Path, footer: str | None = None) -> None:
    if footer:
        fig.text(0.99, 1.0, footer, fontsize=6, color="0.4", ha="right", va="bottom")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for target in (path, path.with_suffix(".pdf")):  # temp name then rename: no half-written figure
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=target.suffix.lstrip("."))
    plt.close(fig)


def spectra(curves: dict, path, peaks: dict | None = None, footer: str | None = None):
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
    ax1.set_ylabel("normalised intensity / 1")
    ax2.set_yticks([])
    ax1.legend(frameon=False, fontsize=7)
    ax1.set_title("overlaid")
    ax2.set_title("stacked")
    _save(fig, path, footer)
    return fig


def shift_vs_concentration(conc, mean, err, path, experiment=None, footer: str | None = None):
    fig, ax = plt.subplots(figsize=(3.4, 2.8))
    ax.errorbar(conc, mean, yerr=err, marker="o", capsize=3, label="NN on MLMD")
    if experiment is not None:
        ax.plot(experiment[0], experiment[1], "s", mfc="none", color="k", label=experiment[2] if len(experiment) > 2 else "experiment")
    ax.set_xlabel("LiFSI concentration / mol L$^{-1}$")
    ax.set_ylabel(r"mean $\delta$($^7$Li) / ppm")
    ax.legend(frameon=False, fontsize=7)
    _save(fig, path, footer)
    return fig


def parity(y_true, y_pred, y_err, path, title: str = "", footer: str | None = None, cv=None, cv_label: str = "CV"):
    """NN vs DFT shifts of the test split (error bars: ensemble spread, ppm); ``cv`` = (DFT, NN, spread)
    of cross-validated predictions of every label, drawn behind in grey."""
    fig, ax = plt.subplots(figsize=(3.4, 3.4))
    lo = min(np.min(y_true), np.min(y_pred))
    hi = max(np.max(y_true), np.max(y_pred))
    if cv is not None and len(cv[0]):
        ax.errorbar(cv[0], cv[1], yerr=cv[2], fmt="s", ms=2.5, capsize=1.5, color="0.6", alpha=0.7,
                    label=f"{cv_label} (n={len(cv[0])})")
        lo, hi = min(lo, np.min(cv[0]), np.min(cv[1])), max(hi, np.max(cv[0]), np.max(cv[1]))
    ax.errorbar(y_true, y_pred, yerr=y_err, fmt="o", ms=3, capsize=2, alpha=0.9, label=f"test split (n={len(y_true)})")
    lo, hi = lo - 0.2, hi + 0.2
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel(r"DFT $\delta$($^7$Li) / ppm")
    ax.set_ylabel(r"NN $\delta$($^7$Li) / ppm")
    ax.set_title(title, fontsize=7)
    ax.legend(frameon=False, fontsize=6, loc="upper left")
    _save(fig, path, footer)
    return fig


def solvation(conc, fractions: dict, cn: dict, path, footer: str | None = None, cn_err: dict | None = None,
              n_li=None):
    """Class fractions (SSIP/CIP/AGG) and coordination numbers vs concentration.

    ``cn_err``: label -> standard error of each CN (same order as ``conc``), drawn as error bars
    (none where NaN, e.g. a single Li); ``n_li``: Li per concentration, noted in the legend title."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.0, 2.9), layout="constrained")
    for name, values in fractions.items():
        ax1.plot(conc, values, marker="o", label=name)
    ax1.set_xlabel("LiFSI concentration / mol L$^{-1}$")
    ax1.set_ylabel("fraction of Li / 1")
    ax1.set_ylim(-0.05, 1.05)
    ax1.legend(frameon=False, fontsize=7)
    x = np.asarray(conc, float)
    for name, values in cn.items():
        y = np.asarray(values, float)
        (line,) = ax2.plot(x, y, marker="s", label=name)
        if cn_err is not None and name in cn_err:
            err = np.asarray(cn_err[name], float)
            ok = np.isfinite(err) & np.isfinite(y)
            if ok.any():
                ax2.errorbar(x[ok], y[ok], yerr=err[ok], fmt="none", ecolor=line.get_color(), capsize=3, lw=0.8)
    ax2.set_xlabel("LiFSI concentration / mol L$^{-1}$")
    ax2.set_ylabel("CN at first RDF minimum / 1")
    title = None
    if n_li is not None:
        title = "Li per box: " + ", ".join(str(int(n)) for n in n_li)
        if cn_err is not None:
            title += "\nbars: SE over Li"
    # outside the axes, so it never hides a point or a bar; constrained layout makes room for it
    ax2.legend(frameon=False, fontsize=7, title=title, title_fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _save(fig, path, footer)
    return fig


def shift_per_class(table, path, footer: str | None = None):
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
    return fig


def _conc_colors(labels):
    return dict(zip(labels, plt.cm.viridis(np.linspace(0.1, 0.85, max(len(labels), 1)))))


def rdfs(table, radii: dict, path, footer: str | None = None):
    """Li–X g(r) (top) and running coordination number n(r) (bottom), one column per pair; ``table``
    has ``concentration``, ``pair``, ``label``, ``r_A``, ``g``, ``cn``; ``radii`` maps pair to the
    first-minimum radius (Å), drawn dotted."""
    pairs = list(dict.fromkeys(table["pair"]))
    concs = list(dict.fromkeys(table["concentration"]))
    col = _conc_colors(concs)
    fig, axes = plt.subplots(2, len(pairs), figsize=(2.4 * len(pairs), 4.2), sharex=True, squeeze=False)
    for j, pair in enumerate(pairs):
        sub = table[table["pair"] == pair]
        for c in concs:
            t = sub[sub["concentration"] == c]
            axes[0][j].plot(t["r_A"], t["g"], color=col[c], lw=1, label=c)
            axes[1][j].plot(t["r_A"], t["cn"], color=col[c], lw=1)
        r_min = radii.get(pair, np.nan)
        for ax in (axes[0][j], axes[1][j]):
            if np.isfinite(r_min):
                ax.axvline(r_min, color="0.4", lw=0.6, ls=":")
        axes[0][j].set_title(str(sub["label"].iloc[0]) + (f" (min {r_min:.2f} Å)" if np.isfinite(r_min) else ""))
        axes[1][j].set_xlabel("r / Å")
        axes[1][j].set_ylim(0, 6)
    axes[0][0].set_ylabel("g(r) / 1")
    axes[1][0].set_ylabel("coordination number n(r) / 1")
    axes[0][0].legend(frameon=False, fontsize=7)
    fig.tight_layout()
    _save(fig, path, footer)
    return fig


def shift_per_motif(table, path, footer: str | None = None):
    """Mean shift (ppm) per (n_DME, n_FSI) motif; ``table`` has ``concentration``, ``n_solvent``,
    ``n_anion``, ``mean_delta_ppm``, ``std_delta_ppm``, ``fraction``. Marker area ∝ share of Li-frames."""
    fig, ax = plt.subplots(figsize=(4.2, 3.0))
    motifs = sorted({(int(a), int(b)) for a, b in zip(table["n_solvent"], table["n_anion"])}, key=lambda m: (m[1], -m[0]))
    pos = {m: k for k, m in enumerate(motifs)}
    concs = list(dict.fromkeys(table["concentration"]))
    col = _conc_colors(concs)
    width = 0.6 / max(len(concs), 1)
    for j, c in enumerate(concs):
        t = table[table["concentration"] == c]
        x = np.array([pos[(int(a), int(b))] for a, b in zip(t["n_solvent"], t["n_anion"])]) + (j - (len(concs) - 1) / 2) * width
        ax.errorbar(x, t["mean_delta_ppm"], yerr=t["std_delta_ppm"].fillna(0), fmt="none", ecolor=col[c], lw=0.7, capsize=2)
        ax.scatter(x, t["mean_delta_ppm"], s=15 + 150 * t["fraction"], color=col[c], label=c, zorder=3)
    ax.set_xticks(range(len(motifs)), [f"{a} DME\n{b} FSI" for a, b in motifs], fontsize=7)
    ax.set_xlabel("motif: molecules bound to Li (n$_{DME}$, n$_{FSI}$)")
    ax.set_ylabel(r"mean $\delta$($^7$Li) / ppm")
    ax.legend(frameon=False, fontsize=7)
    _save(fig, path, footer)
    return fig


def convergence(curves: dict, path, footer: str | None = None):
    """Running mean shift (ppm) vs simulated time (ps) with its block-averaging standard error band;
    ``curves``: concentration -> (time_ps, mean_ppm, sem_ppm)."""
    fig, ax = plt.subplots(figsize=(3.6, 2.8))
    col = _conc_colors(list(curves))
    for c, (t, m, e) in curves.items():
        t, m, e = (np.asarray(v, float) for v in (t, m, e))
        ax.plot(t, m, color=col[c], label=c)
        ok = np.isfinite(e)
        ax.fill_between(t[ok], (m - e)[ok], (m + e)[ok], color=col[c], alpha=0.25, lw=0)
    ax.set_xlabel("simulated time / ps")
    ax.set_ylabel(r"running mean $\delta$($^7$Li) / ppm")
    ax.legend(frameon=False, fontsize=7)
    _save(fig, path, footer)
    return fig


def learning_curve(table, path, footer: str | None = None):
    """Test MAE (ppm) vs number of training labels for NN, ridge and mean predictor; ``table`` has
    ``n_train``, ``model``, ``mae_ppm`` and optionally ``round`` (active-learning round)."""
    fig, ax = plt.subplots(figsize=(3.4, 2.8))
    styles = {"nn_ensemble": "o-", "soap_ridge": "s--", "mean_predictor": "^:"}
    for name, t in table.groupby("model", sort=False):
        t = t.sort_values("n_train")
        ax.plot(t["n_train"], t["mae_ppm"], styles.get(name, "o-"), label=name.replace("_", " "))
    if "round" in table and table["round"].max() > 0:
        al = table[(table["round"] > 0) & (table["model"] == "nn_ensemble")]
        for r in al.itertuples():
            ax.annotate(f"AL round {r.round}", (r.n_train, r.mae_ppm), fontsize=6, textcoords="offset points", xytext=(3, 4))
    ax.set_xlabel("training labels / 1")
    ax.set_ylabel("test MAE / ppm")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize=7)
    _save(fig, path, footer)
    return fig


def md_log(table, png_path: str | Path, title: str = "", footer: str | None = None):
    """The MD protocol log (``md_log.csv``): T (K), P (bar), density (g/cm3) and potential energy (eV)
    vs time (ps), one colour per phase; the minimisation summarised in the title."""
    md = table[table.phase != "minimise"]
    fig, axes = plt.subplots(4, 1, figsize=(5.5, 6.5), sharex=True)
    cols = [("temperature_K", "T (K)"), ("pressure_bar", "P (bar)"), ("density_g_cm3", "density (g/cm$^3$)"),
            ("potential_energy_eV", "E$_{pot}$ (eV)")]
    for ax, (col, label) in zip(axes, cols):
        for phase, g in md.groupby("phase", sort=False):
            ax.plot(g.time_ps, g[col], ".-", ms=3, lw=0.8, label=phase)
        ax.set_ylabel(label)
    axes[0].legend(fontsize=7, ncol=3)
    axes[-1].set_xlabel("time since heating began (ps)")
    mins = table[table.phase == "minimise"]
    if len(mins):
        title = (title + "  " if title else "") + (
            f"minimisation: {int(mins.step.max())} steps, E {mins.potential_energy_eV.iloc[0]:.2f} -> "
            f"{mins.potential_energy_eV.iloc[-1]:.2f} eV")
    axes[0].set_title(title)
    _save(fig, png_path, footer)
    return fig


def level_ladder(summary, choice: dict, study: dict, path, footer: str | None = None):
    """MAE of mean-centred 7Li shifts (ppm) against the reference level vs CPU s per cluster, one numbered point per
    level (error bar up to the largest single-cluster error), the levels named in a key beside the axes (levels of
    the same basis set, e.g. the campaign's own, share one point); target and limit as dashed lines."""
    fig, ax = plt.subplots(figsize=(7.4, 3.4))
    fig.subplots_adjust(left=0.09, right=0.56, bottom=0.15, top=0.9)
    s = summary[~summary["is_reference"]].sort_values("cpu_s_per_cluster")
    chosen = (choice.get("level") or {}).get("choice")
    key = []
    for _, g in s.groupby("level_label", sort=False):
        r = g.iloc[0]
        names = " = ".join(dict.fromkeys(g["level"]))
        n = len(key) + 1
        up = max(r.max_centred_error_ppm - r.mae_centred_ppm, 0.0)
        colour = "C3" if chosen in set(g["level"]) else "C0"
        ax.errorbar([r.cpu_s_per_cluster], [r.mae_centred_ppm], yerr=[[0.0], [up]], fmt="o", capsize=2, color=colour)
        ax.annotate(str(n), (r.cpu_s_per_cluster, r.mae_centred_ppm), fontsize=7, textcoords="offset points",
                    xytext=(4, 2), color=colour)
        key.append(f"{n}  {names}: {r.mae_centred_ppm:.2f} ppm (max {r.max_centred_error_ppm:.2f}), "
                   f"{r.cpu_s_per_cluster:.0f} s" + ("  [chosen]" if colour == "C3" else ""))
    fig.text(0.58, 0.9, "\n".join(key), fontsize=6, va="top", ha="left", family="monospace")
    ax.axhline(study["target_ppm"], ls="--", color="0.4", lw=0.8, label=f"target {study['target_ppm']:g} ppm")
    ax.axhline(study["limit_ppm"], ls=":", color="0.4", lw=0.8, label=f"limit {study['limit_ppm']:g} ppm")
    ax.set_xscale("log")
    ax.set_xlabel("CPU time per cluster / s")
    ax.set_ylabel("MAE of centred 7Li shifts / ppm")
    ref = summary[summary["is_reference"]]
    ax.set_title(f"vs {ref['level'].iloc[0]} ({int(ref['n_ok'].iloc[0])} clusters, "
                 f"{ref['cpu_s_per_cluster'].iloc[0]:.0f} s each)" if len(ref) else "", fontsize=9)
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize=7)
    _save(fig, path, footer)
    return fig


def cluster_size(table, summary, path, footer: str | None = None):
    """Left: σ(7Li) change (ppm) of each cluster against its largest cut vs second-shell radius (Å; 0 = first
    shell only). Right: MAE of centred shifts (ppm) against the largest cut and CPU s per cluster vs radius."""
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(6.6, 2.9))
    largest = table["second_shell_r_cut_A"].max()
    for cid, g in table.groupby("cluster_id"):
        g = g.sort_values("second_shell_r_cut_A")
        ref = g.loc[g["second_shell_r_cut_A"] == largest, "sigma_ppm"]
        if len(ref):
            ax.plot(g["second_shell_r_cut_A"], g["sigma_ppm"] - ref.iloc[0], "o-", ms=3, lw=0.8, label=cid)
    ax.axhline(0, color="0.5", lw=0.6)
    ax.set_xlabel("second-shell radius / Å (0: first shell)")
    ax.set_ylabel("σ − σ(largest) / ppm")
    if table["cluster_id"].nunique() <= 12:
        ax.legend(frameon=False, fontsize=5, ncol=2)
    s = summary.sort_values("second_shell_r_cut_A")
    bx.plot(s["second_shell_r_cut_A"], s["mae_centred_vs_largest_ppm"], "o-", color="C0")
    bx.set_xlabel("second-shell radius / Å (0: first shell)")
    bx.set_ylabel("MAE of centred shifts vs largest / ppm", color="C0")
    cx = bx.twinx()
    cx.plot(s["second_shell_r_cut_A"], s["cpu_s_per_cluster"], "s--", color="C1")
    cx.set_ylabel("CPU time per cluster / s", color="C1")
    for r in s.itertuples():
        bx.annotate(f"{r.mean_atoms:.0f} atoms", (r.second_shell_r_cut_A, r.mae_centred_vs_largest_ppm),
                    fontsize=6, textcoords="offset points", xytext=(3, 3))
    fig.tight_layout()
    _save(fig, path, footer)
    return fig
