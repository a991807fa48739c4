"""Training the MD potential inside the campaign: a DeePMD student learned from a teacher by concurrent learning.

Round 0 explores each small training box with MD driven by the teacher itself (or ``potential.explorer``
for a CP2K teacher); every later round explores with the student ensemble of the round before in LAMMPS,
which records the ensemble's force deviation. Frames are *selected* (round 0: evenly over the run; later:
those whose deviation lies between ``trust_lo_eV_A`` and ``trust_hi_eV_A``), *labelled* by the teacher
(:mod:`linmr.potential.teachers`), and an ensemble of ``potential.ensemble`` DeePMD models is *trained* on
every label so far (:mod:`linmr.potential.deepmd`). A round whose exploration is accurate on at least
``converged_fraction`` of its frames selects nothing; the rounds after it copy its models. The first
model of the last round drives production MD (LAMMPS ``pair_style deepmd``), the others record the model
deviation along production.

Each function here is one rule's work; the rules live in ``workflow/rules/potential.smk``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from ase import Atoms

from .. import LinmrError

TYPE_MAP_NOTE = "the descriptor's species (config key descriptor.species) in that order"


def type_map(config_species: list[str]) -> list[str]:
    return list(config_species)


def _write(path, frames):
    from ..fileio import write_frames

    write_frames(path, frames)


def explore_teacher(box_path, potential: dict, md: dict, seed: int, out_path, device: str = "cpu", log=print) -> dict:
    """Round 0: Langevin NVT of the training box at ``explore_temperature_K`` driven by the teacher MLIP (or the
    explorer); a frame every ``explore_stride`` steps. Where the explorer is the teacher the frames keep the
    energy, forces and stress it computed, so labelling them costs nothing more."""
    from ase import units
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary
    from ase.optimize import FIRE

    from ..md import registry
    from ..readers import read_structure
    from . import teachers

    explorer = potential["teacher"] if potential["explorer"] == "teacher" else potential["explorer"]
    if explorer == "cp2k":
        raise LinmrError("potential.explorer: a cp2k teacher cannot drive the exploration MD; set potential.explorer "
                         "to chgnet or sevennet")
    model_path = potential["teacher_model_path"] if explorer == potential["teacher"] else None
    atoms = read_structure(box_path, what="training box", periodic=True, arrays=("mol_id", "mol_name"))
    atoms.calc = registry.make_calculator(explorer, device=device, model_path=model_path)
    same = explorer == potential["teacher"]
    FIRE(atoms, logfile=None).run(fmax=md["fmax_eV_A"], steps=20)
    rng = np.random.default_rng(seed)
    MaxwellBoltzmannDistribution(atoms, temperature_K=potential["explore_temperature_K"], rng=rng)
    Stationary(atoms)
    dyn = Langevin(atoms, md["timestep_fs"] * units.fs, temperature_K=potential["explore_temperature_K"],
                   friction=md["friction_per_fs"] / units.fs, fixcm=False, rng=rng)
    frames, stride = [], potential["explore_stride"]
    label = teachers.version(potential) if same else None
    for k in range(potential["explore_steps"] // stride):
        dyn.run(stride)
        if same:
            fr = teachers.labelled(atoms, atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress())
            fr.info["labelled_by"] = label
        else:
            fr = atoms.copy()
            fr.calc = None
        fr.info.update(step=(k + 1) * stride, temperature_K=float(atoms.get_temperature()))
        frames.append(fr)
        log(f"explore step {(k + 1) * stride}: T = {atoms.get_temperature():.0f} K")
    _write(out_path, frames)
    return {"frames": len(frames), "explorer": explorer}


def student_explore_steps(potential: dict) -> int:
    """MD steps of a student exploration: ``student_explore_steps``, or ``explore_steps`` where that is null."""
    return potential["student_explore_steps"] or potential["explore_steps"]


def explore_student(box_path, models: list[str], potential: dict, md: dict, seed: int, out_path, devi_csv, work_dir,
                    executable: str = "lmp", log=print) -> dict:
    """Rounds >= 1: LAMMPS NVT of the training box with the ensemble of the previous round, the force deviation
    written every ``explore_stride`` steps (``devi_csv``)."""
    from ..fileio import write_csv
    from ..md import lammps
    from ..readers import read_structure

    atoms = read_structure(box_path, what="training box", periodic=True, arrays=("mol_id", "mol_name"))
    factor = potential["explore_halt_factor"]
    halt = factor * potential["explore_temperature_K"] if factor else None
    frames, devi = lammps.explore(atoms, models, work_dir, steps=student_explore_steps(potential),
                                  stride=potential["explore_stride"], temperature_K=potential["explore_temperature_K"],
                                  timestep_fs=md["timestep_fs"], friction_per_fs=md["friction_per_fs"], seed=seed,
                                  executable=executable, log=log, halt_temperature_K=halt)
    frames = [f for f in frames if f.info["step"] > 0]
    devi = devi[devi["step"] > 0].reset_index(drop=True)
    last = max([f.info["step"] for f in frames] + [0])
    if halt and last < student_explore_steps(potential):  # halted: the last dump and deviation record may differ by one
        log(f"exploration halted at step {last} of {student_explore_steps(potential)}: the temperature passed "
            f"{halt:g} K (potential.explore_halt_factor x explore_temperature_K)")
        both = set(devi["step"]) & {f.info["step"] for f in frames}
        frames = [f for f in frames if f.info["step"] in both]
        devi = devi[devi["step"].isin(both)].reset_index(drop=True)
    if [f.info["step"] for f in frames] != list(devi["step"]):
        raise LinmrError(f"{work_dir}: dumped steps and model-deviation steps differ")
    for f, d in zip(frames, devi["max_devi_f_eV_A"]):
        f.info["max_devi_f_eV_A"] = float(d)
    _write(out_path, frames)
    write_csv(devi_csv, devi)
    return {"frames": len(frames), "max_devi_f_eV_A": float(devi["max_devi_f_eV_A"].max()) if len(devi) else np.nan}


def _collapsed(frame: Atoms) -> bool:
    """Whether two atoms of ``frame`` are closer than the readers' overlap limit (minimum image; a k-d tree, so
    production boxes of thousands of atoms cost milliseconds)."""
    from ..readers import MIN_DISTANCE_A, closest_pair

    return closest_pair(frame, MIN_DISTANCE_A, periodic=bool(frame.pbc.any())) is not None


CONTACT_LI_LI_A = (1.4, 2.4)  # Li+-Li+ distances of round 0's contact frames (Å); aggregates hold them >= 2.6 Å
CONTACT_LI_X_A = (1.3, 1.8)  # Li+ to its nearest heavy atom where a box holds one Li+ (Å; Li-O binds at ~1.95 Å)
CONTACT_VDW_FRACTION = (0.5, 0.75)  # other intermolecular contacts: fraction of the van der Waals radii sum


def contact_frames(frames: list[Atoms], n: int, seed: int) -> list[Atoms]:
    """``n`` unlabelled copies of ``frames`` with two atoms of different molecules pushed together, for the teacher
    to label: training data on the repulsion at contacts that exploration never visits.

    Even-numbered frames move one Li+ along the line to its nearest other Li+ (to a distance drawn in
    ``CONTACT_LI_LI_A``) or, in a box with one Li+, to its nearest heavy atom (``CONTACT_LI_X_A``): a student
    trained on exploration alone let Li+ pairs fuse in production (2026-12-05 workstation run), since a student
    frame with such a contact deviates beyond trust_hi and is never labelled. Odd-numbered frames (where the frames
    carry per-atom ``mol_id``) translate a whole molecule rigidly until one of its atoms (not Li) stands at
    ``CONTACT_VDW_FRACTION`` x the van der Waals sum from the nearest atom of another molecule (H...O 1.4-2.0 Å):
    the next student pulled a DME hydrogen to 1.42 Å of another DME's oxygen and tore it off (1 M production, same
    day). A move that brings any other pair of the moved atoms within 1.2 Å (or nearer than the chosen pair) of
    another molecule is drawn again (up to 20 tries per frame)."""
    from ase.data import vdw_radii

    from ..geometry import minimum_image, pair_distances

    def push(f, rng, k):
        sym = np.array(f.get_chemical_symbols())
        lis = np.flatnonzero(sym == "Li")
        molecular = k % 2 == 1 and "mol_id" in f.arrays
        if not molecular and not len(lis):
            return False
        i = int(rng.choice(np.flatnonzero(sym != "Li") if molecular else lis))
        vec = minimum_image(f.positions - f.positions[i], f.cell.array)
        dist = np.linalg.norm(vec, axis=1)
        if molecular:
            mol = f.arrays["mol_id"]
            partners, moved = np.flatnonzero(mol != mol[i]), np.flatnonzero(mol == mol[i])
        else:
            partners = lis if len(lis) > 1 else np.flatnonzero(sym != "H")
            partners, moved = partners[partners != i], np.array([i])
        if not len(partners):
            return None if molecular else False
        j = int(partners[np.argmin(dist[partners])])
        if molecular:
            lo, hi = CONTACT_VDW_FRACTION
            r = float(rng.uniform(lo, hi) * (vdw_radii[f.numbers[i]] + vdw_radii[f.numbers[j]]))
        else:
            lo, hi = CONTACT_LI_LI_A if sym[j] == "Li" else CONTACT_LI_X_A
            r = float(rng.uniform(lo, hi))
        if dist[j] <= r:
            return None
        f.positions[moved] += vec[j] / dist[j] * (dist[j] - r)
        rest = np.setdiff1d(np.arange(len(f)), moved)
        d_new = pair_distances(f, moved, rest)
        d_new[np.flatnonzero(moved == i)[0], np.flatnonzero(rest == j)[0]] = np.inf
        if d_new.min() < max(1.2, r):
            return None
        return f"{sym[i]}{i}-{sym[j]}{j} {r:.2f} A"

    return _perturbed_copies(frames, n, seed, push)


LI_X_CONTACT_A = (1.0, 1.6)  # Li+ to an atom of another molecule in li_contact_frames (Å; Li-O binds at ~1.95 Å)
LI_X_ELEMENTS = ("H", "N", "O", "F", "C", "S")  # the element a Li+ is pushed onto, in turn


def li_contact_frames(frames: list[Atoms], n: int, seed: int) -> list[Atoms]:
    """``n`` unlabelled copies of ``frames`` with one Li+ moved along the line to the nearest atom of another molecule
    (its element taken in turn from ``LI_X_ELEMENTS``; the next one where a frame has none or the move is blocked)
    until they are a distance drawn in ``LI_X_CONTACT_A`` apart, for the teacher to label: the Li+-anion and
    Li+-solvent repulsion inside the first shell, where :func:`contact_frames` pushes a Li+ only onto another Li+ in
    boxes with several. Students trained 32,000 steps on frames without it let a Li+ run into a DME hydrogen
    (0.87 Å) and fuse with an FSI nitrogen (0.92 Å), just outside the DP-ZBL switch; with 6 per box a workstation
    run's ensembles disagreed far more and its student was no more stable (README, "Longer final training"). A move
    that brings the Li+ within 1.2 Å of any third atom is drawn again."""
    from ..geometry import minimum_image, pair_distances

    def push(f, rng, k):
        sym = np.array(f.get_chemical_symbols())
        lis = np.flatnonzero(sym == "Li")
        if not len(lis):
            return False
        i = int(rng.choice(lis))
        mol = f.arrays["mol_id"] if "mol_id" in f.arrays else np.arange(len(f))
        others = np.flatnonzero((mol != mol[i]) & (sym != "Li"))
        present = [e for e in LI_X_ELEMENTS if np.any(sym[others] == e)]
        if not present:
            return False
        vec = minimum_image(f.positions - f.positions[i], f.cell.array)
        dist = np.linalg.norm(vec, axis=1)
        r = float(rng.uniform(*LI_X_CONTACT_A))
        start = f.positions[i].copy()
        for element in present[k % len(present):] + present[:k % len(present)]:  # a blocked element: the next one
            targets = others[sym[others] == element]
            j = int(targets[np.argmin(dist[targets])])
            if dist[j] <= r:
                continue
            f.positions[i] = start + vec[j] / dist[j] * (dist[j] - r)
            if pair_distances(f, [i], np.setdiff1d(np.arange(len(f)), [i, j])).min() >= 1.2:
                return f"{sym[i]}{i}-{sym[j]}{j} {r:.2f} A"
            f.positions[i] = start
        return None

    return _perturbed_copies(frames, n, seed, push)


def _perturbed_copies(frames: list[Atoms], n: int, seed: int, perturb) -> list[Atoms]:
    """Up to ``n`` unlabelled training copies of ``frames`` (taken in turn), each changed in place by
    ``perturb(frame, rng, k)`` (``k``: copies made so far), which returns the change's description (kept as
    ``info['contact']``), ``None`` to draw again, or ``False`` when no frame can give one; 20 draws per copy."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n * 20):
        if len(out) == n or not frames:
            break
        f = frames[k % len(frames)].copy()
        tag = perturb(f, rng, len(out))
        if tag is False:
            break
        if tag is None:
            continue
        f.calc = None
        f.info.pop("labelled_by", None)
        f.info.update(split="train", contact=tag)
        out.append(f)
    return out


