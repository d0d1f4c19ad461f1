"""The three cross-correlations agree with each other and with a hand computation."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from siamlab.nn.xcorr import (
    xcorr_batched,
    xcorr_depthwise,
    xcorr_grouped,
    xcorr_loop,
)


def test_xcorr_of_hand_computed_case():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    z = torch.tensor([[[[1.0, 0.0], [0.0, -1.0]]]])
    # every window: x[i, j] - x[i + 1, j + 1] = -5
    expected = torch.full((1, 1, 3, 3), -5.0)
    for fn in (xcorr_loop, xcorr_batched):
        assert torch.equal(fn(z, x), expected)
    assert torch.equal(xcorr_depthwise(z, x), expected)


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 5),
    channels=st.integers(1, 6),
    kernel=st.integers(1, 5),
    extra=st.integers(0, 6),
    seed=st.integers(0, 1000),
)
def test_three_forms_agree(batch, channels, kernel, extra, seed):
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(batch, channels, kernel, kernel + 1, generator=generator)
    x = torch.randn(
        batch, channels, kernel + extra, kernel + 1 + extra + 1, generator=generator
    )
    loop = xcorr_loop(z, x)
    assert loop.shape == (batch, 1, extra + 1, extra + 2)
    torch.testing.assert_close(xcorr_batched(z, x), loop, atol=1e-5, rtol=1e-5)
    depthwise = xcorr_depthwise(z, x)
    assert depthwise.shape == (batch, channels, extra + 1, extra + 2)
    torch.testing.assert_close(
        depthwise.sum(dim=1, keepdim=True), loop, atol=1e-5, rtol=1e-5
    )


def test_batched_equals_loop_on_siamfc_sizes():
    # float64: a sum of 2,304 products loses ~1e-4 to float32 rounding, whatever the
    # order
    torch.manual_seed(0)
    z, x = (
        torch.randn(8, 64, 6, 6, dtype=torch.float64),
        torch.randn(8, 64, 22, 22, dtype=torch.float64),
    )
    out = xcorr_batched(z, x)
    assert out.shape == (8, 1, 17, 17)
    torch.testing.assert_close(out, xcorr_loop(z, x), atol=1e-5, rtol=1e-5)


def test_single_exemplar_is_shared_by_every_search():
    torch.manual_seed(1)
    z, x = torch.randn(1, 3, 3, 3), torch.randn(4, 3, 7, 7)
    out = xcorr_batched(z, x)
    for i in range(4):
        torch.testing.assert_close(out[i : i + 1], xcorr_loop(z, x[i : i + 1]))


def test_each_pair_only_sees_its_own_search():
    z = torch.ones(2, 1, 1, 1)
    x = torch.stack([torch.zeros(1, 3, 3), torch.ones(1, 3, 3)])
    out = xcorr_batched(z, x)
    assert out[0].abs().sum() == 0 and torch.all(out[1] == 1)


@pytest.mark.parametrize(
    "z_shape, x_shape, match",
    [
        ((1, 3, 3), (1, 3, 5, 5), "4-D"),
        ((1, 2, 3, 3), (1, 3, 5, 5), "same channels"),
        ((2, 3, 3, 3), (3, 3, 5, 5), "batch 1 or the batch"),
        ((1, 3, 6, 6), (1, 3, 5, 5), "larger"),
    ],
)
def test_bad_shapes_are_rejected(z_shape, x_shape, match):
    for fn in (xcorr_loop, xcorr_batched, xcorr_depthwise):
        with pytest.raises(ValueError, match=match):
            fn(torch.zeros(z_shape), torch.zeros(x_shape))


@pytest.mark.parametrize("batch_z, batch_x", [(1, 1), (1, 5), (5, 5)])
def test_batched_equals_loop_for_one_and_broadcast_exemplars(batch_z, batch_x):
    generator = torch.Generator().manual_seed(batch_z * 10 + batch_x)
    z = torch.randn(batch_z, 16, 6, 6, generator=generator)
    x = torch.randn(batch_x, 16, 22, 22, generator=generator)
    out = xcorr_batched(z, x)
    assert out.shape == (batch_x, 1, 17, 17)
    torch.testing.assert_close(out, xcorr_loop(z, x), atol=1e-4, rtol=1e-5)


def test_batched_equals_loop_on_odd_non_square_sizes():
    generator = torch.Generator().manual_seed(3)
    z = torch.randn(3, 5, 3, 5, dtype=torch.float64, generator=generator)
    x = torch.randn(3, 5, 9, 12, dtype=torch.float64, generator=generator)
    out = xcorr_batched(z, x)
    assert out.shape == (3, 1, 7, 8)
    torch.testing.assert_close(out, xcorr_loop(z, x), atol=1e-12, rtol=1e-12)


def test_batched_equals_loop_for_a_kernel_as_large_as_the_search():
    generator = torch.Generator().manual_seed(4)
    z, x = (torch.randn(2, 4, 5, 7, generator=generator) for _ in range(2))
    out = xcorr_batched(z, x)
    assert out.shape == (2, 1, 1, 1)
    torch.testing.assert_close(out, xcorr_loop(z, x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("batch_z", [1, 3])
def test_batched_gradients_equal_the_loops(batch_z):
    generator = torch.Generator().manual_seed(5)
    z = torch.randn(batch_z, 4, 3, 2, dtype=torch.float64, generator=generator)
    x = torch.randn(3, 4, 7, 6, dtype=torch.float64, generator=generator)
    weights = torch.randn(3, 1, 5, 5, dtype=torch.float64, generator=generator)
    grads = []
    for fn in (xcorr_loop, xcorr_batched):
        zz, xx = z.clone().requires_grad_(), x.clone().requires_grad_()
        (fn(zz, xx) * weights).sum().backward()
        grads.append((zz.grad, xx.grad))
    for got, expected in zip(grads[1], grads[0]):
        torch.testing.assert_close(got, expected, atol=1e-12, rtol=1e-12)
    assert torch.autograd.gradcheck(
        xcorr_batched, (z.requires_grad_(), x.requires_grad_())
    )


def test_batched_takes_the_grouped_form_off_the_cpu():
    # the meta device computes shapes only: this runs the GPU branch without a GPU
    z, x = torch.zeros(1, 8, 6, 6), torch.zeros(4, 8, 22, 22)
    out = xcorr_batched(z.to("meta"), x.to("meta"))
    assert out.shape == (4, 1, 17, 17) and out.device.type == "meta"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_batched_equals_loop_on_cuda():
    generator = torch.Generator().manual_seed(6)
    z = torch.randn(8, 64, 6, 6, dtype=torch.float64, generator=generator)
    x = torch.randn(8, 64, 22, 22, dtype=torch.float64, generator=generator)
    out = xcorr_batched(z.cuda(), x.cuda()).cpu()
    torch.testing.assert_close(out, xcorr_loop(z, x), atol=1e-9, rtol=1e-9)


def test_grouped_equals_loop_with_a_shared_exemplar():
    generator = torch.Generator().manual_seed(7)
    z = torch.randn(1, 16, 5, 4, dtype=torch.float64, generator=generator)
    x = torch.randn(3, 16, 13, 11, dtype=torch.float64, generator=generator)
    torch.testing.assert_close(
        xcorr_grouped(z, x), xcorr_loop(z, x), atol=1e-12, rtol=1e-12
    )
