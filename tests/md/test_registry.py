"""The MLIP registry: missing packages and model files that do not load are named."""
import sys
from pathlib import Path

import pytest

from linmr import LinmrError
from linmr.md import registry


class _Payload:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (Path.touch, (Path(self.target),))


def test_missing_mlip_package_is_named(monkeypatch):
    from linmr.md import registry

    monkeypatch.setitem(sys.modules, "sevenn.calculator", None)  # import fails as if not installed
    with pytest.raises(LinmrError, match="md.potential 'sevennet' needs the package sevenn"):
        registry.make_calculator("sevennet")
    with pytest.raises(LinmrError, match="unknown MLIP 'nequip2'.*sevennet"):
        registry.make_calculator("nequip2")


# MLIP model files
def test_mlip_file_that_does_not_load(tmp_path):
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"this is not a torch file" * 10)
    with pytest.raises(LinmrError, match=r"model\.pt: not a loadable CHGNet model file"):
        registry.load_chgnet(bad)
    with pytest.raises(LinmrError, match=r"model\.pt: not a loadable CHGNet model file"):
        registry.make_calculator("chgnet", model_path=bad)
    with pytest.raises(LinmrError, match=r"missing\.pt.*does not exist"):
        registry.make_calculator("chgnet", model_path=tmp_path / "missing.pt")


def test_mlip_tensor_file_of_the_wrong_kind(tmp_path):
    import torch

    p = tmp_path / "weights_only.pt"
    torch.save({"w": torch.zeros(3)}, p)
    with pytest.raises(LinmrError, match=r"weights_only\.pt: not a CHGNet model"):
        registry.load_chgnet(p)


def test_mlip_file_with_pickled_code_is_not_executed(tmp_path):
    import torch

    flag = tmp_path / "pwned"
    p = tmp_path / "evil.pt"
    torch.save({"model": _Payload(str(flag))}, p)
    with pytest.raises(LinmrError, match=r"evil\.pt.*weights_only=True"):
        registry.load_chgnet(p)
    with pytest.raises(LinmrError):
        registry.make_calculator("chgnet", model_path=p)
    assert not flag.exists()


@pytest.mark.slow
def test_real_chgnet_file_round_trip(tmp_path):
    from chgnet.model import CHGNet

    p = tmp_path / "chgnet.pth.tar"
    import torch

    torch.save({"model": CHGNet.load(verbose=False).as_dict()}, p)  # the layout chgnet's Trainer.save writes
    model = registry.load_chgnet(p)
    assert sum(t.numel() for t in model.state_dict().values()) > 100_000


def test_mace_without_package_or_file(tmp_path):
    f = tmp_path / "mace.model"
    f.write_bytes(b"\0" * 64)
    with pytest.raises(LinmrError, match=r"mace"):
        registry.make_calculator("mace", model_path=f)