STRETCH_FACTOR = (1.1, 1.5)  # a stretched bond's length / its length in the frame (S-F 1.6 -> 1.76-2.4 Å)
STRETCH_PER_FRAME = 3  # bonds stretched per frame, in different molecules (each label holds forces on all three)
STRETCH_NEAR_LI_A = 2.6  # every other stretched atom is picked among those this near a Li+ (its first shell)


def stretch_frames(frames: list[Atoms], n: int, seed: int) -> list[Atoms]:
    """``n`` unlabelled copies of ``frames`` (which must carry per-atom ``mol_id``) with ``STRETCH_PER_FRAME`` terminal
    atoms (one intramolecular bond: H, F, sulfonyl O) moved out along their bond to ``STRETCH_FACTOR`` x its length,
    for the teacher to label: the restoring force of a stretched bond, which exploration near 350 K rarely visits.

    The third workstation run's 1 M box lost an FSI fluorine this way: the student's minimisation stretched S-F
    1.60 -> 1.79 Å with one Li+ at 1.93 Å, a second Li+ pulled the F off during heating; from the S-F minimum to
    2.4 Å the student rose 0.42 eV, CHGNet 0.57, PBE/def2-SVP 0.74 (README): the student was softest where it had
    no frame. So every other stretched atom is one within ``STRETCH_NEAR_LI_A`` of a Li+ where there is one. A
    stretch that brings the atom within 1.2 Å of any atom but its bond partner is drawn again."""
    from ..geometry import minimum_image, pair_distances
    from ..md.bonds import bond_topology

    def stretch(f, rng, k):
        if "mol_id" not in f.arrays:
            raise LinmrError("stretch frames (key potential.stretch_frames) need the per-atom array mol_id in the "
                             "explored frames")
        bi, bj = bond_topology(f)
        n_bonds = np.bincount(np.concatenate([bi, bj]), minlength=len(f))
        sym = np.array(f.get_chemical_symbols())
        terminal = np.flatnonzero((n_bonds == 1) & (sym != "Li"))
        if not len(terminal):
            return False
        lis = np.flatnonzero(sym == "Li")
        near = terminal[pair_distances(f, terminal, lis).min(axis=1) < STRETCH_NEAR_LI_A] if len(lis) else terminal[:0]
        mol = f.arrays["mol_id"]
        done, tags = [], []
        while len(done) < STRETCH_PER_FRAME:
            free = [p[~np.isin(mol[p], mol[done])] for p in (near, terminal)]
            pool = free[0] if len(done) % 2 == 0 and len(free[0]) else free[1]
            for i in rng.permutation(pool).tolist():
                j = int(np.concatenate([bj[bi == i], bi[bj == i]])[0])
                vec = f.positions[i] - f.positions[j]
                vec = minimum_image(vec, f.cell.array) if f.pbc.any() else vec
                r0 = float(np.linalg.norm(vec))
                r = r0 * float(rng.uniform(*STRETCH_FACTOR))
                old = f.positions[i].copy()
                f.positions[i] = f.positions[j] + vec / r0 * r
                if pair_distances(f, [i], np.delete(np.arange(len(f)), [i, j])).min() >= 1.2:
                    done.append(i)
                    tags.append(f"{sym[j]}{j}-{sym[i]}{i} {r0:.2f}->{r:.2f} A")
                    break
                f.positions[i] = old
            else:
                break  # no terminal atom left to stretch in this frame
        return "stretch " + ", ".join(tags) if done else None

    return _perturbed_copies(frames, n, seed, stretch)


