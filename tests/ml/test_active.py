"""Active learning: picks and rounds."""
import pandas as pd
import pytest

from linmr import LinmrError

from ..conftest import rattled


def test_active_learning_picks_uncertain_unlabelled_li_outside_held_out_frames(box4, small_bundle):
    from linmr.ml import active

    trajs = {"4M": rattled(box4, 5, scale=0.1, seed=7)}
    labelled = pd.DataFrame({"concentration": ["4M"], "frame": [1], "li_index": [0]})
    cands = active.candidates(trajs, labelled, exclude_frames={("4M", 3)}, skip=1)
    assert ("4M", 1, 0) not in cands and not any(f in (0, 3) for _, f, _ in cands)
    assert len(cands) == 3 * 4 - 1
    sel = active.select(small_bundle, trajs, cands, n=10)
    assert len(sel) == 3 and sel["frame"].is_unique  # at most one per frame
    assert sel["spread_ppm"].is_monotonic_decreasing
    with pytest.raises(LinmrError, match="no unlabelled"):
        active.select(small_bundle, trajs, [], n=2)
