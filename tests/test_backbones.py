"""SiamFC's AlexNet: sizes, stride, width, padding, and the measuring helpers."""

import pytest
import torch

from siamlab.nn.backbones import (
    AlexNet,
    conv_macs,
    count_parameters,
    layer_shapes,
    scaled_channels,
)


@pytest.mark.parametrize(
    "size, expected", [(127, 6), (255, 22), (95, 2), (63, 0), (135, 7)]
)
def test_feature_size_matches_the_paper(size, expected):
    assert AlexNet(0.25).feature_size(size) == expected


@pytest.mark.parametrize("size", [127, 135, 255])
def test_forward_gives_the_predicted_shape(size):
    net = AlexNet(0.25).eval()
    side = net.feature_size(size)
    assert net(torch.zeros(2, 3, size, size)).shape == (2, net.out_channels, side, side)


def test_total_stride_is_eight():
    net = AlexNet(0.25)
    assert net.total_stride == 8
    assert net.feature_size(255 + 8) - net.feature_size(255) == 1


def test_width_scales_channels():
    assert scaled_channels(1.0) == [96, 256, 384, 384, 256]
    assert scaled_channels(0.25) == [24, 64, 96, 96, 64]
    assert AlexNet(0.5).out_channels == 128


def test_paper_width_has_the_published_parameter_count():
    # SiamFC's AlexNet with groups of 2: about 2.33 M parameters in the convolutions
    assert 2.3e6 < count_parameters(AlexNet(1.0)) < 2.4e6


def test_padding_keeps_more_of_the_input():
    padded = AlexNet(0.25, padding=True)
    assert padded.feature_size(127) > AlexNet(0.25).feature_size(127)
    assert padded(torch.zeros(1, 3, 127, 127)).shape[-1] == padded.feature_size(127)


def test_without_padding_the_network_is_translation_equivariant():
    torch.manual_seed(0)
    net = AlexNet(0.25).eval()
    image = torch.rand(1, 3, 151, 151) * 255
    with torch.no_grad():
        full = net(image)
        shifted = net(image[:, :, 8:, 8:])  # an 8-pixel shift is one feature cell
    torch.testing.assert_close(shifted, full[:, :, 1:, 1:], atol=1e-4, rtol=1e-4)


def test_layer_shapes_lists_each_layer():
    shapes = layer_shapes(AlexNet(0.25), 127)
    assert shapes[0] == ("conv1.0", (24, 59, 59))
    assert shapes[-1] == ("conv5.0", (64, 6, 6))


def test_conv_macs_of_a_single_convolution():
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3))
    assert conv_macs(net, (1, 2, 5, 5)) == 3 * 3 * 3 * 2 * 3 * 3


def test_width_four_times_smaller_costs_about_twelve_times_less():
    ratio = conv_macs(AlexNet(1.0), (1, 3, 255, 255)) / conv_macs(
        AlexNet(0.25), (1, 3, 255, 255)
    )
    assert 9 < ratio < 16


@pytest.mark.parametrize("kwargs", [{"width": 0}, {"width": -1.0}, {"groups": 0}])
def test_bad_options_are_rejected(kwargs):
    with pytest.raises(ValueError):
        AlexNet(**kwargs)