def select(round_: int, explored: dict, potential: dict) -> tuple[dict, dict]:
    """Frames to label this round, per concentration, and the round's row of ``rounds.csv``.

    Round 0 takes ``frames_per_round`` frames evenly over each exploration (every ``test_every``-th of them
    is marked as a test frame) and adds ``contact_frames`` training frames with a Li+ pushed onto its nearest
    Li+, or a molecule onto its neighbour (:func:`contact_frames`), ``stretch_frames`` training frames with
    terminal bonds stretched (:func:`stretch_frames`) and ``li_contact_frames`` with a Li+ pushed onto an atom of
    another molecule (:func:`li_contact_frames`). Later rounds classify each explored frame by
    its force deviation (accurate below ``trust_lo_eV_A``, candidate up to ``trust_hi_eV_A``, failed above) and
    take up to ``frames_per_round`` candidates evenly; when at least ``converged_fraction`` of the frames are accurate
    the round is converged and selects nothing. A frame with overlapping atoms (the student's MD collapsed) counts
    as failed whatever its deviation."""
    n = potential["frames_per_round"]
    chosen, counts = {}, {"accurate": 0, "candidate": 0, "failed": 0}
    devs = []
    for conc, frames in explored.items():
        if round_ == 0:
            idx = np.unique(np.linspace(0, len(frames) - 1, min(n, len(frames))).round().astype(int))
            picked = [frames[i] for i in idx]
            for k, f in enumerate(picked):
                f.info["split"] = "test" if k % potential["test_every"] == potential["test_every"] - 1 else "train"
            train = [f for f in picked if f.info["split"] == "train"]
            chosen[conc] = (picked + contact_frames(train, potential["contact_frames"], seed=len(chosen))
                            + stretch_frames(train, potential["stretch_frames"], seed=1000 + len(chosen))
                            + li_contact_frames(train, potential["li_contact_frames"], seed=2000 + len(chosen)))
            counts["candidate"] += len(frames)
            continue
        d = np.array([f.info["max_devi_f_eV_A"] for f in frames])
        # a student that ran into atoms overlapping has left physics: failed, whatever its ensemble says
        d = np.where([_collapsed(f) for f in frames], np.inf, d)
        devs.append(d[np.isfinite(d)])
        cand = np.flatnonzero((d >= potential["trust_lo_eV_A"]) & (d < potential["trust_hi_eV_A"]))
        counts["accurate"] += int((d < potential["trust_lo_eV_A"]).sum())
        counts["candidate"] += len(cand)
        counts["failed"] += int((d >= potential["trust_hi_eV_A"]).sum())
        idx = cand[np.unique(np.linspace(0, len(cand) - 1, min(n, len(cand))).round().astype(int))] if len(cand) else []
        chosen[conc] = [frames[i] for i in idx]
        for f in chosen[conc]:
            f.info["split"] = "train"
    total = sum(counts.values())
    accurate = counts["accurate"] / total if total and round_ else 0.0
    converged = round_ > 0 and accurate >= potential["converged_fraction"]
    if converged:
        chosen = {c: [] for c in chosen}
    d = np.concatenate(devs) if devs else np.array([])
    row = {"round": round_, "explored_frames": total, **{f"{k}_frames": v for k, v in counts.items()},
           "accurate_fraction": accurate if round_ else np.nan, "selected_frames": sum(len(v) for v in chosen.values()),
           "mean_max_devi_f_eV_A": float(d.mean()) if len(d) else np.nan,
           "max_max_devi_f_eV_A": float(d.max()) if len(d) else np.nan, "converged": bool(converged)}
    return chosen, row


