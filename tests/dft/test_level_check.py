"""The level-of-theory check."""
import pytest
from ase import Atoms

from linmr import LinmrError
from linmr.config import check_config
from linmr.dft import Level, pyscf_backend
from linmr.dft.level_check import diverse_subset, pair_mae, run
from linmr.dft.reference import li_h2o4

from ..conftest import ROOT


def test_pair_mae_hand_checked():
    # same differences up to a constant offset: relative shifts agree exactly
    assert pair_mae([90.0, 91.0, 93.0], [91.0, 92.0, 94.0]) == pytest.approx((0.0, 0.0, 0.0))
    # one cluster off by 0.3 ppm: pairs (0,1) 0, (0,2) 0.3, (1,2) 0.3 -> MAE 0.2, max 0.3
    mae, centred, worst = pair_mae([90.0, 91.0, 93.0], [90.0, 91.0, 93.3])
    assert mae == pytest.approx(0.2) and worst == pytest.approx(0.3)
    assert centred == pytest.approx((0.1 + 0.1 + 0.2) / 3)
    with pytest.raises(LinmrError, match="at least two"):
        pair_mae([1.0], [1.0])


def test_diverse_subset_spans_compositions():
    pool = []
    for k, (fsi, dme) in enumerate([(0, 2)] * 5 + [(2, 1)] * 3 + [(1, 1)]):
        a = Atoms("Li")
        a.info.update(cluster_id=f"{k % 4 + 1}M-{k:04d}", n_FSI=fsi, n_DME=dme)
        pool.append(a)
    sub = diverse_subset(pool, 3)
    assert sorted((a.info["n_FSI"], a.info["n_DME"]) for a in sub) == [(0, 2), (1, 1), (2, 1)]
    assert len(diverse_subset(pool, 20)) == 9


def test_level_check_runs_two_levels_on_real_clusters():
    clusters = []
    for k, n in enumerate((7, 10)):  # Li(H2O)2+ and Li(H2O)3+
        a = li_h2o4()[:n]
        a.info.update(charge=1, multiplicity=1, cluster_id=f"1M-{k:04d}", n_FSI=0, n_DME=0)
        clusters.append(a)
    lvl = Level(method="HF", basis={"Li": "6-31G", "default": "STO-3G"}, density_fit=True)
    table, summary = run(clusters, pyscf_backend, lvl, {"default": "6-31G"}, log=lambda *a: None)
    assert list(table["status"]) == ["ok", "ok"]
    assert summary["level_large"] == "HF/*:6-31G/RI-GIAO" and summary["n_clusters"] == 2
    d_small = table["sigma_campaign_ppm"].diff().iloc[1]
    d_large = table["sigma_large_ppm"].diff().iloc[1]
    assert summary["mae_relative_shift_pairs_ppm"] == pytest.approx(abs(d_small - d_large))
    assert table["sigma_campaign_ppm"].iloc[0] != pytest.approx(table["sigma_large_ppm"].iloc[0], abs=1e-3)


def test_solvent_needs_orca_or_gaussian():
    import yaml

    cfg = yaml.safe_load(open(ROOT / "config" / "config.yaml"))
    cfg["dft"]["solvent"] = {"epsilon": 7.2, "refractive_index": 1.379}
    with pytest.raises(LinmrError, match="dft.solvent"):
        check_config(cfg)
    cfg["dft"]["backend"] = "orca"
    check_config(cfg)
