"""The SiamFC head: scaled cross-correlation plus a learned bias."""

import pytest
import torch

from siamlab.nn.heads import SiamFCHead
from siamlab.nn.xcorr import xcorr_loop


def test_head_is_scaled_xcorr_plus_bias():
    torch.manual_seed(0)
    head = SiamFCHead(out_scale=0.5)
    with torch.no_grad():
        head.bias.fill_(2.0)
    z, x = torch.randn(3, 4, 2, 2), torch.randn(3, 4, 6, 5)
    torch.testing.assert_close(head(z, x), 0.5 * xcorr_loop(z, x) + 2.0)


def test_bias_is_learned_and_scale_is_fixed():
    head = SiamFCHead()
    assert [name for name, _ in head.named_parameters()] == ["bias"]
    assert head.out_scale == 0.001 and head.bias.item() == 0


def test_bad_scale_is_rejected():
    with pytest.raises(ValueError, match="out_scale"):
        SiamFCHead(out_scale=0)


def test_rpn_head_gives_2k_logits_and_4k_offsets_per_position():
    from siamlab.nn.heads import RPNHead

    head = RPNHead(in_channels=32, num_anchors=9, mid_channels=16)
    cls, reg = head(torch.randn(2, 32, 7, 5))
    assert cls.shape == (2, 18, 7, 5) and reg.shape == (2, 36, 7, 5)
    assert head.window.kernel_size == (3, 3)
    assert head.cls.kernel_size == head.reg.kernel_size == (1, 1)


def test_rpn_head_rejects_bad_sizes():
    from siamlab.nn.heads import RPNHead

    with pytest.raises(ValueError, match="num_anchors"):
        RPNHead(in_channels=8, num_anchors=0)