def production_candidates(frames: list[Atoms], deviation: pd.DataFrame, potential: dict,
                          concentration: str = "") -> tuple[list[Atoms], pd.DataFrame]:
    """Production frames for active learning: the frames whose ensemble force deviation (``deviation``, the md
    rule's ``model_deviation.csv``, matched by step) is at least ``trust_lo_eV_A``, up to ``candidates_per_box``
    of them evenly over the run. Unlike a student's exploration, production passed the bond monitor and the
    temperature guard, so a deviation above ``trust_hi_eV_A`` marks an environment the student has not learned,
    not a broken structure: those frames are candidates too (a frame with overlapping atoms, possible only with the
    guards off, never is). Returns (frames, one row per production frame with
    its deviation and whether it was chosen). A later campaign labels them through ``potential.feedback_frames``."""
    rows = pd.DataFrame({"step": [int(f.info.get("step", -1)) for f in frames]})
    if len(deviation):
        d = deviation.drop_duplicates("step", keep="last").set_index("step")["max_devi_f_eV_A"]
        rows["max_devi_f_eV_A"] = rows["step"].map(d).astype(float)
    else:  # no ensemble along production (a user model): nothing is known, nothing is chosen
        rows["max_devi_f_eV_A"] = np.nan
    lo, hi = potential["trust_lo_eV_A"], potential["trust_hi_eV_A"]
    dev = rows["max_devi_f_eV_A"]
    collapsed = np.array([_collapsed(f) for f in frames], bool)  # only where the guards were off
    rows["class"] = np.where(collapsed, "collapsed", np.where(
        dev.isna(), "unknown", np.where(dev < lo, "accurate", np.where(dev < hi, "candidate", "above_trust_hi"))))
    cand = np.flatnonzero((dev.to_numpy() >= lo) & ~collapsed)
    n = min(potential["candidates_per_box"], len(cand))
    idx = cand[np.unique(np.linspace(0, len(cand) - 1, n).round().astype(int))] if n else np.array([], int)
    rows["chosen"] = False
    rows.loc[idx, "chosen"] = True
    rows.insert(0, "concentration", concentration)
    chosen = []
    for i in idx:
        f = frames[i].copy()
        f.calc = None
        f.info.update(max_devi_f_eV_A=float(dev.iloc[i]), source="production", concentration=concentration)
        chosen.append(f)
    return chosen, rows


