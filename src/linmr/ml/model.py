"""A torch MLP ensemble mapping SOAP vectors to 7Li shifts (ppm), saved as a self-contained bundle.

The bundle is one directory: ``weights.pt`` (plain tensors, loaded with
``torch.load(weights_only=True)``) and ``bundle.json`` (featurizer settings,
standardisation, architecture, level of theory, package versions).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .. import LinmrError
from ..fileio import atomic_path, write_json


@dataclass(frozen=True)
class ModelSettings:
    hidden: tuple[int, ...] = (64, 32)
    dropout: float = 0.1
    ensemble: int = 4
    max_epochs: int = 800
    patience: int = 80
    learning_rate: float = 3e-3
    weight_decay: float = 1e-3
    seed: int = 0
    validation: str = "per_member"  # or "fixed": every member early-stops on the same validation set

    @classmethod
    def from_dict(cls, d: dict) -> "ModelSettings":
        d = dict(d)
        if "hidden" in d:
            d["hidden"] = tuple(int(h) for h in d["hidden"])
        return cls(**d)

    @classmethod
    def from_config(cls, model_cfg: dict) -> "ModelSettings":
        """The network settings of the config's ``model:`` section (split, learning curve and
        active-learning keys belong to the workflow, not to the network)."""
        names = cls.__dataclass_fields__
        return cls.from_dict({k: v for k, v in model_cfg.items() if k in names})


def label_groups(shifts) -> np.ndarray:
    """The source MD frame (``<concentration>:<frame>``) of each labelled Li (``shifts`` rows)."""
    return (shifts["concentration"].astype(str) + ":" + shifts["frame"].astype(str)).to_numpy()


def split_labels(shifts, model_cfg: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Source-frame groups and the grouped train/validation/test split of labelled Li (``shifts`` rows)."""
    groups = label_groups(shifts)
    train, val, test = grouped_split(groups, tuple(model_cfg["split_fractions"]), seed=model_cfg["seed"])
    return groups, train, val, test


def _mlp(n_in: int, hidden: tuple[int, ...], dropout: float):
    import torch.nn as nn

    layers, n = [], n_in
    for h in hidden:
        layers += [nn.Linear(n, h), nn.SiLU(), nn.Dropout(dropout)]
        n = h
    layers.append(nn.Linear(n, 1))
    return nn.Sequential(*layers)


