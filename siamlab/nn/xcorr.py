"""Cross-correlation of embeddings: the similarity function of the fully-convolutional
Siamese trackers.

SiamFC (Bertinetto et al. 2016) scores every translated window of the search image at
once with `f(z, x) = φ(z) ⋆ φ(x) + b`: the exemplar's features are the kernel slid over
the search features. Written per sample it is a loop of convolutions; written for a
batch it is ONE grouped convolution (the batch folded into channels) or, faster on a
CPU, one matrix product and a sum of shifted maps; keeping the channels apart gives the
depthwise form of SiamRPN++ (Li et al. 2019).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _check_pair(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Check kernels `(N or 1, C, h, w)` against search features `(N, C, H, W)`;
    broadcast z."""
    if z.dim() != 4 or x.dim() != 4:
        raise ValueError(
            "z and x must be 4-D (N, C, H, W), "
            f"got shapes {tuple(z.shape)} and {tuple(x.shape)}"
        )
    if z.shape[1] != x.shape[1]:
        raise ValueError(
            f"z and x must have the same channels, got {z.shape[1]} and {x.shape[1]}"
        )
    if z.shape[0] not in (1, x.shape[0]):
        raise ValueError(
            f"z must have batch 1 or the batch of x ({x.shape[0]}), got {z.shape[0]}"
        )
    if z.shape[2] > x.shape[2] or z.shape[3] > x.shape[3]:
        raise ValueError(
            f"z {tuple(z.shape[2:])} must not be larger than x {tuple(x.shape[2:])}"
        )
    return z.expand(x.shape[0], -1, -1, -1)


def xcorr_loop(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The definition: for each pair `i`, slide `z[i]` over `x[i]` summing over
    channels.

    `z (N, C, h, w)` (or batch 1, shared by every `x`), `x (N, C, H, W)` →
    `(N, 1, H - h + 1, W - w + 1)`. One convolution call per sample: clear but slow.
    """
    z = _check_pair(z, x)
    return torch.cat([F.conv2d(x[i : i + 1], z[i : i + 1]) for i in range(x.shape[0])])


def xcorr_grouped(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """All pairs in ONE grouped convolution: the batch is folded into the channels.

    `x` becomes one image with `N·C` channels and `z` `N` kernels of `C` channels with
    `groups=N`, so kernel `i` only sees the channels of `x[i]`. Same shapes and values
    as `xcorr_loop`; the form of the authors' code, and the fast one on a GPU.
    """
    z = _check_pair(z, x)
    n, c, height, width = x.shape
    out = F.conv2d(x.reshape(1, n * c, height, width), z, groups=n)
    return out.reshape(n, 1, out.shape[-2], out.shape[-1])


def xcorr_batched(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """All pairs at once, in the form that is fastest on the device; same shapes and
    values as `xcorr_loop` (up to float rounding).

    Off the CPU, `xcorr_grouped`. CPU libraries lack fast kernels for many groups of
    many channels, so on the CPU one batched matrix product takes, for every kernel
    offset `(i, j)`, the dot product over channels of `z[:, :, i, j]` with `x` at
    every position; these `h·w` maps, each shifted by `(i, j)`, sum to the
    correlation.
    """
    if x.device.type != "cpu":
        return xcorr_grouped(z, x)
    z = _check_pair(z, x)
    n, c, height, width = x.shape
    h, w = z.shape[-2:]
    dots = z.flatten(2).transpose(1, 2) @ x.flatten(2)  # (N, h·w, H·W)
    dots = dots.reshape(n, h, w, height, width)
    # a view whose element (n, i, j, r, s) is dots[n, i, j, r + i, s + j]: one step
    # in i is a step of one kernel row and one search row (likewise j, columns)
    step = dots.stride()
    shifted = dots.as_strided(
        (n, h, w, height - h + 1, width - w + 1),
        (step[0], step[1] + step[3], step[2] + step[4], step[3], step[4]),
    )
    return shifted.sum(dim=(1, 2)).unsqueeze(1)


def xcorr_depthwise(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Channel by channel: each channel of `z[i]` is slid over the same channel of
    `x[i]`.

    Returns `(N, C, H - h + 1, W - w + 1)`; summing over channels gives `xcorr_loop`.
    SiamRPN++ uses this lighter form so that a head can mix the `C` correlation maps
    afterwards.
    """
    z = _check_pair(z, x)
    n, c, h, w = x.shape
    out = F.conv2d(
        x.reshape(1, n * c, h, w),
        z.reshape(n * c, 1, z.shape[2], z.shape[3]),
        groups=n * c,
    )
    return out.reshape(n, c, out.shape[-2], out.shape[-1])
