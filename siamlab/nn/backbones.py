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


# --- The ResNet of SiamRPN++ ---------------------------------------------------------

#: Stem and per-stage widths of ResNet-50 (He et al. 2016): the stem's 64 filters and
#: each stage's bottleneck width; a stage outputs `expansion ×` its width.
RESNET50_CHANNELS: tuple[int, ...] = (64, 64, 128, 256, 512)

#: The CPU preset's widths (`ResNet.tiny`): basic blocks of 16, 32, 48 and 64 filters.
RESNET_TINY_CHANNELS: tuple[int, ...] = (16, 16, 32, 48, 64)


def _entry_geometry(stride: int, dilation: int, downsample: bool) -> tuple[int, int]:
    """`(dilation, padding)` of a block's strided / entry 3×3 convolution.

    SiamRPN++'s rule: the first block of a dilated stage (the one with a projection)
    uses half the stage's dilation, so that the dilation grows gradually; an undilated
    3×3 convolution is padded by 1 at stride 1 and not at all at stride 2.
    """
    if downsample and dilation > 1:
        dilation //= 2
    return dilation, dilation if dilation > 1 else 2 - stride


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with a residual connection (ResNet-18/34); `expansion`
    1. `dilation` is the stage's; `downsample` projects the shortcut."""

    expansion = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        dilation: int = 1,
        downsample: nn.Module | None = None,
    ) -> None:
        super().__init__()
        entry, pad = _entry_geometry(stride, dilation, downsample is not None)
        self.conv1 = nn.Conv2d(
            inplanes, planes, 3, stride, pad, dilation=entry, bias=False
        )
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(
            planes, planes, 3, 1, dilation, dilation=dilation, bias=False
        )
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class Bottleneck(nn.Module):
    """1×1 reduce, 3×3 (strided or dilated), 1×1 expand to `4 · planes`, with a
    residual connection (ResNet-50)."""

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        dilation: int = 1,
        downsample: nn.Module | None = None,
    ) -> None:
        super().__init__()
        entry, pad = _entry_geometry(stride, dilation, downsample is not None)
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(
            planes, planes, 3, stride, pad, dilation=entry, bias=False
        )
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


_BLOCKS: dict[str, type[BasicBlock] | type[Bottleneck]] = {
    "basic": BasicBlock,
    "bottleneck": Bottleneck,
}

#: `(stride, dilation)` of layer1 … layer4 in SiamRPN++: total stride 8, and layer3 /
#: layer4 keep the resolution and widen their receptive fields by dilation instead.
_STAGE_GEOMETRY: tuple[tuple[int, int], ...] = ((1, 1), (2, 1), (1, 2), (1, 4))


