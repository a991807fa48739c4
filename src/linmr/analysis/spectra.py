"""Dynamic averaging of per-Li shifts and Lorentzian spectra on a ppm axis."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import LinmrError

# 7Li Larmor frequency (MHz) at 9.4 T (400 MHz 1H): gamma(7Li)/gamma(1H) = 0.38864
LI7_MHZ_AT_400 = 155.45


def time_average(pred: pd.DataFrame, window_ps: float | None = None) -> pd.DataFrame:
    """Per-Li time-averaged shift (fast exchange on the NMR time scale).

    ``pred`` has columns ``li_index``, ``time_ps``, ``delta_ppm``. With ``window_ps``
    the trajectory is cut into consecutive windows of that length and each Li gets
    one averaged shift per window (rows ``li_index``, ``window``, ``delta_avg_ppm``);
    without it, one average per Li over the whole trajectory.
    """
    df = pred.copy()
    if window_ps:
        t0 = df["time_ps"].min()
        df["window"] = ((df["time_ps"] - t0) // window_ps).astype(int)
    else:
        df["window"] = 0
    out = df.groupby(["li_index", "window"], as_index=False).agg(
        delta_avg_ppm=("delta_ppm", "mean"), n_frames=("delta_ppm", "size"), time_ps=("time_ps", "mean")
    )
    return out


def block_average(values: np.ndarray, n_blocks: int = 4) -> tuple[float, float]:
    """Mean and block-averaging standard error of a time series (ppm)."""
    v = np.asarray(values, float)
    if len(v) == 0:
        return float("nan"), float("nan")
    n_blocks = max(1, min(n_blocks, len(v)))
    blocks = np.array([b.mean() for b in np.array_split(v, n_blocks)])
    if n_blocks < 2:
        return float(v.mean()), float("nan")
    return float(v.mean()), float(blocks.std(ddof=1) / np.sqrt(n_blocks))


def lorentzian_spectrum(shifts_ppm, axis_ppm, fwhm_ppm: float) -> np.ndarray:
    """Sum of unit-area Lorentzians (FWHM in ppm) centred at ``shifts_ppm``; intensity per ppm."""
    x = np.asarray(axis_ppm, float)[:, None]
    c = np.asarray(shifts_ppm, float)[None, :]
    g = fwhm_ppm / 2.0
    return (g / np.pi / ((x - c) ** 2 + g**2)).sum(axis=1)


def fwhm_ppm(linewidth_hz: float, spectrometer_mhz: float = LI7_MHZ_AT_400) -> float:
    """Linewidth in Hz -> ppm at the 7Li frequency ``spectrometer_mhz`` (MHz)."""
    return linewidth_hz / spectrometer_mhz


def ppm_axis(shifts_ppm, fwhm: float, pad_ppm: float = 3.0, n: int = 4000) -> np.ndarray:
    """A decreasing ppm axis covering all shifts with ``pad_ppm`` plus 20 linewidths each side."""
    s = np.asarray(shifts_ppm, float)
    lo, hi = s.min() - pad_ppm - 20 * fwhm, s.max() + pad_ppm + 20 * fwhm
    return np.linspace(hi, lo, n)


def concentration_summary(pred: pd.DataFrame, fwhm: float, window_ps: float | None = None, n_blocks: int = 4) -> dict:
    """Everything the figures need for one concentration: the spectrum, its peak, the mean shift
    with its block-averaging standard error, and solvation statistics. Shifts in ppm."""
    avg = time_average(pred, window_ps)
    axis = ppm_axis(avg["delta_avg_ppm"], fwhm)
    spec = lorentzian_spectrum(avg["delta_avg_ppm"], axis, fwhm)
    per_frame = pred.groupby("frame")["delta_ppm"].mean().sort_index().to_numpy()
    mean, sem = block_average(per_frame, n_blocks)
    return {
        "axis_ppm": axis,
        "intensity": spec,
        "peak_ppm": float(axis[int(np.argmax(spec))]),
        "mean_delta_ppm": mean,
        "sem_ppm": sem,
        "n_li": int(pred["li_index"].nunique()),
        "n_frames": int(pred["frame"].nunique()),
        "mean_spread_ppm": float(pred["spread_ppm"].mean()),
    }


def convergence(pred: pd.DataFrame, n_blocks: int = 4) -> pd.DataFrame:
    """Running mean shift vs simulated time: for each frame, the mean over frames up to it of the
    per-frame mean shift (ppm) and its block-averaging standard error (ppm; NaN until there are
    ``n_blocks`` frames). Columns ``time_ps``, ``n_frames``, ``mean_delta_ppm``, ``sem_ppm``."""
    per_frame = pred.groupby("frame").agg(time_ps=("time_ps", "first"), delta=("delta_ppm", "mean")).sort_index()
    v = per_frame["delta"].to_numpy()
    rows = []
    for n in range(1, len(v) + 1):
        m, e = block_average(v[:n], n_blocks) if n >= n_blocks else (float(v[:n].mean()), float("nan"))
        rows.append((float(per_frame["time_ps"].iloc[n - 1]), n, m, e))
    return pd.DataFrame(rows, columns=["time_ps", "n_frames", "mean_delta_ppm", "sem_ppm"])


def read_experiment(path) -> pd.DataFrame:
    """Measured shifts: a CSV with ``concentration_mol_L`` and ``delta_ppm`` (optional ``source``)."""
    try:
        df = pd.read_csv(path)
    except FileNotFoundError as exc:
        raise LinmrError(f"experimental CSV {path} (config key spectra.experimental_csv) does not exist") from exc
    missing = {"concentration_mol_L", "delta_ppm"} - set(df.columns)
    if missing:
        raise LinmrError(f"experimental CSV {path} lacks column(s) {sorted(missing)}")
    for col in ("concentration_mol_L", "delta_ppm"):
        if not pd.api.types.is_numeric_dtype(df[col]) or df[col].isna().any():
            raise LinmrError(f"experimental CSV {path}: column {col} must be numbers without gaps")
    return df
