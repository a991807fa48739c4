"""How good the student is: the rounds table, its accuracy against the teacher on held-out frames, and the
structure of student MD against teacher MD on the same boxes (S–F bond length, Li–O radial distribution)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ase import Atoms

from ..geometry import minimum_image


def sf_bond_lengths(frames) -> np.ndarray:
    """Every intramolecular S–F distance (Å) of every frame (S and F of the same ``mol_id``)."""
    out = []
    for fr in frames:
        sym = np.array(fr.get_chemical_symbols())
        mol = fr.arrays["mol_id"]
        s, f = np.flatnonzero(sym == "S"), np.flatnonzero(sym == "F")
        if not len(s) or not len(f):
            continue
        same = mol[s][:, None] == mol[f][None, :]
        d = minimum_image(fr.positions[f][None, :, :] - fr.positions[s][:, None, :], fr.cell.array)
        out.append(np.linalg.norm(d, axis=-1)[same & (np.linalg.norm(d, axis=-1) < 2.5)])
    return np.concatenate(out) if out else np.array([])


def li_o_rdf(frames, r_max: float = 5.0, dr: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Li–O (every O) radial distribution function pooled over ``frames``: bin centres (Å), g(r) (1); g is NaN
    where no frame has both Li and O."""
    from ..analysis.solvation import pair_rdf

    def select(fr):
        sym = np.array(fr.get_chemical_symbols())
        return np.flatnonzero(sym == "Li"), np.flatnonzero(sym == "O")

    out = pair_rdf(frames, select, r_max, dr)
    if out is None:
        r = np.arange(0.5 * dr, r_max, dr)
        return r, np.full(len(r), np.nan)
    return out[0], out[1]


def first_peak(r, g, r_min: float = 1.5, smooth: int = 3, half_width: int = 2) -> float:
    """Position (Å) of the first-shell g(r) maximum beyond ``r_min`` Å (< 3 Å), finer than the bin width: the
    highest bin of the ``smooth``-bin running mean, then the vertex of a parabola fitted to the raw g(r) of the
    ``half_width`` bins on either side (the bin centre itself where the fit is not a maximum inside them)."""
    g = np.nan_to_num(np.asarray(g, dtype=float))
    r = np.asarray(r, dtype=float)
    gs = np.convolve(g, np.ones(smooth) / smooth, mode="same")
    window = np.flatnonzero((r >= r_min) & (r <= 3.0))
    if not len(window) or not np.any(gs[window] > 0):
        return float("nan")
    i = int(window[np.argmax(gs[window])])
    lo, hi = max(i - half_width, 0), min(i + half_width + 1, len(r))
    if hi - lo >= 3:
        a, b, _ = np.polyfit(r[lo:hi] - r[i], g[lo:hi], 2)
        if a < 0 and r[lo] <= r[i] - b / (2 * a) <= r[hi - 1]:
            return float(r[i] - b / (2 * a))
    return float(r[i])


def _sf_mean(frames) -> float:
    sf = sf_bond_lengths(frames)
    return float(sf.mean()) if len(sf) else np.nan


def structure_table(teacher: dict, student: dict) -> pd.DataFrame:
    """Per box (and pooled): mean S–F bond (Å) and Li–O first g(r) peak (Å) of teacher and student MD.

    ``teacher`` maps a box to its frames (one trajectory); ``student`` maps it to a list of replica trajectories
    (the same protocol, other velocity seeds), or to frames (one replica). The student's values pool its
    replicas. With two replicas or more, the spread of the per-replica values (sample standard deviation) is the
    noise of one trajectory of that length, and ``*_difference_se_A`` = spread x sqrt(1 + 1/replicas) is the
    standard error of the difference to the teacher's single trajectory (taken to be as noisy as one replica)."""
    student = {k: v if v and isinstance(v[0], list) else [v] for k, v in student.items()}
    rows = []
    for label in [*teacher, "all"]:
        t = sum(teacher.values(), []) if label == "all" else teacher[label]
        if label == "all":
            n = min(len(v) for v in student.values())
            reps = [sum((student[k][i] for k in student), []) for i in range(n)]
        else:
            reps = student[label]
        s = sum(reps, [])
        row = {"box": label, "frames_teacher": len(t), "frames_student": len(s), "replicas": len(reps),
               "sf_mean_teacher_A": _sf_mean(t), "sf_mean_student_A": _sf_mean(s),
               "li_o_peak_teacher_A": first_peak(*li_o_rdf(t)), "li_o_peak_student_A": first_peak(*li_o_rdf(s))}
        for key, per_replica in (("sf", [_sf_mean(r) for r in reps]),
                                 ("li_o_peak", [first_peak(*li_o_rdf(r)) for r in reps])):
            spread = float(np.nanstd(per_replica, ddof=1)) if np.sum(np.isfinite(per_replica)) >= 2 else np.nan
            row[f"{key}_difference_se_A"] = spread * np.sqrt(1.0 + 1.0 / len(reps))
        rows.append(row)
    out = pd.DataFrame(rows)
    out["sf_difference_A"] = out["sf_mean_student_A"] - out["sf_mean_teacher_A"]
    out["li_o_peak_difference_A"] = out["li_o_peak_student_A"] - out["li_o_peak_teacher_A"]
    errors = ["sf_difference_se_A", "li_o_peak_difference_se_A"]
    return out[[c for c in out.columns if c not in errors] + errors]


