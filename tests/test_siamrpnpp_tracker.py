"""The SiamRPN++ tracker: chapter 4's loop on the new network, the releases' settings,
training through `train_siamrpn` and `siamlab train siamrpnpp`."""

import numpy as np
import pytest
import torch

from siamlab.cli import main
from siamlab.datasets.synth import synth_train
from siamlab.models.siamrpn import SiamRPNNet, build_rpn_network, train_siamrpn
from siamlab.models.siamrpnpp import (
    SiamRPNPPConfig,
    SiamRPNPPNet,
    config_dict,
    load_siamrpnpp,
)
from siamlab.trackers.registry import make_tracker
from siamlab.trackers.siamrpn import SiamRPNParams
from siamlab.trackers.siamrpnpp import SiamRPNPPTracker
from siamlab.train import save_checkpoint


@pytest.fixture(scope="module")
def tiny_net():
    torch.manual_seed(0)
    return SiamRPNPPNet(SiamRPNPPConfig.tiny()).eval()


@pytest.fixture(scope="module")
def sequence():
    return synth_train(1)[0]


def test_tracks_with_the_r50_release_settings_by_default(tiny_net, sequence):
    tracker = SiamRPNPPTracker(tiny_net)
    assert tracker.params == SiamRPNParams.siamrpnpp_r50()
    assert tracker.name == "SiamRPN++"
    tracker.init(sequence.frame(0), sequence.boxes[0])
    boxes = np.array([tracker.update(sequence.frame(i)).box for i in range(1, 4)])
    assert boxes.shape == (3, 4) and np.isfinite(boxes).all()
    step = tracker.step(sequence.frame(4))
    assert step.scores.shape == (5 * 25 * 25,)  # 5 anchors on the 25×25 map
    assert 0 <= step.score <= 1


def test_a_release_brings_its_settings(sequence):
    torch.manual_seed(0)
    net = SiamRPNPPNet(SiamRPNPPConfig.alex()).eval()
    net.release = "alex_dwxcorr"
    tracker = SiamRPNPPTracker(net)
    assert tracker.params.search_size == 287 and tracker.params.penalty_k == 0.16
    tracker.init(sequence.frame(0), sequence.boxes[0])
    step = tracker.step(sequence.frame(1))
    assert step.score_size == 21 and step.crop.shape == (287, 287, 3)


def test_with_params_keeps_the_class(tiny_net):
    changed = SiamRPNPPTracker(tiny_net).with_params(window_influence=0.1)
    assert isinstance(changed, SiamRPNPPTracker)
    assert changed.params.window_influence == 0.1 and changed.model is tiny_net


def test_bad_arguments(tiny_net, tmp_path):
    with pytest.raises(ValueError, match="SiamRPNPPNet"):
        SiamRPNPPTracker(SiamRPNNet())
    with pytest.raises(ValueError, match="either model or weights"):
        SiamRPNPPTracker(tiny_net, weights=tmp_path / "x.pt")
    with pytest.raises(FileNotFoundError):
        SiamRPNPPTracker(weights=tmp_path / "missing.pt")


def test_registry_loads_a_checkpoint(tiny_net, tmp_path):
    path = tmp_path / "pp.pt"
    save_checkpoint(
        path, {"config": config_dict(tiny_net.config), "model": tiny_net.state_dict()}
    )
    tracker = make_tracker("siamrpnpp", weights=str(path))
    assert isinstance(tracker, SiamRPNPPTracker)
    assert tracker.config == tiny_net.config


def test_train_siamrpn_trains_siamrpnpp():
    assert isinstance(build_rpn_network(SiamRPNPPConfig.tiny()), SiamRPNPPNet)
    with pytest.raises(ValueError, match="SiamRPNConfig or SiamRPNPPConfig"):
        build_rpn_network(object())
    sequences = synth_train(2)
    model, history = train_siamrpn(
        SiamRPNPPConfig.tiny(), sequences, 2, batch_size=2, progress=False, shift=64.0
    )
    assert isinstance(model, SiamRPNPPNet) and history.step == 2
    assert all(np.isfinite(history.losses))
    with pytest.raises(ValueError, match="pretrained"):
        train_siamrpn(SiamRPNPPConfig.tiny(), sequences, 1, pretrained=True)


def test_cli_trains_siamrpnpp(tmp_path, capsys):
    out = tmp_path / "pp.pt"
    argv = ["train", "siamrpnpp", "--batch-size", "2", "--max-sequences", "12"]
    assert main([*argv, "--steps", "1", "--out", str(out)]) == 0
    assert "siamrpnpp (tiny, distractor pairs)" in capsys.readouterr().out
    assert load_siamrpnpp(out).config == SiamRPNPPConfig.tiny()
    assert main([*argv, "--steps", "1", "--preset", "big", "--out", str(out)]) == 2
    assert "--preset" in capsys.readouterr().err
    assert main([*argv, "--steps", "1", "--init", "x.pt", "--out", str(out)]) == 2
    assert "--init" in capsys.readouterr().err
