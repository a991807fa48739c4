"""Selection of a round's frames by model deviation: the trust levels, and a collapsed exploration."""
import numpy as np
from ase import Atoms

from linmr import potential

SETTINGS = {"frames_per_round": 2, "test_every": 5, "trust_lo_eV_A": 0.1, "trust_hi_eV_A": 0.5,
            "converged_fraction": 0.9}


def _frame(devi, gap=1.5):
    a = Atoms("H2O", positions=[[0, 0, 0], [gap, 0, 0], [0, gap, 0]], cell=[8, 8, 8], pbc=True)
    a.info["max_devi_f_eV_A"] = devi
    return a


def test_frames_are_classified_by_deviation_and_collapsed_ones_fail():
    frames = [_frame(0.05), _frame(0.2), _frame(0.3), _frame(0.9), _frame(0.2, gap=0.3)]  # last: atoms overlap
    chosen, row = potential.select(1, {"4M": frames}, SETTINGS)
    assert (row["accurate_frames"], row["candidate_frames"], row["failed_frames"]) == (1, 2, 2)
    assert [f.info["max_devi_f_eV_A"] for f in chosen["4M"]] == [0.2, 0.3]
    assert all(f is not frames[-1] for f in chosen["4M"])
    assert np.isfinite(row["mean_max_devi_f_eV_A"]) and row["max_max_devi_f_eV_A"] == 0.9
    assert not row["converged"]
    # nothing but collapsed frames: nothing selected, no crash
    chosen, row = potential.select(1, {"4M": [_frame(0.2, gap=0.2)]}, SETTINGS)
    assert chosen["4M"] == [] and row["failed_frames"] == 1 and row["selected_frames"] == 0


def test_a_label_job_with_nothing_selected_writes_an_empty_table(tmp_path):
    frames, table = potential.label([], {"teacher": "chgnet", "teacher_model_path": None}, tmp_path)
    assert frames == [] and list(table.columns)[:3] == ["frame", "n_atoms", "status"] and table.empty