def grouped_split(groups, fractions=(0.7, 0.15, 0.15), seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train/validation/test index arrays such that no group (source MD frame) straddles two sets."""
    groups = np.asarray(groups)
    uniq = np.unique(groups)
    if len(uniq) < 3:
        raise LinmrError(f"need labelled Li from at least 3 MD frames to split train/validation/test, got {len(uniq)}")
    rng = np.random.default_rng(seed)
    rng.shuffle(uniq)
    n = len(uniq)
    n_test = max(1, round(fractions[2] * n))
    n_val = max(1, round(fractions[1] * n))
    test_g, val_g = set(uniq[:n_test]), set(uniq[n_test : n_test + n_val])
    test = np.flatnonzero([g in test_g for g in groups])
    val = np.flatnonzero([g in val_g for g in groups])
    train = np.flatnonzero([(g not in test_g) and (g not in val_g) for g in groups])
    return train, val, test


@dataclass
class Bundle:
    """Everything prediction needs: the featurizer, the standardisation and the ensemble."""

    featurizer: dict
    settings: dict
    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: float
    y_std: float
    states: list = field(default_factory=list)  # one state_dict per ensemble member
    metadata: dict = field(default_factory=dict)
    device: str = field(default="cpu", compare=False)  # where predict() runs the members; not saved

    def _members(self):

        out = []
        s = ModelSettings.from_dict(self.settings)
        for state in self.states:
            net = _mlp(len(self.x_mean), s.hidden, s.dropout)
            net.load_state_dict(state)
            net.eval()
            out.append(net.to(self.device))
        return out

    def predict(self, x: np.ndarray, batch: int = 65536) -> tuple[np.ndarray, np.ndarray]:
        """Ensemble mean and spread (standard deviation over members), both in ppm."""
        import torch

        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != len(self.x_mean):
            raise LinmrError(f"descriptor has shape {x.shape}, the model expects (n, {len(self.x_mean)})")
        cache = getattr(self, "_cache", None)
        members = cache[1] if cache and cache[0] == self.device else self._members()
        self._cache = (self.device, members)
        preds = []
        with torch.no_grad():
            for lo in range(0, len(x), batch):
                xb = torch.from_numpy((x[lo : lo + batch] - self.x_mean) / self.x_std).to(self.device)
                preds.append(np.stack([m(xb).squeeze(-1).cpu().numpy() for m in members], axis=1))
        p = np.concatenate(preds, axis=0) if preds else np.zeros((0, len(members)), np.float32)
        p = p.astype(np.float64) * self.y_std + self.y_mean
        return p.mean(axis=1), p.std(axis=1)

    def save(self, directory: str | Path) -> None:
        import torch

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        tensors = {f"member{k}.{name}": t for k, st in enumerate(self.states) for name, t in st.items()}
        tensors["x_mean"] = torch.from_numpy(np.asarray(self.x_mean, np.float32))
        tensors["x_std"] = torch.from_numpy(np.asarray(self.x_std, np.float32))
        with atomic_path(d / "weights.pt") as tmp:
            torch.save(tensors, tmp)
        meta = {
            "featurizer": self.featurizer,
            "settings": self.settings,
            "y_mean_ppm": self.y_mean,
            "y_std_ppm": self.y_std,
            "n_members": len(self.states),
            "metadata": self.metadata,
        }
        write_json(d / "bundle.json", meta)

    @classmethod
    def load(cls, directory: str | Path) -> "Bundle":
        """The bundle saved in ``directory``; a corrupt, foreign or pickled-code bundle is one clear error."""
        d = Path(directory)
        if not d.is_dir():
            raise LinmrError(f"{d}: model bundle is not a directory")
        try:
            return cls._load(d)
        except LinmrError:
            raise
        except Exception as exc:
            msg = str(exc).splitlines()[0][:300] if str(exc) else ""
            raise LinmrError(
                f"{d}: model bundle does not load ({type(exc).__name__}: {msg}); expected bundle.json and a "
                "plain-tensor weights.pt written by linmr (no pickled code is executed)"
            ) from None

    @classmethod
    def _load(cls, d: Path) -> "Bundle":
        import torch

        try:
            meta = json.loads((d / "bundle.json").read_text())
            tensors = torch.load(d / "weights.pt", map_location="cpu", weights_only=True)
        except FileNotFoundError as exc:
            raise LinmrError(f"model bundle {d} is incomplete: {exc.filename} is missing") from exc
        states = []
        for k in range(int(meta["n_members"])):
            prefix = f"member{k}."
            states.append({n[len(prefix) :]: t for n, t in tensors.items() if n.startswith(prefix)})
        return cls(
            featurizer=meta["featurizer"],
            settings=meta["settings"],
            x_mean=tensors["x_mean"].numpy(),
            x_std=tensors["x_std"].numpy(),
            y_mean=float(meta["y_mean_ppm"]),
            y_std=float(meta["y_std_ppm"]),
            states=states,
            metadata=meta.get("metadata", {}),
        )


def _train_member(x_tr, y_tr, x_va, y_va, s: ModelSettings, seed: int, progress=None, device: str = "cpu"):
    import torch

    torch.manual_seed(seed)
    net = _mlp(x_tr.shape[1], s.hidden, s.dropout).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=s.learning_rate, weight_decay=s.weight_decay)
    xt, yt = torch.from_numpy(x_tr).to(device), torch.from_numpy(y_tr).to(device)
    xv, yv = torch.from_numpy(x_va).to(device), torch.from_numpy(y_va).to(device)
    best, best_state, wait = np.inf, None, 0
    history = []
    for epoch in range(s.max_epochs):
        net.train()
        opt.zero_grad()
        loss = torch.mean((net(xt).squeeze(-1) - yt) ** 2)
        loss.backward()
        opt.step()
        net.eval()
        with torch.no_grad():
            val = float(torch.mean((net(xv).squeeze(-1) - yv) ** 2))
        history.append((epoch, loss.item(), val))
        if progress is not None:
            progress.set_postfix(train=f"{loss.item():.3f}", val=f"{val:.3f}")
        if val < best - 1e-6:
            best, wait = val, 0
            best_state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
        else:
            wait += 1
            if wait >= s.patience:
                break
    return best_state, history


def member_splits(train_idx, val_idx, groups, n_members: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per-member (train, validation) index arrays drawn from the pooled ``train_idx`` + ``val_idx``.

    The pooled source-frame groups are shuffled once (``seed``) and dealt out like folds: member
    ``k`` early-stops on the ``k``-th window of as many groups as ``val_idx`` holds (windows wrap
    around when the ensemble needs more groups than there are) and trains on the other pooled
    labels. No group straddles a member's two sets, members stop on different frames, and across
    the ensemble every non-test label is trained on. With ~50 labels one fixed validation set of ~8
    wastes 15 % of the data and makes every member stop on the same noisy estimate; the windows make
    the ensemble a cross-validated (bagged) one.
    """
    groups = np.asarray(groups)
    pool = np.sort(np.concatenate([np.asarray(train_idx, int), np.asarray(val_idx, int)]))
    pool_groups = np.unique(groups[pool])
    n_val = max(1, len(np.unique(groups[np.asarray(val_idx, int)])))
    if len(pool_groups) <= n_val:
        raise LinmrError(
            f"per-member validation needs more than {n_val} source MD frames among the training and "
            f"validation labels, got {len(pool_groups)}"
        )
    np.random.default_rng(seed).shuffle(pool_groups)
    out = []
    for k in range(n_members):
        window = np.take(pool_groups, np.arange(k * n_val, (k + 1) * n_val), mode="wrap")
        is_val = np.isin(groups[pool], window)
        out.append((pool[~is_val], pool[is_val]))
    return out


def train(
    x: np.ndarray,
    y: np.ndarray,
    train_idx: np.ndarray,
    val_idx: np.ndarray,
    settings: ModelSettings,
    featurizer: dict,
    metadata: dict | None = None,
    progress: bool = True,
    log=print,
    groups=None,
    device: str = "cpu",
) -> Bundle:
    """Train ``settings.ensemble`` MLPs on standardised data with early stopping.

    ``settings.validation == "fixed"`` (or no ``groups`` given): every member trains on
    ``train_idx`` and early-stops on ``val_idx``. ``"per_member"`` with ``groups`` (source MD
    frame of each label): see :func:`member_splits`. Standardisation uses the pooled
    training + validation labels in that case, the training labels otherwise. ``device`` (``cpu`` or
    ``cuda``) is where the members train and the returned bundle predicts; the saved weights are CPU tensors."""
    import torch
    from tqdm import tqdm

    torch.set_num_threads(max(1, torch.get_num_threads()))
    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.float64)
    if settings.validation not in ("per_member", "fixed"):
        raise LinmrError(f"config key 'model.validation': {settings.validation!r} is not 'per_member' or 'fixed'")
    if settings.validation == "per_member" and groups is not None:
        splits = member_splits(train_idx, val_idx, groups, settings.ensemble, settings.seed)
        fit_idx = np.union1d(train_idx, val_idx)
    else:
        splits = [(np.asarray(train_idx), np.asarray(val_idx))] * settings.ensemble
        fit_idx = np.asarray(train_idx)
    x_mean = x[fit_idx].mean(axis=0)
    x_std = x[fit_idx].std(axis=0)
    x_std = np.where(x_std < 1e-6, 1.0, x_std).astype(np.float32)
    y_mean, y_std = float(y[fit_idx].mean()), float(y[fit_idx].std() or 1.0)
    xs = ((x - x_mean) / x_std).astype(np.float32)
    ys = ((y - y_mean) / y_std).astype(np.float32)
    states = []
    bar = tqdm(range(settings.ensemble), desc="train ensemble", unit="member", disable=not progress)
    for k in bar:
        tr, va = splits[k]
        state, hist = _train_member(xs[tr], ys[tr], xs[va], ys[va], settings, settings.seed + k, progress=bar,
                                    device=device)
        best = min(h[2] for h in hist)
        log(f"member {k}: {len(hist)} epochs, best validation MSE {best * y_std**2:.4f} ppm^2")
        states.append(state)
    return Bundle(
        featurizer=featurizer,
        settings={**asdict(settings), "hidden": list(settings.hidden)},
        x_mean=x_mean.astype(np.float32),
        x_std=x_std,
        y_mean=y_mean,
        y_std=y_std,
        states=states,
        metadata=dict(metadata or {}),
        device=device,
    )


