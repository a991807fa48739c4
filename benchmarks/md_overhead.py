"""Per-step wall time of the project's MD driver against a bare ASE Langevin loop.

Same calculator, same box (the demo's 1 M box by default), same number of steps, in
one process. The driver is :func:`linmr.md.ase_engine.run_protocol` with minimisation, heating
and NPT switched off, so it runs only production: bond checks, frame writes,
checkpoints and progress updates at the configured strides, plus its setup (bond
topology, checkpoint at step 0, final copy). The bare loop is
``Langevin(...).run(steps)``. The two alternate ``--repeats`` times so that load from
other processes hits both alike. Every calculator call is timed, so each run's wall
time splits into calculator time (the same calls in both loops, checked) and the loop's
own time. CHGNet's time per call varies by about 10 % between identical runs on a shared
machine, which swamps a 5 % target, so the last line, ``ratio: X`` (target <= 1.05), is
the per-step wall time of driver over bare loop with the calculator at its median call
time in both: (t_calc + t_own,driver) / (t_calc + t_own,bare). The raw median wall-time
ratio and the CPU-time ratio are printed above it. Run as::

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/md_overhead.py [--steps 30] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from ase import units
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

from linmr import config
from linmr.logs import set_threads
from linmr.md import Protocol, ase_engine, registry
from linmr.system import boxes, composition, molecules

ROOT = Path(__file__).resolve().parents[1]


def demo_box(conc_index: int, seed: int):
    cfg = config.load(ROOT / "config" / "config.yaml")
    sp = cfg["species"]
    c = cfg["concentrations"][conc_index]
    m_salt = molecules.molar_mass(f"{sp['cation']['smiles']}.{sp['anion']['smiles']}")
    m_solv = molecules.molar_mass(sp["solvent"]["smiles"])
    comp = composition.composition(c["molarity_mol_L"], c["density_g_cm3"], c["n_salt"], m_salt, m_solv)
    templates = {r: (sp[r]["name"], molecules.from_smiles(sp[r]["smiles"])) for r in ("cation", "anion", "solvent")}
    return boxes.build_box(templates, comp, seed=seed, tolerance=cfg["box"]["tolerance_A"]), cfg


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=30, help="MD steps per timed run")
    p.add_argument("--repeats", type=int, default=3, help="driver/bare pairs")
    p.add_argument("--conc-index", type=int, default=0, help="which concentration of config/config.yaml")
    p.add_argument("--potential", default="chgnet")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    set_threads(args.threads)

    atoms0, cfg = demo_box(args.conc_index, cfg_seed := 7)
    calc = registry.make_calculator(args.potential)
    base = Protocol.from_config(cfg["md"], seed=cfg_seed)
    proto = Protocol(**{**base.__dict__, "min_steps": 0, "heat_steps": 0, "npt_steps": 0,
                           "prod_steps": args.steps})
    print(f"box: {len(atoms0)} atoms, {args.steps} steps per run, stride {proto.stride}, checkpoint every "
          f"{proto.checkpoint_every_steps}, bond check every {proto.bond_check_every_steps}, {args.threads} thread(s)")

    # every calculator call is timed, so each run splits into calculator time and the loop's own time
    clock = {"calls": 0, "s": 0.0}
    calculate = calc.calculate

    def timed_calculate(*a, **k):
        t = time.perf_counter()
        try:
            return calculate(*a, **k)
        finally:
            clock["calls"] += 1
            clock["s"] += time.perf_counter() - t

    calc.calculate = timed_calculate

    def measured(run) -> dict:
        calc.reset()
        clock.update(calls=0, s=0.0)
        t, c = time.perf_counter(), time.process_time()
        run()
        wall = time.perf_counter() - t
        return {"wall": wall, "cpu": time.process_time() - c, "calc": clock["s"], "calls": clock["calls"],
                "own": wall - clock["s"]}

    def bare_run():
        atoms = atoms0.copy()
        atoms.calc = calc
        MaxwellBoltzmannDistribution(atoms, temperature_K=proto.temperature_K, rng=np.random.default_rng(1))
        dyn = Langevin(atoms, proto.timestep_fs * units.fs, temperature_K=proto.temperature_K,
                       friction=proto.friction_per_fs / units.fs, fixcm=False, rng=np.random.default_rng(2))
        atoms.get_forces()
        dyn.run(args.steps)

    def driver_run():
        with tempfile.TemporaryDirectory(prefix="linmr-bench-") as tmp:
            ase_engine.run_protocol(atoms0, calc, Path(tmp) / "prod.extxyz", Path(tmp) / "restart", proto,
                            potential=args.potential, progress=True, log=lambda *a: None)

    measured(bare_run)  # warm-up (first torch call)
    bares, drivers = [], []
    for r in range(args.repeats):
        b, d = measured(bare_run), measured(driver_run)
        bares.append(b)
        drivers.append(d)
        print(f"repeat {r}: bare {b['wall'] / args.steps * 1000:.1f} ms/step ({b['calls']} calculator calls, "
              f"{b['own'] / args.steps * 1000:.2f} ms/step outside them); driver {d['wall'] / args.steps * 1000:.1f} "
              f"ms/step ({d['calls']} calls, {d['own'] / args.steps * 1000:.2f} ms/step outside); "
              f"wall ratio {d['wall'] / b['wall']:.3f}, cpu ratio {d['cpu'] / b['cpu']:.3f}", flush=True)
    if any(d["calls"] != b["calls"] for b, d in zip(bares, drivers)):
        print("the driver made a different number of calculator calls than the bare loop")
    med = statistics.median
    raw = med(d["wall"] / b["wall"] for b, d in zip(bares, drivers))
    calc_step = med([x["calc"] / x["calls"] for x in bares + drivers])  # one calculator call (s)
    own_bare = med(b["own"] for b in bares) / args.steps
    own_driver = med(d["own"] for d in drivers) / args.steps
    print(f"raw wall-time ratio (median of {args.repeats} pairs; CHGNet's own call time varies by about 10 % "
          f"between identical runs on a shared VM, which this ratio inherits): {raw:.3f}")
    print(f"cpu-time ratio (median): {med(d['cpu'] / b['cpu'] for b, d in zip(bares, drivers)):.3f}")
    print(f"per step: calculator {calc_step * 1000:.1f} ms (median over all runs); outside the calculator: "
          f"bare {own_bare * 1000:.2f} ms, driver {own_driver * 1000:.2f} ms (setup included)")
    # wall time per step of each loop at the same calculator cost: the same calls, each at the median call time
    ratio = (calc_step + own_driver) / (calc_step + own_bare)
    print(f"ratio: {ratio:.3f}")


if __name__ == "__main__":
    main()
