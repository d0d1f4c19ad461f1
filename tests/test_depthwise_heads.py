"""SiamRPN++'s heads: the depthwise correlation branch, the depthwise RPN and the
weighted aggregation of several stages' RPNs."""

import pytest
import torch
import torch.nn.functional as F

from siamlab.nn.heads import DepthwiseRPN, DepthwiseXCorr, MultiRPN
from siamlab.nn.xcorr import xcorr_depthwise


def _randomise(module: torch.nn.Module) -> torch.nn.Module:
    """Random batch-norm statistics, so that eval mode is not the identity."""
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.1)
    return module.eval()


def test_depthwise_xcorr_matches_a_loop_over_channels():
    torch.manual_seed(0)
    z, x = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 9, 8)
    expected = torch.stack(
        [
            torch.stack(
                [
                    F.conv2d(x[n, c][None, None], z[n, c][None, None])[0, 0]
                    for c in range(3)
                ]
            )
            for n in range(2)
        ]
    )
    torch.testing.assert_close(xcorr_depthwise(z, x), expected)


def test_branch_layout_follows_the_release():
    branch = DepthwiseXCorr(16, 8, 10)
    names = [name for name, _ in branch.named_parameters()]
    assert names == [
        "conv_kernel.0.weight",
        "conv_kernel.1.weight",
        "conv_kernel.1.bias",
        "conv_search.0.weight",
        "conv_search.1.weight",
        "conv_search.1.bias",
        "head.0.weight",
        "head.1.weight",
        "head.1.bias",
        "head.3.weight",
        "head.3.bias",
    ]


def test_branch_is_adapt_correlate_mix():
    torch.manual_seed(1)
    branch = _randomise(DepthwiseXCorr(6, 5, 4))
    z, x = torch.randn(2, 6, 7, 7), torch.randn(2, 6, 15, 15)
    with torch.no_grad():
        kernel, search = branch.conv_kernel(z), branch.conv_search(x)
        expected = branch.head(xcorr_depthwise(kernel, search))
        out = branch(z, x)
    assert out.shape == (2, 4, 9, 9)
    torch.testing.assert_close(out, expected)


def test_depthwise_rpn_gives_2k_logits_and_4k_deltas():
    rpn = _randomise(DepthwiseRPN(anchor_num=5, in_channels=8, out_channels=6))
    with torch.no_grad():
        cls, loc = rpn(torch.randn(3, 8, 7, 7), torch.randn(3, 8, 31, 31))
    assert cls.shape == (3, 10, 25, 25) and loc.shape == (3, 20, 25, 25)


def _stages(batch: int, channels=(8, 8, 8)):
    z = [torch.randn(batch, c, 7, 7) for c in channels]
    x = [torch.randn(batch, c, 13, 13) for c in channels]
    return z, x


def test_multi_rpn_averages_the_stages_with_softmax_weights():
    torch.manual_seed(2)
    head = _randomise(MultiRPN(3, [8, 8, 8], weighted=True))
    with torch.no_grad():
        head.cls_weight.copy_(torch.tensor([0.0, 1.0, 2.0]))
        head.loc_weight.copy_(torch.tensor([2.0, 0.0, -1.0]))
        z, x = _stages(2)
        cls, loc = head(z, x)
        parts = [rpn(a, b) for rpn, a, b in zip(head.rpns(), z, x)]
    cls_w = torch.softmax(torch.tensor([0.0, 1.0, 2.0]), 0)
    loc_w = torch.softmax(torch.tensor([2.0, 0.0, -1.0]), 0)
    torch.testing.assert_close(cls, sum(w * c for w, (c, _) in zip(cls_w, parts)))
    torch.testing.assert_close(loc, sum(w * r for w, (_, r) in zip(loc_w, parts)))
    assert all(float(w.detach().sum()) == pytest.approx(1.0) for w in head.weights())


def test_unweighted_multi_rpn_takes_the_mean():
    torch.manual_seed(3)
    head = _randomise(MultiRPN(2, [4, 6], weighted=False))
    assert not hasattr(head, "cls_weight")
    with torch.no_grad():
        z, x = _stages(1, (4, 6))
        cls, loc = head(z, x)
        parts = [rpn(a, b) for rpn, a, b in zip(head.rpns(), z, x)]
    torch.testing.assert_close(cls, (parts[0][0] + parts[1][0]) / 2)
    torch.testing.assert_close(loc, (parts[0][1] + parts[1][1]) / 2)


def test_multi_rpn_names_follow_the_release():
    names = {name for name, _ in MultiRPN(5, [8, 8, 8]).named_parameters()}
    assert {"cls_weight", "loc_weight", "rpn2.cls.conv_kernel.0.weight"} <= names
    assert "rpn4.loc.head.3.bias" in names
    assert MultiRPN(5, [8, 8, 8]).cls_weight.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    "head, z, x",
    [
        (DepthwiseRPN(5, 8, 6), torch.randn(2, 8, 7, 7), torch.randn(2, 8, 15, 15)),
        (MultiRPN(5, [8, 8, 8]), *_stages(2)),
    ],
)
def test_kernels_then_correlate_equals_forward(head, z, x):
    torch.manual_seed(4)
    _randomise(head)
    with torch.no_grad():
        direct = head(z, x)
        kernels = head.kernels(z)
        reused = head.correlate(kernels, x)
    torch.testing.assert_close(reused, direct)


def test_one_template_serves_a_batch_of_searches():
    torch.manual_seed(5)
    head = _randomise(DepthwiseRPN(5, 8, 6))
    z, x = torch.randn(1, 8, 7, 7), torch.randn(3, 8, 15, 15)
    with torch.no_grad():
        cls, loc = head.correlate(head.kernels(z), x)
        cls_1, loc_1 = head(z, x[1:2])
    assert cls.shape == (3, 10, 9, 9)
    torch.testing.assert_close(cls[1:2], cls_1)
    torch.testing.assert_close(loc[1:2], loc_1)


def test_bad_sizes_are_rejected_with_their_name():
    with pytest.raises(ValueError, match="hidden"):
        DepthwiseXCorr(8, 0, 4)
    with pytest.raises(ValueError, match="anchor_num"):
        DepthwiseRPN(anchor_num=0)
    with pytest.raises(ValueError, match="in_channels"):
        MultiRPN(5, [])


def test_wrong_number_of_stages_is_rejected():
    head = MultiRPN(5, [8, 8, 8]).eval()
    z, x = _stages(1)
    with pytest.raises(ValueError, match="x must be a list of 3"):
        head(z, x[:2])
    with pytest.raises(ValueError, match="z must be a list of 3"):
        head.kernels(z[0])


def test_mismatched_channels_are_rejected():
    head = DepthwiseRPN(5, 8, 6).eval()
    kernels = head.kernels(torch.randn(2, 8, 7, 7))
    with pytest.raises(ValueError, match="batch"):
        head.correlate(kernels, torch.randn(3, 8, 15, 15))
