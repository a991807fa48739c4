"""Streaming prediction."""
import numpy as np
import pandas as pd
import pytest

from linmr import LinmrError
from linmr.ml import descriptors
from linmr.ml.predict import predict_trajectory

from ..conftest import NAMES, rattled


def test_streaming_prediction_is_chunk_independent(box4, small_bundle, tmp_path):
    frames = rattled(box4, 7, scale=0.1, seed=3)
    whole = predict_trajectory(small_bundle, frames, "4M", NAMES, chunk=256, progress=False)
    out = tmp_path / "p.csv"
    assert predict_trajectory(small_bundle, iter(frames), "4M", NAMES, chunk=3, out_csv=out, progress=False) is None
    streamed = pd.read_csv(out)
    assert not (tmp_path / "p.csv.tmp").exists()
    assert len(whole) == 7 * 4 and list(streamed.columns) == list(whole.columns)
    # float32 matrix products may round differently with the batch size (seen: 1e-8 ppm on some CPUs)
    np.testing.assert_allclose(streamed["delta_ppm"], whole["delta_ppm"], rtol=0, atol=1e-6)
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
