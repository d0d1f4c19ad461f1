import numpy as np
import pytest
import torch

import siamlab
from siamlab.device import amp_autocast, get_device, seed_everything


def test_automatic_choice_is_an_available_device(monkeypatch):
    monkeypatch.delenv("SIAMLAB_DEVICE", raising=False)
    device = get_device()
    expected = "cuda" if torch.cuda.is_available() else None
    assert device.type in ("cuda", "mps", "cpu")
    if expected:
        assert device.type == expected


def test_cpu_can_always_be_chosen():
    assert get_device("cpu") == torch.device("cpu")


def test_environment_variable_overrides_the_automatic_choice(monkeypatch):
    monkeypatch.setenv("SIAMLAB_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_cuda_raises_a_clear_error():
    with pytest.raises(ValueError, match="cuda is not available"):
        get_device("cuda")


def test_unknown_device_name_is_rejected():
    with pytest.raises(ValueError, match="device must be one of"):
        get_device("tpu")


def test_seeding_repeats_every_generator():
    def draw():
        return (np.random.rand(), torch.rand(1).item(), __import__("random").random())

    seed_everything(3)
    first = draw()
    seed_everything(3)
    assert draw() == first


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_bad_seeds_are_rejected(seed):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(seed)


def test_amp_is_a_no_op_on_the_cpu():
    with amp_autocast(torch.device("cpu")):
        out = torch.ones(2, 2) @ torch.ones(2, 2)
    assert out.dtype == torch.float32


def test_submodules_are_imported_on_first_use():
    assert siamlab.boxes.iou([0, 0, 1, 1], [0, 0, 1, 1]) == 1.0
    with pytest.raises(AttributeError):
        siamlab.no_such_module  # noqa: B018


def test_show_source_returns_the_code_of_a_function():
    shown = siamlab.show_source(siamlab.boxes.iou)
    text = getattr(shown, "data", shown)
    assert "def iou(" in text
    with pytest.raises(ValueError, match="obj"):
        siamlab.show_source(3)