def ridge_baseline(x_tr, y_tr, x_te, alphas=(1e-3, 1e-2, 1e-1, 1, 10, 100, 1000)) -> np.ndarray:
    """SOAP-ridge regression (standardised features, alpha chosen by leave-one-out CV)."""
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), RidgeCV(alphas=alphas))
    model.fit(x_tr, y_tr)
    return model.predict(x_te)


def metrics(y_true, y_pred) -> dict:
    """MAE, RMSE, max |error| (ppm) and R^2."""
    y_true = np.asarray(y_true, float)
    err = np.asarray(y_pred, float) - y_true
    ss = float(((y_true - y_true.mean()) ** 2).sum())
    return {
        "mae_ppm": float(np.abs(err).mean()),
        "rmse_ppm": float(np.sqrt((err**2).mean())),
        "max_error_ppm": float(np.abs(err).max()),
        "r2": float(1 - (err**2).sum() / ss) if ss > 0 else float("nan"),
        "n": int(len(y_true)),
    }


def comparison_rows(y_true, nn_pred, ridge_pred, mean_pred, **extra) -> list[dict]:
    """One metrics row (:func:`metrics`, plus ``extra`` columns) each for NN, SOAP-ridge and mean predictor."""
    return [
        {"model": name, **extra, **metrics(y_true, pred)}
        for name, pred in (("nn_ensemble", nn_pred), ("soap_ridge", ridge_pred), ("mean_predictor", mean_pred))
    ]


