"""How many Li it takes to see the Li–O(FSI) coordination number rise with concentration.

In the embedded default (``config/config.yaml``: 1–4 Li per box at 1–4 M) the MD is a
few hundred fs, too short to rebuild a Li's first shell (at most a loosely bound O drifts
out during minimisation; ``--md-check`` shows it), so each box's coordination number (CN)
is essentially the one :func:`linmr.system.boxes.insert_cations` gives when it places each Li
at a donor site: one sample of 1–4 Li per concentration. This builds the default's
boxes (composition, templates and tolerance as the workflow's ``box`` rule) for
``--seeds`` packing seeds per concentration and counts, per Li, the FSI and DME oxygens
within ``--r-cut-A`` (default 2.75 Å, where the demo's pooled Li–O(FSI) g(r) has its
first minimum). It prints per concentration the Li sampled, mean CN, per-Li SD and
standard errors (over Li, and over boxes, which allows for Li of one box being
correlated); then P(mean CN of FSI O strictly rises 1 → 4 M) when each concentration
gets K independent boxes, by bootstrap over the built boxes (fixed RNG seed), beside a
normal approximation with K x n_salt independent Li; the last line is the Li count per
concentration (boxes scaled like the config's n_salt) at which that normal
approximation reaches P >= 0.95. ``--md-check RESULTS`` compares the CN of an existing
run's ``boxes/{conc}.extxyz`` with the mean over ``md/{conc}/production.extxyz``
(read-only) to show that the MD leaves the shells where insertion put them. Run as::

    PYTHONPATH=src python benchmarks/cn_statistics.py [--seeds 40] [--md-check results]
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from ase.io import iread, read

from linmr import config
from linmr.analysis import solvation
from linmr.system import boxes, composition, molecules
from linmr.system.composition import conc_label

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ("O_anion", "O_solvent")  # Li-O(FSI), Li-O(DME)

_TEMPLATES: dict = {}


def _names(cfg):
    return {r: cfg["species"][r]["name"] for r in ("cation", "anion", "solvent")}


def _templates(cfg):
    """Molecule templates as the ``box`` rule makes them (config seed), once per worker process."""
    sp = cfg["species"]
    key = (cfg["seed"],) + tuple((r, sp[r]["name"], sp[r]["smiles"]) for r in sorted(sp))
    if key not in _TEMPLATES:
        _TEMPLATES.clear()
        _TEMPLATES[key] = {r: (sp[r]["name"], molecules.from_smiles(sp[r]["smiles"], seed=cfg["seed"])) for r in sp}
    return _TEMPLATES[key]


def box_cn(job):
    """Per-Li CN (FSI O, DME O) of one freshly built box: ``job = (cfg, conc_index, seed, r_cut)``."""
    cfg, ci, seed, r_cut = job
    sp, c = cfg["species"], cfg["concentrations"][ci]
    m_salt = molecules.molar_mass(sp["cation"]["smiles"]) + molecules.molar_mass(sp["anion"]["smiles"])
    m_solv = molecules.molar_mass(sp["solvent"]["smiles"])
    comp = composition.composition(c["molarity_mol_L"], c["density_g_cm3"], c["n_salt"], m_salt, m_solv)
    atoms = boxes.build_box(_templates(cfg), comp, seed=seed, tolerance=cfg["box"]["tolerance_A"])
    _, cn = solvation.per_li_counts([atoms], _names(cfg), {k: r_cut for k in PAIRS})
    return ci, seed, len(atoms), cn["O_anion"], cn["O_solvent"]


def p_rising_normal(mu, sd, n, rng, draws=100_000) -> float:
    """P(strictly rising sample means) if concentration i's mean is N(mu_i, sd_i^2 / n_i), independent."""
    m = rng.normal(mu, sd / np.sqrt(n), size=(draws, len(mu)))
    return float(np.all(np.diff(m, axis=1) > 0, axis=1).mean())