def feedback(frames: list[Atoms]) -> list[Atoms]:
    """Frames of ``potential.feedback_frames`` made ready for round 0's labelling: training frames (never held
    out, so the accuracy table stays on the teacher's own round-0 frames), their old labels dropped."""
    out = []
    for f in frames:
        g = f.copy()
        g.calc = None
        g.info.pop("labelled_by", None)
        g.info.update(split="train", round=0)
        out.append(g)
    return out


def label(frames: list[Atoms], potential: dict, work_dir, round_: int = 0, nproc: int = 1, device: str = "cpu",
          log=print):
    """The teacher's labels of the selected frames; frames the explorer already labelled as the teacher keep theirs.
    Returns (labelled frames, table of one row per frame)."""
    from . import teachers

    tag = teachers.version(potential)
    todo = [k for k, f in enumerate(frames) if f.info.get("labelled_by") != tag or f.calc is None]
    done, rows = teachers.label([frames[k] for k in todo], potential, work_dir, nproc=nproc, device=device, log=log)
    by_index = dict(zip([todo[r["frame"]] for r in rows if r["status"] == "ok"], done))
    out, table = [], []
    for k, f in enumerate(frames):
        if k in by_index:
            g = by_index[k]
        elif k in todo:
            g = None
        else:
            g = f
        if g is not None:
            g.info.update({key: f.info[key] for key in ("split", "step", "contact") if key in f.info})
            g.info.update(labelled_by=tag, round=round_)
            out.append(g)
    for r in rows:
        table.append({**r, "frame": todo[r["frame"]]})
    for k in range(len(frames)):
        if k not in todo:
            table.append({"frame": k, "n_atoms": len(frames[k]), "status": "ok", "reason": "labelled while exploring",
                          "energy_eV_per_atom": frames[k].get_potential_energy() / len(frames[k]), "wall_s": 0.0})
    columns = ["frame", "n_atoms", "status", "reason", "energy_eV_per_atom", "wall_s"]  # also when nothing was selected
    return out, pd.DataFrame(table, columns=columns).sort_values("frame").reset_index(drop=True)


