"""SiamRPN's network: up-channel head, template and track, targets, loss, training."""

import numpy as np
import pytest
import skimage.data
import torch
import torch.nn.functional as F

from siamlab.anchors import decode
from siamlab.datasets.sequence import Sequence
from siamlab.models.siamrpn import (
    RPNPairSampler,
    SiamRPNConfig,
    SiamRPNNet,
    siamrpn_loss,
    train_siamrpn,
)
from siamlab.nn.heads import UpChannelRPN
from siamlab.train import load_checkpoint

SMALL = SiamRPNConfig(width=0.125, groups=1, channels=8)
BACKGROUND = skimage.data.astronaut()[::2, ::2].copy()  # 256 x 256
PATCH = skimage.data.chelsea()[100:140, 150:200]  # 40 high, 50 wide


def moving_sequence(n: int = 20) -> Sequence:
    """A cat's face pasted into the astronaut, moving 2 pixels right per frame."""
    boxes = np.array([[40.0 + 2 * i, 100.0, 50.0, 40.0] for i in range(n)])

    def load(i: int) -> np.ndarray:
        frame = BACKGROUND.copy()
        x = int(boxes[i, 0])
        frame[100:140, x : x + 50] = PATCH
        return frame

    return Sequence("moving", boxes, load)


def test_head_shapes_follow_the_paper():
    head = UpChannelRPN(in_channels=16, channels=8, num_anchors=5)
    z, x = torch.randn(2, 16, 6, 6), torch.randn(2, 16, 22, 22)
    cls_kernel, reg_kernel = head.kernels(z)
    assert cls_kernel.shape == (2, 10, 8, 4, 4)
    assert reg_kernel.shape == (2, 20, 8, 4, 4)
    cls, loc = head(z, x)
    assert cls.shape == (2, 10, 17, 17) and loc.shape == (2, 20, 17, 17)


def test_head_equals_a_loop_over_samples_and_kernels():
    torch.manual_seed(0)
    head = UpChannelRPN(in_channels=6, channels=4, num_anchors=3)
    z, x = torch.randn(3, 6, 6, 6), torch.randn(3, 6, 12, 12)
    cls, loc = head(z, x)
    lift_cls, lift_reg = head.template_cls(z), head.template_reg(z)
    search_cls, search_reg = head.search_cls(x), head.search_reg(x)
    for i in range(3):
        for a in range(6):  # 2k kernels of C channels: channels a·C … a·C + C − 1
            kernel = lift_cls[i, a * 4 : (a + 1) * 4][None]
            expected = F.conv2d(search_cls[i : i + 1], kernel)[0, 0]
            torch.testing.assert_close(cls[i, a], expected, rtol=1e-4, atol=1e-4)
        raw = torch.stack(
            [
                F.conv2d(search_reg[i : i + 1], lift_reg[i, a * 4 : (a + 1) * 4][None])[
                    0, 0
                ]
                for a in range(12)
            ]
        )
        expected = head.adjust(raw[None])[0]
        torch.testing.assert_close(loc[i], expected, rtol=1e-4, atol=1e-4)


def test_head_rejects_bad_arguments():
    with pytest.raises(ValueError, match="channels"):
        UpChannelRPN(16, channels=0)
    head = UpChannelRPN(4, channels=2, num_anchors=1)
    kernels = head.kernels(torch.randn(2, 4, 6, 6))
    with pytest.raises(ValueError, match="batch"):
        head.correlate(kernels, torch.randn(3, 4, 12, 12))


def test_template_then_track_equals_forward():
    torch.manual_seed(0)
    model = SiamRPNNet(SMALL).eval()
    z, x = torch.rand(2, 3, 127, 127) * 255, torch.rand(2, 3, 255, 255) * 255
    with torch.no_grad():
        cls, loc = model(z, x)
        model.template(z)
        cls2, loc2 = model.track(x)
    assert cls.shape == (2, 2 * 5, 17, 17) and loc.shape == (2, 4 * 5, 17, 17)
    torch.testing.assert_close(cls, cls2)
    torch.testing.assert_close(loc, loc2)


def test_track_before_template_is_an_error():
    with pytest.raises(ValueError, match="template"):
        SiamRPNNet(SMALL).track(torch.zeros(1, 3, 255, 255))


