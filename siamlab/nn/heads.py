"""Heads: what turns features into the network's output.

The SiamFC head (Bertinetto et al. 2016) is the cross-correlation itself, `f(z, x) = s ·
(φ(z) ⋆ φ(x)) + b`, with a fixed output scale `s` that brings the raw correlations (sums
over `C·h·w` products) into the range where the logistic loss trains well, and one
learned bias `b`. The region proposal head of Faster R-CNN (Ren et al. 2015), `RPNHead`,
slides a 3×3 convolution over a feature map and feeds two sibling 1×1 convolutions: `2k`
objectness logits and `4k` box offsets per position. SiamRPN++ (Li et al. 2019)
replaces SiamRPN's up-channel lift by a depthwise correlation mixed afterwards
(`DepthwiseRPN`) and averages such heads over three backbone stages (`MultiRPN`).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from siamlab.nn.xcorr import xcorr_batched, xcorr_depthwise


class SiamFCHead(nn.Module):
    """`response = out_scale · xcorr_batched(z, x) + bias`.

    `z (N or 1, C, h, w)` exemplar features, `x (N, C, H, W)` search features → `(N, 1,
    H - h + 1, W - w + 1)` score map (logits). `out_scale` is a constant (0.001 in the
    authors' code for the full network); `bias` is learned, starting at 0.
    """

    def __init__(self, out_scale: float = 0.001) -> None:
        super().__init__()
        if not out_scale > 0:
            raise ValueError(f"out_scale must be positive, got {out_scale}")
        self.out_scale = float(out_scale)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.out_scale * xcorr_batched(z, x) + self.bias

    def extra_repr(self) -> str:
        return f"out_scale={self.out_scale}"


class RPNHead(nn.Module):
    """Faster R-CNN's region proposal head: 3×3 conv + ReLU, two sibling 1×1 convs.

    `features (N, C, S, S)` → `cls (N, 2k, S, S)` logits (background, object) and `reg
    (N, 4k, S, S)` offsets `(dx, dy, dw, dh)`, for `k = num_anchors` anchors a position.
    The 3×3 window is the "sliding window" of the paper (256 channels for ZF, 512 for
    VGG); the 1×1 branches are a fully-connected layer applied at every position.
    """

    def __init__(
        self, in_channels: int, num_anchors: int, mid_channels: int = 256
    ) -> None:
        super().__init__()
        for name, value in [
            ("in_channels", in_channels),
            ("num_anchors", num_anchors),
            ("mid_channels", mid_channels),
        ]:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.window = nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1)
        self.cls = nn.Conv2d(mid_channels, 2 * num_anchors, kernel_size=1)
        self.reg = nn.Conv2d(mid_channels, 4 * num_anchors, kernel_size=1)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = torch.relu(self.window(features))
        return self.cls(hidden), self.reg(hidden)


class UpChannelRPN(nn.Module):
    """SiamRPN's head (Li et al. 2018): the template becomes the weights of an RPN.

    The template features `z (N, Cin, h, w)` are lifted by a 3×3 convolution to
    `2k·C` and `4k·C` channels and read as `2k` and `4k` kernels of `C` channels
    each (`kernels`); the search features `x (N, Cin, H, W)` pass a 3×3 convolution
    that keeps `C` channels; each kernel is slid over them (`correlate`), giving
    `cls (N, 2k, S, S)` objectness logits and `loc (N, 4k, S, S)` box deltas, the
    latter mixed by a 1×1 `adjust` convolution; `S = (H − 2) − (h − 2) + 1`.
    Channel `a·C + c` of a lift is channel `c` of kernel `a`, as in the published
    weights.
    """

    def __init__(
        self, in_channels: int, channels: int = 256, num_anchors: int = 5
    ) -> None:
        super().__init__()
        for name, value in [
            ("in_channels", in_channels),
            ("channels", channels),
            ("num_anchors", num_anchors),
        ]:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.channels, self.num_anchors = channels, num_anchors
        k = num_anchors
        self.template_cls = nn.Conv2d(in_channels, channels * 2 * k, kernel_size=3)
        self.template_reg = nn.Conv2d(in_channels, channels * 4 * k, kernel_size=3)
        self.search_cls = nn.Conv2d(in_channels, channels, kernel_size=3)
        self.search_reg = nn.Conv2d(in_channels, channels, kernel_size=3)
        self.adjust = nn.Conv2d(4 * k, 4 * k, kernel_size=1)

    def kernels(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Template features `(N, Cin, h, w)` → kernels `(N, 2k, C, h−2, w−2)` and
        `(N, 4k, C, h−2, w−2)`: computed once per target, reused for every frame."""
        cls, reg = self.template_cls(z), self.template_reg(z)
        n, _, h, w = cls.shape
        c = self.channels
        return cls.reshape(n, -1, c, h, w), reg.reshape(n, -1, c, h, w)

    def correlate(
        self, kernels: tuple[torch.Tensor, torch.Tensor], x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Slide the kernels (batch N or 1) over search features `x (N, Cin, H, W)`;
        returns `(cls (N, 2k, S, S), loc (N, 4k, S, S))`."""
        cls_kernel, reg_kernel = kernels
        cls = _correlate_kernels(cls_kernel, self.search_cls(x))
        loc = self.adjust(_correlate_kernels(reg_kernel, self.search_reg(x)))
        return cls, loc

    def forward(
        self, z: torch.Tensor, x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.correlate(self.kernels(z), x)


def _correlate_kernels(kernels: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Each sample's `m` kernels `(N or 1, m, C, h, w)` over its features
    `x (N, C, H, W)` in one grouped convolution (the batch folded into channels)
    → `(N, m, S, S)`."""
    if kernels.dim() != 5 or x.dim() != 4 or kernels.shape[2] != x.shape[1]:
        raise ValueError(
            f"kernels must be (N, m, C, h, w) and x (N, C, H, W) with the same C, got "
            f"{tuple(kernels.shape)} and {tuple(x.shape)}"
        )
    n, c, height, width = x.shape
    if kernels.shape[0] not in (1, n):
        raise ValueError(
            f"kernels must have batch 1 or the batch of x ({n}), got {kernels.shape[0]}"
        )
    kernels = kernels.expand(n, -1, -1, -1, -1)
    m = kernels.shape[1]
    flat = kernels.reshape(n * m, c, kernels.shape[3], kernels.shape[4])
    out = torch.nn.functional.conv2d(x.reshape(1, n * c, height, width), flat, groups=n)
    return out.reshape(n, m, out.shape[-2], out.shape[-1])


class DepthwiseXCorr(nn.Module):
    """SiamRPN++'s correlation branch (Li et al. 2019): depthwise, then mixed.

    Template and search features pass their own 3×3 convolution (no bias) + BN + ReLU
    to `hidden` channels (`conv_kernel`, `conv_search`); each channel of the template's
    is slid over the same channel of the search's (`xcorr_depthwise`), and a 1×1 conv +
    BN + ReLU + 1×1 conv (`head`) mixes the `hidden` correlation maps into
    `out_channels` outputs. Unlike `UpChannelRPN`'s lift, no layer grows with `k`, so
    the branch is light and its parameters balanced between the two inputs.

    `z (N, Cin, h, w)`, `x (N, Cin, H, W)` → `(N, out_channels, H − h + 1, W − w + 1)`.
    """

    def __init__(
        self, in_channels: int, hidden: int, out_channels: int, kernel_size: int = 3
    ) -> None:
        super().__init__()
        _check_positive(
            in_channels=in_channels,
            hidden=hidden,
            out_channels=out_channels,
            kernel_size=kernel_size,
        )

        def adapt() -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(in_channels, hidden, kernel_size, bias=False),
                nn.BatchNorm2d(hidden),
                nn.ReLU(inplace=True),
            )

        self.conv_kernel = adapt()
        self.conv_search = adapt()
        self.head = nn.Sequential(
            nn.Conv2d(hidden, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, out_channels, 1),
        )

    def kernels(self, z: torch.Tensor) -> torch.Tensor:
        """Template features `(N, Cin, h, w)` → the kernel `(N, hidden, h', w')`."""
        return self.conv_kernel(z)

    def correlate(self, kernel: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The kernel (batch N or 1) over search features `x (N, Cin, H, W)`."""
        return self.head(xcorr_depthwise(kernel, self.conv_search(x)))

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.correlate(self.kernels(z), x)


class DepthwiseRPN(nn.Module):
    """SiamRPN++'s RPN head: a `DepthwiseXCorr` branch `cls` to `2k` objectness
    logits and one `loc` to `4k` box deltas, each with `out_channels` hidden channels.

    `forward(z, x)` → `(cls (N, 2k, S, S), loc (N, 4k, S, S))`, channels in the
    layout of `UpChannelRPN` (`siamlab.anchors.per_anchor`); `kernels(z)` computes the
    template's part once per target, `correlate(kernels, x)` the rest.
    """

    def __init__(
        self, anchor_num: int = 5, in_channels: int = 256, out_channels: int = 256
    ) -> None:
        super().__init__()
        _check_positive(anchor_num=anchor_num)
        self.num_anchors = anchor_num
        self.cls = DepthwiseXCorr(in_channels, out_channels, 2 * anchor_num)
        self.loc = DepthwiseXCorr(in_channels, out_channels, 4 * anchor_num)

    def kernels(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The `cls` and `loc` kernels of template features `z (N, Cin, h, w)`."""
        return self.cls.kernels(z), self.loc.kernels(z)

    def correlate(
        self, kernels: tuple[torch.Tensor, torch.Tensor], x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """`(cls, loc)` of search features `x (N, Cin, H, W)`."""
        return self.cls.correlate(kernels[0], x), self.loc.correlate(kernels[1], x)

    def forward(
        self, z: torch.Tensor, x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.correlate(self.kernels(z), x)


class MultiRPN(nn.Module):
    """SiamRPN++'s layer-wise aggregation: a `DepthwiseRPN` per backbone stage
    (`rpn2`, `rpn3`, `rpn4`: layer2 … layer4, as in the authors' release), their
    outputs averaged with weights `softmax(cls_weight)` and `softmax(loc_weight)`
    learned separately for the two branches (`weighted`), or plainly (not).

    Low stages locate precisely, high ones recognise the object; the weights let the
    training choose the mix. `z`, `x` are lists of per-stage features; outputs as
    `DepthwiseRPN`'s. `hidden`: the heads' channels (default: each stage's input
    channels, as in the release).
    """

    def __init__(
        self,
        anchor_num: int,
        in_channels: Sequence[int],
        weighted: bool = True,
        hidden: int | None = None,
    ) -> None:
        super().__init__()
        if isinstance(in_channels, (int, str)) or not len(in_channels):
            raise ValueError(
                f"in_channels must be a non-empty list, got {in_channels!r}"
            )
        self.num_anchors, self.weighted = anchor_num, bool(weighted)
        for index, channels in enumerate(in_channels, start=2):
            rpn = DepthwiseRPN(anchor_num, channels, hidden or channels)
            self.add_module(f"rpn{index}", rpn)
        if self.weighted:
            self.cls_weight = nn.Parameter(torch.ones(len(in_channels)))
            self.loc_weight = nn.Parameter(torch.ones(len(in_channels)))

    def rpns(self) -> list[DepthwiseRPN]:
        """The per-stage heads in order."""
        return [m for m in self.children() if isinstance(m, DepthwiseRPN)]

    def weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The stages' weights in the `cls` and `loc` averages (each sums to 1)."""
        if self.weighted:
            return self.cls_weight.softmax(0), self.loc_weight.softmax(0)
        count = len(self.rpns())
        device = self.rpns()[0].cls.head[3].weight.device
        uniform = torch.full((count,), 1.0 / count, device=device)
        return uniform, uniform

    def kernels(
        self, z: Sequence[torch.Tensor]
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Each stage's kernels of its template features."""
        self._check_stages("z", z)
        return [rpn.kernels(f) for rpn, f in zip(self.rpns(), z)]

    def correlate(
        self,
        kernels: Sequence[tuple[torch.Tensor, torch.Tensor]],
        x: Sequence[torch.Tensor],
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The weighted average of each stage's `(cls, loc)`."""
        self._check_stages("kernels", kernels)
        self._check_stages("x", x)
        outputs = [rpn.correlate(k, f) for rpn, k, f in zip(self.rpns(), kernels, x)]
        cls_weight, loc_weight = self.weights()
        cls = sum(w * c for w, (c, _) in zip(cls_weight, outputs))
        loc = sum(w * r for w, (_, r) in zip(loc_weight, outputs))
        return cls, loc

    def forward(
        self, z: Sequence[torch.Tensor], x: Sequence[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.correlate(self.kernels(z), x)

    def _check_stages(self, name: str, values: Sequence[object]) -> None:
        if isinstance(values, torch.Tensor) or len(values) != len(self.rpns()):
            raise ValueError(
                f"{name} must be a list of {len(self.rpns())} per-stage entries, got "
                f"{type(values).__name__} of length {len(values)}"
            )


def _check_positive(**values: object) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
