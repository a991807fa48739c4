"""The DeePMD student: training data (dpdata), training, freezing, compression (deepmd-kit's CLI, TensorFlow
backend) and model deviation / accuracy against the teacher (deepmd-kit's Python API).

deepmd-kit 3.2.0 runs here through its TensorFlow backend beside torch 2.13 (its PyTorch backend is built
for torch 2.11 and does not load), so every command is ``dp --tf ...`` and models are frozen ``.pb``
graphs, which LAMMPS runs through ``pair_style deepmd``. The type map is the descriptor's species list in
a fixed order, the same in every data folder and every model.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from ase import Atoms

from .. import LinmrError


def dp_executable() -> str:
    exe = shutil.which("dp") or shutil.which("dp", path=str(Path(sys.executable).parent))
    if exe is None:
        raise LinmrError("deepmd-kit's 'dp' command is not installed (pip install deepmd-kit tensorflow-cpu; "
                         "conda-forge deepmd-kit on GPU nodes)")
    return exe


def dp_env(threads: int = 1) -> dict:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS=str(threads), DP_INTRA_OP_PARALLELISM_THREADS=str(threads),
               DP_INTER_OP_PARALLELISM_THREADS="1", TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "2"))
    return env


def write_systems(frames: list[Atoms], directory: str | Path, type_map: list[str]) -> list[str]:
    """Labelled frames (single-point energy, forces, stress) as DeePMD ``npy`` systems under ``directory``,
    one per composition (dpdata's virial = -V x ASE stress). Returns the system folders."""
    import dpdata

    directory = Path(directory)
    if directory.exists():
        shutil.rmtree(directory)
    if not frames:
        raise LinmrError(f"no labelled frames to write to {directory}")
    ms = dpdata.MultiSystems(type_map=list(type_map))
    for a in frames:
        ms.append(dpdata.LabeledSystem(a, fmt="ase/structure", type_map=list(type_map)))
    ms.to("deepmd/npy", str(directory))
    return sorted(str(p.parent) for p in directory.rglob("type.raw"))


# Ziegler-Biersack-Littmark universal screening function: coefficients and exponents, a in Å, ke^2 in eV Å.
_ZBL_C = (0.18175, 0.50986, 0.28022, 0.02817)
_ZBL_D = (3.19980, 0.94229, 0.40290, 0.20162)
_KE2_EV_A = 14.399645


def zbl_energy(r, z1: int, z2: int) -> np.ndarray:
    """The ZBL screened nuclear repulsion of two atoms at distances ``r`` (Å), in eV."""
    r = np.asarray(r, dtype=float)
    a = 0.46850 / (z1**0.23 + z2**0.23)
    x = r / a
    phi = sum(c * np.exp(-d * x) for c, d in zip(_ZBL_C, _ZBL_D))
    return _KE2_EV_A * z1 * z2 / r * phi


def write_zbl_table(path, type_map: list[str], rcut: float, rmin: float = 0.05, step: float = 0.005) -> Path:
    """deepmd-kit's short-range pair table (``model/use_srtab``) of ZBL repulsion for every type pair: first
    column r (Å), then one energy column (eV) per pair i <= j in type-map order. The energies are switched
    smoothly (cosine) to zero over the last Å before ``rcut`` so the table has no step where it ends."""
    from ase.data import atomic_numbers

    r = np.arange(rmin, rcut + 1.0 + step / 2, step)
    sw = np.where(r < rcut - 1.0, 1.0, np.where(r > rcut, 0.0, 0.5 * (1 + np.cos(np.pi * (r - rcut + 1.0)))))
    z = [atomic_numbers[s] for s in type_map]
    cols = [r] + [zbl_energy(r, z[i], z[j]) * sw for i in range(len(z)) for j in range(i, len(z))]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, np.column_stack(cols), fmt="%.10e",
               header=f"ZBL pair repulsion (eV) vs r (A); pairs i<=j of {' '.join(type_map)}")
    return path


