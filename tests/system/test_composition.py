"""Composition from molarity and density; concentration labels."""
import pytest
import yaml

from linmr import LinmrError
from linmr.system import composition
from linmr.system.composition import conc_label, label_molarity

from ..conftest import ROOT


def test_masses(masses):
    m_salt, m_solv = masses
    assert m_salt == pytest.approx(187.07, abs=0.05)  # LiFSI
    assert m_solv == pytest.approx(90.12, abs=0.05)  # DME


@pytest.mark.parametrize("entry", yaml.safe_load(open(ROOT / "config/config.yaml"))["concentrations"])
def test_embedded_boxes_reproduce_molarity(entry, masses):
    c = composition.composition(entry["molarity_mol_L"], entry["density_g_cm3"], entry["n_salt"], *masses)
    assert abs(c.molarity_mol_L / entry["molarity_mol_L"] - 1) < 0.03
    # the box volume is the mass at the configured density: density round-trips exactly
    mass_g = (c.n_salt * masses[0] + c.n_solvent * masses[1]) / composition.AVOGADRO
    assert mass_g / (c.volume_A3 * 1e-24) == pytest.approx(entry["density_g_cm3"], rel=1e-9)
    assert 100 <= 10 * c.n_salt + 16 * c.n_solvent <= 200  # laptop-scale boxes


def test_ratio_formula(masses):
    # 1 L of 1 M solution at 1.0 g/cm^3 holds 1000 - 187.07 g of DME
    r = composition.solvent_per_salt(1.0, 1.0, *masses)
    assert r == pytest.approx((1000 - masses[0]) / masses[1])
    c = composition.composition(1.0, 1.0, 10, *masses)
    assert c.molality_mol_kg == pytest.approx(10 / (c.n_solvent * masses[1] / 1000))


def test_impossible_composition_is_refused(masses):
    with pytest.raises(LinmrError, match="weighs more"):
        composition.solvent_per_salt(8.0, 1.0, *masses)
    with pytest.raises(LinmrError):
        composition.composition(-1, 1.0, 1, *masses)


def test_labels():
    assert conc_label(1.0) == "1M"
    assert conc_label(2.5) == "2.5M"
    assert label_molarity("2.5M") == 2.5
    with pytest.raises(ValueError):
        conc_label(0)