def baseline_metrics(x, y, fit_idx, test_idx, nn_pred) -> list[dict]:
    """Metrics rows (NN, SOAP-ridge, mean predictor) on ``test_idx``; the baselines fit on ``fit_idx``."""
    ridge = ridge_baseline(x[fit_idx], y[fit_idx], x[test_idx])
    mean_pred = np.full(len(test_idx), float(np.mean(y[fit_idx])))
    return comparison_rows(y[test_idx], nn_pred, ridge, mean_pred)


def learning_curve(x, y, groups, train_idx, val_idx, test_idx, settings: ModelSettings, fractions, featurizer: dict,
                   full=None, seed: int = 0, device: str = "cpu"):
    """Test metrics of NN, ridge and mean predictor trained on growing subsets of the training set.

    Subsets take a fraction of the training *groups* (source MD frames), nested and drawn once with
    ``seed``; validation and test sets stay fixed; the baselines fit on subset + validation, as in
    the full model. ``full`` = (bundle, metrics rows) of the already-trained full model is reused
    for fraction 1. Returns rows ``fraction``, ``n_train``, ``model``, ``mae_ppm``, ... ``round`` (0).
    """
    train_idx = np.asarray(train_idx)
    g = np.asarray(groups)[train_idx]
    uniq = np.unique(g)
    np.random.default_rng(seed).shuffle(uniq)
    out = []
    for f in sorted(set(float(v) for v in fractions)):
        if f >= 1.0 and full is not None:
            rows, sub = full[1], train_idx
        else:
            keep = set(uniq[: max(1, int(round(f * len(uniq))))])
            sub = train_idx[[v in keep for v in g]]
            b = train(x, y, sub, val_idx, settings, featurizer, progress=False, log=lambda *a: None, groups=groups,
                      device=device)
            rows = baseline_metrics(x, y, np.concatenate([sub, val_idx]), test_idx, b.predict(x[test_idx])[0])
        out += [{"fraction": f, "n_train": int(len(sub)), **r, "round": 0} for r in rows]
    import pandas as pd

    return pd.DataFrame(out)


def cross_validate(x, y, groups, settings: ModelSettings, folds: int = 5, val_fraction: float = 0.15, seed: int = 0,
                   device: str = "cpu"):
    """Grouped K-fold cross-validation of NN ensemble, SOAP-ridge and mean predictor on all labels.

    Source-frame groups are dealt round-robin (shuffled with ``seed``) into ``folds`` folds; each
    fold is predicted by models fitted on the other folds only (the NN early-stops on a
    ``val_fraction`` share of the groups, drawn from the other folds). Every label is thus predicted
    once by a model that never saw its MD frame, so the MAE rests on all labels instead of one
    small test split. Returns (per-label table ``fold``, ``delta_dft_ppm``, ``delta_nn_ppm``,
    ``spread_nn_ppm``, ``delta_ridge_ppm``, ``delta_mean_ppm``; metrics rows with ``evaluation``).
    """
    import pandas as pd

    x = np.asarray(x, np.float32)
    y = np.asarray(y, float)
    groups = np.asarray(groups)
    uniq = np.unique(groups)
    if folds < 2 or len(uniq) < 2 * folds:
        raise LinmrError(f"{folds}-fold cross-validation needs at least {2 * max(folds, 2)} source MD frames, got {len(uniq)}")
    rng = np.random.default_rng(seed)
    rng.shuffle(uniq)
    fold_of = {g: i % folds for i, g in enumerate(uniq)}
    fold = np.array([fold_of[g] for g in groups])
    nn, spread, ridge, mean = (np.zeros(len(y)) for _ in range(4))
    n_val = max(1, int(round(val_fraction * len(uniq))))
    for k in range(folds):
        test = np.flatnonzero(fold == k)
        rest = np.flatnonzero(fold != k)
        rest_groups = np.unique(groups[rest])
        val_groups = set(np.random.default_rng(seed + 1000 + k).choice(rest_groups, size=min(n_val, len(rest_groups) - 1), replace=False))
        is_val = np.array([g in val_groups for g in groups[rest]])
        b = train(x, y, rest[~is_val], rest[is_val], settings, {}, progress=False, log=lambda *a: None, groups=groups,
                  device=device)
        nn[test], spread[test] = b.predict(x[test])
        ridge[test] = ridge_baseline(x[rest], y[rest], x[test])
        mean[test] = y[rest].mean()
    table = pd.DataFrame({"fold": fold, "delta_dft_ppm": y, "delta_nn_ppm": nn, "spread_nn_ppm": spread,
                          "delta_ridge_ppm": ridge, "delta_mean_ppm": mean})
    return table, comparison_rows(y, nn, ridge, mean, evaluation=f"grouped {folds}-fold CV")
