"""Solvation classes, vectorised environments, RDFs, first minima and per-Li coordination numbers."""
import numpy as np
import pandas as pd
import pytest
from ase import Atoms

from linmr import LinmrError
from linmr.analysis import solvation
from linmr.analysis.solvation import li_environments

from ..conftest import NAMES, rattled


def test_solvation_classes():
    # two Li sharing one anion (AGG), one Li with its own anion (CIP), one with solvent only (SSIP)
    sym = ["Li", "Li", "Li", "Li", "O", "O", "O", "O"]
    pos = [[0, 0, 0], [4, 0, 0], [10, 0, 0], [0, 10, 0], [2, 0, 0], [11.9, 0, 0], [0, 12, 0], [2.1, 2.0, 0]]
    a = Atoms(sym, positions=pos, cell=[20] * 3, pbc=True)
    a.set_array("mol_id", np.array([0, 1, 2, 3, 4, 5, 6, 7]))
    a.set_array("mol_name", np.array(["Li"] * 4 + ["FSI", "FSI", "DME", "DME"]))
    env = {e["li_index"]: e for e in li_environments(a, r_bind=2.2)}
    assert env[0]["solvation_class"] == "AGG" and env[1]["solvation_class"] == "AGG"
    assert env[2]["solvation_class"] == "CIP"
    assert env[3]["solvation_class"] == "SSIP" and env[3]["cn_O_solvent"] == 1


def test_batched_environments_match_ase_distances(box4):
    frames = rattled(box4, 6)
    topo = solvation.Topology(frames[0])
    batch = solvation.environment_batch(frames, topo, r_bind=2.6)
    sym = np.array(box4.get_chemical_symbols())
    names = box4.arrays["mol_name"]
    donors = np.flatnonzero(np.isin(sym, ["O", "N"]) & np.isin(names, ["FSI", "DME"]))
    k = 0
    for f in frames:
        for li in topo.li:
            d = f.get_distances(li, donors, mic=True)  # ASE's general minimum image as the reference
            hit = donors[d <= 2.6]
            assert batch["li_index"][k] == li
            assert batch["cn_O_anion"][k] == ((sym[hit] == "O") & (names[hit] == "FSI")).sum()
            assert batch["cn_O_solvent"][k] == ((sym[hit] == "O") & (names[hit] == "DME")).sum()
            assert batch["cn_N_anion"][k] == ((sym[hit] == "N") & (names[hit] == "FSI")).sum()
            k += 1
    assert k == len(batch["li_index"])
    # per-frame dicts agree with the batch
    one = solvation.li_environments(frames[2], r_bind=2.6)
    n = len(topo.li)
    assert [e["solvation_class"] for e in one] == list(batch["solvation_class"][2 * n : 3 * n])


def test_rdf_of_uniform_gas_is_one_and_cn_is_density_volume():
    rng = np.random.default_rng(1)
    L, n_li, n_o, frames = 12.0, 20, 200, []
    for _ in range(20):
        pos = rng.uniform(0, L, size=(n_li + n_o, 3))
        a = Atoms(["Li"] * n_li + ["O"] * n_o, positions=pos, cell=[L] * 3, pbc=True)
        a.set_array("mol_name", np.array(["Li"] * n_li + ["DME"] * n_o))
        a.set_array("mol_id", np.arange(n_li + n_o))
        frames.append(a)
    r, g, cn = solvation.rdf(frames, "Li", "DME", "O", r_max=10.0, dr=0.25)
    assert r.max() < L / 2  # clipped to half the cell
    assert np.mean(g[r > 2.0]) == pytest.approx(1.0, abs=0.05)
    rho = n_o / L**3
    k = np.searchsorted(r, 4.0)
    assert cn[k] == pytest.approx(rho * 4 / 3 * np.pi * (r[k] + 0.125) ** 3, rel=0.1)


def test_first_minimum_after_the_peak():
    r = np.arange(0.025, 6, 0.05)
    g = 8 * np.exp(-((r - 2.0) ** 2) / 0.02) + np.where(r > 2.6, 1.0, 0.0) * (1 - np.exp(-(r - 2.6) * 3))
    cn = np.cumsum(g)
    r_min, n = solvation.first_minimum(r, g, cn)
    assert 2.3 < r_min < 2.9
    assert n == pytest.approx(cn[np.argmin(np.abs(r - r_min))])
    # pooled radius: one per pair, shared by all concentrations
    t = pd.concat([
        pd.DataFrame({"pair": "O_anion", "label": "Li-O(FSI)", "r_A": r, "g": g, "cn": cn * s, "n_li_frames": 10,
                      "concentration": c})
        for c, s in (("1M", 1.0), ("2M", 2.0))
    ])
    radii, cns = solvation.coordination_numbers(t)
    assert set(cns["r_min_A"]) == {radii["O_anion"]}
    assert cns.set_index("concentration").loc["2M", "cn"] == pytest.approx(2 * cns.set_index("concentration").loc["1M", "cn"])


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
