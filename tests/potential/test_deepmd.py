"""The DeePMD student for real: CHGNet-labelled frames of a teacher MD, a two-model ensemble trained, frozen and
compressed with deepmd-kit, its accuracy and model deviation, and LAMMPS pair_style deepmd running the md
protocol with the ensemble's deviation recorded, killed mid-production and resumed."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from ase.io import read

from linmr import LinmrError, config

from .conftest import ROOT, _lmp_available

pytest.importorskip("deepmd", reason="deepmd-kit not installed")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not _lmp_available(), reason="LAMMPS not installed")]
SPECIES = ["Li", "C", "H", "O", "N", "S", "F"]


@pytest.fixture(scope="module")
def settings():
    cfg = config.load(ROOT / "tests/micro.yaml")
    pot = cfg["potential"]
    pot.update(explore_steps=40, explore_stride=4, frames_per_round=10, test_every=5, ensemble=2, contact_frames=2,
               stretch_frames=1)
    pot["deepmd"].update(numb_steps=300, rcut_A=4.0, embedding_neurons=[4, 8], fitting_neurons=[16, 16])
    return cfg


@pytest.fixture(scope="module")
def labels(settings, tiny_box, tmp_path_factory):
    from linmr import potential

    d = tmp_path_factory.mktemp("pot")
    potential.explore_teacher(tiny_box, settings["potential"], settings["md"], 3, d / "explore.extxyz")
    explored = read(d / "explore.extxyz", ":")
    chosen, row = potential.select(0, {"1M": explored}, settings["potential"])
    frames, table = potential.label(chosen["1M"], settings["potential"], d / "teacher", round_=0)
    from linmr.fileio import write_frames

    write_frames(d / "labels.extxyz", frames)
    return d, frames, table, row


@pytest.fixture(scope="module")
def ensemble(settings, labels):
    from linmr import potential

    d = labels[0]
    out = [potential.train_member([d / "labels.extxyz"], [d / "labels.extxyz"], None, settings["potential"], SPECIES,
                                  m, 0, d / f"model_{m}.pb", d / f"train_{m}", out_frozen=d / f"frozen_{m}.pb")
           for m in range(2)]
    return [str(d / f"model_{m}.pb") for m in range(2)], out


def test_teacher_md_frames_carry_the_teachers_labels(labels):
    _, frames, table, row = labels
    assert len(frames) == 13 and row["selected_frames"] == 13
    assert [f.info["split"] for f in frames].count("test") == 2
    # the explorer was the teacher: no second call, but for the two contact frames (Li+ pushed onto a neighbour)
    # and the stretch frame
    assert (table["reason"] == "labelled while exploring").sum() == 10 and (table["status"] == "ok").all()
    stretch = [f for f in frames if f.info.get("contact", "").startswith("stretch")]
    assert len(stretch) == 1 and stretch[0].info["split"] == "train"
    # its stretched bonds pull back: the force on each moved atom points to its bond partner
    for tag in stretch[0].info["contact"][len("stretch "):].split(", "):
        j, i = (int("".join(c for c in p if c.isdigit())) for p in tag.split()[0].split("-"))
        bond = stretch[0].get_distance(i, j, vector=True, mic=True)  # from the moved atom i to its partner j
        assert np.dot(stretch[0].get_forces()[i], bond) > 0
    contact = [f for f in frames if "contact" in f.info and f not in stretch]
    assert len(contact) == 2 and all(f.info["split"] == "train" for f in contact)
    li = contact[0].get_chemical_symbols().index("Li")
    d = np.delete(contact[0].get_distances(li, range(len(contact[0])), mic=True), li)
    assert 1.3 - 1e-6 <= d.min() <= 1.8 + 1e-6  # one Li+: pushed to 1.3-1.8 A of its nearest heavy atom
    assert abs(contact[0].get_forces()[li]).max() > 1.0  # eV/A: the teacher pushes it back
    assert not contact[1].info["contact"].startswith("Li")  # then a molecule pushed onto another
    assert all(np.isfinite(f.get_forces()).all() and f.get_stress().shape == (6,) for f in frames)


def test_ensemble_trains_freezes_compresses_and_is_measured(ensemble, labels):
    from linmr.potential import deepmd

    models, info = ensemble
    assert all(os.path.getsize(m) > 10_000 for m in models)
    assert all({"train_s", "freeze_s", "compress_s"} <= set(i) for i in info)
    assert info[0]["n_train_frames"] == 11 and info[0]["n_valid_frames"] == 2
    acc = deepmd.accuracy(models[0], [f for f in labels[1] if f.info["split"] == "test"])
    assert acc["n_frames"] == 2 and 0 < acc["force_rmse_eV_A"] < 20 and np.isfinite(acc["energy_rmse_meV_per_atom"])
    devi = deepmd.max_force_deviation(models, labels[1])
    assert devi.shape == (13,) and (devi > 0).all()  # two differently seeded models disagree somewhat


def test_dp_zbl_student_repels_atoms_pushed_together(ensemble, labels):
    """potential.deepmd.zbl (default): the frozen model carries the ZBL table (evaluated away from the folder it
    was trained in), and moving the Li+ onto its nearest neighbour costs energy that rises steeply below the
    switching distance, with the force on Li pointing away from the neighbour. A student trained without a
    short-range term has no data there and may do anything (the 2026-12-05 students let Li+ pairs fuse)."""
    from linmr.geometry import minimum_image
    from linmr.potential import deepmd

    models, _ = ensemble
    frame = labels[1][0].copy()
    li = frame.get_chemical_symbols().index("Li")
    vec = minimum_image(frame.positions - frame.positions[li], frame.cell.array)
    dist = np.linalg.norm(vec, axis=1)
    dist[li] = np.inf
    nb = int(np.argmin(dist))
    unit = vec[nb] / dist[nb]
    frames = []
    for r in (1.6, 0.8, 0.6, 0.45, 0.3):
        f = frame.copy()
        f.positions[li] = f.positions[nb] - unit * r
        frames.append(f)
    ev = deepmd.evaluate([models[0]], frames)
    energy = [e["energy"][0] for e in ev]
    assert all(b - a > 1.0 for a, b in zip(energy[1:], energy[2:])), energy  # eV: steeply up below 0.6 A
    assert energy[-1] - energy[0] > 20.0, energy
    for e in ev[2:]:
        assert float(np.dot(e["forces"][0][li], -unit)) > 5.0  # eV/A, pushing Li away from its neighbour
    table = np.loadtxt(labels[0] / "train_0/run/zbl.tab")
    assert table.shape[1] == 1 + len(SPECIES) * (len(SPECIES) + 1) // 2
    assert np.isclose(np.interp(1.0, table[:, 0], table[:, 1]), deepmd.zbl_energy(1.0, 3, 3), rtol=1e-3)  # Li-Li


def test_a_later_round_starts_from_the_previous_rounds_model(settings, ensemble, labels, tmp_path):
    """reuse_steps: round 1 starts from round 0's uncompressed model (dp train --init-frz-model). At a learning rate
    of 1e-8 its 5 steps cannot move the weights, so it predicts what its starting model predicts, while a model
    trained from scratch (the other member) disagrees with it."""
    from linmr import potential
    from linmr.potential import deepmd

    d, frames = labels[0], labels[1]
    models, _ = ensemble
    dp = {**settings["potential"]["deepmd"], "reuse_steps": 5, "reuse_start_lr": 1e-8, "stop_lr": 1e-9}
    pot = {**settings["potential"], "deepmd": dp}
    info = potential.train_member([d / "labels.extxyz"], [d / "labels.extxyz"], d / "model_0.pb", pot, SPECIES, 0, 1,
                                  tmp_path / "model_0.pb", tmp_path / "train_0", previous_frozen=d / "frozen_0.pb",
                                  out_frozen=tmp_path / "frozen_0.pb")
    assert info["numb_steps"] == 5 and info["init_frz_model"] == str(d / "frozen_0.pb")
    assert (tmp_path / "frozen_0.pb").stat().st_size > 10_000
    same = deepmd.max_force_deviation([models[0], str(tmp_path / "model_0.pb")], frames)
    other = deepmd.max_force_deviation([models[1], str(tmp_path / "model_0.pb")], frames)
    assert same.max() < 1e-3 < other.min(), (same, other)
    # without the previous round's model there is nothing to start from: a clear error, no silent scratch run
    with pytest.raises(LinmrError, match="reuse_steps"):
        potential.train_member([d / "labels.extxyz"], [d / "labels.extxyz"], d / "model_0.pb", pot, SPECIES, 0, 1,
                               tmp_path / "m.pb", tmp_path / "t")


def test_the_last_round_trains_final_steps_even_without_new_labels(settings, ensemble, labels, tmp_path):
    """final_steps: a round before the last that gained no label copies its predecessor's model; the last round
    trains (from the previous model, for final_steps) all the same: the production model's final training."""
    from linmr import potential

    d = labels[0]
    (tmp_path / "none.extxyz").write_text("")
    dp = {**settings["potential"]["deepmd"], "reuse_steps": 5, "reuse_start_lr": 1e-3, "final_steps": 7}
    pot = {**settings["potential"], "rounds": 3, "deepmd": dp}
    args = ([d / "labels.extxyz"], [tmp_path / "none.extxyz"], d / "model_0.pb", pot, SPECIES, 0)
    mid = potential.train_member(*args, 1, tmp_path / "m1.pb", tmp_path / "t1", previous_frozen=d / "frozen_0.pb",
                                 out_frozen=tmp_path / "f1.pb")
    assert mid["copied"] and (tmp_path / "m1.pb").read_bytes() == (d / "model_0.pb").read_bytes()
    last = potential.train_member(*args, 2, tmp_path / "m2.pb", tmp_path / "t2", previous_frozen=d / "frozen_0.pb",
                                  out_frozen=tmp_path / "f2.pb")
    assert not last["copied"] and last["numb_steps"] == 7 and last["init_frz_model"] == str(d / "frozen_0.pb")
    steps = [int(ln.split()[0]) for ln in (tmp_path / "t2/run/lcurve.out").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert steps[-1] == 7, steps


def test_final_steps_round_minus_two_trains_the_round_before_the_last_long(settings, ensemble, labels, tmp_path):
    """final_steps_round -2: the round before the last trains final_steps (labels or not); the last round explores
    with it and, without new labels, copies it (with labels it would continue reuse_steps from it)."""
    from linmr import potential

    d = labels[0]
    (tmp_path / "none.extxyz").write_text("")
    dp = {**settings["potential"]["deepmd"], "reuse_steps": 5, "reuse_start_lr": 1e-3, "final_steps": 7,
          "final_steps_round": -2}
    pot = {**settings["potential"], "rounds": 3, "deepmd": dp}
    args = ([d / "labels.extxyz"], [tmp_path / "none.extxyz"], d / "model_0.pb", pot, SPECIES, 0)
    long = potential.train_member(*args, 1, tmp_path / "m1.pb", tmp_path / "t1", previous_frozen=d / "frozen_0.pb",
                                  out_frozen=tmp_path / "f1.pb")
    assert not long["copied"] and long["numb_steps"] == 7
    args = ([d / "labels.extxyz"], [tmp_path / "none.extxyz"], tmp_path / "m1.pb", pot, SPECIES, 0)
    last = potential.train_member(*args, 2, tmp_path / "m2.pb", tmp_path / "t2", previous_frozen=tmp_path / "f1.pb",
                                  out_frozen=tmp_path / "f2.pb")
    assert last["copied"] and (tmp_path / "m2.pb").read_bytes() == (tmp_path / "m1.pb").read_bytes()


def test_lammps_deviation_equals_the_python_ensembles(ensemble, tiny_box, tmp_path):
    from linmr.md import lammps
    from linmr.potential import deepmd

    models, _ = ensemble
    frames, devi = lammps.explore(read(tiny_box), models, tmp_path, steps=10, stride=5, temperature_K=300.0,
                                  timestep_fs=0.5, friction_per_fs=0.02, seed=11)
    assert list(devi["step"]) == [0, 5, 10] and [f.info["step"] for f in frames] == [0, 5, 10]
    python = deepmd.max_force_deviation(models, frames)
    assert np.allclose(python, devi["max_devi_f_eV_A"], rtol=1e-3, atol=1e-4)


def test_student_explores_for_student_explore_steps(settings, ensemble, tiny_box, tmp_path):
    """Rounds after the first run the student for potential.student_explore_steps (else explore_steps)."""
    from linmr import potential

    models, _ = ensemble
    pot = {**settings["potential"], "explore_steps": 40, "explore_stride": 4}
    for steps, frames in ((None, 10), (20, 5)):
        out = potential.explore_student(tiny_box, models, {**pot, "student_explore_steps": steps}, settings["md"], 3,
                                        tmp_path / f"e{steps}.extxyz", tmp_path / f"d{steps}.csv", tmp_path / f"w{steps}")
        assert out["frames"] == frames and len(read(tmp_path / f"e{steps}.extxyz", ":")) == frames


def test_a_student_exploration_halts_above_its_temperature_limit(settings, ensemble, tiny_box, tmp_path):
    """potential.explore_halt_factor: LAMMPS stops the exploration once the temperature passes the limit (here
    below the starting temperature, so at once); the job ends cleanly with the frames written before."""
    from linmr import potential

    models, _ = ensemble
    messages = []
    pot = {**settings["potential"], "explore_steps": 40, "explore_stride": 4, "explore_halt_factor": 0.5}
    out = potential.explore_student(tiny_box, models, pot, settings["md"], 3, tmp_path / "e.extxyz",
                                    tmp_path / "d.csv", tmp_path / "w", log=messages.append)
    assert out["frames"] == 0 and any("halted at step 0 of 40" in m for m in messages)
    assert "fix hot all halt 1 v_temp_K > 175 error soft" in (tmp_path / "w/in.lammps").read_text()
    assert "Fix halt condition" in (tmp_path / "w/log.lammps").read_text()


CHILD = """
import sys
from ase.io import read
from linmr import md
box, out, work, m0, m1 = sys.argv[1:6]
cfg = {proto}
md.run(read(box), cfg, seed=5, work_dir=work, traj_path=out, model_path=m0, deviation_models=[m1])
"""


def test_md_protocol_in_lammps_with_deepmd_killed_and_resumed(settings, ensemble, tiny_box, tmp_path):
    """The md rule's engine with pair_style deepmd: every phase, frames and model deviation, SIGKILL and resume."""
    from linmr import md

    models, _ = ensemble
    cfg = {**settings["md"], "engine": "lammps", "potential": "deepmd", "timestep_fs": 0.5, "min_steps": 5,
           "heat_steps": 20, "npt_steps": 20, "prod_steps": 3000, "stride": 100, "checkpoint_every_steps": 500,
           # guards off: this seconds-trained student of a 26-atom box heats it past 2 x 300 K (701 K at step 100)
           # and fuses atoms (S and O 0.84 A apart);
           # the guards have tests of their own (tests/md)
           "max_temperature_factor": None,
           "bond_check": {**settings["md"]["bond_check"], "break_factor": 1e3, "contact_factor": None}}
    work, out = tmp_path / "work", tmp_path / "prod.extxyz"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    p = subprocess.Popen([sys.executable, "-c", CHILD.format(proto=cfg), str(tiny_box), str(out), str(work), *models],
                         env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    from linmr.md import lammps

    t0 = time.time()
    while lammps.latest_restart(work) is None or lammps.latest_restart(work) < 1000:
        assert p.poll() is None and time.time() - t0 < 300, p.stdout.read() if p.poll() is not None else "stalled"
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    killed_at = lammps.latest_restart(work)
    assert not out.exists() and killed_at < 3000
    summary, table, deviation = md.run(read(tiny_box), cfg, seed=5, work_dir=work, traj_path=out, model_path=models[0],
                                       deviation_models=models[1:])
    frames = read(out, ":")
    assert [f.info["step"] for f in frames] == list(range(100, 3001, 100))
    assert list(deviation["step"]) == list(range(100, 3001, 100))  # before and after the kill, nothing twice
    assert (deviation["max_devi_f_eV_A"] >= 0).all() and summary["potential"].startswith("deepmd")
    assert list(table.phase.unique()) == ["minimise", "heat", "npt", "production"]
    assert len({*[f.name for f in work.glob("model_devi.*.out")]}) == 2


def test_uncertain_frames_feed_the_round_0_of_a_later_campaign(settings, ensemble, labels, tmp_path):
    """md_candidates then potential.feedback_frames: frames where the real ensemble disagrees are chosen, labelled by
    the teacher as training frames, and join a member's training set."""
    import pandas as pd

    from linmr import potential
    from linmr.fileio import write_frames
    from linmr.potential import deepmd

    d, frames, _, _ = labels
    models, trained = ensemble
    run = [f.copy() for f in frames]  # stand-ins for production frames (this student's own MD collapses the box)
    for k, f in enumerate(run):
        f.calc = None
        f.info["step"] = 100 * (k + 1)
    deviation = pd.DataFrame({"step": [f.info["step"] for f in run],
                              "max_devi_f_eV_A": deepmd.max_force_deviation(models, run)})
    pot = {**settings["potential"], "candidates_per_box": 3,
           "trust_lo_eV_A": float(deviation["max_devi_f_eV_A"].median())}  # the more uncertain half is candidate
    chosen, table = potential.production_candidates(run, deviation, pot, concentration="1M")
    assert len(chosen) == 3 and table["chosen"].sum() == 3 and (table.loc[table["chosen"], "class"] != "accurate").all()
    assert min(f.info["max_devi_f_eV_A"] for f in chosen) >= pot["trust_lo_eV_A"]
    write_frames(tmp_path / "candidates.extxyz", chosen)
    feedback = potential.feedback(potential.read_labels([tmp_path / "candidates.extxyz"]))
    labelled, _ = potential.label(feedback, pot, tmp_path / "teacher", round_=0)
    assert len(labelled) == 3 and all(f.info["split"] == "train" and f.info["round"] == 0 for f in labelled)
    before = {100 * (k + 1): f for k, f in enumerate(frames)}  # the teacher gives the forces it gave in round 0
    for f in labelled:
        np.testing.assert_allclose(f.get_forces(), before[f.info["step"]].get_forces(), atol=1e-3)
    write_frames(tmp_path / "labels_feedback.extxyz", labelled)
    member = potential.train_member([d / "labels.extxyz", tmp_path / "labels_feedback.extxyz"], [], None, pot,
                                    SPECIES, 0, 0, tmp_path / "fed.pb", tmp_path / "train_fed")
    assert member["n_train_frames"] == trained[0]["n_train_frames"] + 3
