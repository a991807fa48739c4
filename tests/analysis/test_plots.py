"""What the figures draw."""
import numpy as np
import pandas as pd
from ase import Atoms

from linmr.analysis import plots

L = 12.0


def _frame(o_far_y=8.2, with_second_li=True):
    """Li0 at (1, 6, 6) binds FSI O at 2.0 Å across the periodic face and one at ``o_far_y - 6`` Å;
    Li1 at (6, 6, 6) binds one FSI O at 2.3 Å (another at 3.5 Å does not count) and one DME O at 2.1 Å."""
    li = [(1.0, 6.0, 6.0)] + ([(6.0, 6.0, 6.0)] if with_second_li else [])
    o_fsi = [(11.0, 6.0, 6.0), (1.0, o_far_y, 6.0), (6.0, 6.0, 8.3), (6.0, 6.0, 9.5)]
    o_dme = [(6.0, 3.9, 6.0)]
    a = Atoms(["Li"] * len(li) + ["O"] * 5, positions=li + o_fsi + o_dme, cell=[L] * 3, pbc=True)
    a.set_array("mol_name", np.array(["Li"] * len(li) + ["FSI"] * 4 + ["DME"]))
    a.set_array("mol_id", np.r_[np.arange(len(li)), [10, 10, 11, 11, 12]])
    return a


def test_solvation_figure_draws_error_bars_and_li_counts(tmp_path):
    conc = [1.0, 2.0, 3.0, 4.0]
    fractions = {"SSIP": [0.0, 0.5, 0.3, 0.0], "CIP": [1.0, 0.5, 0.7, 0.0], "AGG": [0.0, 0.0, 0.0, 1.0]}
    cn = {"Li-O(FSI)": [1.0, 1.0, 1.0, 2.7], "Li-O(DME)": [1.5, 2.5, 2.3, 0.3]}
    err = {"Li-O(FSI)": [np.nan, 1.0, 0.6, 0.2], "Li-O(DME)": [np.nan, 1.5, 0.9, 0.3]}
    plots.solvation(conc, fractions, cn, tmp_path / "solv.png", footer="test", cn_err=err, n_li=[1, 2, 3, 4])
    plots.solvation(conc, fractions, cn, tmp_path / "plain.png")  # errors stay optional
    for name in ("solv", "plain"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000 and (tmp_path / f"{name}.pdf").stat().st_size > 1000
    assert not list(tmp_path.glob(".*tmp"))


def test_new_figures_write_png_and_pdf(tmp_path):
    r = np.linspace(0.05, 5.95, 60)
    table = pd.DataFrame({"pair": "O_anion", "label": "Li-O(FSI)", "r_A": np.tile(r, 2), "g": 1.0,
                          "cn": np.tile(r, 2), "concentration": np.repeat(["1M", "2M"], 60)})
    plots.rdfs(table, {"O_anion": 2.6}, tmp_path / "rdf.png")
    motifs = pd.DataFrame({"concentration": ["1M", "1M"], "n_solvent": [2, 1], "n_anion": [0, 1],
                           "mean_delta_ppm": [-1.0, -2.0], "std_delta_ppm": [0.1, np.nan], "fraction": [0.5, 0.5]})
    plots.shift_per_motif(motifs, tmp_path / "motif.png")
    plots.convergence({"1M": ([0.1, 0.2], [-1.0, -1.1], [np.nan, 0.1])}, tmp_path / "conv.png")
    lc = pd.DataFrame({"n_train": [5, 10, 5, 10], "model": ["nn_ensemble"] * 2 + ["soap_ridge"] * 2,
                       "mae_ppm": [1.0, 0.5, 1.1, 0.6], "round": [0, 1, 0, 0]})
    plots.learning_curve(lc, tmp_path / "lc.png")
    for name in ("rdf", "motif", "conv", "lc"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000 and (tmp_path / f"{name}.pdf").exists()
    assert not list(tmp_path.glob(".*tmp"))