def test_presets_and_parameter_counts():
    paper, tiny = SiamRPNConfig.paper(), SiamRPNConfig.tiny()
    assert (paper.exemplar_size, paper.search_size, paper.channels) == (127, 255, 256)
    assert paper.score_size == 17 and paper.num_anchors == 5
    head = SiamRPNNet(paper).head
    assert head.template_cls.weight.numel() == 256 * 256 * 10 * 9  # ≈ 5.9 M
    assert head.template_reg.weight.numel() == 256 * 256 * 20 * 9  # ≈ 11.8 M
    assert tiny.channels == 64 and SiamRPNConfig(search_size=271).score_size == 19


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"channels": 0}, "channels"),
        ({"search_size": 100}, "search_size"),
        ({"exemplar_size": 95, "search_size": 255}, "exemplar_size"),
        ({"ratios": ()}, "ratios"),
        ({"reg_weight": float("nan")}, "reg_weight"),
        ({"negative": 0.7}, "negative"),
    ],
)
def test_bad_configs_are_rejected(changes, match):
    with pytest.raises(ValueError, match=match):
        SiamRPNConfig(**changes)


def test_config_round_trips_through_a_dict():
    from siamlab.models.siamrpn import config_dict

    config = SiamRPNConfig.tiny()
    assert SiamRPNConfig.from_dict(config_dict(config)) == config
    with pytest.raises(ValueError, match="unknown"):
        SiamRPNConfig.from_dict({**config_dict(config), "depth": 3})


def test_pair_targets_point_at_the_pasted_target():
    sampler = RPNPairSampler([moving_sequence()], SMALL, seed=0, brightness=0.0)
    anchors = SMALL.anchors()
    for _ in range(5):
        exemplar, search, box = sampler.sample()
        assert exemplar.shape == (127, 127, 3) and search.shape == (255, 255, 3)
        # the target's size in the crop: the exemplar's context square maps to 127 px
        assert 0.1 < box[2] / 255 < 0.5 and box[2] > box[3]
    batch = sampler.batch(4)
    assert batch.labels.shape == (4, len(anchors))
    assert (batch.labels == 1).sum(dim=1).min() >= 1
    positives = batch.labels[0] == 1
    decoded = decode(batch.deltas[0][positives].numpy(), anchors[positives.numpy()])
    expected = np.repeat(batch.boxes[:1].numpy(), len(decoded), 0)
    np.testing.assert_allclose(decoded, expected, rtol=1e-4, atol=1e-3)


def test_loss_is_finite_and_has_gradients():
    torch.manual_seed(0)
    model = SiamRPNNet(SMALL)
    batch = RPNPairSampler([moving_sequence()], SMALL, seed=0).batch(2)
    loss = siamrpn_loss(model, batch)
    loss.backward()
    assert torch.isfinite(loss) and model.head.adjust.weight.grad is not None


def test_train_five_steps_and_resume(tmp_path):
    path = tmp_path / "rpn.pt"
    sequences = [moving_sequence()]
    options = dict(batch_size=2, seed=0, checkpoint=path, progress=False)
    _, history = train_siamrpn(SMALL, sequences, 3, **options)
    assert history.step == 3 and load_checkpoint(path)["step"] == 3
    model, history = train_siamrpn(SMALL, sequences, 5, resume=True, **options)
    state = load_checkpoint(path)
    assert history.step == 5 and state["step"] == 5 and len(state["losses"]) == 5
    assert all(np.isfinite(history.losses))
    with pytest.raises(ValueError, match="config"):
        train_siamrpn(SiamRPNConfig(width=0.125, channels=4), sequences, 6,
                      resume=True, **options)  # fmt: skip


def test_frozen_stages_do_not_change():
    torch.manual_seed(0)
    model = SiamRPNNet(SMALL)
    before = model.backbone.conv1[0].weight.clone()
    train_siamrpn(SMALL, [moving_sequence()], 2, batch_size=2, model=model,
                  frozen_stages=3, progress=False)  # fmt: skip
    torch.testing.assert_close(model.backbone.conv1[0].weight, before)
    assert model.backbone.conv1[1].training is False or not model.training
    with pytest.raises(ValueError, match="stages"):
        model.freeze(6)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"steps": 0}, "steps"), ({"batch_size": 0}, "batch_size"), ({"lr": -1}, "lr")],
)
def test_bad_training_arguments_are_rejected(kwargs, match):
    arguments = {"steps": 1, **kwargs}
    steps = arguments.pop("steps")
    with pytest.raises(ValueError, match=match):
        train_siamrpn(SMALL, [moving_sequence()], steps, progress=False, **arguments)
