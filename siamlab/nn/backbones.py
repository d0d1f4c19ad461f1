"""Backbones φ: the convolutional embeddings the Siamese trackers share (SiamFC,
Bertinetto et al. 2016).

SiamFC's φ is AlexNet's five convolutions without padding and without fully-connected
layers, so it is fully convolutional with total stride 8: a larger input gives a larger
feature map, and each feature cell sees a translated window of the input. A `width`
multiplier scales every layer's channels so that the same architecture trains on a CPU
(`width=0.25`) or matches the paper (`1.0`).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

#: Channels of SiamFC's AlexNet at full width (Bertinetto et al. 2016, Table 1).
ALEXNET_CHANNELS: tuple[int, ...] = (96, 256, 384, 384, 256)


def scaled_channels(
    width: float, channels: Sequence[int] = ALEXNET_CHANNELS, groups: int = 2
) -> list[int]:
    """`channels` times `width`, rounded to a positive multiple of `groups` (grouped
    convolutions need channel counts divisible by their group count)."""
    if not (isinstance(width, (int, float)) and width > 0):
        raise ValueError(f"width must be a positive number, got {width!r}")
    return [max(groups, int(round(c * width / groups)) * groups) for c in channels]


class AlexNet(nn.Module):
    """SiamFC's AlexNet φ: `conv 11/2 → pool 3/2 → conv 5 → pool 3/2 → conv 3 → conv 3 →
    conv 3`.

    Input `float32 (N, 3, H, W)` with values 0-255 (crops from
    `siamlab.crops.to_tensor`); output `(N, C, H', W')` with `C = out_channels` and,
    without padding, `H' = (H - 87) // 8 + 1` for inputs where the pooling divides
    evenly (127 → 6, 255 → 22). Options:

    - `width`: channel multiplier (1.0 = the paper's 96-256-384-384-256);
    - `padding`: zero padding `k // 2` in every convolution. SiamFC has none, which
      keeps the network strictly translation-equivariant; padded networks (chapter 6)
      lose that property;
    - `groups`: the grouped convolutions of conv2, conv4 and conv5, as in the original
      AlexNet.

    Every convolution but the last is followed by batch normalisation and ReLU; conv5 is
    linear, so the cross-correlation of two embeddings can be negative.
    """

    def __init__(
        self, width: float = 1.0, padding: bool = False, groups: int = 2
    ) -> None:
        super().__init__()
        if not isinstance(groups, int) or groups < 1:
            raise ValueError(f"groups must be a positive integer, got {groups!r}")
        c1, c2, c3, c4, c5 = scaled_channels(width, groups=groups)
        self.width, self.padding, self.groups = float(width), bool(padding), groups
        self.out_channels = c5
        self.total_stride = 8

        def conv(cin: int, cout: int, k: int, stride: int = 1, g: int = 1) -> nn.Conv2d:
            return nn.Conv2d(
                cin, cout, k, stride, padding=k // 2 if padding else 0, groups=g
            )

        def block(*layers: nn.Module) -> nn.Sequential:
            return nn.Sequential(*layers)

        self.conv1 = block(
            conv(3, c1, 11, 2),
            nn.BatchNorm2d(c1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
        )
        self.conv2 = block(
            conv(c1, c2, 5, g=groups),
            nn.BatchNorm2d(c2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
        )
        self.conv3 = block(conv(c2, c3, 3), nn.BatchNorm2d(c3), nn.ReLU(inplace=True))
        self.conv4 = block(
            conv(c3, c4, 3, g=groups), nn.BatchNorm2d(c4), nn.ReLU(inplace=True)
        )
        self.conv5 = block(conv(c4, c5, 3, g=groups))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Embed `images (N, 3, H, W)` (0-255) as features `(N, out_channels, h, w)`."""
        x = images / 255.0
        for stage in (self.conv1, self.conv2, self.conv3, self.conv4, self.conv5):
            x = stage(x)
        return x

    def feature_size(self, input_size: int) -> int:
        """Side of the feature map for a square input of side `input_size` (or 0)."""
        size = int(input_size)
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
                k, s, p = (
                    _pair(module.kernel_size),
                    _pair(module.stride),
                    _pair(module.padding),
                )
                size = (size + 2 * p - k) // s + 1 if size + 2 * p >= k else 0
        return max(size, 0)


def _pair(value: int | tuple[int, ...]) -> int:
    return int(value[0]) if isinstance(value, tuple) else int(value)


def layer_shapes(
    model: nn.Module, input_size: int, channels: int = 3
) -> list[tuple[str, tuple[int, ...]]]:
    """Output shape of every convolution, pooling and whole stage for one `input_size²`
    image.

    Returns `[(layer name, (C, H, W)), ...]` in execution order, as printed in chapter
    2.
    """
    shapes: list[tuple[str, tuple[int, ...]]] = []
    hooks = []
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
            hooks.append(
                module.register_forward_hook(
                    lambda m, i, o, name=name: shapes.append((name, tuple(o.shape[1:])))
                )
            )
    try:
        with torch.no_grad():
            was_training = model.training
            model.eval()
            model(
                torch.zeros(
                    1, channels, input_size, input_size, device=_device_of(model)
                )
            )
            model.train(was_training)
    finally:
        for hook in hooks:
            hook.remove()
    return shapes


def conv_macs(model: nn.Module, input_shape: Sequence[int]) -> int:
    """Multiply-accumulate operations of all convolutions of `model` on one input of
    `input_shape` `(N, C, H, W)` (batch included). One MAC is two FLOPs; BN, ReLU and
    pooling are not counted."""
    total = 0

    def count(
        module: nn.Conv2d, inputs: tuple[torch.Tensor], output: torch.Tensor
    ) -> None:
        nonlocal total
        kh, kw = module.kernel_size
        total += output.numel() * (module.in_channels // module.groups) * kh * kw

    hooks = [
        m.register_forward_hook(count)
        for m in model.modules()
        if isinstance(m, nn.Conv2d)
    ]
    try:
        with torch.no_grad():
            was_training = model.training
            model.eval()
            model(torch.zeros(*input_shape, device=_device_of(model)))
            model.train(was_training)
    finally:
        for hook in hooks:
            hook.remove()
    return total


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _device_of(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")
