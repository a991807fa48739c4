"""Spectra, block averages, convergence and the experimental CSV."""
import numpy as np
import pandas as pd
import pytest

from linmr import LinmrError
from linmr.analysis import spectra


def test_spectrum_integrates_to_number_of_li():
    shifts = np.array([-1.0, -0.5, 0.2, 0.3, 1.1])
    fwhm = spectra.fwhm_ppm(30.0, 155.45)
    axis = np.linspace(20, -20, 400001)
    y = spectra.lorentzian_spectrum(shifts, axis, fwhm)
    area = np.trapezoid(y[::-1], axis[::-1])
    # unit-area lines: what lies on the axis is the Lorentzian CDF between its ends
    g = fwhm / 2
    inside = (np.arctan((20 - shifts) / g) - np.arctan((-20 - shifts) / g)).sum() / np.pi
    assert area == pytest.approx(inside, rel=1e-6)
    assert area == pytest.approx(len(shifts), rel=5e-3)
    # the maximum sits at a shift, and the axis decreases (NMR convention)
    assert np.diff(spectra.ppm_axis(shifts, fwhm)).max() < 0


def test_linewidth_conversion():
    assert spectra.fwhm_ppm(155.45, 155.45) == pytest.approx(1.0)


def test_time_average_and_block_error():
    t = np.arange(100) * 0.01
    pred = pd.DataFrame(
        {"li_index": np.repeat([0, 1], 100), "time_ps": np.tile(t, 2), "delta_ppm": np.r_[np.ones(100), -np.ones(100)]}
    )
    avg = spectra.time_average(pred)
    assert sorted(avg["delta_avg_ppm"]) == [-1.0, 1.0]
    win = spectra.time_average(pred, window_ps=0.25)
    assert win["window"].nunique() == 4
    m, e = spectra.block_average(np.r_[np.zeros(50), np.ones(50)], n_blocks=2)
    assert m == pytest.approx(0.5) and e == pytest.approx(0.5)


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
