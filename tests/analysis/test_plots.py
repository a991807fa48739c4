"""What the figures draw: error bars where they belong, ppm axes decreasing to the right, every axis
labelled with its unit, PNG and PDF written atomically."""
import re

import numpy as np
import pandas as pd
from matplotlib.container import ErrorbarContainer

from linmr.analysis import plots

UNIT = re.compile(r"(/ |\()\S")  # "quantity / unit" or "quantity (unit)"


def _labelled(ax):
    for label in (ax.get_xlabel(), ax.get_ylabel()):
        if label:
            assert UNIT.search(label), f"axis label without a unit: {label!r}"


def _files(tmp_path, name):
    assert (tmp_path / f"{name}.png").stat().st_size > 0 and (tmp_path / f"{name}.pdf").stat().st_size > 0
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def _errorbars(ax):
    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def test_spectra_ppm_axes_decrease_and_peaks_are_marked(tmp_path):
    x = np.linspace(-5, 5, 200)
    curves = {"1M": (x, np.exp(-(x + 1) ** 2)), "4M": (x, np.exp(-(x - 1) ** 2))}
    fig = plots.spectra(curves, tmp_path / "s.png", peaks={"1M": -1.0, "4M": 1.0}, footer="cfg abc")
    for ax in fig.axes:
        assert ax.xaxis_inverted() and "ppm" in ax.get_xlabel()
        _labelled(ax)
    assert len(fig.axes[0].get_lines()) == 4  # two spectra + two peak markers
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["1M", "4M"]
    assert any("cfg abc" in t.get_text() for t in fig.texts)
    _files(tmp_path, "s")


def test_shift_vs_concentration_has_error_bars_and_the_experiment(tmp_path):
    fig = plots.shift_vs_concentration([1, 2, 3, 4], [-1.0, -1.2, -1.3, -1.1], [0.1, 0.1, 0.05, 0.2],
                                       tmp_path / "c.png", experiment=([1, 4], [-1.1, -1.0], "Ref. X"))
    ax = fig.axes[0]
    (bars,) = _errorbars(ax)
    assert np.allclose(bars.lines[0].get_ydata(), [-1.0, -1.2, -1.3, -1.1])
    assert "Ref. X" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert "mol L" in ax.get_xlabel() and "ppm" in ax.get_ylabel()
    _labelled(ax)
    _files(tmp_path, "c")


def test_parity_draws_test_and_cv_with_spread(tmp_path):
    y = np.array([-1.0, 0.0, 1.0])
    fig = plots.parity(y, y + 0.1, [0.05, 0.1, 0.2], tmp_path / "p.png", title="MAE",
                       cv=(np.r_[y, 2.0], np.r_[y, 2.2], np.ones(4) * 0.1), cv_label="5-fold CV")
    ax = fig.axes[0]
    assert len(_errorbars(ax)) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["5-fold CV (n=4)", "test split (n=3)"]
    assert ax.get_xlim() == ax.get_ylim() and ax.get_xlim()[1] >= 2.2
    _labelled(ax)
    _files(tmp_path, "p")


def test_solvation_figure_draws_error_bars_and_li_counts(tmp_path):
    conc = [1.0, 2.0, 3.0, 4.0]
    fractions = {"SSIP": [0.0, 0.5, 0.3, 0.0], "CIP": [1.0, 0.5, 0.7, 0.0], "AGG": [0.0, 0.0, 0.0, 1.0]}
    cn = {"Li-O(FSI)": [1.0, 1.0, 1.0, 2.7], "Li-O(DME)": [1.5, 2.5, 2.3, 0.3]}
    err = {"Li-O(FSI)": [np.nan, 1.0, 0.6, 0.2], "Li-O(DME)": [np.nan, 1.5, 0.9, 0.3]}
    fig = plots.solvation(conc, fractions, cn, tmp_path / "solv.png", footer="test", cn_err=err, n_li=[1, 2, 3, 4])
    ax1, ax2 = fig.axes
    assert len(ax1.get_lines()) == 3
    bars = _errorbars(ax2)
    assert len(bars) == 2  # one per CN series, no bar where the SE is NaN (a single Li)
    assert all(len(b.lines[2][0].get_segments()) == 3 for b in bars)
    assert "Li per box: 1, 2, 3, 4" in ax2.get_legend().get_title().get_text()
    for ax in fig.axes:
        _labelled(ax)
    plain = plots.solvation(conc, fractions, cn, tmp_path / "plain.png")  # errors stay optional
    assert not _errorbars(plain.axes[1])
    _files(tmp_path, "solv")


