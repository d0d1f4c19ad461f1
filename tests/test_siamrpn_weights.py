"""The DaSiamRPN release's weights: recognised by their keys, imported into SiamRPNNet.

The files cannot be downloaded here, so each test writes a state dict with the
release's key names and shapes from a seeded random network built to the published
layout (`Reference`, written below from the release's architecture: AlexNet with batch
norm, conv → BN → max-pool → ReLU, the last convolution followed by BN only; the
template lifted to `2k·C` and `4k·C` channels by 3×3 convolutions, the search features
kept at C channels by 3×3 convolutions, a 1×1 adjustment of the regression; BGR pixels
0-255 in). A siamlab network loaded from the file must compute the same outputs on the
RGB image as the reference on the BGR image.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from siamlab.models.siamrpn import load_siamrpn
from siamlab.trackers.registry import make_tracker
from siamlab.trackers.siamrpn import SiamRPNParams

#: file name → (AlexNet widths, C) of the three published networks.
RELEASES = {
    "SiamRPNvot.model": ((96, 256, 384, 384, 256), 256),
    "SiamRPNotb.model": ((96, 256, 384, 384, 256), 256),
    "SiamRPNBIG.model": ((192, 512, 768, 768, 512), 512),
}


class Reference(nn.Module):
    """The published layout, with the release's module names."""

    def __init__(self, widths: tuple[int, ...], channels: int, k: int = 5) -> None:
        super().__init__()
        w1, w2, w3, w4, w5 = widths
        self.featureExtract = nn.Sequential(
            nn.Conv2d(3, w1, 11, stride=2),
            nn.BatchNorm2d(w1),
            nn.MaxPool2d(3, stride=2),
            nn.ReLU(),
            nn.Conv2d(w1, w2, 5),
            nn.BatchNorm2d(w2),
            nn.MaxPool2d(3, stride=2),
            nn.ReLU(),
            nn.Conv2d(w2, w3, 3),
            nn.BatchNorm2d(w3),
            nn.ReLU(),
            nn.Conv2d(w3, w4, 3),
            nn.BatchNorm2d(w4),
            nn.ReLU(),
            nn.Conv2d(w4, w5, 3),
            nn.BatchNorm2d(w5),
        )
        self.k, self.channels = k, channels
        self.conv_r1 = nn.Conv2d(w5, channels * 4 * k, 3)
        self.conv_r2 = nn.Conv2d(w5, channels, 3)
        self.conv_cls1 = nn.Conv2d(w5, channels * 2 * k, 3)
        self.conv_cls2 = nn.Conv2d(w5, channels, 3)
        self.regress_adjust = nn.Conv2d(4 * k, 4 * k, 1)

    def forward(self, z_bgr: torch.Tensor, x_bgr: torch.Tensor):
        """One BGR exemplar and one BGR search image (batch 1, 0-255) → (cls, loc)."""
        z, x = self.featureExtract(z_bgr), self.featureExtract(x_bgr)
        r1, c1 = self.conv_r1(z), self.conv_cls1(z)
        size = r1.shape[-1]
        r1 = r1.view(4 * self.k, self.channels, size, size)
        c1 = c1.view(2 * self.k, self.channels, size, size)
        loc = self.regress_adjust(F.conv2d(self.conv_r2(x), r1))
        return F.conv2d(self.conv_cls2(x), c1), loc


def reference(name: str, seed: int = 0) -> Reference:
    """A seeded random network of the release `name`, with non-trivial batch norms."""
    torch.manual_seed(seed)
    widths, channels = RELEASES[name]
    model = Reference(widths, channels)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
    return model.eval()


def images(seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """An RGB exemplar (127) and a smaller-than-usual RGB search image (159: a 5×5
    score map keeps the BIG network's test fast), pixel values 0-255."""
    generator = torch.Generator().manual_seed(seed)
    z = torch.randint(0, 256, (1, 3, 127, 127), generator=generator).float()
    x = torch.randint(0, 256, (1, 3, 159, 159), generator=generator).float()
    return z, x


@pytest.fixture(scope="module", params=sorted(RELEASES))
def release_file(request, tmp_path_factory):
    name = request.param
    path = tmp_path_factory.mktemp("weights") / name
    net = reference(name)
    torch.save(net.state_dict(), path)
    return name, path, net


def test_imported_network_computes_the_release_outputs(release_file):
    name, path, net = release_file
    model = load_siamrpn(path)
    z, x = images()
    with torch.no_grad():
        expected_cls, expected_loc = net(z.flip(1), x.flip(1))  # RGB → BGR
        cls, loc = model(z, x)
        model.template(z)
        tracked_cls, tracked_loc = model.track(x)
    assert cls.shape == expected_cls.shape == (1, 10, 5, 5)
    for ours, theirs in ((cls, expected_cls), (loc, expected_loc), (tracked_cls, cls)):
        scale = theirs.abs().max().item()
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4 * scale)


def test_release_settings_follow_the_file(release_file):
    name, path, _ = release_file
    release = name[len("SiamRPN") : -len(".model")].lower()
    model = load_siamrpn(path)
    assert model.release == release
    assert model.config.search_size == 271 and model.config.exemplar_size == 127
    assert model.config.channels == RELEASES[name][1]
    tracker = make_tracker("siamrpn", weights=str(path))
    assert tracker.params == SiamRPNParams.for_release(release)


def test_files_of_old_pytorch_without_batch_counters_load(tmp_path):
    state = reference("SiamRPNotb.model").state_dict()
    state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    path = tmp_path / "old.model"
    torch.save(state, path)
    model = load_siamrpn(path)
    assert model.release == "otb"  # the 256-channel layout by default


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.pop("conv_r1.bias"), "missing key 'conv_r1.bias'"),
        (
            lambda s: s.pop("featureExtract.15.running_var"),
            "featureExtract.15.running_var",
        ),
        (
            lambda s: s.update({"conv_r3.weight": torch.zeros(1)}),
            "unexpected key 'conv_r3",
        ),
        (lambda s: s.update({"featureExtract.2.weight": torch.zeros(1)}), "unexpected"),
        (
            lambda s: s.update({"regress_adjust.weight": torch.zeros(20, 20, 3, 3)}),
            "'regress_adjust.weight' has shape",
        ),
    ],
)
def test_missing_unexpected_or_misshapen_keys_are_named(tmp_path, edit, message):
    state = reference("SiamRPNvot.model").state_dict()
    edit(state)
    path = tmp_path / "SiamRPNvot.model"
    torch.save(state, path)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        load_siamrpn(path)


def test_other_files_are_refused_with_their_path(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="other.pt"):
        load_siamrpn(path)
    np.testing.assert_equal(path.exists(), True)