def read_labels(paths) -> list[Atoms]:
    """Labelled frames of one or more label files (an empty file holds none)."""
    from ..readers import read_frames

    out = []
    for p in paths:
        out += read_frames(p, what="labelled frames", periodic=True, empty_ok=True)
    return out


def train_member(label_paths, new_label_paths, previous_model, potential: dict, species: list[str], member: int,
                 round_: int, out_model, work_dir, threads: int = 1, log=print, previous_frozen=None,
                 out_frozen=None) -> dict:
    """One ensemble member of a round, trained on every training label so far (test frames held out, used as
    deepmd-kit's validation set). A round that added no label copies the previous round's model. With
    ``potential.deepmd.reuse_steps``, a later round starts from ``previous_frozen`` (the same member's uncompressed
    model of the round before) instead of from scratch. With ``potential.deepmd.final_steps`` the round
    ``final_steps_round`` (from the end; -1: the last) trains its models for that many steps, new labels or not (the
    long final training; with -2 the last round explores with those models and continues from them).
    ``out_frozen`` receives the uncompressed frozen model."""
    from ..fileio import copy_file
    from . import deepmd

    final = (round_ == potential["rounds"] + potential["deepmd"]["final_steps_round"]
             and potential["deepmd"]["final_steps"] is not None)
    if round_ > 0 and not final and not read_labels(new_label_paths):
        copy_file(previous_model, out_model)
        if out_frozen is not None:
            copy_file(previous_frozen or previous_model, out_frozen)
        log(f"round {round_}: no new labels (converged); model {member} copied from {previous_model}")
        return {"copied": True}
    reuse = round_ > 0 and bool(potential["deepmd"]["reuse_steps"])
    if reuse and previous_frozen is None:
        raise LinmrError("potential.deepmd.reuse_steps is set but no previous round's frozen model was given")
    frames = read_labels(label_paths)
    train = [f for f in frames if f.info.get("split") != "test"]
    test = [f for f in frames if f.info.get("split") == "test"] or train[-1:]
    if len(train) < 2:
        raise LinmrError(f"only {len(train)} labelled training frame(s): raise potential.frames_per_round")
    wd = Path(work_dir)
    tm = type_map(species)
    train_sys = deepmd.write_systems(train, wd / "data" / "train", tm)
    valid_sys = deepmd.write_systems(test, wd / "data" / "valid", tm)
    out = deepmd.train(potential["deepmd"], tm, train_sys, valid_sys, seed=1 + 97 * member + 10007 * round_,
                       work_dir=wd / "run", out_model=out_model, threads=threads, log=log,
                       init_frz_model=previous_frozen if reuse else None, out_frozen=out_frozen, final=final)
    return {"copied": False, "n_train_frames": len(train), "n_valid_frames": len(test), **out}


