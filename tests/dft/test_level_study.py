"""The level-of-theory and cluster-size studies."""
import os

import numpy as np
import pandas as pd
import pytest
from ase import Atoms

from linmr import LinmrError
from linmr.dft import Level, pyscf_backend
from linmr.dft.level_study import (centred_errors, choose, cluster_sizes, ladder, summarise_ladder,
                                   summarise_sizes)
from linmr.dft.reference import li_h2o4


def test_centred_errors_hand_checked():
    # a constant offset is no error of relative shifts
    assert centred_errors([90.0, 91.0, 93.0], [95.0, 96.0, 98.0]) == pytest.approx((0.0, 0.0, -5.0))
    # one cluster 0.3 ppm off: centred errors 0.1, 0.1, 0.2
    mae, worst, offset = centred_errors([90.0, 91.0, 93.3], [90.0, 91.0, 93.0])
    assert (mae, worst, offset) == pytest.approx(((0.1 + 0.1 + 0.2) / 3, 0.2, 0.1))
    # a cluster missing at either level is left out of both
    assert centred_errors([1.0, np.nan, 3.0], [2.0, 5.0, 4.0])[0] == pytest.approx(0.0)
    with pytest.raises(LinmrError, match="at least two"):
        centred_errors([1.0, np.nan], [1.0, 2.0])


def _summary(rows):
    return pd.DataFrame(rows, columns=["level", "mae_centred_ppm", "cpu_s_per_cluster", "is_reference"])


def test_choose_cheapest_within_target_then_limit():
    s = _summary([("ref", 0.0, 900.0, True), ("cheap", 0.15, 5.0, False), ("mid", 0.08, 50.0, False),
                  ("dear", 0.02, 300.0, False)])
    assert choose(s)["choice"] == "mid" and choose(s)["within"] == "target"
    s = _summary([("ref", 0.0, 900.0, True), ("cheap", 0.15, 5.0, False), ("worse", 0.18, 50.0, False)])
    assert choose(s) | {} == {"choice": "cheap", "within": "limit", "tolerance_ppm": 0.2,
                              "mae_centred_ppm": 0.15, "cpu_s_per_cluster": 5.0}
    s = _summary([("ref", 0.0, 900.0, True), ("bad", 1.5, 5.0, False), ("less bad", 0.4, 50.0, False)])
    c = choose(s)
    assert c["choice"] is None and c["best_available"] == "less bad"  # the reference itself is never chosen


def _water_clusters():
    out = []
    for k, n in enumerate((7, 10, 13)):  # Li(H2O)2+, Li(H2O)3+, Li(H2O)4+
        a = li_h2o4()[:n]
        a.info.update(charge=1, multiplicity=1, cluster_id=f"1M-{k:04d}", n_FSI=0, n_DME=0, concentration="1M")
        out.append(a)
    return out


def test_ladder_on_real_clusters_measures_error_against_the_reference():
    levels = {"small": Level(method="HF", basis={"Li": "6-31G", "default": "STO-3G"}),
              "big": Level(method="HF", basis={"default": "6-31G"})}
    table = ladder(_water_clusters(), pyscf_backend, levels, log=lambda *a: None)
    assert len(table) == 6 and set(table["status"]) == {"ok"} and (table["cpu_s"] > 0).all()
    # CPU time of each calculation alone (not of the process so far): at most its wall time on every core
    assert (table["cpu_s"] <= table["wall_s"] * (os.cpu_count() or 1) + 0.05).all()
    summary = summarise_ladder(table, "big").set_index("level")
    assert summary.loc["big", "mae_centred_ppm"] == pytest.approx(0.0, abs=1e-12)
    wide = table.pivot(index="cluster_id", columns="level", values="sigma_ppm")
    mae = centred_errors(wide["small"].to_numpy(), wide["big"].to_numpy())[0]
    assert summary.loc["small", "mae_centred_ppm"] == pytest.approx(mae) and mae > 0.01  # the bases differ
    assert summary.loc["small", "mean_nao"] < summary.loc["big", "mean_nao"]
    with pytest.raises(LinmrError, match="reference level 'huge'"):
        summarise_ladder(table, "huge")


