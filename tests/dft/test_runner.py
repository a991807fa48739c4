"""The bundle runner: failed clusters recorded, the bundle finishes."""
import numpy as np
import pandas as pd
import pytest
from ase import Atoms

from linmr import LinmrError
from linmr.dft import Level, pyscf_backend
from linmr.dft.reference import li_h2o4
from linmr.dft.runner import run_bundle
from linmr.dft.shifts import collect


def li_h2o2():
    a = li_h2o4()[[0, 1, 2, 3, 4, 5, 6]]
    a.info.update(charge=1, multiplicity=1)
    return a


def test_failed_clusters_are_recorded_and_the_bundle_finishes(tmp_path, monkeypatch):
    good = li_h2o2()
    no_li = Atoms("OH2", positions=[[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
    no_li.info.update(charge=0, multiplicity=1)
    wrong_spin = li_h2o2()
    wrong_spin.info.update(charge=0)  # odd electron count with multiplicity 1: PySCF refuses
    for k, a in enumerate([good, no_li, wrong_spin]):
        a.info.update(cluster_id=f"1M-{k:04d}", concentration="1M", frame=k, center_index=0)
    lvl = Level(method="HF", basis={"default": "STO-3G"}, density_fit=True)
    out = tmp_path / "bundle.csv"
    rows = run_bundle([good, no_li, wrong_spin], pyscf_backend, lvl, out, progress=False, log=lambda *a: None)
    assert [r["status"] for r in rows] == ["ok", "failed", "failed"]
    assert "not the central Li" in rows[1]["reason"]
    table = pd.read_csv(out)
    assert len(table) == 3
    assert not out.with_name(out.name + ".partial").exists()
    # shifts against the reference; too many failures stop the campaign with a clear error
    ref = {"sigma_ref_ppm": 90.0, "level_of_theory": lvl.label()}
    shifts, failures = collect([out], ref, max_failed_fraction=0.7)
    assert len(shifts) == 1 and len(failures) == 2
    assert shifts["delta_ppm"].iloc[0] == pytest.approx(90.0 - float(rows[0]["sigma_iso_ppm"]))
    with pytest.raises(LinmrError, match="2 of 3 DFT clusters failed"):
        collect([out], ref, max_failed_fraction=0.5)
    with pytest.raises(LinmrError, match="mix levels"):
        collect([out], {"sigma_ref_ppm": 90.0, "level_of_theory": "B3LYP/other"}, max_failed_fraction=0.7)


class _Backend:
    """A stand-in DFT program: sigma = 100 + x of the central atom; dies (like a killed job) on request."""

    def __init__(self, die_after=None):
        self.calls, self.die_after = [], die_after

    def program_version(self):
        return "fake 1.0"

    def shielding(self, atoms, level, indices, **kw):
        if self.die_after is not None and len(self.calls) == self.die_after:
            raise KeyboardInterrupt("killed")
        self.calls.append(atoms.info["cluster_id"])
        return {"sigma_iso_ppm": [100.0 + atoms.positions[1, 0]]}


def _clusters(shift=0.0):
    out = []
    for k in range(3):
        a = li_h2o2()
        a.positions[1:] += shift
        a.info.update(cluster_id=f"1M-{k:04d}", concentration="1M", frame=k, center_index=0)
        out.append(a)
    return out


def test_resume_is_keyed_by_inputs_not_by_cluster_id(tmp_path):
    """A killed bundle resumes its finished clusters; rows of clusters re-cut since (same id, other atoms)
    and a torn last row are recomputed, never kept."""
    lvl = Level(method="HF", basis={"default": "STO-3G"}, density_fit=True)
    out = tmp_path / "bundle.csv"
    partial = out.with_name(out.name + ".partial")
    quiet = dict(progress=False, log=lambda *a: None)
    with pytest.raises(KeyboardInterrupt):
        run_bundle(_clusters(), _Backend(die_after=2), lvl, out, **quiet)
    assert len(pd.read_csv(partial)) == 2 and not out.exists()
    # same inputs: the two finished clusters are kept, only the third runs
    be = _Backend(die_after=None)
    with pytest.raises(KeyboardInterrupt):  # killed again before the third finishes
        run_bundle(_clusters(), _Backend(die_after=0), lvl, out, **quiet)
    rows = run_bundle(_clusters(), be, lvl, out, **quiet)
    assert be.calls == ["1M-0002"] and [r["status"] for r in rows] == ["ok"] * 3
    # clusters re-cut after new MD (same ids, atoms moved by 1 A) meet an old partial: all recomputed
    first = pd.read_csv(out)
    with pytest.raises(KeyboardInterrupt):
        run_bundle(_clusters(), _Backend(die_after=2), lvl, tmp_path / "b2.csv", **quiet)
    logs = []
    be = _Backend()
    rows = run_bundle(_clusters(shift=1.0), be, lvl, tmp_path / "b2.csv", progress=False, log=logs.append)
    assert be.calls == ["1M-0000", "1M-0001", "1M-0002"]
    assert [float(r["sigma_iso_ppm"]) for r in rows] == pytest.approx(first["sigma_iso_ppm"] + 1.0)
    assert any("discarded 2 row(s) computed for other inputs" in line for line in logs)
    # another level of theory is another input too
    with pytest.raises(KeyboardInterrupt):
        run_bundle(_clusters(), _Backend(die_after=1), lvl, tmp_path / "b3.csv", **quiet)
    be = _Backend()
    run_bundle(_clusters(), be, Level(method="PBE", basis={"default": "STO-3G"}, density_fit=True),
               tmp_path / "b3.csv", **quiet)
    assert len(be.calls) == 3
    # a torn last row (killed mid-write) is recomputed, the intact rows kept
    with pytest.raises(KeyboardInterrupt):
        run_bundle(_clusters(), _Backend(die_after=2), lvl, tmp_path / "b4.csv", **quiet)
    p4 = tmp_path / "b4.csv.partial"
    lines = p4.read_text().splitlines(keepends=True)
    p4.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 3])  # the second row cut mid-write
    logs, be = [], _Backend()
    rows = run_bundle(_clusters(), be, lvl, tmp_path / "b4.csv", progress=False, log=logs.append)
    assert be.calls == ["1M-0001", "1M-0002"] and [r["status"] for r in rows] == ["ok"] * 3
    assert any("incomplete or unreadable" in line for line in logs)
    assert list(pd.read_csv(tmp_path / "b4.csv").columns) == list(first.columns)  # no hash in the result


def test_cluster_charge_and_spin_are_checked_before_any_input(tmp_path):
    """A cluster whose charge disagrees with its molecules, or whose multiplicity its electron count cannot
    have, is recorded as failed without reaching the DFT program."""
    from linmr.dft.runner import check_cluster_state

    good = li_h2o2()
    good.set_array("mol_id", np.array([0, 1, 1, 1, 2, 2, 2]))
    good.set_array("mol_name", np.array(["Li", "W", "W", "W", "W", "W", "W"]))
    charges = {"Li": 1, "W": 0}
    check_cluster_state(good, charges)
    bad_charge = good.copy()
    bad_charge.info.update(charge=-1, multiplicity=2)
    with pytest.raises(LinmrError, match="charge -1 e, but its molecules .3. sum to 1 e"):
        check_cluster_state(bad_charge, charges)
    bad_spin = good.copy()
    bad_spin.info.update(multiplicity=2)  # 12 electrons cannot be a doublet
    with pytest.raises(LinmrError, match="do not fit"):
        check_cluster_state(bad_spin, charges)
    clusters = [good, bad_charge, bad_spin]
    for k, a in enumerate(clusters):
        a.info.update(cluster_id=f"1M-{k:04d}", concentration="1M", frame=k, center_index=0)
    be = _Backend()
    lvl = Level(method="HF", basis={"default": "STO-3G"}, density_fit=True)
    rows = run_bundle(clusters, be, lvl, tmp_path / "b.csv", progress=False, log=lambda *a: None, charges=charges)
    assert [r["status"] for r in rows] == ["ok", "failed", "failed"] and be.calls == ["1M-0000"]
