"""Speed of the trained DeePMD student in LAMMPS against its teacher (CHGNet in ASE) on the same box, in one run.

    python benchmarks/student_speed.py [--model results/potential/round_K/model_0.pb] [--box BOX.extxyz]
                                       [--teacher-steps 10] [--student-steps 2000] [--threads 1]

The teacher runs ``--teacher-steps`` of ASE Langevin MD (one force call per step) after a warm-up call; the
student runs ``--student-steps`` of LAMMPS NVT with ``pair_style deepmd`` (the production engine), timed from
LAMMPS's own loop time so start-up is not counted. Both use ``--threads`` threads. Prints ms per step and µs per
atom-step of each; the last line is ``ratio: X``, the per atom-step speed-up of the student (target >= 100).
Defaults: the newest ``results/potential/round_*/model_0.pb`` and the largest ``results/potential/boxes/*.extxyz``.
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def newest(pattern: str) -> Path:
    found = sorted(ROOT.glob(pattern), key=lambda p: int(re.search(r"round_(\d+)", str(p)).group(1)))
    if not found:
        sys.exit(f"no {pattern}: run the campaign's potential stage first, or pass --model")
    return found[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path)
    ap.add_argument("--box", type=Path)
    ap.add_argument("--teacher-steps", type=int, default=10)
    ap.add_argument("--student-steps", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    from ase import units
    from ase.io import read
    from ase.md.langevin import Langevin

    from linmr.logs import set_threads
    from linmr.md import lammps, registry

    set_threads(args.threads)
    model = args.model or newest("results/potential/round_*/model_0.pb")
    box_path = args.box or max(ROOT.glob("results/potential/boxes/*.extxyz"), key=lambda p: len(read(p)), default=None)
    if box_path is None:
        sys.exit("no box: pass --box")
    atoms = read(box_path)
    n = len(atoms)
    print(f"box {box_path} ({n} atoms), student {model}, {args.threads} thread(s)")

    a = atoms.copy()
    a.calc = registry.make_calculator("chgnet")
    a.get_forces()  # warm-up: model load and graph set-up are not counted
    dyn = Langevin(a, 1.0 * units.fs, temperature_K=300, friction=0.02 / units.fs)
    t0 = time.perf_counter()
    dyn.run(args.teacher_steps)
    teacher_s = (time.perf_counter() - t0) / args.teacher_steps
    print(f"teacher chgnet (ASE): {1e3 * teacher_s:.1f} ms/step, {1e6 * teacher_s / n:.1f} us/atom-step")

    import os

    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    os.environ["DP_INTRA_OP_PARALLELISM_THREADS"] = str(args.threads)
    os.environ["DP_INTER_OP_PARALLELISM_THREADS"] = "1"
    with tempfile.TemporaryDirectory(prefix="linmr-student-") as tmp:
        lammps.explore(atoms, [str(model)], tmp, steps=args.student_steps, stride=args.student_steps,
                       temperature_K=300.0, timestep_fs=1.0, friction_per_fs=0.02, seed=1, log=lambda *x: None)
        text = (Path(tmp) / "log.lammps").read_text()
    loop = float(re.findall(r"Loop time of (\S+) on", text)[-1])
    student_s = loop / args.student_steps
    print(f"student deepmd (LAMMPS): {1e3 * student_s:.2f} ms/step, {1e6 * student_s / n:.2f} us/atom-step "
          f"(LAMMPS loop time {loop:.1f} s for {args.student_steps} steps)")
    print(f"ratio: {teacher_s / student_s:.0f}")


if __name__ == "__main__":
    main()
