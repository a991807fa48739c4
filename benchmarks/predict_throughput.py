"""Throughput and memory of the prediction stage against DScribe SOAP alone (issue 6).

In one run, on the same frames and Li centres:

1. **throughput**: Li centres per second of :func:`linmr.ml.predict.predict_trajectory` (topology,
   solvation environment, SOAP, ensemble NN, CSV writing) and of a bare DScribe ``SOAP.create``
   (public API) with the bundle's settings on the same frames (all frames in one call, the most
   favourable case for DScribe). Each is timed ``--repeats`` times, alternating, and the best
   time counts. The stage featurises through :meth:`linmr.ml.descriptors.Featurizer.stream`, which
   calls DScribe's C++ extension with DScribe's own arguments but sets it up once per chunk
   instead of once per frame (bit-identical output); its rate alone is printed too.
2. **memory**: peak resident memory (``ru_maxrss``) of a fresh process that streams 10^4 and
   10^5 frames (the trajectory repeated) through the prediction stage into a CSV file; the
   growth from 10^4 to 10^5 frames must stay below 10 %.

Both wall-clock and process CPU time are reported (everything runs in one thread); the last line
is ``ratio: X`` = (prediction Li/s) / (SOAP Li/s) by CPU time, which on a shared machine does not
count the neighbours' load (on an idle machine the two agree). The target is X >= 0.8.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/predict_throughput.py \
        [--trajectory results/md/4M/production.extxyz] [--bundle results/model/bundle]

Without a trajectory a 4 M box is packed (packmol) and rattled into frames; without a bundle
a small ensemble is trained on the SOAP of those frames (synthetic targets): throughput does
not depend on what the weights are.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

NAMES = {"cation": "Li", "anion": "FSI", "solvent": "DME"}
ROOT = Path(__file__).resolve().parents[1]


def load_frames(path: str | None, n: int = 50):
    from ase.io import read

    if path and Path(path).exists():
        return read(path, index=":", format="extxyz")
    from linmr.system import boxes, composition, molecules

    templates = {
        "cation": ("Li", molecules.from_smiles("[Li+]")),
        "anion": ("FSI", molecules.from_smiles("FS(=O)(=O)[N-]S(F)(=O)=O")),
        "solvent": ("DME", molecules.from_smiles("COCCOC")),
    }
    masses = molecules.molar_mass("[Li+].FS(=O)(=O)[N-]S(F)(=O)=O"), molecules.molar_mass("COCCOC")
    box = boxes.build_box(templates, composition.composition(4.0, 1.311, 4, *masses), seed=3)
    rng = np.random.default_rng(0)
    frames = []
    for k in range(n):
        f = box.copy()
        f.positions += rng.normal(scale=0.05, size=f.positions.shape)
        f.info["time_ps"] = 0.01 * k
        frames.append(f)
    return frames


def load_bundle(path: str | None, frames):
    from linmr.ml import descriptors, model

    if path and Path(path).exists():
        return model.Bundle.load(path)
    s = descriptors.SoapSettings(r_cut=4.5, n_max=3, l_max=2, sigma=0.4)
    feat = descriptors.Featurizer(s)
    centers = [[i for i, e in enumerate(f.get_chemical_symbols()) if e == "Li"] for f in frames]
    x = feat.many(frames, centers)
    y = x[:, :5].sum(axis=1).astype(float)
    groups = np.repeat(np.arange(len(frames)), [len(c) for c in centers])
    tr, va, _ = model.grouped_split(groups)
    ms = model.ModelSettings(hidden=(64, 32), ensemble=4, max_epochs=20)
    return model.train(x, y, tr, va, ms, s.as_dict(), progress=False, log=lambda *a: None)


def li_centres(frames):
    return [[i for i, (e, m) in enumerate(zip(f.get_chemical_symbols(), f.arrays["mol_name"])) if e == "Li" and m == "Li"] for f in frames]


def throughput(bundle, frames, repeats: int) -> tuple[float, float, int]:
    from dscribe.descriptors import SOAP

    from linmr.ml.descriptors import SoapSettings
    from linmr.ml.predict import predict_trajectory

    s = SoapSettings.from_dict(bundle.featurizer)
    soap = SOAP(species=list(s.species), r_cut=s.r_cut, n_max=s.n_max, l_max=s.l_max, sigma=s.sigma,
                periodic=True, compression=dict(s.compression), sparse=False, dtype="float32")
    centres = li_centres(frames)
    n_li = sum(len(c) for c in centres)
    out = Path(tempfile.mkdtemp()) / "pred.csv"

    def run_soap():
        soap.create(frames, centers=centres, n_jobs=1)

    from linmr.ml.descriptors import Featurizer

    feat = Featurizer(s)
    centres_np = [np.asarray(c) for c in centres]

    def run_lean():  # the prediction stage's own SOAP path (DScribe's extension, set up once)
        feat.stream(frames, centres_np)

    def run_pred():
        predict_trajectory(bundle, iter(frames), "bench", NAMES, out_csv=out, progress=False)

    run_soap(), run_lean(), run_pred()  # warm up (imports, first allocations)
    wall = {"soap": [], "lean": [], "pred": []}
    cpu = {"soap": [], "lean": [], "pred": []}
    for _ in range(repeats):
        for name, fn in (("soap", run_soap), ("lean", run_lean), ("pred", run_pred)):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    return {k: {m: n_li / min(v[m]) for m in v} for k, v in (("wall", wall), ("cpu", cpu))}, n_li


def memory_child(trajectory: str, bundle: str, n_frames: int) -> None:
    """Stream ``n_frames`` (the trajectory repeated) through the prediction stage; print JSON."""
    from ase.io import read

    from linmr.ml.model import Bundle
    from linmr.ml.predict import predict_trajectory

    frames = read(trajectory, index=":", format="extxyz")
    b = Bundle.load(bundle)

    def stream():
        for k in range(n_frames):
            yield frames[k % len(frames)]

    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        predict_trajectory(b, stream(), "bench", NAMES, out_csv=Path(d) / "pred.csv", progress=False)
        wall = time.perf_counter() - t0
        size = (Path(d) / "pred.csv").stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(json.dumps({"frames": n_frames, "peak_MiB": peak, "wall_s": wall, "csv_MiB": size / 2**20}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trajectory", default="results/md/4M/production.extxyz")
    p.add_argument("--bundle", default="results/model/bundle")
    p.add_argument("--frames", type=int, default=400, help="frames for the throughput comparison")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--memory-frames", type=int, nargs="*", default=[10_000, 100_000])
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        memory_child(args.trajectory, args.bundle, args.child)
        return

    base = load_frames(args.trajectory)
    bundle = load_bundle(args.bundle, base)
    with tempfile.TemporaryDirectory() as tmp:
        traj, bdir = args.trajectory, args.bundle
        if not Path(traj).exists():
            from ase.io import write

            traj = str(Path(tmp) / "frames.extxyz")
            write(traj, base, format="extxyz")
        if not Path(bdir).exists():
            bdir = str(Path(tmp) / "bundle")
            bundle.save(bdir)
        print(f"trajectory {args.trajectory if traj == args.trajectory else 'packed 4 M box, rattled'}: "
              f"{len(base)} frames, {len(base[0])} atoms, {len(li_centres(base[:1])[0])} Li per frame")
        frames = [base[k % len(base)] for k in range(args.frames)]
        rates, n_li = throughput(bundle, frames, args.repeats)
        print(f"throughput on {len(frames)} frames ({n_li} Li centres), best of {args.repeats}, single thread:")
        for clock in ("wall", "cpu"):
            r = rates[clock]
            print(f"  {clock:4s} clock: prediction stage {r['pred']:8.0f} Li/s, DScribe SOAP {r['soap']:8.0f} Li/s, "
                  f"ratio {r['pred'] / r['soap']:.2f} (stage's own SOAP path alone {r['lean']:8.0f} Li/s)")
        peaks = {}
        for n in args.memory_frames:
            r = subprocess.run(
                [sys.executable, __file__, "--trajectory", traj, "--bundle", bdir, "--child", str(n)],
                capture_output=True, text=True, check=True, cwd=ROOT,
            )
            m = json.loads(r.stdout.strip().splitlines()[-1])
            peaks[n] = m["peak_MiB"]
            print(f"  peak memory, {n:>7d} frames: {m['peak_MiB']:8.1f} MiB "
                  f"({m['wall_s']:.1f} s, {n * len(li_centres(base[:1])[0]) / m['wall_s']:.0f} Li/s, CSV {m['csv_MiB']:.1f} MiB)")
        if len(peaks) >= 2:
            lo, hi = min(peaks), max(peaks)
            growth = (peaks[hi] - peaks[lo]) / peaks[lo]
            print(f"memory growth {lo} -> {hi} frames: {100 * growth:+.1f} % (target <= 10 %)")
    # CPU time of this process: on a shared machine wall time also measures the neighbours' load
    print(f"ratio: {rates['cpu']['pred'] / rates['cpu']['soap']:.2f}")


if __name__ == "__main__":
    main()
