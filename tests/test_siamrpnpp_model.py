"""SiamRPN++'s neck, config presets, network (template / track), first training
step and checkpoints."""

import math

import numpy as np
import pytest
import torch

from siamlab.models.siamrpn import rpn_batch, siamrpn_loss
from siamlab.models.siamrpnpp import (
    SiamRPNPPConfig,
    SiamRPNPPNet,
    config_dict,
    load_siamrpnpp,
)
from siamlab.nn.neck import AdjustAllLayer, AdjustLayer, center_crop

TINY = SiamRPNPPConfig.tiny()


@pytest.fixture(scope="module")
def tiny_net():
    torch.manual_seed(0)
    return SiamRPNPPNet(TINY).eval()


def test_neck_adapts_channels_and_crops_template_features():
    neck = AdjustAllLayer([8, 12, 16], [4, 4, 4]).eval()
    names = {name for name, _ in neck.named_parameters()}
    assert "downsample3.downsample.0.weight" in names
    assert "downsample4.downsample.1.bias" in names
    with torch.no_grad():
        template = neck([torch.randn(1, c, 15, 15) for c in (8, 12, 16)])
        search = neck([torch.randn(1, c, 31, 31) for c in (8, 12, 16)])
    assert [tuple(t.shape) for t in template] == [(1, 4, 7, 7)] * 3
    assert [tuple(s.shape) for s in search] == [(1, 4, 31, 31)] * 3


def test_template_crop_is_the_central_seven_by_seven():
    features = torch.arange(15 * 15.0).reshape(1, 1, 15, 15)
    torch.testing.assert_close(center_crop(features, 7), features[:, :, 4:11, 4:11])
    layer = AdjustLayer(1, 1).eval()
    with torch.no_grad():
        layer.downsample[0].weight.fill_(1.0)
        out = layer(features)
    expected = layer.downsample[1](features)[:, :, 4:11, 4:11]
    torch.testing.assert_close(out, expected.detach())


def test_single_stage_neck_is_one_adjust_layer():
    neck = AdjustAllLayer([8], [4]).eval()
    assert isinstance(neck.downsample, AdjustLayer)
    assert neck(torch.randn(1, 8, 15, 15)).shape == (1, 4, 7, 7)


@pytest.mark.parametrize(
    "preset, backbone, score",
    [("paper", "resnet50", 25), ("alex", "alexnet", 21), ("tiny", "resnet_tiny", 25)],
)
def test_presets_follow_the_releases(preset, backbone, score):
    config = getattr(SiamRPNPPConfig, preset)()
    assert config.backbone == backbone and config.score_size == score
    assert config.num_anchors == 5 and config.total_stride == 8
    assert config.anchors().shape == (5 * score * score, 4)
    assert SiamRPNPPConfig.from_dict(config_dict(config)) == config


@pytest.mark.parametrize("search", [255, 263, 271, 287, 303])
def test_score_size_matches_a_forward_pass(tiny_net, search):
    with torch.no_grad():
        cls, loc = tiny_net(
            torch.rand(1, 3, 127, 127) * 255, torch.rand(1, 3, search, search) * 255
        )
    side = TINY.score_size_for(search)
    assert cls.shape == (1, 10, side, side) and loc.shape == (1, 20, side, side)


@pytest.mark.parametrize("search", [255, 271, 287])
def test_alexnet_score_size_matches_a_forward_pass(search):
    config = SiamRPNPPConfig.alex()
    net = SiamRPNPPNet(config).eval()
    with torch.no_grad():
        cls, _ = net(torch.zeros(1, 3, 127, 127), torch.zeros(1, 3, search, search))
    assert cls.shape[-1] == config.score_size_for(search) == (search - 127) // 8 + 1


def test_tiny_forward_shapes_and_features(tiny_net):
    z, x = torch.rand(2, 3, 127, 127) * 255, torch.rand(2, 3, 255, 255) * 255
    with torch.no_grad():
        template, search = tiny_net.features(z), tiny_net.features(x)
        cls, loc = tiny_net(z, x)
    assert [tuple(t.shape) for t in template] == [(2, 32, 7, 7)] * 3
    assert [tuple(s.shape) for s in search] == [(2, 32, 31, 31)] * 3
    assert cls.shape == (2, 10, 25, 25) and loc.shape == (2, 20, 25, 25)


