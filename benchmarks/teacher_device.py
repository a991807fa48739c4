"""An MLIP teacher (or explorer) on CPU against the same model on a GPU, through the campaign's own code paths.

    python benchmarks/teacher_device.py BOX.extxyz [BOX2.extxyz ...] [--teacher sevennet] [--devices cpu cuda]
                                        [--frames 4] [--md-steps 20] [--threads N]

For each box: ``linmr.potential.teachers.label`` labels ``--frames`` copies of the box (atoms displaced by up
to 0.05 Å, fixed seed) on every device (the labelling step of the potential stage), and ``--md-steps`` of ASE
Langevin MD at 300 K run on a calculator from ``linmr.md.registry.make_calculator`` (the teacher's exploration
MD of round 0), after one warm-up force call. Prints per box and device: seconds per labelled frame, ms per MD
step and µs per atom-step; and, against the first device, the largest energy difference (meV/atom), force
difference (eV/Å) and stress difference (GPa) on the same frames. The last line is ``speedup: X``, the MD step
time of the first device over that of the last, on the largest box. A device torch cannot see is skipped with a
line saying so. The paper's config sends the teacher to GPU nodes; this is how that route is checked.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def perturbed(atoms, n: int, seed: int = 0, amplitude: float = 0.05):
    import numpy as np

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        a = atoms.copy()
        a.positions += rng.uniform(-amplitude, amplitude, a.positions.shape)
        out.append(a)
    return out


def md_ms_per_step(atoms, calc, steps: int, seed: int = 0) -> float:
    import numpy as np
    from ase import units
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

    a = atoms.copy()
    a.calc = calc
    MaxwellBoltzmannDistribution(a, temperature_K=300, rng=np.random.default_rng(seed))
    a.get_forces()  # warm-up: graph building, kernel compilation
    dyn = Langevin(a, 0.5 * units.fs, temperature_K=300, friction=0.01 / units.fs,
                   rng=np.random.default_rng(seed))
    t0 = time.perf_counter()
    dyn.run(steps)
    return 1e3 * (time.perf_counter() - t0) / max(steps, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("boxes", type=Path, nargs="+")
    ap.add_argument("--teacher", default="sevennet")
    ap.add_argument("--devices", nargs="+", default=["cpu", "cuda"])
    ap.add_argument("--frames", type=int, default=4)
    ap.add_argument("--md-steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = ap.parse_args()

    import numpy as np
    import torch
    from ase.io import read

    from linmr.md import registry
    from linmr.potential import teachers

    if args.threads:
        torch.set_num_threads(args.threads)
    devices = []
    for d in args.devices:
        if d.startswith("cuda") and not torch.cuda.is_available():
            print(f"device {d}: torch {torch.__version__} sees no GPU, skipped")
            continue
        devices.append(d)
    if not devices:
        sys.exit("no usable device")
    if "cuda" in devices:
        print(f"GPU: {torch.cuda.get_device_name(0)}; torch {torch.__version__}")
    print(f"teacher {args.teacher} ({registry.version(args.teacher)}); torch CPU threads {torch.get_num_threads()}")
    potential = {"teacher": args.teacher, "teacher_model_path": None}
    md_ms, n_atoms = {}, {}
    for box in args.boxes:
        atoms = read(box)
        n_atoms[box] = len(atoms)
        frames = perturbed(atoms, args.frames)
        labels = {}
        for dev in devices:
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                out, rows = teachers.label(frames, potential, tmp, device=dev)
                wall = time.perf_counter() - t0
            failed = [r for r in rows if r["status"] != "ok"]
            if failed:
                sys.exit(f"{box} on {dev}: {len(failed)} frames failed: {failed[0]['reason']}")
            labels[dev] = out
            ms = md_ms_per_step(atoms, registry.make_calculator(args.teacher, device=dev), args.md_steps)
            md_ms[(box, dev)] = ms
            print(f"{box.name} ({len(atoms)} atoms) {dev}: label {wall / len(frames):.2f} s/frame (first call "
                  f"included); MD {ms:.1f} ms/step, {1e3 * ms / len(atoms):.1f} us/atom-step")
        ref = labels[devices[0]]
        for dev in devices[1:]:
            de = max(abs(a.get_potential_energy() - b.get_potential_energy()) / len(a) for a, b in zip(ref, labels[dev]))
            df = max(float(np.abs(a.get_forces() - b.get_forces()).max()) for a, b in zip(ref, labels[dev]))
            ds = max(float(np.abs(a.get_stress() - b.get_stress()).max()) for a, b in zip(ref, labels[dev])) * 160.21766
            print(f"{box.name} {dev} vs {devices[0]}: max |dE| {1e3 * de:.4f} meV/atom, max |dF| {df:.2e} eV/A, "
                  f"max |dstress| {ds:.2e} GPa over {len(frames)} frames")
    largest = max(args.boxes, key=n_atoms.get)
    print(f"speedup: {md_ms[(largest, devices[0])] / md_ms[(largest, devices[-1])]:.1f}")


if __name__ == "__main__":
    main()
