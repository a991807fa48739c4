import shutil

import numpy as np
import pandas as pd
import pytest
from ase import Atoms

from linmr import LinmrError
from linmr.dft import Level, get_backend, pyscf_backend
from linmr.dft.reference import li_h2o4
from linmr.dft.runner import run_bundle
from linmr.dft.shifts import collect


def li_h2o2():
    a = li_h2o4()[[0, 1, 2, 3, 4, 5, 6]]
    a.info.update(charge=1, multiplicity=1)
    return a


def test_reference_geometry():
    a = li_h2o4()
    d = a.get_all_distances()
    o = [i for i, s in enumerate(a.get_chemical_symbols()) if s == "O"]
    assert np.allclose(d[0, o], 1.96)
    assert a.info["charge"] == 1 and len(a) == 13
    assert np.sort(d[d > 0])[:8] == pytest.approx([0.96] * 8)


def test_density_fitted_giao_matches_exact_giao():
    a = li_h2o2()
    common = dict(method="PBE", basis={"Li": "6-31G*", "default": "STO-3G"}, density_fit=True, grid_level=1)
    exact = pyscf_backend.shielding(a, Level(giao_density_fit=False, **common), [0])["sigma_iso_ppm"][0]
    fitted = pyscf_backend.shielding(a, Level(giao_density_fit=True, **common), [0])["sigma_iso_ppm"][0]
    assert 80 < exact < 100  # sigma_iso(7Li) of a hydrated Li+ is about 90 ppm
    assert abs(fitted - exact) < 0.01


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("nwchem") is None, reason="nwchem not installed (apt-get install nwchem)")
def test_pyscf_agrees_with_nwchem():
    # B3LYP/6-31G*, no density fitting, fine grids in both codes: the patched RKS GIAO path of PySCF
    a = li_h2o2()
    lvl = Level(method="B3LYP", basis={"default": "6-31G*"}, density_fit=False, giao_density_fit=False, grid_level=4)
    ours = pyscf_backend.shielding(a, lvl, [0])["sigma_iso_ppm"][0]
    theirs = get_backend("nwchem").shielding(a, lvl, [0])["sigma_iso_ppm"][0]
    assert abs(ours - theirs) < 0.05, (ours, theirs)


def test_nwchem_parser_rejects_other_output():
    from linmr.dft import nwchem

    with pytest.raises(LinmrError, match="no 'Chemical Shielding Tensors'"):
        nwchem.parse_output("Entering Gaussian System\n", source="x.log")


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


def test_unknown_backend_is_named():
    with pytest.raises(LinmrError, match="dft.backend"):
        get_backend("turbomole")