def test_template_then_track_equals_forward(tiny_net):
    torch.manual_seed(1)
    z, x = torch.rand(1, 3, 127, 127) * 255, torch.rand(3, 3, 255, 255) * 255
    with torch.no_grad():
        tiny_net.template(z)
        cls, loc = tiny_net.track(x)
        direct_cls, direct_loc = tiny_net(z.expand(3, -1, -1, -1), x)
    torch.testing.assert_close(cls, direct_cls, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(loc, direct_loc, rtol=1e-4, atol=1e-5)


def test_track_before_template_is_an_error():
    with pytest.raises(ValueError, match="template"):
        SiamRPNPPNet(TINY).track(torch.zeros(1, 3, 255, 255))


@pytest.mark.parametrize(
    "field, value",
    [
        ("backbone", "vgg"),
        ("exemplar_size", 0),
        ("exemplar_size", 47),
        ("search_size", 100),
        ("used_layers", (4, 2)),
        ("used_layers", (5,)),
        ("neck_channels", 0),
        ("hidden", 1.5),
        ("weighted", 1),
        ("width", 0.0),
        ("context", -0.5),
        ("positive", 0.2),
        ("ratios", ()),
    ],
)
def test_bad_config_values_name_the_field(field, value):
    with pytest.raises(ValueError, match=field.split("_")[0]):
        SiamRPNPPConfig(**{**config_dict(TINY), field: value})


def test_alexnet_takes_no_neck():
    with pytest.raises(ValueError, match="neck_channels"):
        SiamRPNPPConfig(**{**config_dict(SiamRPNPPConfig.alex()), "neck_channels": 64})


def test_first_training_step_is_tame():
    torch.manual_seed(2)
    rng = np.random.default_rng(0)
    net = SiamRPNPPNet(TINY).train()
    crops = rng.integers(0, 256, (2, 255, 255, 3), dtype=np.uint8)
    exemplars = list(crops[:, 64:191, 64:191])
    boxes = [np.array([0.0, 0.0, 60.0, 40.0]), np.array([8.0, -16.0, 40.0, 80.0])]
    batch = rpn_batch(TINY, TINY.anchors(), exemplars, list(crops), boxes, rng)
    loss = siamrpn_loss(net, batch)
    loss.backward()
    assert math.log(2) - 0.1 < loss.item() < math.log(2) + 0.3
    grads = [p.grad for p in net.parameters() if p.grad is not None]
    assert all(torch.isfinite(g).all() for g in grads)


def test_freeze_fixes_the_first_stages():
    net = SiamRPNPPNet(TINY)
    net.freeze(2)
    assert not net.backbone.conv1.weight.requires_grad
    assert not net.backbone.layer1[0].conv1.weight.requires_grad
    assert net.backbone.layer2[0].conv1.weight.requires_grad
    assert not net.train().backbone.bn1.training
    with pytest.raises(ValueError, match="stages"):
        net.freeze(6)


def test_checkpoint_round_trip(tmp_path, tiny_net):
    path = tmp_path / "siamrpnpp.pt"
    torch.save({"config": config_dict(TINY), "model": tiny_net.state_dict()}, path)
    loaded = load_siamrpnpp(path)
    assert loaded.config == TINY and not loaded.training and loaded.release is None
    z, x = torch.rand(1, 3, 127, 127) * 255, torch.rand(1, 3, 255, 255) * 255
    with torch.no_grad():
        torch.testing.assert_close(loaded(z, x), tiny_net(z, x))


def test_checkpoints_of_other_shapes_are_rejected(tmp_path, tiny_net):
    path = tmp_path / "other.pt"
    other = config_dict(SiamRPNPPConfig(backbone="resnet_tiny", neck_channels=16))
    torch.save({"config": other, "model": tiny_net.state_dict()}, path)
    with pytest.raises(ValueError, match="another model"):
        load_siamrpnpp(path)
    torch.save({"weights": 1}, path)
    with pytest.raises(ValueError, match="neither"):
        load_siamrpnpp(path)
    with pytest.raises(FileNotFoundError):
        load_siamrpnpp(tmp_path / "missing.pt")