def md_check(results: Path, cfg, r_cut: float) -> None:
    names = _names(cfg)
    print(f"\nMD check ({results}): per-Li CN of FSI O within {r_cut:.2f} Å, inserted box vs production mean")
    for c in cfg["concentrations"]:
        label = conc_label(c["molarity_mol_L"])
        box, traj = results / "boxes" / f"{label}.extxyz", results / "md" / label / "production.extxyz"
        if not (box.exists() and traj.exists()):
            print(f"  {label}: missing {box if not box.exists() else traj}")
            continue
        radii = {k: r_cut for k in PAIRS}
        li0, cn0 = solvation.per_li_counts([read(box, format="extxyz")], names, radii)
        frames = list(iread(traj, index=":", format="extxyz"))
        li1, cn1 = solvation.per_li_counts(frames, names, radii)
        if not np.array_equal(li0, li1):
            print(f"  {label}: Li indices differ between box and trajectory, skipped")
            continue
        a, b = cn0["O_anion"], cn1["O_anion"]
        d = cn1["O_solvent"] - cn0["O_solvent"]
        print(f"  {label}: n_Li {len(a)}, {len(frames)} frames; box {np.round(a, 2).tolist()} mean {a.mean():.2f}; "
              f"MD {np.round(b, 2).tolist()} mean {b.mean():.2f}; max |change| per Li {np.abs(b - a).max():.2f} "
              f"(DME O {np.abs(d).max():.2f})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default=str(ROOT / "config" / "config.yaml"))
    p.add_argument("--seeds", type=int, default=40, help="packing seeds (boxes) per concentration")
    p.add_argument("--first-seed", type=int, default=None, help="first packing seed (default: the config's seed)")
    p.add_argument("--r-cut-A", type=float, default=2.75, help="Li–O cut-off in Å (demo's pooled first RDF minimum)")
    p.add_argument("--resamples", type=int, default=20000, help="bootstrap resamples per K")
    p.add_argument("--rng-seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="box-building processes")
    p.add_argument("--md-check", type=Path, default=None, metavar="RESULTS", help="existing results folder (read only)")
    args = p.parse_args()
    t0 = time.perf_counter()
    cfg = config.load(args.config)
    first = cfg["seed"] if args.first_seed is None else args.first_seed
    concs = cfg["concentrations"]
    jobs = [(cfg, ci, s, args.r_cut_A) for ci in range(len(concs)) for s in range(first, first + args.seeds)]
    with ProcessPoolExecutor(args.jobs) as pool:
        out = list(pool.map(box_cn, jobs))
    fsi = [[o[3] for o in out if o[0] == ci] for ci in range(len(concs))]  # [conc][box] -> per-Li array
    dme = [[o[4] for o in out if o[0] == ci] for ci in range(len(concs))]
    atoms = {o[0]: o[2] for o in out}
    t_build = time.perf_counter() - t0

    print(f"{args.config}: {args.seeds} boxes per concentration (packing seeds {first}..{first + args.seeds - 1}), "
          f"per-Li CN = O atoms within {args.r_cut_A:.2f} Å of each Li (box as inserted, before MD)")
    print(f"{'conc / M':>8} {'atoms':>5} {'Li/box':>6} {'n_Li':>5} | {'CN O(FSI) / 1':>13} {'SD/Li':>6} {'SE(Li)':>6} "
          f"{'SE(box)':>7} | {'CN O(DME) / 1':>13} {'SD/Li':>6}")
    mu, sd, n_salt = [], [], []
    for ci, c in enumerate(concs):
        v, w = np.concatenate(fsi[ci]), np.concatenate(dme[ci])
        box_means = np.array([b.mean() for b in fsi[ci]])
        mu.append(v.mean())
        sd.append(v.std(ddof=1))
        n_salt.append(c["n_salt"])
        print(f"{c['molarity_mol_L']:>8.2f} {atoms[ci]:>5d} {c['n_salt']:>6d} {len(v):>5d} | {v.mean():>13.2f} "
              f"{sd[-1]:>6.2f} {sd[-1] / np.sqrt(len(v)):>6.2f} {box_means.std(ddof=1) / np.sqrt(len(box_means)):>7.2f} | "
              f"{w.mean():>13.2f} {w.std(ddof=1):>6.2f}")
    mu, sd, n_salt = np.array(mu), np.array(sd), np.array(n_salt)

    rng = np.random.default_rng(args.rng_seed)
    box_means = np.array([[b.mean() for b in fsi[ci]] for ci in range(len(concs))])  # (conc, box)
    print(f"P(mean CN O(FSI) strictly rises over {len(concs)} concentrations) with K boxes per concentration "
          f"(bootstrap over the {args.seeds} boxes, {args.resamples} resamples, RNG seed {args.rng_seed}; "
          "normal approximation with K x n_salt independent Li):")
    for k in (1, 2, 3, 4, 6, 8):
        idx = rng.integers(0, args.seeds, size=(args.resamples, len(concs), k))
        m = np.take_along_axis(box_means[None, :, :], idx, axis=2).mean(axis=2)  # (resample, conc)
        p_boot = float(np.all(np.diff(m, axis=1) > 0, axis=1).mean())
        p_norm = p_rising_normal(mu, sd, k * n_salt, rng)
        print(f"  K = {k}: Li per concentration {(k * n_salt).tolist()}: P = {p_boot:.2f} (bootstrap), "
              f"{p_norm:.2f} (normal approx.)")
    if args.md_check is not None:
        md_check(args.md_check, cfg, args.r_cut_A)
    print(f"wall time {time.perf_counter() - t0:.1f} s ({t_build:.1f} s building {len(jobs)} boxes on {args.jobs} processes)")
    if not np.all(np.diff(mu) > 0):
        print("Li needed for P >= 0.95: not estimable, the mean CN over the seeds does not rise with concentration")
        return
    scale = 1
    while p_rising_normal(mu, sd, scale * n_salt, rng) < 0.95 and scale < 10_000:
        scale += 1 if scale < 20 else max(1, scale // 20)
    print(f"Li needed for P >= 0.95 (normal approximation: independent Li, per-Li mean and SD as above, "
          f"boxes scaled like n_salt): about {(scale * n_salt).tolist()} Li at {[c['molarity_mol_L'] for c in concs]} M")


if __name__ == "__main__":
    main()