def rdf_figure(teacher: list[Atoms], student: list[Atoms], table: pd.DataFrame, path, footer: str | None = None):
    """Li–O g(r) and the S–F bond-length distribution of teacher and student MD, side by side."""
    from ..analysis.plots import _save, plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7.0, 2.9), layout="constrained")
    pooled = table[table["box"] == "all"].iloc[0]
    for frames, name, key in ((teacher, "teacher", "teacher"), (student, "student", "student")):
        r, g = li_o_rdf(frames)
        runs = f", {int(pooled['replicas'])} replicas" if key == "student" and pooled.get("replicas", 1) > 1 else ""
        ax1.plot(r, g, label=f"{name}{runs} (peak {pooled[f'li_o_peak_{key}_A']:.2f} Å)")
        sf = sf_bond_lengths(frames)
        if len(sf):
            ax2.hist(sf, bins=40, range=(1.3, 2.1), histtype="step", density=True,
                     label=f"{name} (mean {sf.mean():.3f} Å)")
    ax1.set_xlabel("r(Li–O) / Å")
    ax1.set_ylabel("g(r) / 1")
    ax1.legend(frameon=False, fontsize=7)
    ax2.set_xlabel("S–F bond length / Å")
    ax2.set_ylabel("probability density / Å$^{-1}$")
    ax2.legend(frameon=False, fontsize=7)
    _save(fig, path, footer)
    return fig


def evaluate(concs, inputs, outputs: dict, potential: dict, md: dict, seed: int, work_dir, executable: str = "lmp",
             footer: str | None = None, log=print) -> dict:
    """The potential_report rule. ``inputs`` has ``selections``, ``deviations``, ``labels``, ``teacher_md``,
    ``boxes`` and ``models`` (the last round's ensemble, first = the production model)."""
    from pathlib import Path

    from ..fileio import write_csv
    from ..md import lammps
    from ..readers import read_frames
    from . import deepmd, deviation_figure, read_labels, teachers

    rounds = pd.concat([pd.read_csv(p) for p in inputs["selections"]], ignore_index=True)
    devi: dict = {}
    for path in inputs["deviations"]:
        r = int(Path(path).parent.name.split("_")[1])
        devi.setdefault(r, []).append(pd.read_csv(path)["max_devi_f_eV_A"].to_numpy())
    devi = {r: np.concatenate(v) for r, v in sorted(devi.items())}
    labels = read_labels(inputs["labels"])
    test = [f for f in labels if f.info.get("split") == "test"]
    rounds["labelled_frames_total"] = [sum(1 for f in labels if f.info.get("round", 0) <= r) for r in rounds["round"]]
    write_csv(outputs["rounds"], rounds)
    deviation_figure(rounds, devi, outputs["figure"], potential, footer=footer)
    models = list(inputs["models"])
    acc = deepmd.accuracy(models[0], test) if test else {"n_frames": 0}
    acc.update(teacher=teachers.version(potential), model=models[0], n_train_frames=len(labels) - len(test),
               targets="force RMSE <= 0.1 eV/A, energy RMSE <= 5 meV/atom")
    write_csv(outputs["accuracy"], pd.DataFrame([acc]))
    log(pd.DataFrame([acc]).T.to_string())
    # student MD on each training box, as long as the teacher's round-0 run, at the same temperature, in
    # report_replicas replicas (velocity seeds) whose spread is the noise of one such trajectory
    teacher_md, student_md = {}, {}
    for conc, box_path, t_path in zip(concs, inputs["boxes"], inputs["teacher_md"]):
        teacher_md[conc] = read_frames(t_path, what="teacher MD", periodic=True)
        box = read_frames(box_path, what="training box", periodic=True)[-1]
        student_md[conc] = []
        for k in range(potential["report_replicas"]):
            frames, _ = lammps.explore(box, models[:1], Path(work_dir) / conc / f"replica_{k}",
                                       steps=potential["explore_steps"], stride=potential["explore_stride"],
                                       temperature_K=potential["explore_temperature_K"], timestep_fs=md["timestep_fs"],
                                       friction_per_fs=md["friction_per_fs"], seed=seed + 7 + 100 * k,
                                       executable=executable, log=log)
            student_md[conc].append([f for f in frames if f.info["step"] > 0])
    table = structure_table(teacher_md, student_md)
    write_csv(outputs["structure"], table)
    log(table.to_string(index=False))
    rdf_figure(sum(teacher_md.values(), []), sum(sum(student_md.values(), []), []), table, outputs["rdf"],
               footer=footer)
    return {"accuracy": acc, "structure": table}
