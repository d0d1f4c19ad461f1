"""SiamRPN++ (Li et al. 2019): a deep, padded backbone for the Siamese RPN.

Deeper backbones had failed in Siamese trackers because padding breaks the strict
translation invariance the correlation relies on; SiamRPN++ trains with the target
spread over the search crop instead, and takes a ResNet-50 whose last two stages are
dilated (total stride 8). Three of its stages each feed a light depthwise RPN
(`DepthwiseRPN`) through a 1×1 neck, and a learned weighted average fuses them
(`MultiRPN`). The sizes live in `SiamRPNPPConfig` (presets `paper`, `alex` and `tiny`),
which reads like `SiamRPNConfig` wherever the two agree, so SiamRPN's pair samplers,
loss and tracker serve both. `SiamRPNPPNet` computes the template's kernels once
(`template`) and reuses them (`track`); `load_siamrpnpp` reads siamlab checkpoints and
the two releases of the authors' code (pysot) that share SiamRPN's anchors.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from siamlab.anchors import SIAMRPN_RATIOS, SIAMRPN_SCALES, anchor_shapes
from siamlab.models.config import (
    AnchorGeometry,
    config_from_dict,
    network_from_checkpoint,
)
from siamlab.nn.backbones import (
    RESNET50_CHANNELS,
    RESNET_TINY_CHANNELS,
    AlexNet,
    BasicBlock,
    Bottleneck,
    ResNet,
)
from siamlab.nn.heads import DepthwiseRPN, MultiRPN
from siamlab.nn.neck import TEMPLATE_MAX_SIDE, AdjustAllLayer
from siamlab.shipped import shipped_weights

#: The checkpoint of the CPU preset shipped with the book.
DEFAULT_SIAMRPNPP_WEIGHTS = shipped_weights("siamrpnpp_tiny.pt")  # package data

#: Backbone name → `(block, blocks per stage, stem and stage widths)` of the ResNets;
#: "alexnet" is SiamRPN's AlexNet (width 1: 96-256-384-384-256, unpadded).
RESNETS: dict[str, tuple[str, tuple[int, ...], tuple[int, ...]]] = {
    "resnet50": ("bottleneck", (3, 4, 6, 3), RESNET50_CHANNELS),
    "resnet_tiny": ("basic", (1, 1, 1, 1), RESNET_TINY_CHANNELS),
}
BACKBONES: tuple[str, ...] = (*RESNETS, "alexnet")

#: The neck keeps the central 7×7 of the template's features (the authors' code).
CENTER_SIZE = 7

#: The tracker settings in the two releases' `config.yaml` (pysot experiments
#: `siamrpn_r50_l234_dwxcorr` and `siamrpn_alex_dwxcorr`); `base_size` enlarges the
#: score map the tracker expects beyond `(search − exemplar) / 8 + 1`, because the
#: padded backbone keeps the border cells.
RELEASE_TRACKER_SETTINGS: dict[str, dict[str, float]] = {
    "r50_l234_dwxcorr": {
        "penalty_k": 0.05,
        "window_influence": 0.42,
        "lr": 0.38,
        "exemplar_size": 127,
        "search_size": 255,
        "base_size": 8,
        "context": 0.5,
    },
    "alex_dwxcorr": {
        "penalty_k": 0.16,
        "window_influence": 0.40,
        "lr": 0.30,
        "exemplar_size": 127,
        "search_size": 287,
        "base_size": 0,
        "context": 0.5,
    },
}


@dataclass(frozen=True)
class SiamRPNPPConfig(AnchorGeometry):
    """Sizes of a SiamRPN++ network and of its training targets.

    - `exemplar_size`, `search_size`: input sides (paper: 127 and 255; the AlexNet
      release searches 287);
    - `backbone`: "resnet50", "resnet_tiny" or "alexnet"; `width` its channel
      multiplier; `used_layers` the ResNet stages fed to the heads (paper: 2, 3, 4,
      the paper's conv3-conv5; AlexNet: its conv5, `(5,)`);
    - `neck_channels`: width of the 1×1 neck per stage (paper: 256; `None`: no neck,
      as with AlexNet); `hidden`: channels of the depthwise heads (256);
    - `weighted`: learned softmax weights of the stages' outputs (True) or their mean;
    - `ratios`, `scales`, `context`, `positive`, `negative`, `num_positive`,
      `num_total`, `reg_weight`: anchors, crops and anchor labels as `SiamRPNConfig`'s
      (5 ratios × 1 scale; IoU > 0.6 / < 0.3; 16 of 64; λ = 1).
    """

    exemplar_size: int = 127
    search_size: int = 255
    backbone: str = "resnet50"
    width: float = 1.0
    used_layers: tuple[int, ...] = (2, 3, 4)
    neck_channels: int | None = 256
    hidden: int = 256
    weighted: bool = True
    ratios: tuple[float, ...] = SIAMRPN_RATIOS
    scales: tuple[float, ...] = SIAMRPN_SCALES
    context: float = 0.5
    positive: float = 0.6
    negative: float = 0.3
    num_positive: int = 16
    num_total: int = 64
    reg_weight: float = 1.0

    def __post_init__(self) -> None:
        for name in ("ratios", "scales", "used_layers"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                raise ValueError(f"{name} must be a sequence, got {value!r}")
        object.__setattr__(self, "ratios", tuple(float(r) for r in self.ratios))
        object.__setattr__(self, "scales", tuple(float(s) for s in self.scales))
        object.__setattr__(self, "used_layers", tuple(self.used_layers))
        names = ("exemplar_size", "search_size", "hidden", "num_positive", "num_total")
        for name in names:
            _check_positive_int(name, getattr(self, name))
        if self.neck_channels is not None:
            _check_positive_int("neck_channels", self.neck_channels)
        if not isinstance(self.weighted, bool):
            raise ValueError(f"weighted must be True or False, got {self.weighted!r}")
        _check_numbers(self)
        self._check_backbone()
        anchor_shapes(self.total_stride, self.ratios, self.scales)  # checks them
        if self.search_size < self.exemplar_size:
            raise ValueError(
                f"search_size ({self.search_size}) must be >= exemplar_size "
                f"({self.exemplar_size})"
            )
        side = self._feature_side(self.exemplar_size)
        if side < 3 or (self.neck_channels is not None and side < CENTER_SIZE):
            raise ValueError(
                f"exemplar_size {self.exemplar_size} gives {side}×{side} features, too "
                "few for the neck's central 7×7 and the heads' 3×3 convolutions"
            )

    def _check_backbone(self) -> None:
        if self.backbone not in BACKBONES:
            raise ValueError(
                f"backbone must be one of {list(BACKBONES)}, got {self.backbone!r}"
            )
        if self.backbone == "alexnet":
            if self.used_layers != (5,):
                raise ValueError(
                    f"used_layers must be (5,) for alexnet, got {self.used_layers!r}"
                )
            if self.neck_channels is not None:
                raise ValueError(
                    "neck_channels must be None for alexnet (its 6×6 template "
                    f"features leave nothing to crop), got {self.neck_channels!r}"
                )
            return
        used = self.used_layers
        if not used or list(used) != sorted(set(used)) or not set(used) <= {1, 2, 3, 4}:
            raise ValueError(
                f"used_layers must be increasing stage numbers in 1 … 4, got {used!r}"
            )

    @classmethod
    def paper(cls) -> "SiamRPNPPConfig":
        """SiamRPN++ as published and released (`siamrpn_r50_l234_dwxcorr`):
        ResNet-50, layers 2-4, neck 256, weighted `MultiRPN`, 127 / 255, score 25."""
        return cls()

    @classmethod
    def alex(cls) -> "SiamRPNPPConfig":
        """The AlexNet release (`siamrpn_alex_dwxcorr`): SiamRPN's AlexNet with batch
        norm after conv5, no neck, one `DepthwiseRPN` of 256, 127 / 287, score 21."""
        return cls(
            search_size=287,
            backbone="alexnet",
            used_layers=(5,),
            neck_channels=None,
            weighted=False,
        )

    @classmethod
    def tiny(cls) -> "SiamRPNPPConfig":
        """The CPU preset: the paper's geometry (127 / 255, layers 2-4, score 25) on
        `ResNet.tiny` with a neck and heads of 32 channels."""
        return cls(backbone="resnet_tiny", neck_channels=32, hidden=32)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "SiamRPNPPConfig":
        """Rebuild a config stored with `config_dict`; every field and no other key."""
        return config_from_dict(cls, values)

    def score_size_for(self, search_size: int) -> int:
        """Score-map side for a search crop of `search_size`: search features minus
        template features plus one, both after the neck's crop (both lose 2 in the
        heads' 3×3 convolutions)."""
        return (
            self._feature_side(search_size) - self._feature_side(self.exemplar_size) + 1
        )

    def _feature_side(self, input_size: int) -> int:
        """Side of the features the heads see for a square input (after the neck)."""
        if self.backbone == "alexnet":
            return AlexNet(0.0625, groups=1).feature_size(input_size)
        block = RESNETS[self.backbone][0]
        geometry = ResNet(block, (1, 1, 1, 1), 1.0, self.used_layers, (1,) * 5)
        size = geometry.feature_size(input_size)
        if self.neck_channels is not None and size < TEMPLATE_MAX_SIDE:
            size = min(size, CENTER_SIZE)
        return size


def _check_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_numbers(config: SiamRPNPPConfig) -> None:
    for name in ("width", "context", "reg_weight", "positive", "negative"):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number, got {value!r}")
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    if not config.width > 0:
        raise ValueError(f"width must be > 0, got {config.width!r}")
    if not 0 <= config.negative <= config.positive <= 1:
        raise ValueError(
            "need 0 <= negative <= positive <= 1, got "
            f"negative={config.negative}, positive={config.positive}"
        )


def config_dict(config: SiamRPNPPConfig) -> dict[str, Any]:
    """The config as a plain dict, the form stored in checkpoints."""
    return asdict(config)


def build_backbone(config: SiamRPNPPConfig) -> nn.Module:
    """The backbone of `config`: a `ResNet`, or SiamRPN's AlexNet (groups 1, no
    padding) with batch norm after conv5 (`conv5.1`), as in the AlexNet release."""
    if config.backbone == "alexnet":
        backbone = AlexNet(config.width, padding=False, groups=1)
        backbone.conv5.append(nn.BatchNorm2d(backbone.out_channels))
        return backbone
    block, layers, channels = RESNETS[config.backbone]
    return ResNet(block, layers, config.width, config.used_layers, channels)


class SiamRPNPPNet(nn.Module):
    """SiamRPN++: backbone φ shared by both branches, an optional `neck`
    (`AdjustAllLayer`) and a `head`: `MultiRPN` over several stages, `DepthwiseRPN`
    over one.

    `forward(z (N, 3, e, e), x (N, 3, s, s))`, pixel values 0-255 RGB, returns the raw
    head outputs `cls (N, 2k, S, S)` and `loc (N, 4k, S, S)` in the channel layout of
    SiamRPN and of the authors' release (`siamlab.anchors.per_anchor`). For tracking,
    `template(z)` computes the kernels once and `track(x)` reuses them.
    """

    def __init__(self, config: SiamRPNPPConfig | None = None) -> None:
        super().__init__()
        self.config = config or SiamRPNPPConfig.paper()
        c = self.config
        self.backbone = build_backbone(c)
        channels = getattr(self.backbone, "out_channels")
        channels = channels if isinstance(channels, list) else [channels]
        self.neck: AdjustAllLayer | None = None
        if c.neck_channels is not None:
            outputs = [c.neck_channels] * len(channels)
            self.neck = AdjustAllLayer(channels, outputs, CENTER_SIZE)
            channels = outputs
        if len(channels) == 1:
            self.head: nn.Module = DepthwiseRPN(c.num_anchors, channels[0], c.hidden)
        else:
            self.head = MultiRPN(c.num_anchors, channels, c.weighted, c.hidden)
        self.kernels: Any = None
        self.frozen_stages = 0
        self.release: str | None = None  # set by `import_published_pp`
        self._init_for_training()

    def _init_for_training(self) -> None:
        """Each residual block starts as its shortcut (its last batch norm's scale
        0, Goyal et al. 2017), and the heads' output convolutions start small (std
        0.01 for objectness, 0.001 for deltas, as Faster R-CNN's RPN), so the first
        steps see logits near 0 and a loss near log 2."""
        for module in self.backbone.modules():
            if isinstance(module, Bottleneck):
                nn.init.zeros_(module.bn3.weight)
            elif isinstance(module, BasicBlock):
                nn.init.zeros_(module.bn2.weight)
        for name, module in self.head.named_modules():
            if name.endswith("head.3"):
                std = 0.01 if ".cls." in f".{name}" else 0.001
                nn.init.normal_(module.weight, std=std)
                nn.init.zeros_(module.bias)

    def stages(self) -> list[nn.Module]:
        """The backbone's stages in order (AlexNet's conv1-conv5; the ResNet's stem
        `conv1` + `bn1` as one, then its layers)."""
        b = self.backbone
        if isinstance(b, AlexNet):
            return [b.conv1, b.conv2, b.conv3, b.conv4, b.conv5]
        return [nn.ModuleList([b.conv1, b.bn1]), *b.stages()]

    def freeze(self, stages: int) -> None:
        """Keep the first `stages` backbone stages fixed: no gradients, batch norms in
        eval mode even while training (SiamRPN++ trains its heads on a fixed
        pre-trained backbone first, then releases layer2-layer4)."""
        count = len(self.stages())
        if isinstance(stages, bool) or not isinstance(stages, int):
            raise ValueError(
                f"stages must be an integer in 0 … {count}, got {stages!r}"
            )
        if not 0 <= stages <= count:
            raise ValueError(
                f"stages must be an integer in 0 … {count}, got {stages!r}"
            )
        self.frozen_stages = stages
        for index, stage in enumerate(self.stages()):
            stage.requires_grad_(index >= stages)
        self.train(self.training)

    def train(self, mode: bool = True) -> "SiamRPNPPNet":
        super().train(mode)
        for stage in self.stages()[: self.frozen_stages]:
            stage.eval()
        return self

    def features(self, images: torch.Tensor) -> Any:
        """Backbone and neck: `(N, 3, H, W)` images (0-255) → one feature map
        `(N, C, h, w)`, or a list of them for several stages."""
        features = self.backbone(images)
        if self.neck is not None:
            features = self.neck(features)
        if isinstance(features, list) and len(features) == 1:
            return features[0]
        return features

    def template(self, z: torch.Tensor) -> Any:
        """Compute and keep the head's kernels of exemplar crops `z (N, 3, e, e)`."""
        self.kernels = self.head.kernels(self.features(z))
        return self.kernels

    def track(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`(cls, loc)` of search crops `x (N, 3, s, s)` against the kept kernels."""
        if self.kernels is None:
            raise ValueError("call template(z) before track(x)")
        return self.head.correlate(self.kernels, self.features(x))

    def forward(
        self, z: torch.Tensor, x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.head(self.features(z), self.features(x))


# --- Loading: siamlab checkpoints and the pysot releases -----------------------------

#: AlexNet's modules in the AlexNet release (`features.N`: conv, BN, pool, ReLU, …, as
#: pysot's `AlexNetLegacy`) → siamlab's `conv{stage}.{0 conv | 1 BN}`.
ALEX_FEATURES: dict[str, str] = {
    "features.0": "conv1.0",
    "features.1": "conv1.1",
    "features.4": "conv2.0",
    "features.5": "conv2.1",
    "features.8": "conv3.0",
    "features.9": "conv3.1",
    "features.11": "conv4.0",
    "features.12": "conv4.1",
    "features.14": "conv5.0",
    "features.15": "conv5.1",
}

#: The key layouts of the releases: the ResNet-50 network's keys are siamlab's but for
#: `rpn_head` (siamlab: `head`); the AlexNet network's backbone is `features.N`
#: (`alex_dwxcorr`) or, in pysot's later AlexNet class, `layer{stage}.{0 | 1}`.
RELEASE_LAYOUTS: tuple[str, ...] = ("r50_l234_dwxcorr", "alex_dwxcorr", "alex_layers")


def _unwrap(state: dict[str, Any]) -> dict[str, Any]:
    """The state dict inside a `{"state_dict": …}` wrapper, `module.` prefixes (from
    `DataParallel`) removed."""
    if isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    return {
        (str(k)[len("module.") :] if str(k).startswith("module.") else str(k)): v
        for k, v in state.items()
    }


def release_layout(state: dict[str, Any]) -> str | None:
    """Which release layout a state dict has (see `RELEASE_LAYOUTS`), or None."""
    keys = set(_unwrap(state))
    if not any(k.startswith("rpn_head.") for k in keys):
        return None
    if "backbone.conv1.weight" in keys:
        return "r50_l234_dwxcorr"
    if "backbone.features.0.weight" in keys:
        return "alex_dwxcorr"
    if "backbone.layer1.0.weight" in keys:
        return "alex_layers"
    return None


def is_published_pp_state(state: dict[str, Any]) -> bool:
    """True for a state dict saved from the authors' SiamRPN++ models (pysot's
    `ModelBuilder`: `backbone.*`, `rpn_head.*` and for ResNet-50 `neck.*` keys),
    possibly wrapped in `state_dict` or prefixed `module.`."""
    return isinstance(state, dict) and release_layout(state) is not None


def _release_key(name: str, layout: str) -> str:
    """The release's key of siamlab's parameter `name`."""
    if name.startswith("head."):
        return "rpn_head." + name[len("head.") :]
    if layout != "r50_l234_dwxcorr" and name.startswith("backbone."):
        module, _, leaf = name[len("backbone.") :].rpartition(".")
        if layout == "alex_dwxcorr":
            theirs = {v: k for k, v in ALEX_FEATURES.items()}[module]
        else:
            theirs = module.replace("conv", "layer", 1)
        return f"backbone.{theirs}.{leaf}"
    return name


def import_published_pp(state: dict[str, Any], path: str = "<state>") -> SiamRPNPPNet:
    """A `SiamRPNPPNet` holding a release state dict of `siamrpn_r50_l234_dwxcorr`
    (`SiamRPNPPConfig.paper`) or `siamrpn_alex_dwxcorr` (`SiamRPNPPConfig.alex`).

    The releases read BGR pixels 0-255; siamlab's networks read RGB and divide by 255,
    so the first convolution's input channels are reversed and its weights multiplied
    by 255. `ValueError` names a missing, unexpected or misshapen key by the release's
    name; `num_batches_tracked` may be present or not. The network's `release`
    attribute ("r50_l234_dwxcorr" or "alex_dwxcorr") says which tracker settings go
    with it (`RELEASE_TRACKER_SETTINGS`).
    """
    layout = release_layout(state)
    if layout is None:
        raise ValueError(
            f"weights {path!r}: not a SiamRPN++ release state dict (no rpn_head.* "
            "keys with a ResNet-50 or AlexNet backbone)"
        )
    state = _unwrap(state)
    resnet = layout == "r50_l234_dwxcorr"
    config = SiamRPNPPConfig.paper() if resnet else SiamRPNPPConfig.alex()
    model = SiamRPNPPNet(config)
    target = model.state_dict()
    ours = {_release_key(name, layout): name for name in target}
    converted: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key not in ours or not isinstance(value, torch.Tensor):
            raise ValueError(f"weights {path!r}: unexpected key {key!r}")
        name = ours[key]
        if tuple(value.shape) != tuple(target[name].shape):
            raise ValueError(
                f"weights {path!r}: {key!r} has shape {tuple(value.shape)}, the layout "
                f"of this release needs {tuple(target[name].shape)}"
            )
        converted[name] = value.detach().to(target[name].dtype)
    for key, name in ours.items():
        if name.endswith("num_batches_tracked"):
            converted.setdefault(name, torch.zeros_like(target[name]))
        elif name not in converted:
            raise ValueError(f"weights {path!r}: missing key {key!r}")
    first = "backbone.conv1.weight" if resnet else "backbone.conv1.0.weight"
    converted[first] = converted[first].flip(1) * 255.0  # BGR → RGB, 0-255 → 0-1
    model.load_state_dict(converted)
    model.release = "r50_l234_dwxcorr" if resnet else "alex_dwxcorr"
    return model.eval()


def load_siamrpnpp(
    path: str | os.PathLike | None = None,
    map_location: str | torch.device | None = "cpu",
) -> SiamRPNPPNet:
    """A `SiamRPNPPNet` in eval mode from a siamlab checkpoint (`{"config": …,
    "model": …}`; default: the shipped tiny one) or from a release file of the
    authors' code (`siamrpn_r50_l234_dwxcorr` or `siamrpn_alex_dwxcorr`'s
    `model.pth`), recognised by its keys.

    Files are read with `torch.load(weights_only=True)`
    (`siamlab.train.load_checkpoint`). `FileNotFoundError` for a missing path;
    `ValueError` naming the path otherwise.
    """
    from siamlab.device import get_device
    from siamlab.train import load_checkpoint

    path = DEFAULT_SIAMRPNPP_WEIGHTS if path is None else Path(path)
    device = get_device(map_location)
    state = load_checkpoint(path, map_location=device)
    if is_published_pp_state(state):
        return import_published_pp(state, str(path)).to(device)
    if "config" not in state or not isinstance(state.get("model"), dict):
        raise ValueError(
            f"checkpoint {str(path)!r} is neither a SiamRPN++ checkpoint (a 'config' "
            "and a 'model' state dict) nor a release file of the authors' code "
            f"(backbone.* and rpn_head.* keys); it holds {sorted(map(str, state))[:8]}"
        )
    model = network_from_checkpoint(state, path, SiamRPNPPConfig, SiamRPNPPNet)
    return model.to(device).eval()
