"""Vectorised solvation environments, RDFs, streaming prediction, convergence and the new figures."""
import numpy as np
import pandas as pd
import pytest
from ase import Atoms

from linmr import LinmrError, descriptors, model, plots, solvation, spectra
from linmr.predict import predict_trajectory

NAMES = {"cation": "Li", "anion": "FSI", "solvent": "DME"}


def _rattled(box, n, scale=0.4, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        f = box.copy()
        f.positions += rng.normal(scale=scale, size=f.positions.shape)
        f.info["time_ps"] = 0.01 * (k + 1)
        out.append(f)
    return out


def test_batched_environments_match_ase_distances(box4):
    frames = _rattled(box4, 6)
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


@pytest.fixture(scope="module")
def small_bundle(box4):
    s = descriptors.SoapSettings(r_cut=4.0, n_max=2, l_max=2, sigma=0.4)
    feat = descriptors.Featurizer(s)
    frames = _rattled(box4, 8, scale=0.1)
    li = [list(solvation.Topology(frames[0]).li)] * len(frames)
    x = feat.many(frames, li)
    y = x[:, :3].sum(axis=1).astype(float)
    groups = np.repeat(np.arange(len(frames)), len(li[0]))
    tr, va, _ = model.grouped_split(groups)
    return model.train(x, y, tr, va, model.ModelSettings(hidden=(8,), ensemble=2, max_epochs=5), s.as_dict(),
                       progress=False, log=lambda *a: None)


def test_streaming_prediction_is_chunk_independent(box4, small_bundle, tmp_path):
    frames = _rattled(box4, 7, scale=0.1, seed=3)
    whole = predict_trajectory(small_bundle, frames, "4M", NAMES, chunk=256, progress=False)
    out = tmp_path / "p.csv"
    assert predict_trajectory(small_bundle, iter(frames), "4M", NAMES, chunk=3, out_csv=out, progress=False) is None
    streamed = pd.read_csv(out)
    assert not (tmp_path / "p.csv.tmp").exists()
    assert len(whole) == 7 * 4 and list(streamed.columns) == list(whole.columns)
    np.testing.assert_allclose(streamed["delta_ppm"], whole["delta_ppm"], rtol=1e-12)
    assert (streamed["solvation_class"] == whole["solvation_class"]).all()
    assert (streamed["frame"].to_numpy() == np.repeat(np.arange(7), 4)).all()
    # the NN sees exactly the featurizer's SOAP of each Li
    feat = descriptors.Featurizer(descriptors.SoapSettings.from_dict(small_bundle.featurizer))
    m, _ = small_bundle.predict(feat(frames[5], list(whole["li_index"][:4])))
    np.testing.assert_allclose(whole["delta_ppm"].to_numpy()[20:24], m, rtol=1e-6)


def test_prediction_refuses_unknown_species_naming_the_frame(box4, small_bundle):
    bad = box4.copy()
    bad.symbols[-1] = "Cl"
    with pytest.raises(LinmrError, match=r"frame 1 of 4M.*\['Cl'\]"):
        predict_trajectory(small_bundle, [box4, bad], "4M", NAMES, progress=False)


def test_convergence_ends_at_the_block_average():
    rng = np.random.default_rng(0)
    pred = pd.DataFrame({"frame": np.repeat(np.arange(12), 2), "time_ps": np.repeat(np.arange(12) * 0.1, 2),
                         "delta_ppm": rng.normal(size=24)})
    cv = spectra.convergence(pred, n_blocks=4)
    per_frame = pred.groupby("frame")["delta_ppm"].mean().to_numpy()
    m, e = spectra.block_average(per_frame, 4)
    assert cv["mean_delta_ppm"].iloc[-1] == pytest.approx(m) and cv["sem_ppm"].iloc[-1] == pytest.approx(e)
    assert cv["sem_ppm"].iloc[:3].isna().all() and len(cv) == 12


def test_experimental_csv_errors_name_file_and_column(tmp_path):
    p = tmp_path / "exp.csv"
    p.write_text("concentration_mol_L,shift\n1,-1.0\n")
    with pytest.raises(LinmrError, match=r"exp.csv.*delta_ppm"):
        spectra.read_experiment(p)
    with pytest.raises(LinmrError, match="experimental_csv"):
        spectra.read_experiment(tmp_path / "missing.csv")
    p.write_text("concentration_mol_L,delta_ppm,source\n1,-1.0,lit\n4,-0.5,lit\n")
    assert len(spectra.read_experiment(p)) == 2


def test_learning_curve_is_nested_and_ends_at_the_full_model():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 6)).astype(np.float32)
    y = x[:, 0] + 0.1 * rng.normal(size=80)
    groups = np.repeat(np.arange(20), 4)
    tr, va, te = model.grouped_split(groups, seed=0)
    ms = model.ModelSettings(hidden=(8,), ensemble=1, max_epochs=30)
    lc = model.learning_curve(x, y, groups, tr, va, te, ms, [0.5, 1.0], {})
    nn = lc[lc["model"] == "nn_ensemble"].sort_values("fraction")
    assert list(nn["n_train"]) == [len(tr) // 2, len(tr)]
    assert set(lc["model"]) == {"nn_ensemble", "soap_ridge", "mean_predictor"}
    assert (lc["n"] == len(te)).all()


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


def test_active_learning_picks_uncertain_unlabelled_li_outside_held_out_frames(box4, small_bundle):
    from linmr import active

    trajs = {"4M": _rattled(box4, 5, scale=0.1, seed=7)}
    labelled = pd.DataFrame({"concentration": ["4M"], "frame": [1], "li_index": [0]})
    cands = active.candidates(trajs, labelled, exclude_frames={("4M", 3)}, skip=1)
    assert ("4M", 1, 0) not in cands and not any(f in (0, 3) for _, f, _ in cands)
    assert len(cands) == 3 * 4 - 1
    sel = active.select(small_bundle, trajs, cands, n=10)
    assert len(sel) == 3 and sel["frame"].is_unique  # at most one per frame
    assert sel["spread_ppm"].is_monotonic_decreasing
    with pytest.raises(LinmrError, match="no unlabelled"):
        active.select(small_bundle, trajs, [], n=2)


def test_stream_featurisation_is_bit_identical_to_dscribe(box4):
    from linmr import clusters

    from .conftest import CHARGES

    s = descriptors.SoapSettings(r_cut=4.0, n_max=3, l_max=2, sigma=0.4)
    feat = descriptors.Featurizer(s)
    frames = _rattled(box4, 3, scale=0.2, seed=5)
    li = [solvation.Topology(frames[0]).li] * 3
    assert np.array_equal(feat.stream(frames, li), feat.many(frames, li))
    cl = [clusters.cut_cluster(f, int(li[0][0]), 3.0, CHARGES) for f in frames]  # non-periodic
    assert np.array_equal(feat.stream(cl, [[0]] * 3), feat.many(cl, [[0]] * 3))
    assert np.abs(feat.stream(cl, [[0]] * 3)).max() > 0