def test_failed_level_is_a_row_not_a_crash():
    levels = {"ok": Level(method="HF", basis={"default": "STO-3G"}),
              "bad": Level(method="HF", basis={"default": "no-such-basis"})}
    table = ladder(_water_clusters()[:2], pyscf_backend, levels, log=lambda *a: None)
    bad = table[table["level"] == "bad"]
    assert set(bad["status"]) == {"failed"} and bad["reason"].str.contains("basis").all()
    s = summarise_ladder(table, "ok").set_index("level")
    assert s.loc["bad", "n_failed"] == 2 and np.isnan(s.loc["bad", "mae_centred_ppm"])


def _water_frame(shift: float):
    """Li with two first-shell waters and one second-shell water 3.6-4.2 A away, periodic 14 A box."""
    L = 14.0
    w = [[0.0, 0.0, 0.0], [0.76, 0.59, 0.0], [-0.76, 0.59, 0.0]]
    sym, pos, mol = ["Li"], [[7.0, 7.0, 7.0]], [0]
    for m, (c, rot) in enumerate((([9.0, 7.0, 7.0], 1), ([5.0, 7.0, 7.0], -1), ([7.0, 7.0, 10.6 + shift], 1)), 1):
        for s, p in zip("OHH", w):
            sym.append(s)
            pos.append([c[0] + rot * p[1], c[1] + p[0], c[2]])
            mol.append(m)
    a = Atoms(sym, positions=pos, cell=[L] * 3, pbc=True)
    a.set_array("mol_id", np.array(mol))
    a.set_array("mol_name", np.array(["Li"] + ["W"] * 9))
    return a


def test_cluster_size_study_recuts_the_same_environment():
    envs = []
    for k, shift in enumerate((0.0, 0.5)):
        frame = _water_frame(shift)
        c = Atoms("Li")
        c.info.update(cluster_id=f"1M-{k:04d}", center_index=0, concentration="1M")
        envs.append((c, frame))
    lvl = Level(method="HF", basis={"Li": "6-31G", "default": "STO-3G"})
    table = cluster_sizes(envs, [None, 4.5], pyscf_backend, lvl, {"Li": 1, "W": 0}, 2.6, ("O",),
                          log=lambda *a: None)
    assert list(table["n_atoms"]) == [7, 10, 7, 10] and set(table["charge_e"]) == {1}
    assert set(table["status"]) == {"ok"}
    summary = summarise_sizes(table).set_index("second_shell_r_cut_A")
    assert summary.loc[4.5, "is_reference"] and summary.loc[4.5, "mae_centred_vs_largest_ppm"] == 0.0
    first = table[table["second_shell_r_cut_A"] == 0.0]["sigma_ppm"].to_numpy()
    big = table[table["second_shell_r_cut_A"] == 4.5]["sigma_ppm"].to_numpy()
    assert summary.loc[0.0, "mean_abs_delta_sigma_vs_largest_ppm"] == pytest.approx(np.abs(first - big).mean())
    assert summary.loc[0.0, "mean_abs_delta_sigma_vs_largest_ppm"] > 0.01  # the second-shell water is felt


def test_cache_reuses_computed_shieldings_and_survives_a_torn_line(tmp_path):
    from linmr.dft.level_study import ResultCache

    levels = {"small": Level(method="HF", basis={"default": "STO-3G"})}
    clusters = _water_clusters()[:2]
    path = tmp_path / "computed.jsonl"
    first = ladder(clusters, pyscf_backend, levels, log=lambda *a: None, cache=ResultCache(path))
    assert not first["cached"].any() and len(path.read_text().splitlines()) == 2
    with open(path, "a") as fh:
        fh.write('{"input_sha256": "abc", "sigma_pp')  # a job killed mid-write
    calls = []

    class Counting:
        program_version = staticmethod(pyscf_backend.program_version)

        @staticmethod
        def shielding(*a, **k):
            calls.append(1)
            return pyscf_backend.shielding(*a, **k)

    levels["big"] = Level(method="HF", basis={"default": "6-31G"})  # a level added to the ladder
    again = ladder(clusters, Counting, levels, log=lambda *a: None, cache=ResultCache(path))
    assert len(calls) == 2  # only the new level is computed
    assert len(ResultCache(path).rows) == 4  # rows written after the torn line are whole
    small = again[again["level"] == "small"]
    assert small["cached"].all() and list(small["sigma_ppm"]) == list(first["sigma_ppm"])
    moved = [a.copy() for a in clusters]
    moved[0].positions[1] += 0.01  # another geometry is another input
    ladder(moved, Counting, {"small": levels["small"]}, log=lambda *a: None, cache=ResultCache(path))
    assert len(calls) == 3


