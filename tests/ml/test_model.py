"""The MLP ensemble: splits, baselines, CV, learning curve, bundles."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from linmr import LinmrError
from linmr.ml import model
from linmr.ml.model import Bundle

from ..conftest import ROOT


class _Payload:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (Path.touch, (Path(self.target),))


def _synthetic(n=240, d=20, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = 2.0 * np.tanh(x[:, 0]) + 0.5 * x[:, 1] * x[:, 2] + 0.05 * rng.normal(size=n)
    groups = np.repeat(np.arange(n // 4), 4)
    return x, y, groups


def test_grouped_split_keeps_groups_apart():
    groups = np.repeat(np.arange(20), 3)
    tr, va, te = model.grouped_split(groups, seed=1)
    sets = [set(groups[i]) for i in (tr, va, te)]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert len(tr) + len(va) + len(te) == len(groups)


def test_nn_beats_mean_predictor_and_bundle_roundtrips(tmp_path):
    x, y, groups = _synthetic()
    tr, va, te = model.grouped_split(groups, seed=0)
    s = model.ModelSettings(hidden=(32, 32), ensemble=2, max_epochs=400, patience=50, dropout=0.0)
    b = model.train(x, y, tr, va, s, featurizer={"r_cut": 1.0}, progress=False, log=lambda *a: None)
    mean, spread = b.predict(x[te])
    nn = model.metrics(y[te], mean)
    base = model.metrics(y[te], np.full(len(te), y[tr].mean()))
    assert nn["mae_ppm"] < 0.5 * base["mae_ppm"]
    assert (spread >= 0).all()
    b.save(tmp_path / "bundle")
    np.save(tmp_path / "x.npy", x[te])
    np.save(tmp_path / "expected.npy", mean)
    # a new process loading only the bundle reproduces the predictions exactly
    code = (
        "import numpy as np, sys; from linmr.ml.model import Bundle; "
        f"b = Bundle.load({str(tmp_path / 'bundle')!r}); m, _ = b.predict(np.load({str(tmp_path / 'x.npy')!r})); "
        f"sys.exit(0 if np.array_equal(m, np.load({str(tmp_path / 'expected.npy')!r})) else 1)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def _cuda():
    import torch

    return torch.cuda.is_available()


def test_bundle_device_moves_prediction_not_weights(tmp_path):
    """``Bundle.device`` says where predict() runs; the weights stay CPU tensors and the device is not saved."""
    x, y, groups = _synthetic(n=80, d=6)
    tr, va, te = model.grouped_split(groups, seed=0)
    b = model.train(x, y, tr, va, model.ModelSettings(ensemble=2, max_epochs=20), {}, progress=False,
                    log=lambda *a: None, device="cpu")
    assert b.device == "cpu" and all(t.device.type == "cpu" for st in b.states for t in st.values())
    b.save(tmp_path / "b")
    assert "device" not in json.loads((tmp_path / "b" / "bundle.json").read_text())
    assert model.Bundle.load(tmp_path / "b").device == "cpu"
    b.device = "meta"  # a device torch knows but cannot compute on here: predict() must really go there
    with pytest.raises(Exception):
        b.predict(x[te])
    b.device = "cpu"
    assert np.isfinite(b.predict(x[te])[0]).all()  # members are rebuilt when the device changes back


@pytest.mark.skipif(not _cuda(), reason="needs a GPU that torch sees (run on a GPU node)")
def test_gpu_training_and_prediction_agree_with_cpu(tmp_path):
    """An ensemble trained on the GPU saves CPU weights that load anywhere, predicts the same on both devices,
    and learns as well as one trained on the CPU (the train and predict rules run on GPU nodes)."""
    x, y, groups = _synthetic()
    tr, va, te = model.grouped_split(groups, seed=0)
    s = model.ModelSettings(hidden=(32, 32), ensemble=2, max_epochs=400, patience=50, dropout=0.0)
    runs = {d: model.train(x, y, tr, va, s, {}, progress=False, log=lambda *a: None, device=d) for d in ("cpu", "cuda")}
    gpu = runs["cuda"]
    assert all(t.device.type == "cpu" for st in gpu.states for t in st.values())
    on_gpu = gpu.predict(x[te])[0]
    gpu.save(tmp_path / "b")
    on_cpu = model.Bundle.load(tmp_path / "b").predict(x[te])[0]
    assert np.abs(on_gpu - on_cpu).max() < 1e-4
    mae = {d: model.metrics(y[te], b.predict(x[te])[0])["mae_ppm"] for d, b in runs.items()}
    base = model.metrics(y[te], np.full(len(te), y[tr].mean()))["mae_ppm"]
    assert mae["cuda"] < 0.5 * base and mae["cuda"] < 1.5 * mae["cpu"]


def test_bundle_refuses_wrong_descriptor_width(tmp_path):
    x, y, groups = _synthetic(n=40, d=5)
    tr, va, te = model.grouped_split(groups, seed=0)
    b = model.train(x, y, tr, va, model.ModelSettings(ensemble=1, max_epochs=5), {}, progress=False, log=lambda *a: None)
    with pytest.raises(LinmrError, match="expects"):
        b.predict(np.zeros((2, 6), np.float32))


def test_incomplete_bundle_names_the_missing_file(tmp_path):
    (tmp_path / "b").mkdir()
    with pytest.raises(LinmrError, match="bundle.json"):
        model.Bundle.load(tmp_path / "b")


def test_model_settings_from_config_and_frame_split():

    from linmr.ml import model

    cfg = {"hidden": [8, 4], "dropout": 0.0, "ensemble": 2, "max_epochs": 5, "patience": 5, "learning_rate": 0.01,
           "weight_decay": 0.0, "seed": 3, "split_fractions": [0.6, 0.2, 0.2], "learning_curve": [0.5, 1.0],
           "active_learning": {"rounds": 1, "per_round": 2}}
    ms = model.ModelSettings.from_config(cfg)
    assert ms.hidden == (8, 4) and ms.ensemble == 2 and ms.seed == 3
    shifts = pd.DataFrame({"concentration": ["1M"] * 6 + ["4M"] * 6, "frame": [0, 0, 1, 1, 2, 2] * 2})
    groups, train, val, test = model.split_labels(shifts, cfg)
    assert sorted(np.r_[train, val, test]) == list(range(12))
    for a, b in ((train, val), (train, test), (val, test)):  # no source frame straddles two sets
        assert not set(groups[a]) & set(groups[b])


def test_member_splits_draw_own_validation_frames_and_never_touch_test():
    groups = np.repeat(np.arange(20), 3)
    tr, va, te = model.grouped_split(groups, seed=2)
    splits = model.member_splits(tr, va, groups, n_members=4, seed=0)
    pool = set(np.r_[tr, va])
    n_val_groups = len(set(groups[va]))
    vals = []
    for t, v in splits:
        assert set(t) | set(v) == pool and not set(t) & set(v)  # the pool, split in two; test untouched
        assert not set(groups[t]) & set(groups[v])  # no source frame straddles a member's sets
        assert len(set(groups[v])) == n_val_groups
        vals.append(frozenset(groups[v]))
    assert len(set(vals)) > 1  # members stop on different frames
    assert set().union(*[set(t) for t, _ in splits]) == pool  # together they train on every non-test label
    with pytest.raises(LinmrError, match="source MD frames"):
        model.member_splits(tr[:0], va, groups, n_members=2)


def test_per_member_ensemble_beats_ridge_on_a_nonlinear_target_in_grouped_cv():
    """Cross-validation predicts each label once from models that never saw its group; on a target
    with a clear nonlinearity the NN ensemble must beat SOAP-style ridge and the mean predictor."""
    x, y, groups = _synthetic(n=160, d=8, seed=3)
    s = model.ModelSettings(hidden=(32,), ensemble=3, max_epochs=400, patience=40, dropout=0.0, learning_rate=0.01)
    table, rows = model.cross_validate(x, y, groups, s, folds=4, seed=0)
    assert sorted(set(table["fold"])) == [0, 1, 2, 3] and len(table) == len(y)
    for g in np.unique(groups):  # a group sits in one fold only
        assert table["fold"][groups == g].nunique() == 1
    mae = {r["model"]: r["mae_ppm"] for r in rows}
    assert {r["evaluation"] for r in rows} == {"grouped 4-fold CV"} and all(r["n"] == len(y) for r in rows)
    assert mae["nn_ensemble"] < mae["soap_ridge"] < mae["mean_predictor"]
    with pytest.raises(LinmrError, match="at least"):
        model.cross_validate(x[:12], y[:12], groups[:12], s, folds=4)


def test_per_member_bundle_is_reproducible_and_fixed_mode_still_works():
    x, y, groups = _synthetic(n=80, d=6)
    tr, va, te = model.grouped_split(groups, seed=0)
    s = model.ModelSettings(hidden=(8,), ensemble=2, max_epochs=30, patience=10)
    a = model.train(x, y, tr, va, s, {}, progress=False, log=lambda *a: None, groups=groups).predict(x[te])[0]
    b = model.train(x, y, tr, va, s, {}, progress=False, log=lambda *a: None, groups=groups).predict(x[te])[0]
    assert np.array_equal(a, b)
    fixed = model.ModelSettings(hidden=(8,), ensemble=2, max_epochs=30, patience=10, validation="fixed")
    c = model.train(x, y, tr, va, fixed, {}, progress=False, log=lambda *a: None, groups=groups).predict(x[te])[0]
    assert not np.array_equal(a, c)
    with pytest.raises(LinmrError, match="model.validation"):
        model.train(x, y, tr, va, model.ModelSettings(validation="sometimes"), {}, progress=False, groups=groups)


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


# model bundles
def test_bad_model_bundles(tmp_path):
    import torch

    with pytest.raises(LinmrError, match=r"nobundle: model bundle is not a directory"):
        Bundle.load(tmp_path / "nobundle")
    d = tmp_path / "bundle"
    d.mkdir()
    (d / "bundle.json").write_text("{not json")
    torch.save({"x_mean": torch.zeros(2)}, d / "weights.pt")
    with pytest.raises(LinmrError, match=r"bundle: model bundle does not load \(JSONDecodeError"):
        Bundle.load(d)
    (d / "bundle.json").write_text(json.dumps({"n_members": 1}))
    flag = tmp_path / "pwned"
    torch.save({"x_mean": _Payload(str(flag))}, d / "weights.pt")
    with pytest.raises(LinmrError, match=r"bundle: model bundle does not load"):
        Bundle.load(d)
    assert not flag.exists()
    (d / "weights.pt").unlink()
    with pytest.raises(LinmrError, match=r"incomplete: .*weights\.pt"):
        Bundle.load(d)
