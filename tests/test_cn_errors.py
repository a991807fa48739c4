"""Per-Li coordination numbers with standard errors over Li, and the solvation figure's error bars."""
import numpy as np
import pytest
from ase import Atoms

from linmr import LinmrError, plots, solvation

NAMES = {"cation": "Li", "anion": "FSI", "solvent": "DME"}
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


def test_per_li_coordination_mean_sd_se_and_pooled_rdf_agree():
    # frame 1: Li0 has 2 FSI O within 2.75 Å, Li1 has 1; frame 2: Li0's second O moves to 3.0 Å
    frames = [_frame(8.2), _frame(9.0)]
    t = solvation.per_li_coordination(frames, NAMES, {"O_anion": 2.75, "O_solvent": 2.75}).set_index("pair")
    a = t.loc["O_anion"]
    assert a["n_li"] == 2 and a["label"] == "Li-O(FSI)" and a["r_A"] == 2.75
    # per Li averaged over frames: 1.5 and 1.0
    assert a["cn_mean"] == pytest.approx(1.25)
    assert a["cn_sd"] == pytest.approx(np.std([1.5, 1.0], ddof=1))
    assert a["cn_sem"] == pytest.approx(0.25)
    s = t.loc["O_solvent"]
    assert s["cn_mean"] == pytest.approx(0.5) and s["cn_sem"] == pytest.approx(0.5)
    # the pooled running CN of rdf() at the bin centred on 2.75 Å counts up to its upper edge (2.8 Å);
    # no distance lies between, so the per-Li mean equals it at either radius
    r, _, cn = solvation.rdf(frames, "Li", "FSI", "O", r_max=6.0, dr=0.1)
    k = int(np.argmin(np.abs(r - 2.75)))
    assert cn[k] == pytest.approx(a["cn_mean"])
    edge = solvation.per_li_coordination(frames, NAMES, {"O_anion": r[k] + 0.05})
    assert edge["cn_mean"].iloc[0] == pytest.approx(cn[k])


def test_single_li_has_no_standard_error():
    t = solvation.per_li_coordination([_frame(with_second_li=False)], NAMES, {"O_anion": 2.75})
    assert t["n_li"].iloc[0] == 1
    assert t["cn_mean"].iloc[0] == pytest.approx(2.0)
    assert np.isnan(t["cn_sd"].iloc[0]) and np.isnan(t["cn_sem"].iloc[0])


def test_per_li_coordination_refuses_unknown_pair_and_no_li():
    with pytest.raises(LinmrError, match="unknown coordination pair"):
        solvation.per_li_coordination([_frame()], NAMES, {"O_cation": 2.75})
    no_li = _frame()
    no_li.arrays["mol_name"][:] = "DME"
    with pytest.raises(LinmrError, match="no Li"):
        solvation.per_li_coordination([no_li], NAMES, {"O_anion": 2.75})


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
