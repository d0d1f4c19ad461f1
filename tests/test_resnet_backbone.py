"""The ResNet of SiamRPN++: feature sides, stride, the reference's parameter count,
argument checks, and the translation equivariance that padding breaks."""

import pytest
import torch

from siamlab.nn.backbones import AlexNet, ResNet, count_parameters


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return ResNet.tiny().eval()


@pytest.fixture(scope="module")
def r50():
    return ResNet.resnet50().eval()


@pytest.mark.parametrize("size, side", [(127, 15), (255, 31)])
def test_tiny_features_have_the_papers_sides(tiny, size, side):
    with torch.no_grad():
        features = tiny(torch.rand(2, 3, size, size) * 255)
    assert [tuple(f.shape) for f in features] == [
        (2, c, side, side) for c in tiny.out_channels
    ]
    assert tiny.out_channels == [32, 48, 64]


def test_resnet50_features_have_the_papers_sides_and_channels(r50):
    assert r50.out_channels == [512, 1024, 2048]
    with torch.no_grad():
        features = r50(torch.rand(1, 3, 127, 127) * 255)
    assert [tuple(f.shape) for f in features] == [
        (1, 512, 15, 15),
        (1, 1024, 15, 15),
        (1, 2048, 15, 15),
    ]
    assert r50.feature_size(255) == 31


@pytest.mark.parametrize("size", [95, 127, 135, 143, 200, 255, 263, 287])
def test_feature_size_matches_a_forward_pass(tiny, size):
    with torch.no_grad():
        features = tiny(torch.zeros(1, 3, size, size))
    assert all(f.shape[-1] == tiny.feature_size(size) for f in features)


def test_total_stride_is_eight(tiny):
    assert tiny.total_stride == 8
    assert tiny.feature_size(255 + 8) - tiny.feature_size(255) == 1
    assert tiny.feature_size(255 + 16) - tiny.feature_size(255) == 2


def test_used_layers_select_the_outputs():
    net = ResNet.tiny(used_layers=(3,)).eval()
    assert net.out_channels == [48]
    assert not hasattr(net, "layer4")
    assert len(net(torch.zeros(1, 3, 127, 127))) == 1


def test_width_scales_every_stage():
    net = ResNet("basic", (1, 1, 1, 1), width=2.0, channels=(16, 16, 32, 48, 64))
    assert net.out_channels == [64, 96, 128]
    assert net.conv1.out_channels == 32


def test_dilated_stages_follow_the_reference_layout(r50):
    first, later = r50.layer3[0], r50.layer3[1]
    assert (first.conv2.dilation, first.conv2.padding) == ((1, 1), (1, 1))
    assert (later.conv2.dilation, later.conv2.padding) == ((2, 2), (2, 2))
    projection = r50.layer4[0].downsample[0]
    assert projection.kernel_size == (3, 3)
    assert (projection.dilation, projection.padding) == ((2, 2), (2, 2))
    assert r50.layer2[0].downsample[0].padding == (0, 0)
    assert r50.layer1[0].downsample[0].kernel_size == (1, 1)
    assert r50.conv1.padding == (0, 0)


def _resnet50_parameters(projection_kernel: dict[int, int]) -> int:
    """Convolution and batch-norm parameters of ResNet-50 up to layer4 from its
    description: a 7×7 stem of 64, then stages of (3, 4, 6, 3) bottlenecks of width
    64-128-256-512 expanding ×4, the first block of each stage projecting its
    shortcut with a `projection_kernel[stage]`² convolution."""

    def conv_bn(cin: int, cout: int, k: int) -> int:
        return cin * cout * k * k + 2 * cout

    total = conv_bn(3, 64, 7)
    inplanes = 64
    for stage, (blocks, width) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512))):
        for block in range(blocks):
            total += conv_bn(inplanes, width, 1) + conv_bn(width, width, 3)
            total += conv_bn(width, 4 * width, 1)
            if block == 0:
                total += conv_bn(inplanes, 4 * width, projection_kernel[stage + 1])
            inplanes = 4 * width
    return total


def test_resnet50_has_the_reference_parameter_count(r50):
    standard = _resnet50_parameters({1: 1, 2: 1, 3: 1, 4: 1})
    assert standard == 25_557_032 - (2048 * 1000 + 1000)  # torchvision's, less fc
    # SiamRPN++'s projections of layer2-4 are 3×3
    assert count_parameters(r50) == _resnet50_parameters({1: 1, 2: 3, 3: 3, 4: 3})


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"block": "wide"}, "block"),
        ({"layers": (3, 4, 6)}, "layers"),
        ({"layers": (3, 0, 6, 3)}, "layers"),
        ({"width": 0}, "width"),
        ({"width": "1"}, "width"),
        ({"used_layers": ()}, "used_layers"),
        ({"used_layers": (2, 5)}, "used_layers"),
        ({"used_layers": (3, 2)}, "used_layers"),
        ({"channels": (64, 64, 128, 256)}, "channels"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ResNet(**kwargs)


def _shift_gap(net, image: torch.Tensor) -> torch.Tensor:
    """Per-cell gap between the features of an image shifted by 8 pixels (one cell)
    and the shifted features of the image."""
    with torch.no_grad():
        full = net(image)
        shifted = net(image[:, :, 8:, 8:])
    full = full[-1] if isinstance(full, list) else full
    shifted = shifted[-1] if isinstance(shifted, list) else shifted
    side = shifted.shape[-1]
    return (shifted - full[:, :, 1 : side + 1, 1 : side + 1]).abs().amax(dim=(0, 1))


def test_padding_breaks_translation_equivariance_at_the_border(tiny):
    torch.manual_seed(1)
    image = torch.rand(1, 3, 135, 135) * 255
    assert _shift_gap(AlexNet(0.25).eval(), image).max() < 1e-4
    gap = _shift_gap(tiny, image)
    assert gap[0, 0] > 1e-2  # the cropped image has a new top-left border
    assert gap[-1, -1] < 1e-4  # its bottom-right border is the full image's
