"""Heads: what turns a pair of embeddings into the tracker's output (SiamFC, Bertinetto et al. 2016).

The SiamFC head is the cross-correlation itself, `f(z, x) = s · (φ(z) ⋆ φ(x)) + b`, with a fixed
output scale `s` that brings the raw correlations (sums over `C·h·w` products) into the range
where the logistic loss trains well, and one learned bias `b`.
"""

from __future__ import annotations

import torch
from torch import nn

from siamlab.nn.xcorr import xcorr_batched


class SiamFCHead(nn.Module):
    """`response = out_scale · xcorr_batched(z, x) + bias`.

    `z (N or 1, C, h, w)` exemplar features, `x (N, C, H, W)` search features →
    `(N, 1, H - h + 1, W - w + 1)` score map (logits). `out_scale` is a constant (0.001 in the
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
