"""ORCA and Gaussian: input writers, missing executables, failures, a replayed real output."""
import os
import re
import stat

import pytest

from linmr import LinmrError
from linmr.dft import Level, gaussian, get_backend, orca, pyscf_backend
from linmr.dft.reference import li_h2o4
from linmr.dft.runner import run_bundle
from linmr.dft.shifts import collect

from ..conftest import SHARED

needs_fixtures = pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared fixtures not found at {SHARED}")


def anion_cluster():
    """Li(H2O)4 with charge -1 (as if two FSI): charge and multiplicity must reach the input."""
    a = li_h2o4()
    a.info.update(charge=-1, multiplicity=1)
    return a


def fake_program(folder, name, body):
    """A stand-in for ORCA/g16 (not installed here) that replays a given output: tests the runner."""
    folder.mkdir(exist_ok=True)
    p = folder / name
    p.write_text("#!/bin/sh\n" + body + "\n")
    p.chmod(p.stat().st_mode | stat.S_IEXEC)
    return p

LDB = Level(method="PBE", basis={"Li": "6-31G*", "default": "STO-3G"}, density_fit=True, grid_level=3,
            solvent_epsilon=7.2, solvent_refractive_index=1.379)


def test_orca_input_keywords_charge_cores_memory_basis_solvent():
    text = orca.write_input(anion_cluster(), LDB, nproc=4, memory_mb=8000)
    simple = text.splitlines()[0].split()
    assert simple[0] == "!" and {"PBE", "STO-3G", "NMR", "TightSCF", "DefGrid2", "RI", "AutoAux", "CPCM"} <= set(simple)
    assert "RIJCOSX" not in simple  # pure functional: RI-J only
    assert "%pal nprocs 4 end" in text
    assert re.search(r"^%maxcore 1500$", text, re.M)  # 75% of 8000 MB over 4 cores
    assert re.search(r'NewGTO Li "6-31G\*" end', text) and "NewGTO O" not in text
    assert re.search(r"epsilon 7\.2\s+refrac 1\.379", text)
    assert "Nuclei = all Li { shift }" in text
    assert re.search(r"^\*\s*xyz -1 1\s*$", text, re.M)
    atoms = re.findall(r"^(Li|O|H)\s+\S+\s+\S+\s+\S+$", text, re.M)
    assert len(atoms) == 13 and atoms[0] == "Li"
    # a hybrid with density fitting uses RIJCOSX; one core: no %pal block; gas phase: no CPCM
    hyb = orca.write_input(li_h2o4(), Level(method="B3LYP", basis={"default": "6-31G*"}), nproc=1, memory_mb=2000)
    assert "RIJCOSX" in hyb.splitlines()[0] and "%pal" not in hyb and "CPCM" not in hyb and "%basis" not in hyb
    assert "%maxcore 1500" in hyb and re.search(r"^\*\s*xyz 1 1", hyb, re.M)


def test_gaussian_input_link0_route_gen_basis_solvent():
    text = gaussian.write_input(anion_cluster(), LDB, nproc=4, memory_mb=8000)
    lines = text.splitlines()
    assert "%nprocshared=4" in lines and "%mem=8000MB" in lines
    route = " ".join(lines[lines.index(next(l for l in lines if l.startswith("#P"))):lines.index("")])
    assert "PBEPBE/Gen/Auto" in route and "nmr(GIAO)" in route and "scrf(PCM,Solvent=Generic,Read)" in route
    assert "-1 1" in lines
    # sections: route / title / charge+geometry / Gen basis / PCM input, each ended by exactly one blank line
    sections = text.strip("\n").split("\n\n")
    assert sections[3].splitlines() == ["Li 0", "6-31G*", "****", "H O 0", "STO-3G", "****"]
    assert sections[4].splitlines() == ["Eps=7.2", "EpsInf=1.9016"]
    assert len(sections[2].splitlines()) == 14
    plain = gaussian.write_input(li_h2o4(), Level(method="B3LYP", basis={"default": "6-31G*"}), memory_mb=2000)
    assert "B3LYP/6-31G*" in plain and "Gen" not in plain and "scrf" not in plain and "%nprocshared=1" in plain


