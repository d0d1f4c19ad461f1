"""Necks: what adapts the backbone's features to the head (SiamRPN++, Li et al. 2019).

SiamRPN++ feeds three ResNet stages of 512, 1024 and 2048 channels to its RPN heads;
a neck brings each to the same small width with a 1×1 convolution and batch norm. The
padded backbone also gives the 127-pixel template 15×15 features whose outer cells
mostly see zero padding, so the neck keeps only their central 7×7 (the reference's
rule: any map narrower than 20 cells is a template's).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

#: Feature maps narrower than this are template features and get cropped.
TEMPLATE_MAX_SIDE = 20


def center_crop(features: torch.Tensor, size: int) -> torch.Tensor:
    """The central `size × size` cells of `features (N, C, H, W)` (for 15 and 7:
    rows and columns 4 … 10)."""
    top = (features.shape[-2] - size) // 2
    left = (features.shape[-1] - size) // 2
    return features[:, :, top : top + size, left : left + size]


class AdjustLayer(nn.Module):
    """One stage's adapter: `downsample` = 1×1 convolution (no bias) + batch norm to
    `out_channels`; template-sized outputs (side < 20) cropped to `center_size`."""

    def __init__(self, in_channels: int, out_channels: int, center_size: int = 7):
        super().__init__()
        for name, value in (
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("center_size", center_size),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.center_size = center_size
        self.downsample = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        out = self.downsample(features)
        if out.shape[-1] < TEMPLATE_MAX_SIDE:
            out = center_crop(out, self.center_size)
        return out


class AdjustAllLayer(nn.Module):
    """An `AdjustLayer` per backbone stage, named `downsample2`, `downsample3`, … as in
    the authors' release (the first used stage is layer2); with a single stage the
    adapter itself is `downsample` and `forward` takes and returns one tensor.

    `forward(features)`: a list of `(N, in_channels[i], H, W)` → a list of
    `(N, out_channels[i], H', W')`, `H' = center_size` for template features.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        out_channels: Sequence[int],
        center_size: int = 7,
    ) -> None:
        super().__init__()
        if len(in_channels) != len(out_channels) or not in_channels:
            raise ValueError(
                "in_channels and out_channels must be non-empty and of one length, "
                f"got {list(in_channels)!r} and {list(out_channels)!r}"
            )
        self.num = len(in_channels)
        self.out_channels = list(out_channels)
        if self.num == 1:
            self.downsample = AdjustLayer(in_channels[0], out_channels[0], center_size)
        else:
            for i, (cin, cout) in enumerate(zip(in_channels, out_channels)):
                adjust = AdjustLayer(cin, cout, center_size)
                self.add_module(f"downsample{i + 2}", adjust)

    def adjusters(self) -> list[AdjustLayer]:
        """The per-stage adapters in order."""
        if self.num == 1:
            return [self.downsample]
        return [getattr(self, f"downsample{i + 2}") for i in range(self.num)]

    def forward(
        self, features: torch.Tensor | Sequence[torch.Tensor]
    ) -> torch.Tensor | list[torch.Tensor]:
        if self.num == 1 and isinstance(features, torch.Tensor):
            return self.downsample(features)
        if len(features) != self.num:
            raise ValueError(f"expected {self.num} feature maps, got {len(features)}")
        return [adjust(f) for adjust, f in zip(self.adjusters(), features)]
