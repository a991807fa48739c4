"""The bundle runner: failed clusters recorded, the bundle finishes."""
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
    # a rerun does not redo finished clusters: nothing is recomputed, the table is the same
    calls = []
    monkeypatch.setattr(pyscf_backend, "shielding", lambda *a, **k: calls.append(1))
    partial = out.with_name(out.name + ".partial")
    table.to_csv(partial, index=False)
    rows2 = run_bundle([good, no_li, wrong_spin], pyscf_backend, lvl, out, progress=False, log=lambda *a: None)
    assert calls == [] and [r["status"] for r in rows2] == ["ok", "failed", "failed"]
    # shifts against the reference; too many failures stop the campaign with a clear error
    ref = {"sigma_ref_ppm": 90.0, "level_of_theory": lvl.label()}
    shifts, failures = collect([out], ref, max_failed_fraction=0.7)
    assert len(shifts) == 1 and len(failures) == 2
    assert shifts["delta_ppm"].iloc[0] == pytest.approx(90.0 - float(rows[0]["sigma_iso_ppm"]))
    with pytest.raises(LinmrError, match="2 of 3 DFT clusters failed"):
        collect([out], ref, max_failed_fraction=0.5)
    with pytest.raises(LinmrError, match="mix levels"):
        collect([out], {"sigma_ref_ppm": 90.0, "level_of_theory": "B3LYP/other"}, max_failed_fraction=0.7)