def test_rows_cached_before_getrusage_say_their_cpu_measure(tmp_path):
    """A cache row from before cpu_s was getrusage time holds wall x threads: the row and the summary say so."""
    import json

    from linmr.dft.level_study import ResultCache, cpu_measure, summarise_ladder

    levels = {"small": Level(method="HF", basis={"default": "STO-3G"})}
    clusters = _water_clusters()[:2]
    path = tmp_path / "computed.jsonl"
    ladder(clusters, pyscf_backend, levels, log=lambda *a: None, cache=ResultCache(path))
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert {r["cpu_measure"] for r in rows} == {"getrusage"}
    del rows[0]["cpu_measure"]  # as written by the older code
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    levels["ref"] = Level(method="HF", basis={"default": "6-31G"})
    table = ladder(clusters, pyscf_backend, levels, log=lambda *a: None, cache=ResultCache(path))
    small = table[table["level"] == "small"]
    assert list(small["cpu_measure"]) == ["wall x threads", "getrusage"]
    summary = summarise_ladder(table, "ref").set_index("level")
    assert summary.loc["small", "cpu_measure"] == "mixed: getrusage, wall x threads"
    assert summary.loc["ref", "cpu_measure"] == "getrusage"
    assert cpu_measure(table.iloc[:0]) == ""


def test_study_bundles_on_written_bundles_and_trajectory(tmp_path):
    """The rule's entry point: clusters from bundle files (an empty one included), re-cut from the trajectory."""
    from ase.io import write

    from linmr.dft.level_study import study_bundles
    from linmr.system.clusters import cut_cluster

    frames = [_water_frame(0.0), _water_frame(0.5)]
    (tmp_path / "1M").mkdir()
    write(tmp_path / "1M/production.extxyz", frames, format="extxyz")
    clusters = []
    for k, f in enumerate(frames):
        c = cut_cluster(f, 0, 2.6, {"Li": 1, "W": 0}, donors=("O",))
        c.info.update(cluster_id=f"1M-{k:04d}", concentration="1M", frame=k)
        clusters.append(c)
    write(tmp_path / "b0.extxyz", clusters, format="extxyz")
    (tmp_path / "b1.extxyz").write_text("")
    dft = {"method": "HF", "basis": {"default": "STO-3G"}, "density_fit": True, "giao_density_fit": True,
           "grid_level": 0, "solvent": None, "backend": "pyscf"}
    study = {"n_clusters": 2, "reference": "big", "size_level": "campaign", "radii_A": [4.5], "target_ppm": 0.1,
             "limit_ppm": 0.2, "levels": [{"name": "big", "method": "HF", "basis": {"default": "6-31G"},
                                           "density_fit": True}]}
    out = study_bundles([tmp_path / "b0.extxyz", tmp_path / "b1.extxyz"], [tmp_path / "1M/production.extxyz"], dft,
                        study, {"r_cut_A": 2.6, "donor_elements": ["O"]}, {"Li": 1, "W": 0}, 2000,
                        log=lambda *a: None, cache_path=tmp_path / "computed.jsonl")
    assert len(out["ladder"]) == 4 and list(out["sizes"]["n_atoms"]) == [7, 10, 7, 10]
    assert out["choice"]["reference"] == "big" and out["choice"]["largest_radius_A"] == 4.5
    # the first-shell cut is the campaign-level cluster itself, and both frames share their first shell: one
    # calculation per distinct input (campaign, big, two different 4.5 A cuts)
    assert out["sizes"]["cached"].iloc[0] and out["sizes"]["cached"].iloc[2]
    assert len((tmp_path / "computed.jsonl").read_text().splitlines()) == 4
    assert out["sizes"]["sigma_ppm"].iloc[1] != pytest.approx(out["sizes"]["sigma_ppm"].iloc[3])
