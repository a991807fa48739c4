"""Selection of a round's frames by model deviation: the trust levels, and a collapsed exploration."""
import numpy as np
from ase import Atoms

from linmr import potential

SETTINGS = {"frames_per_round": 2, "test_every": 5, "li_contact_frames": 0, "trust_lo_eV_A": 0.1, "trust_hi_eV_A": 0.5,
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


def test_round_0_adds_frames_with_a_li_pair_pushed_together():
    """Two Li+ 4 A apart in a box with water: contact frames move one of them to 1.4-2.4 A of the other, never
    within 1.2 A of a third atom, unlabelled training frames; round 0 appends them to its even picks."""
    a = Atoms("Li2OH2", positions=[[1, 1, 1], [5, 1, 1], [3, 4, 1], [3.9, 4.3, 1], [2.1, 4.3, 1]], cell=[10, 10, 10],
              pbc=True)
    a.info["step"] = 10
    out = potential.contact_frames([a], 5, seed=0)
    assert len(out) == 5
    for f in out:
        d = f.get_distance(0, 1, mic=True)
        assert potential.CONTACT_LI_LI_A[0] <= d <= potential.CONTACT_LI_LI_A[1]
        assert f.calc is None and f.info["split"] == "train" and f.info["contact"].startswith("Li")
        others = f.get_all_distances(mic=True)[np.ix_([0, 1], [2, 3, 4])]
        assert others.min() >= 1.2
    assert len({round(f.get_distance(0, 1), 3) for f in out}) == 5  # drawn, not one fixed distance
    frames = [a.copy() for _ in range(5)]
    chosen, row = potential.select(0, {"2M": frames}, {**SETTINGS, "contact_frames": 3, "stretch_frames": 0})
    assert len(chosen["2M"]) == 2 + 3 and row["selected_frames"] == 5
    assert [("contact" in f.info) for f in chosen["2M"]] == [False, False, True, True, True]


def test_contact_frames_push_whole_molecules_where_the_frames_have_molecules():
    """With per-atom mol_id, every other contact frame translates a molecule rigidly (its bonds unchanged) until one
    of its atoms sits at 0.5-0.75 x the van der Waals sum from an atom of another molecule."""
    from ase.data import vdw_radii

    a = Atoms("Li2OH2OH2", positions=[[1, 1, 1], [6, 1, 1], [3, 5, 1], [3.76, 5.59, 1], [2.24, 5.59, 1],
                                      [7, 6, 5], [7.76, 6.59, 5], [6.24, 6.59, 5]], cell=[11, 11, 11], pbc=True)
    a.arrays["mol_id"] = np.array([0, 1, 2, 2, 2, 3, 3, 3])
    out = potential.contact_frames([a], 6, seed=3)
    assert len(out) == 6
    for f in out[1::2]:
        pair, r = f.info["contact"].split()[0], float(f.info["contact"].split()[1])
        i, j = (int("".join(c for c in p if c.isdigit())) for p in pair.split("-"))
        assert f.arrays["mol_id"][i] != f.arrays["mol_id"][j] and f[i].symbol != "Li"
        assert np.isclose(f.get_distance(i, j, mic=True), r, atol=0.01)
        lo, hi = potential.CONTACT_VDW_FRACTION
        vdw = vdw_radii[f.numbers[i]] + vdw_radii[f.numbers[j]]
        assert lo * vdw - 0.01 <= r <= hi * vdw + 0.01
        moved = f.arrays["mol_id"] == f.arrays["mol_id"][i]
        np.testing.assert_allclose(f.get_all_distances()[np.ix_(moved, moved)],
                                   a.get_all_distances()[np.ix_(moved, moved)], atol=1e-9)  # rigid
    for f in out[0::2]:
        assert f.info["contact"].startswith("Li")


def test_stretch_frames_pull_terminal_atoms_out_along_their_bond():
    """Three waters and a Li+: each stretch frame moves terminal atoms (here H) of different molecules out along their
    O-H bond to 1.1-1.5 x its length, leaves every other atom where it was, keeps 1.2 Å from third atoms; the first
    stretched atom of each frame is one near the Li+. Round 0 appends them after the contact frames."""
    water = [[0, 0, 0], [0.76, 0.59, 0], [-0.76, 0.59, 0]]
    pos = [[5, 5, 5]] + [np.add(w, o) for o in ([5, 3, 5], [1.5, 8, 2], [8.5, 8, 8]) for w in water]
    a = Atoms("Li" + "OH2" * 3, positions=np.vstack(pos), cell=[11, 11, 11], pbc=True)
    a.arrays["mol_id"] = np.array([0, 1, 1, 1, 2, 2, 2, 3, 3, 3])
    out = potential.stretch_frames([a], 4, seed=1)
    assert len(out) == 4
    for f in out:
        assert f.calc is None and f.info["split"] == "train" and f.info["contact"].startswith("stretch ")
        tags = f.info["contact"][len("stretch "):].split(", ")
        moved = [int(t.split()[0].split("-")[1][1:]) for t in tags]
        assert len(moved) == len({int(a.arrays["mol_id"][i]) for i in moved}) == potential.STRETCH_PER_FRAME
        assert f[moved[0]].symbol == "H" and f.get_distance(0, moved[0], mic=True) < 4.0
        for t, i in zip(tags, moved):
            o = int(t.split()[0].split("-")[0][1:])
            r0, r = (float(x) for x in t.split()[1].split("->"))
            assert np.isclose(r0, a.get_distance(o, i, mic=True), atol=0.01)
            assert np.isclose(r, f.get_distance(o, i, mic=True), atol=0.01)
            lo, hi = potential.STRETCH_FACTOR
            assert lo * r0 - 0.01 <= r <= hi * r0 + 0.01
            # along the bond: the O-H direction is unchanged
            u0, u1 = a.get_distance(o, i, vector=True, mic=True), f.get_distance(o, i, vector=True, mic=True)
            assert np.allclose(u0 / np.linalg.norm(u0), u1 / np.linalg.norm(u1))
        still = np.setdiff1d(np.arange(len(a)), moved)
        assert np.allclose(f.positions[still], a.positions[still])
    assert len({f.info["contact"] for f in out}) == 4
    chosen, row = potential.select(0, {"2M": [a.copy() for _ in range(5)]},
                                   {**SETTINGS, "contact_frames": 1, "stretch_frames": 2})
    assert [f.info.get("contact", "")[:7] for f in chosen["2M"]][-2:] == ["stretch", "stretch"]
    no_mol = Atoms("H2", positions=[[0, 0, 0], [0.74, 0, 0]], cell=[5, 5, 5], pbc=True)
    import pytest

    from linmr import LinmrError
    with pytest.raises(LinmrError, match="potential.stretch_frames"):
        potential.stretch_frames([no_mol], 1, seed=0)


def test_li_contact_frames_push_a_li_onto_atoms_of_other_molecules_element_by_element():
    """A Li+ between two waters: each copy moves only the Li+, along the line to the nearest H, then O (the elements
    of LI_X_ELEMENTS present, in turn) of another molecule, to 1.0-1.6 Å of it, never within 1.2 Å of a third
    atom; round 0 appends the copies after the stretch frames."""
    water = [[0, 0, 0], [0.76, 0.59, 0], [-0.76, 0.59, 0]]
    pos = [[5, 5, 5], [5, 2.2, 5], [5, 3.16, 5], [5.93, 1.96, 5], [7.5, 5, 5], [8.09, 5.76, 5], [8.09, 4.24, 5]]
    a = Atoms("Li" + "OH2" * 2, positions=pos, cell=[11, 11, 11], pbc=True)
    a.arrays["mol_id"] = np.array([0, 1, 1, 1, 2, 2, 2])
    out = potential.li_contact_frames([a], 6, seed=2)
    assert len(out) == 6
    targets = []
    for f in out:
        assert f.calc is None and f.info["split"] == "train"
        pair, r = f.info["contact"].split()[0], float(f.info["contact"].split()[1])
        i, j = (int("".join(c for c in p if c.isdigit())) for p in pair.split("-"))
        assert i == 0 and f[j].symbol != "Li" and a.arrays["mol_id"][j] != a.arrays["mol_id"][i]
        lo, hi = potential.LI_X_CONTACT_A
        assert lo - 0.01 <= r <= hi + 0.01 and np.isclose(f.get_distance(0, j, mic=True), r, atol=0.01)
        assert np.allclose(f.positions[1:], a.positions[1:])  # only the Li+ moved
        rest = [k for k in range(1, len(a)) if k != j]
        assert f.get_distances(0, rest, mic=True).min() >= 1.2
        # the nearest atom of that element to the Li+ before the move
        same = [k for k in range(1, len(a)) if a[k].symbol == f[j].symbol]
        assert j == same[int(np.argmin(a.get_distances(0, same, mic=True)))]
        targets.append(f[j].symbol)
    assert targets == ["H", "O"] * 3
    assert len({f.info["contact"] for f in out}) == 6
    chosen, row = potential.select(0, {"2M": [a.copy() for _ in range(5)]},
                                   {**SETTINGS, "contact_frames": 1, "stretch_frames": 1, "li_contact_frames": 2})
    assert [f.info.get("contact", "")[:3] for f in chosen["2M"]][-2:] == ["Li0", "Li0"]
    assert potential.li_contact_frames([Atoms("OH2", positions=water, cell=[5, 5, 5], pbc=True)], 2, seed=0) == []


def test_a_label_job_with_nothing_selected_writes_an_empty_table(tmp_path):
    frames, table = potential.label([], {"teacher": "chgnet", "teacher_model_path": None}, tmp_path)
    assert frames == [] and list(table.columns)[:3] == ["frame", "n_atoms", "status"] and table.empty


def _production(steps):
    out = []
    for s in steps:
        a = _frame(None)
        a.info.pop("max_devi_f_eV_A")
        a.info["step"] = s
        out.append(a)
    return out


def test_production_candidates_take_uncertain_frames_evenly_and_above_trust_hi_too():
    import pandas as pd

    steps = [100, 200, 300, 400, 500, 600]
    frames = _production(steps)
    # the deviation file also has a step without a frame (0), in another order
    devi = pd.DataFrame({"step": [0, 600, 500, 400, 300, 200, 100], "max_devi_f_eV_A": [9.0, 0.7, 0.05, 0.3, 0.2, 0.02, 0.15]})
    settings = {**SETTINGS, "candidates_per_box": 3}
    chosen, table = potential.production_candidates(frames, devi, settings, concentration="2M")
    assert list(table["step"]) == steps
    assert list(table["class"]) == ["candidate", "accurate", "candidate", "candidate", "accurate", "above_trust_hi"]
    # four frames at or above trust_lo (100, 300, 400, 600): three of them evenly, first and last included
    assert [f.info["step"] for f in chosen] == [100, 400, 600]
    assert list(table.loc[table["chosen"], "step"]) == [100, 400, 600]
    assert [f.info["max_devi_f_eV_A"] for f in chosen] == [0.15, 0.3, 0.7]
    assert all(f.info["source"] == "production" and f.info["concentration"] == "2M" for f in chosen)
    assert chosen[0] is not frames[0]  # copies: the trajectory's frames are untouched
    none, _ = potential.production_candidates(frames, devi, {**settings, "candidates_per_box": 0})
    assert none == []
    # a frame with overlapping atoms (only with the guards off) is never a candidate, whatever its deviation
    broken = _production([700])
    broken[0].positions[1] = [0.3, 0, 0]
    more = pd.concat([devi, pd.DataFrame({"step": [700], "max_devi_f_eV_A": [0.3]})])
    chosen, table = potential.production_candidates(frames + broken, more, {**settings, "candidates_per_box": 10})
    assert table["class"].iloc[-1] == "collapsed" and [f.info["step"] for f in chosen] == [100, 300, 400, 600]
    # no ensemble along production (a user model): an empty deviation table chooses nothing
    empty = pd.DataFrame(columns=["step", "max_devi_f_eV_A"])
    none, table = potential.production_candidates(frames, empty, settings)
    assert none == [] and set(table["class"]) == {"unknown"} and not table["chosen"].any()


def test_feedback_frames_become_round_0_training_frames_without_old_labels():
    from ase.calculators.singlepoint import SinglePointCalculator

    a = _frame(0.3)
    a.calc = SinglePointCalculator(a, energy=-1.0, forces=np.zeros((3, 3)))
    a.info.update(split="test", round=2, labelled_by="chgnet 0.3")
    (g,) = potential.feedback([a])
    assert g.calc is None and g.info["split"] == "train" and g.info["round"] == 0 and "labelled_by" not in g.info
    assert a.info["split"] == "test" and a.calc is not None  # the input is left alone