@pytest.mark.parametrize("backend, exe", [("orca", "orca"), ("gaussian", "g16")])
def test_missing_executable_is_named(backend, exe, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LinmrError, match=f"needs the '{exe}' executable on PATH"):
        get_backend(backend).shielding(li_h2o4(), LDB, [0])


@needs_fixtures
def test_failures_end_in_the_table_and_the_campaign_finishes(tmp_path, monkeypatch):
    """Non-converged SCF (real PySCF), garbage and truncated ORCA outputs -> failures; collect finishes."""
    lvl = Level(method="HF", basis={"default": "STO-3G"}, density_fit=True)
    clusters = []
    for k in range(4):
        a = li_h2o4()[:7]
        a.info.update(charge=1, multiplicity=1, cluster_id=f"2M-{k:04d}", concentration="2M", frame=k, center_index=0)
        clusters.append(a)
    # 1) PySCF: a converging cluster, and one whose SCF gets 1 DIIS cycle and no Newton fallback
    out1 = tmp_path / "bundle_000.csv"
    rows = run_bundle(clusters[:1], pyscf_backend, lvl, out1, progress=False, log=lambda *a: None)
    out2 = tmp_path / "bundle_001.csv"
    bad = run_bundle(clusters[1:2], pyscf_backend, lvl, out2, progress=False, log=lambda *a: None,
                     options={"max_cycle": 1, "newton_cycles": 0})
    assert rows[0]["status"] == "ok" and bad[0]["status"] == "failed"
    assert "SCF did not converge in 1 DIIS + 0 Newton cycles" in bad[0]["reason"]
    # 2) ORCA stand-ins replaying a garbage and a truncated real output
    text = (SHARED / "orca6_dvb_nmr.out").read_text()
    (tmp_path / "trunc.out").write_text(text[: int(len(text) * 0.98)])
    bins = tmp_path / "bin"
    monkeypatch.setenv("PATH", f"{bins}{os.pathsep}{os.environ['PATH']}")
    out3 = tmp_path / "bundle_002.csv"
    fake_program(bins, "orca", "echo 'segmentation fault in orca_scf'; exit 139")
    garbage = run_bundle(clusters[2:3], orca, lvl, out3, progress=False, log=lambda *a: None)
    fake_program(bins, "orca", f"cat {tmp_path / 'trunc.out'}")
    out4 = tmp_path / "bundle_003.csv"
    trunc = run_bundle(clusters[3:4], orca, lvl, out4, progress=False, log=lambda *a: None)
    assert "exit status 139" in garbage[0]["reason"] and "not a Gaussian or ORCA output" in garbage[0]["reason"]
    assert "did not terminate normally" in trunc[0]["reason"]
    # the campaign goes on: collect writes shifts and a failures table with every reason
    ref = {"sigma_ref_ppm": 90.0, "level_of_theory": lvl.label()}
    shifts, failures = collect([out1, out2, out3, out4], ref, max_failed_fraction=0.8)
    assert list(shifts["cluster_id"]) == ["2M-0000"]
    assert list(failures["cluster_id"]) == ["2M-0001", "2M-0002", "2M-0003"]
    assert failures["reason"].str.len().min() > 20
    with pytest.raises(LinmrError, match="3 of 4 DFT clusters failed"):
        collect([out1, out2, out3, out4], ref, max_failed_fraction=0.5)


@needs_fixtures
def test_orca_runner_reads_a_replayed_real_output(tmp_path, monkeypatch):
    """The whole ORCA path (input written, program run, output parsed) with a stand-in replaying ORCA 5."""
    bins = tmp_path / "bin"
    fake_program(bins, "orca", f'test -s "$1" && grep -q "xyz 1 1" "$1" && cat {SHARED / "orca5_dvb_nmr.out"}')
    monkeypatch.setenv("PATH", f"{bins}{os.pathsep}{os.environ['PATH']}")
    res = orca.shielding(li_h2o4(), LDB, [0, 2], max_memory_mb=2000, nproc=2)
    assert res["parser"].startswith("cclib")
    assert res["sigma_iso_ppm"][0] == pytest.approx(114.441, abs=1e-3)
    with pytest.raises(LinmrError, match="no shielding printed for atom"):
        orca.shielding(li_h2o4(), LDB, [25], max_memory_mb=2000)
