"""Per-step wall time of the project's MD driver against a bare ASE Langevin loop.

Same calculator, same box (the demo's 1 M box by default), same number of steps, in
one process. The driver is :func:`linmr.md.run_protocol` with minimisation, heating
and NPT switched off, so it runs only production: bond checks, frame writes,
checkpoints and progress updates at the configured strides, plus its setup (bond
topology, checkpoint at step 0, final copy). The bare loop is
``Langevin(...).run(steps)``. The two alternate ``--repeats`` times so that load from
other processes hits both alike; the ratio is the median of the per-repeat wall-time
ratios. On a shared machine wall time is noisy, so the process CPU time ratio (one
thread: the work actually done) is printed too. The last line is ``ratio: X`` (wall
time, target <= 1.05). Run as::

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/md_overhead.py [--steps 30] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from ase import units
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

from linmr import boxes, composition, md, molecules
from linmr.logs import set_threads

ROOT = Path(__file__).resolve().parents[1]


def demo_box(conc_index: int, seed: int):
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
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
    calc = md.make_calculator(args.potential)
    base = md.Protocol.from_config(cfg["md"], seed=cfg_seed)
    proto = md.Protocol(**{**base.__dict__, "min_steps": 0, "heat_steps": 0, "npt_steps": 0,
                           "prod_steps": args.steps})
    print(f"box: {len(atoms0)} atoms, {args.steps} steps per run, stride {proto.stride}, checkpoint every "
          f"{proto.checkpoint_every_steps}, bond check every {proto.bond_check_every_steps}, {args.threads} thread(s)")

    def bare() -> float:
        atoms = atoms0.copy()
        atoms.calc = calc
        calc.reset()
        MaxwellBoltzmannDistribution(atoms, temperature_K=proto.temperature_K, rng=np.random.default_rng(1))
        dyn = Langevin(atoms, proto.timestep_fs * units.fs, temperature_K=proto.temperature_K,
                       friction=proto.friction_per_fs / units.fs, fixcm=False, rng=np.random.default_rng(2))
        t, c = time.perf_counter(), time.process_time()
        atoms.get_forces()
        dyn.run(args.steps)
        return time.perf_counter() - t, time.process_time() - c

    def driver() -> float:
        calc.reset()
        with tempfile.TemporaryDirectory(prefix="linmr-bench-") as tmp:
            t, c = time.perf_counter(), time.process_time()
            md.run_protocol(atoms0, calc, Path(tmp) / "prod.extxyz", Path(tmp) / "restart", proto,
                            potential=args.potential, progress=True, log=lambda *a: None)
            return time.perf_counter() - t, time.process_time() - c

    bare()  # warm-up (first torch call)
    ratios, cpu_ratios = [], []
    for r in range(args.repeats):
        (tb, cb), (td, cd) = bare(), driver()
        ratios.append(td / tb)
        cpu_ratios.append(cd / cb)
        print(f"repeat {r}: wall bare {tb / args.steps * 1000:.1f} ms/step, driver {td / args.steps * 1000:.1f} ms/step, "
              f"ratio {td / tb:.3f}; cpu ratio {cd / cb:.3f}", flush=True)
    print(f"cpu-time ratio (median): {statistics.median(cpu_ratios):.3f}")
    print(f"ratio: {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
