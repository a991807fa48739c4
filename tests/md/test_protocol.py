"""The protocol settings from the config."""

import pytest

from linmr import LinmrError

from .conftest import ROOT


def test_protocol_from_config_and_schema_checks():
    from linmr.config import check_config, load
    from linmr.md import Protocol

    cfg = load(ROOT / "config" / "config.yaml")
    p = Protocol.from_config(cfg["md"], seed=cfg["seed"])
    assert (p.heat_steps, p.npt_steps, p.prod_steps) == (15, 25, 200)  # demo cost as before: 40 equil + 200 prod
    assert p.bond_break_factor == cfg["md"]["bond_check"]["break_factor"] and p.seed == cfg["seed"]
    cfg["md"]["checkpoint_every_steps"] = 15
    with pytest.raises(LinmrError, match="md.checkpoint_every_steps"):
        check_config(cfg)