class ResNet(nn.Module):
    """The ResNet of SiamRPN++ (Li et al. 2019), a padded backbone of total stride 8.

    `conv1` 7×7/2 (unpadded) → BN → ReLU → `maxpool` 3/2 (padded) → `layer1` …
    `layer4`, where layer2 halves the resolution once more and layer3 / layer4 keep it,
    dilating their 3×3 convolutions by 2 and 4 (atrous convolution) instead of
    striding. Where a stage strides or dilates, its shortcut projection is a 3×3
    convolution rather than ResNet's 1×1. The layout and the names follow the
    authors' release (pysot), so that its `backbone.*` weights load unchanged.

    Input `float32 (N, 3, H, W)` with values 0-255 RGB; `forward` returns the list of
    the `used_layers`' features (default: layer2, layer3, layer4, the paper's conv3,
    conv4 and conv5), each `(N, out_channels[i], h, w)`; 127 → 15 and 255 → 31 for
    layers 2-4. Options: `block` ("bottleneck" or "basic"), `layers` (blocks per
    stage), `channels` (stem and the four stages' widths) and `width` (a multiplier of
    all of them). Stages after the last used one are not built.
    """

    def __init__(
        self,
        block: str = "bottleneck",
        layers: Sequence[int] = (3, 4, 6, 3),
        width: float = 1.0,
        used_layers: Sequence[int] = (2, 3, 4),
        channels: Sequence[int] = RESNET50_CHANNELS,
    ) -> None:
        super().__init__()
        stem, planes = _check_resnet_args(block, layers, width, used_layers, channels)
        unit = _BLOCKS[block]
        self.block, self.width = block, float(width)
        self.used_layers = tuple(int(i) for i in used_layers)
        self.total_stride = 8
        self.conv1 = nn.Conv2d(3, stem, 7, 2, 0, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes, widths = stem, []
        for index in range(max(self.used_layers)):
            stride, dilation = _STAGE_GEOMETRY[index]
            stage = _make_stage(
                unit, inplanes, planes[index], layers[index], stride, dilation
            )
            self.add_module(f"layer{index + 1}", stage)
            inplanes = planes[index] * unit.expansion
            widths.append(inplanes)
        self.out_channels = [widths[i - 1] for i in self.used_layers]
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(
                    module.weight, mode="fan_out", nonlinearity="relu"
                )
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    @classmethod
    def resnet50(cls, used_layers: Sequence[int] = (2, 3, 4)) -> "ResNet":
        """The paper's backbone: bottleneck blocks (3, 4, 6, 3), widths 64-128-256-512
        (outputs 256-512-1024-2048)."""
        return cls("bottleneck", (3, 4, 6, 3), 1.0, used_layers, RESNET50_CHANNELS)

    @classmethod
    def tiny(cls, used_layers: Sequence[int] = (2, 3, 4)) -> "ResNet":
        """The CPU preset: one basic block a stage, widths 16-32-48-64 (stem 16); the
        paper's geometry (strides, dilations, feature sides) at a fraction of its
        cost."""
        return cls("basic", (1, 1, 1, 1), 1.0, used_layers, RESNET_TINY_CHANNELS)

    def stages(self) -> list[nn.Sequential]:
        """The built stages `layer1`, `layer2`, … in order."""
        return [m for name, m in self.named_children() if name.startswith("layer")]

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Embed `images (N, 3, H, W)` (0-255) as the used stages' features."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(images / 255.0))))
        outputs = []
        for index, layer in enumerate(self.stages(), start=1):
            x = layer(x)
            if index in self.used_layers:
                outputs.append(x)
        return outputs

    def feature_size(self, input_size: int) -> int:
        """Side of the last used stage's features for a square input of side
        `input_size` (or 0); layers 2-4 share it."""
        size = _conv_out(int(input_size), self.conv1)
        size = _conv_out(size, self.maxpool)
        for layer in self.stages():
            for unit in layer:
                for conv in (unit.conv1, unit.conv2, getattr(unit, "conv3", None)):
                    if conv is not None:
                        size = _conv_out(size, conv)
        return size


def _make_stage(
    unit: type[BasicBlock] | type[Bottleneck],
    inplanes: int,
    planes: int,
    blocks: int,
    stride: int,
    dilation: int,
) -> nn.Sequential:
    """One stage of `blocks` residual blocks; the first one projects the shortcut when
    the shape changes: 1×1 where it neither strides nor dilates, else 3×3 (unpadded at
    stride 2; at dilation `d`, dilated and padded by `d / 2`)."""
    out = planes * unit.expansion
    downsample = None
    if stride != 1 or inplanes != out:
        if stride == 1 and dilation == 1:
            conv = nn.Conv2d(inplanes, out, 1, bias=False)
        else:
            d = dilation // 2 if dilation > 1 else 1
            pad = d if dilation > 1 else 0
            conv = nn.Conv2d(inplanes, out, 3, stride, pad, dilation=d, bias=False)
        downsample = nn.Sequential(conv, nn.BatchNorm2d(out))
    blocks_ = [unit(inplanes, planes, stride, dilation, downsample)]
    blocks_ += [unit(out, planes, 1, dilation) for _ in range(1, blocks)]
    return nn.Sequential(*blocks_)


def _conv_out(size: int, layer: nn.Conv2d | nn.MaxPool2d) -> int:
    """Output side of a convolution or pooling for an input of side `size` (or 0)."""
    k, s, p = _pair(layer.kernel_size), _pair(layer.stride), _pair(layer.padding)
    d = _pair(layer.dilation)
    span = d * (k - 1) + 1
    return (size + 2 * p - span) // s + 1 if size > 0 and size + 2 * p >= span else 0


def _check_resnet_args(
    block: str,
    layers: Sequence[int],
    width: float,
    used_layers: Sequence[int],
    channels: Sequence[int],
) -> tuple[int, list[int]]:
    """`ValueError` naming the first bad argument; returns the scaled stem and stage
    widths."""
    if block not in _BLOCKS:
        raise ValueError(f"block must be one of {sorted(_BLOCKS)}, got {block!r}")
    for name, values in (("layers", layers), ("channels", channels)):
        count = 4 if name == "layers" else 5
        if (
            not isinstance(values, Sequence)
            or len(values) != count
            or not all(_positive_int(v) for v in values)
        ):
            raise ValueError(
                f"{name} must be {count} positive integers, got {values!r}"
            )
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not width > 0:
        raise ValueError(f"width must be a positive number, got {width!r}")
    used = tuple(used_layers) if isinstance(used_layers, Sequence) else ()
    if (
        not used
        or not all(_positive_int(i) and i <= 4 for i in used)
        or list(used) != sorted(set(used))
    ):
        raise ValueError(
            "used_layers must be increasing stage numbers in 1 … 4, "
            f"got {used_layers!r}"
        )
    stem, *planes = (max(1, int(round(c * width))) for c in channels)
    return stem, planes


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1