def training_input(settings: dict, type_map: list[str], train: list[str], valid: list[str], seed: int,
                   srtab: str | None = None) -> dict:
    """The ``input.json`` of one ensemble member from the config's ``potential.deepmd`` settings; with
    ``srtab`` (a :func:`write_zbl_table` file) the model is DP-ZBL: the ZBL table takes over from DP for atoms
    whose softmin neighbour distance falls below ``zbl_sw_rmax_A`` (fully below ``zbl_sw_rmin_A``)."""
    s = settings
    descriptor = {"type": "se_e2_a", "rcut": s["rcut_A"], "rcut_smth": s["rcut_smth_A"], "sel": s["sel"],
                  "neuron": s["embedding_neurons"], "axis_neuron": s["axis_neuron"], "resnet_dt": False,
                  "type_one_side": True, "precision": s["precision"], "seed": seed}
    model = {"type_map": list(type_map), "descriptor": descriptor,
             "fitting_net": {"neuron": s["fitting_neurons"], "resnet_dt": True, "precision": s["precision"],
                             "seed": seed + 1000}}
    if srtab is not None:
        model.update(use_srtab=str(srtab), smin_alpha=s["zbl_smin_alpha_A"], sw_rmin=s["zbl_sw_rmin_A"],
                     sw_rmax=s["zbl_sw_rmax_A"])
    return {
        "model": model,
        "learning_rate": {"type": "exp", "start_lr": s["start_lr"], "stop_lr": s["stop_lr"],
                          "decay_steps": max(1, s["numb_steps"] // 20)},
        "loss": {"type": "ener", "start_pref_e": 0.02, "limit_pref_e": s["energy_pref"], "start_pref_f": 1000.0,
                 "limit_pref_f": 1.0, "start_pref_v": s["virial_pref"] * 0.02, "limit_pref_v": s["virial_pref"]},
        "training": {"training_data": {"systems": list(train), "batch_size": "auto"},
                     "validation_data": {"systems": list(valid), "batch_size": "auto", "numb_btch": 1},
                     "numb_steps": s["numb_steps"], "seed": seed + 2000, "disp_file": "lcurve.out",
                     "disp_freq": max(1, s["numb_steps"] // 20), "save_freq": s["numb_steps"]},
    }


def _dp(args: list[str], cwd: Path, log_name: str, threads: int) -> float:
    t0 = time.perf_counter()
    with open(cwd / log_name, "w") as fh:
        proc = subprocess.run([dp_executable(), "--tf", *args], cwd=cwd, env=dp_env(threads), stdout=fh,
                              stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        tail = (cwd / log_name).read_text()[-1500:]
        raise LinmrError(f"dp --tf {' '.join(args)} failed (exit {proc.returncode}) in {cwd}; end of {log_name}:\n{tail}")
    return time.perf_counter() - t0


def train(settings: dict, type_map: list[str], train_systems: list[str], valid_systems: list[str], seed: int,
          work_dir: str | Path, out_model: str | Path, threads: int = 1, log=print, init_frz_model=None,
          out_frozen=None, final: bool = False) -> dict:
    """Train, freeze (and, with ``compress``, compress) one model in ``work_dir``; the model is copied to
    ``out_model`` and, where ``out_frozen`` is given, the uncompressed frozen graph to it.

    With ``init_frz_model`` (an uncompressed frozen model of the same architecture) training starts from its
    weights and its own model section (resolved ``sel`` included: ``--use-pretrain-script``), for
    ``reuse_steps`` from ``reuse_start_lr``: the way DP-GEN reuses a round's models in the next. With ``final``
    (the round ``final_steps_round``, by default the last) ``final_steps``, where set, replaces the number of steps.
    Returns timings (s) and the last learning-curve line (energy/force RMSE on validation)."""
    wd = Path(work_dir)
    if wd.exists():
        shutil.rmtree(wd)
    wd.mkdir(parents=True)
    if init_frz_model is not None:
        settings = {**settings, "numb_steps": settings["reuse_steps"], "start_lr": settings["reuse_start_lr"]}
    if final and settings["final_steps"] is not None:
        settings = {**settings, "numb_steps": settings["final_steps"]}
    srtab = None
    if settings["zbl"]:
        # relative to the work folder: a later round that reuses this model's script finds its own copy
        write_zbl_table(wd / "zbl.tab", type_map, settings["rcut_A"])
        srtab = "zbl.tab"
    inp = training_input(settings, type_map, [str(Path(p).resolve()) for p in train_systems],
                         [str(Path(p).resolve()) for p in valid_systems], seed, srtab=srtab)
    (wd / "input.json").write_text(json.dumps(inp, indent=1))
    init = [] if init_frz_model is None else ["-f", str(Path(init_frz_model).resolve()), "--use-pretrain-script"]
    out = {"train_s": _dp(["train", "input.json", *init], wd, "train.log", threads), "numb_steps": settings["numb_steps"],
           "init_frz_model": None if init_frz_model is None else str(init_frz_model)}
    out["freeze_s"] = _dp(["freeze", "-o", "frozen.pb"], wd, "freeze.log", threads)
    model = wd / "frozen.pb"
    if settings["compress"]:
        out["compress_s"] = _dp(["compress", "-i", "frozen.pb", "-o", "compressed.pb"], wd, "compress.log", threads)
        model = wd / "compressed.pb"
    from ..fileio import copy_file

    copy_file(model, out_model)
    if out_frozen is not None:
        copy_file(wd / "frozen.pb", out_frozen)
    lc = [ln.split() for ln in (wd / "lcurve.out").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    head = (wd / "lcurve.out").read_text().splitlines()[0].lstrip("#").split()
    out["lcurve"] = dict(zip(head, map(float, lc[-1]))) if lc else {}
    log(f"model seed {seed}: {out}")
    return out


def _groups(frames: list[Atoms]) -> dict[tuple, list[int]]:
    groups: dict[tuple, list[int]] = {}
    for k, a in enumerate(frames):
        groups.setdefault((tuple(a.get_chemical_symbols()), len(a)), []).append(k)
    return groups


def evaluate(models: list[str], frames: list[Atoms]) -> list[dict]:
    """Each model's energy (eV), forces (eV/Å) and virial (eV) of every frame (deepmd-kit's ``DeepPot``)."""
    from deepmd.infer import DeepPot

    pots = [DeepPot(str(m)) for m in models]
    tmap = pots[0].get_type_map()
    out = [dict() for _ in frames]
    for (symbols, _), idx in _groups(frames).items():
        missing = sorted(set(symbols) - set(tmap))
        if missing:
            raise LinmrError(f"elements {missing} are not in the model's type map {tmap}")
        atype = np.array([tmap.index(s) for s in symbols])
        coord = np.array([frames[k].positions for k in idx]).reshape(len(idx), -1)
        box = np.array([frames[k].cell.array for k in idx]).reshape(len(idx), 9)
        for m, pot in enumerate(pots):
            e, f, v = pot.eval(coord, box, atype)[:3]
            for j, k in enumerate(idx):
                out[k].setdefault("energy", []).append(float(np.ravel(e)[j]))
                out[k].setdefault("forces", []).append(np.asarray(f[j]).reshape(-1, 3))
                out[k].setdefault("virial", []).append(np.asarray(v[j]).reshape(3, 3))
    return out


def max_force_deviation(models: list[str], frames: list[Atoms]) -> np.ndarray:
    """DeePMD's model deviation per frame: max over atoms of the ensemble's force standard deviation (eV/Å)."""
    if len(models) < 2:
        raise LinmrError("model deviation needs at least two models (key potential.ensemble)")
    ev = evaluate(models, frames)
    out = []
    for e in ev:
        f = np.stack(e["forces"])  # (models, atoms, 3)
        out.append(float(np.sqrt(((f - f.mean(axis=0)) ** 2).sum(axis=-1).mean(axis=0)).max()))
    return np.array(out)


def accuracy(model: str, frames: list[Atoms]) -> dict:
    """The student against the teacher's labels of ``frames``: RMSE of energy per atom (meV/atom), forces
    (eV/Å, per component) and stress (GPa) and the teacher's force RMS for scale."""
    from ase import units

    ev = evaluate([model], frames)
    de, df, ds, fref = [], [], [], []
    for a, e in zip(frames, ev):
        de.append((e["energy"][0] - a.get_potential_energy()) / len(a))
        df.append(e["forces"][0] - a.get_forces())
        fref.append(a.get_forces())
        stress_student = -e["virial"][0] / a.get_volume()
        ds.append(stress_student - a.get_stress(voigt=False))
    df, fref = np.concatenate(df), np.concatenate(fref)
    return {
        "n_frames": len(frames),
        "energy_rmse_meV_per_atom": float(np.sqrt(np.mean(np.square(de))) * 1000.0),
        "force_rmse_eV_A": float(np.sqrt(np.mean(df**2))),
        "force_rms_teacher_eV_A": float(np.sqrt(np.mean(fref**2))),
        "stress_rmse_GPa": float(np.sqrt(np.mean(np.square(ds))) / units.GPa),
    }