def test_rdf_motif_convergence_learning_curve_and_classes(tmp_path):
    r = np.linspace(0.05, 5.95, 60)
    table = pd.DataFrame({"pair": "O_anion", "label": "Li-O(FSI)", "r_A": np.tile(r, 2), "g": 1.0,
                          "cn": np.tile(r, 2), "concentration": np.repeat(["1M", "2M"], 60)})
    fig = plots.rdfs(table, {"O_anion": 2.6}, tmp_path / "rdf.png")
    top, bottom = fig.axes
    assert len(top.get_lines()) == 3 and "2.60 Å" in top.get_title()  # two g(r) + the first-minimum line
    for ax in fig.axes:
        _labelled(ax)
    motifs = pd.DataFrame({"concentration": ["1M", "1M"], "n_solvent": [2, 1], "n_anion": [0, 1],
                           "mean_delta_ppm": [-1.0, -2.0], "std_delta_ppm": [0.1, np.nan], "fraction": [0.5, 0.5]})
    fig = plots.shift_per_motif(motifs, tmp_path / "motif.png")
    assert len(_errorbars(fig.axes[0])) == 1 and "ppm" in fig.axes[0].get_ylabel()
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["2 DME\n0 FSI", "1 DME\n1 FSI"]
    fig = plots.convergence({"1M": ([0.1, 0.2], [-1.0, -1.1], [np.nan, 0.1])}, tmp_path / "conv.png")
    assert len(fig.axes[0].collections) == 1 and "ps" in fig.axes[0].get_xlabel()  # the SE band
    _labelled(fig.axes[0])
    lc = pd.DataFrame({"n_train": [5, 10, 5, 10], "model": ["nn_ensemble"] * 2 + ["soap_ridge"] * 2,
                       "mae_ppm": [1.0, 0.5, 1.1, 0.6], "round": [0, 1, 0, 0]})
    fig = plots.learning_curve(lc, tmp_path / "lc.png")
    assert [t.get_text() for t in fig.axes[0].texts] == ["AL round 1"] and fig.axes[0].get_ylim()[0] == 0
    _labelled(fig.axes[0])
    fig = plots.shift_per_class([("1M", "SSIP", -1.0, 0.5), ("1M", "CIP", -2.0, 0.5)], tmp_path / "cls.png")
    assert len(fig.axes[0].patches) == 3 and np.isnan(fig.axes[0].patches[2].get_height())  # AGG: no data
    for name in ("rdf", "motif", "conv", "lc", "cls"):
        _files(tmp_path, name)


def test_md_log_has_four_panels_with_units(tmp_path):
    rows = [{"phase": ph, "step": s, "time_ps": t, "temperature_K": 300.0, "pressure_bar": 1.0,
             "density_g_cm3": 1.0, "potential_energy_eV": -10.0, "total_energy_eV": -9.0, "fmax_eV_A": np.nan}
            for ph, s, t in (("minimise", 0, np.nan), ("minimise", 3, np.nan), ("heat", 0, 0.0), ("npt", 5, 0.005),
                             ("production", 10, 0.01))]
    fig = plots.md_log(pd.DataFrame(rows), tmp_path / "md.png", title="4M")
    assert len(fig.axes) == 4 and "minimisation: 3 steps" in fig.axes[0].get_title()
    assert [ax.get_ylabel() for ax in fig.axes] == ["T (K)", "P (bar)", "density (g/cm$^3$)", "E$_{pot}$ (eV)"]
    assert "(ps)" in fig.axes[-1].get_xlabel()
    _files(tmp_path, "md")


def test_level_ladder_and_cluster_size_figures(tmp_path):
    import pandas as pd
    import pytest

    summary = pd.DataFrame({"level": ["campaign", "PBE0/6-31G*", "PBE/6-31G", "ref"],
                            "level_label": ["PBE/6-31G", "PBE0/6-31G*", "PBE/6-31G", "PBE/pcSseg-2"],
                            "mae_centred_ppm": [1.5, 0.15, 1.5, 0.0],
                            "max_centred_error_ppm": [4.1, 0.3, 4.1, 0.0], "cpu_s_per_cluster": [5.0, 60.0, 5.0, 400.0],
                            "n_ok": [10, 10, 10, 10], "is_reference": [False, False, False, True]})
    study = {"target_ppm": 0.1, "limit_ppm": 0.2}
    fig = plots.level_ladder(summary, {"level": {"choice": "PBE0/6-31G*"}}, study, tmp_path / "l.png")
    ax = fig.axes[0]
    _labelled(ax)
    # the reference is the yardstick, not a point; the campaign's level and its named twin share one point
    assert len(_errorbars(ax)) == 2 and ax.get_xscale() == "log"
    key = "\n".join(t.get_text() for t in fig.texts)
    assert "campaign = PBE/6-31G: 1.50 ppm" in key and "PBE0/6-31G*: 0.15 ppm (max 0.30), 60 s  [chosen]" in key
    assert "ref" in ax.get_title() and "400 s" in ax.get_title()
    _files(tmp_path, "l")
    sizes = pd.DataFrame({"cluster_id": ["a", "a", "b", "b"], "second_shell_r_cut_A": [0.0, 5.0, 0.0, 5.0],
                          "sigma_ppm": [90.0, 90.5, 91.0, 91.2]})
    ssum = pd.DataFrame({"second_shell_r_cut_A": [0.0, 5.0], "mae_centred_vs_largest_ppm": [0.15, 0.0],
                         "cpu_s_per_cluster": [5.0, 50.0], "mean_atoms": [30, 120]})
    fig = plots.cluster_size(sizes, ssum, tmp_path / "c.png")
    for ax in fig.axes:
        _labelled(ax)
    assert [ln.get_ydata()[0] for ln in fig.axes[0].get_lines()[:2]] == pytest.approx([-0.5, -0.2])
    _files(tmp_path, "c")