def deviation_figure(rounds: pd.DataFrame, devi: dict, path, potential: dict, footer: str | None = None):
    """Per round: the distribution of the explored frames' force deviation with the trust levels, and the
    accurate / candidate / failed fractions (eV/Å, fractions of frames)."""
    from ..analysis.plots import _save, plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7.0, 2.9), layout="constrained")
    for r, d in devi.items():
        if len(d):
            ax1.hist(d, bins=30, histtype="step", label=f"round {r}")
    for x in (potential["trust_lo_eV_A"], potential["trust_hi_eV_A"]):
        ax1.axvline(x, color="0.3", ls=":", lw=0.8)
    ax1.set_xlabel("max force deviation / eV Å$^{-1}$")
    ax1.set_ylabel("explored frames / 1")
    if devi:
        ax1.legend(frameon=False, fontsize=7)
    later = rounds[rounds["round"] > 0]
    for col in ("accurate", "candidate", "failed"):
        frac = later[f"{col}_frames"] / later["explored_frames"].where(later["explored_frames"] > 0)
        ax2.plot(later["round"], frac, marker="o", label=col)
    ax2.axhline(potential["converged_fraction"], color="0.3", ls=":", lw=0.8)
    ax2.set_xlabel("round / 1")
    ax2.set_ylabel("fraction of explored frames / 1")
    ax2.set_ylim(-0.05, 1.05)
    ax2.legend(frameon=False, fontsize=7)
    _save(fig, path, footer)
    return fig
