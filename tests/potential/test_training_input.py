"""The deepmd-kit ``input.json`` written from the config: the schema's defaults and the precision switch."""
from linmr import config
from linmr.potential.deepmd import training_input

from .conftest import ROOT

SPECIES = ["Li", "C", "H", "O", "N", "S", "F"]


def _input(**overrides):
    s = dict(config.load(ROOT / "config/workstation.yaml")["potential"]["deepmd"], **overrides)
    return training_input(s, SPECIES, ["train/a"], ["valid/a"], seed=7)


def test_precision_reaches_descriptor_and_fitting_net():
    for precision in ("float64", "float32"):
        model = _input(precision=precision)["model"]
        assert model["descriptor"]["precision"] == precision
        assert model["fitting_net"]["precision"] == precision


def test_descriptor_follows_the_config_and_seeds_differ():
    inp = _input(rcut_A=6.0, numb_steps=1000)
    d = inp["model"]["descriptor"]
    assert (d["type"], d["rcut"], d["seed"]) == ("se_e2_a", 6.0, 7)
    assert inp["model"]["fitting_net"]["seed"] != d["seed"] != inp["training"]["seed"]
    assert inp["learning_rate"]["decay_steps"] == 50 and inp["training"]["numb_steps"] == 1000
    assert inp["model"]["type_map"] == SPECIES


def test_energy_weight_reaches_the_loss_and_forces_keep_theirs():
    loss = _input(energy_pref=20.0)["loss"]
    assert (loss["start_pref_e"], loss["limit_pref_e"]) == (0.02, 20.0)
    assert (loss["start_pref_f"], loss["limit_pref_f"]) == (1000.0, 1.0)
    assert _input(energy_pref=1.0)["loss"]["limit_pref_e"] == 1.0
