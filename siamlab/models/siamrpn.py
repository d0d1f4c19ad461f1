"""SiamRPN (Li et al. 2018): a Siamese network whose template becomes a region proposal
network.

The exemplar's features, lifted by `UpChannelRPN` into `2k` classification and `4k`
regression kernels, are correlated with the search features: every anchor of chapter 3
gets an objectness score and box deltas, so the tracker regresses the box instead of
searching scales. The sizes live in `SiamRPNConfig` (presets `tiny` for a CPU and
`paper` for the published network); `SiamRPNNet` computes the kernels once
(`template`) and reuses them (`track`); `train_siamrpn` trains it on pairs labelled with
`siamlab.anchors.assign_targets` through `siamlab.train.fit`.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator
from typing import Sequence as SequenceType

import numpy as np
import torch
from torch import nn

from siamlab.anchors import (
    SIAMRPN_RATIOS,
    SIAMRPN_SCALES,
    anchor_shapes,
    assign_targets,
    per_anchor,
)
from siamlab.datasets.pairs import DistractorPairSampler, PairMix, PairSampler
from siamlab.models.config import (
    AnchorGeometry,
    check_training_args,
    config_from_dict,
    network_from_checkpoint,
)
from siamlab.nn.backbones import AlexNet
from siamlab.nn.heads import UpChannelRPN
from siamlab.shipped import shipped_weights

#: The checkpoint of `siamlab train siamrpn --preset tiny` shipped with the book.
DEFAULT_SIAMRPN_WEIGHTS = shipped_weights("siamrpn_tiny.pt")  # package data


@dataclass(frozen=True)
class SiamRPNConfig(AnchorGeometry):
    """Sizes of a SiamRPN network and of its training targets.

    - `exemplar_size`, `search_size`: input sides (paper: 127 and 255; the DaSiamRPN
      release: 271);
    - `width`, `groups`: the AlexNet backbone's channel multiplier and grouped
      convolutions (paper: 1.0 and 1);
    - `channels`: C, the channels of each correlation kernel (paper: 256);
    - `ratios`, `scales`: the anchors, `k = len(ratios)·len(scales)` (paper: 5 × 1);
    - `context`: context margin of the crops (0.5);
    - `positive`, `negative`, `num_positive`, `num_total`: anchor labels (IoU > 0.6,
      < 0.3, at most 16 positives of 64 sampled anchors a pair);
    - `reg_weight`: λ of `loss = classification + λ · regression`.
    """

    exemplar_size: int = 127
    search_size: int = 255
    width: float = 1.0
    groups: int = 1
    channels: int = 256
    ratios: tuple[float, ...] = SIAMRPN_RATIOS
    scales: tuple[float, ...] = SIAMRPN_SCALES
    context: float = 0.5
    positive: float = 0.6
    negative: float = 0.3
    num_positive: int = 16
    num_total: int = 64
    reg_weight: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "ratios", tuple(float(r) for r in self.ratios))
        object.__setattr__(self, "scales", tuple(float(s) for s in self.scales))
        for name in ("exemplar_size", "search_size", "groups", "channels"):
            _check_positive_int(name, getattr(self, name))
        for name in ("num_positive", "num_total"):
            _check_positive_int(name, getattr(self, name))
        if self.search_size < self.exemplar_size:
            raise ValueError(
                f"search_size ({self.search_size}) must be >= exemplar_size "
                f"({self.exemplar_size})"
            )
        for name in ("width", "context", "reg_weight", "positive", "negative"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number, got {value!r}")
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
        if not self.width > 0 or not 0 <= self.negative <= self.positive <= 1:
            raise ValueError(
                f"need width > 0 and 0 <= negative <= positive <= 1, got width="
                f"{self.width}, negative={self.negative}, positive={self.positive}"
            )
        anchor_shapes(self.total_stride, self.ratios, self.scales)  # checks them
        if AlexNet(0.0625, groups=1).feature_size(self.exemplar_size) < 3:
            raise ValueError(
                f"exemplar_size {self.exemplar_size} leaves no kernel (need >= 103)"
            )

    @classmethod
    def paper(cls) -> "SiamRPNConfig":
        """SiamRPN as published: 127 / 255 inputs, AlexNet, C = 256, 5 anchors."""
        return cls()

    @classmethod
    def tiny(cls) -> "SiamRPNConfig":
        """The CPU preset: the paper's geometry with a quarter of the channels (C = 64)
        and SiamFC-tiny's grouped backbone, so that it can start from that network."""
        return cls(width=0.25, groups=2, channels=64)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "SiamRPNConfig":
        """Rebuild a config stored with `config_dict`; every field and no other key."""
        return config_from_dict(cls, values)

    def score_size_for(self, search_size: int) -> int:
        """Score-map side for a search crop of `search_size`: search features minus
        exemplar features plus one (both lose 2 in the head's 3×3 convolutions)."""
        backbone = AlexNet(0.0625, groups=1)
        size = backbone.feature_size(search_size)
        return size - backbone.feature_size(self.exemplar_size) + 1


def _check_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def config_dict(config: SiamRPNConfig) -> dict[str, Any]:
    """The config as a plain dict, the form stored in checkpoints."""
    return asdict(config)


class SiamRPNNet(nn.Module):
    """SiamRPN: AlexNet φ (with batch norm after its last convolution, as in the
    published networks) shared by both branches, and an `UpChannelRPN` head.

    `forward(z (N, 3, e, e), x (N, 3, s, s))`, pixel values 0-255 RGB, returns the raw
    head outputs `cls (N, 2k, S, S)` and `loc (N, 4k, S, S)`. For tracking,
    `template(z)` computes the kernels once and `track(x)` reuses them.
    """

    def __init__(self, config: SiamRPNConfig | None = None) -> None:
        super().__init__()
        self.config = config or SiamRPNConfig.paper()
        self.backbone = AlexNet(self.config.width, groups=self.config.groups)
        self.neck = nn.BatchNorm2d(self.backbone.out_channels)
        self.head = UpChannelRPN(
            self.backbone.out_channels, self.config.channels, self.config.num_anchors
        )
        self.kernels: tuple[torch.Tensor, torch.Tensor] | None = None
        self.frozen_stages = 0
        self.release: str | None = None  # set by `import_published`
        for lift in (self.head.template_cls, self.head.template_reg):
            # small kernels: a correlation sums C·h·w products, and logits of ±20 at
            # the start of training would saturate the loss
            nn.init.normal_(lift.weight, std=0.001)

    def freeze(self, stages: int) -> None:
        """Keep the first `stages` (0-5) backbone stages fixed: no gradients, and their
        batch norms in eval mode even while training (fine-tuning a pre-trained
        backbone, as SiamRPN does; it also makes a CPU step cheaper)."""
        if (
            isinstance(stages, bool)
            or not isinstance(stages, int)
            or not 0 <= stages <= 5
        ):
            raise ValueError(f"stages must be an integer in 0 … 5, got {stages!r}")
        self.frozen_stages = stages
        for index, stage in enumerate(self._stages()):
            stage.requires_grad_(index >= stages)
        self.train(self.training)

    def _stages(self) -> list[nn.Module]:
        b = self.backbone
        return [b.conv1, b.conv2, b.conv3, b.conv4, b.conv5]

    def train(self, mode: bool = True) -> "SiamRPNNet":
        super().train(mode)
        for stage in self._stages()[: self.frozen_stages]:
            stage.eval()
        return self

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """φ: `(N, 3, H, W)` images (0-255) → `(N, C5, H', W')` features."""
        return self.neck(self.backbone(images))

    def template(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Compute and keep the kernels of exemplar crops `z (N, 3, e, e)`."""
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


# --- Training pairs with anchor targets -----------------------------------------------


@dataclass
class RPNBatch:
    """A batch of training pairs with their anchor targets (`A = k·S·S` anchors).

    `exemplar (N, 3, e, e)`, `search (N, 3, s, s)` float32 0-255; `boxes (N, 4)` the
    target in the search crop, cxcywh relative to its centre; `labels (N, A)` int64
    (1, 0, −1 ignored); `deltas (N, A, 4)` and `weights (N, A)` float32 (see
    `siamlab.anchors.AnchorTargets`).
    """

    exemplar: torch.Tensor
    search: torch.Tensor
    boxes: torch.Tensor
    labels: torch.Tensor
    deltas: torch.Tensor
    weights: torch.Tensor


class _AnchorLabelled:
    """What both RPN samplers share: crops of `config`'s sizes and context, the search
    square shifted by up to 32 crop pixels and stretched by up to 20 % unless
    `options` say otherwise, the anchors of `config`, and an endless batch stream."""

    def __init__(self, sequences, config: SiamRPNConfig, **options: Any) -> None:
        options.setdefault("max_shift", 32.0)
        options.setdefault("stretch", 0.2)
        super().__init__(
            sequences,
            config.exemplar_size,
            config.search_size,
            context=config.context,
            **options,
        )
        self.config = config
        self.anchors = config.anchors()

    def batches(self, batch_size: int) -> Iterator[RPNBatch]:  # type: ignore[override]
        """An endless stream of batches, for `siamlab.train.fit`."""
        while True:
            yield self.batch(batch_size)


class RPNPairSampler(_AnchorLabelled, PairSampler):
    """`PairSampler` that also reports the target's box in the search crop and labels
    the anchors of `config` against it.

    The search square is shifted by up to `max_shift` crop pixels (the target is not
    always centred, so the network learns to place boxes anywhere on the map) and its
    side stretched by up to `stretch` (the regression sees targets of many sizes).
    """

    def sample(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One pair: `uint8` exemplar and search crops and the target's cxcywh box in
        the search crop relative to its centre."""
        return self.box_pair(*self.frame_indices())

    def batch(self, batch_size: int) -> RPNBatch:
        """`batch_size` pairs with anchor targets (see `RPNBatch`)."""
        _check_positive_int("batch_size", batch_size)
        exemplars, searches, boxes = zip(*(self.sample() for _ in range(batch_size)))
        return rpn_batch(
            self.config, self.anchors, exemplars, searches, boxes, self.rng
        )


def rpn_batch(
    config: SiamRPNConfig,
    anchors: np.ndarray,
    exemplars: SequenceType[np.ndarray],
    searches: SequenceType[np.ndarray],
    boxes: SequenceType[np.ndarray],
    rng: np.random.Generator,
    negative: SequenceType[bool] | bool = False,
) -> RPNBatch:
    """Crops and cxcywh boxes as an `RPNBatch`, the anchors labelled by
    `assign_targets` (for a `negative` pair nothing is positive, and the anchors
    around the object the crop is centred on are sampled as negatives)."""
    boxes = np.stack(boxes)
    c = config
    targets = assign_targets(
        anchors, boxes, c.positive, c.negative, c.num_positive, c.num_total,
        rng=rng, negative_pair=negative,
    )  # fmt: skip

    def images(crops: SequenceType[np.ndarray]) -> torch.Tensor:
        return torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float()

    return RPNBatch(
        images(exemplars),
        images(searches),
        torch.from_numpy(boxes).float(),
        torch.from_numpy(targets.labels),
        torch.from_numpy(targets.deltas),
        torch.from_numpy(targets.weights),
    )


class DistractorRPNSampler(_AnchorLabelled, DistractorPairSampler):
    """DaSiamRPN's training pairs (`DistractorPairSampler`: positives, augmented
    still-frame positives, same- and other-category negatives) with the anchors of
    `config` labelled; shift and stretch as `RPNPairSampler`'s."""

    def batch(self, batch_size: int) -> RPNBatch:
        """`batch_size` pairs of mixed kinds with anchor targets (see `RPNBatch`)."""
        _check_positive_int("batch_size", batch_size)
        pairs = [self.pair() for _ in range(batch_size)]
        return rpn_batch(
            self.config,
            self.anchors,
            [p.exemplar for p in pairs],
            [p.search for p in pairs],
            [p.box for p in pairs],
            self.rng,
            negative=np.array([p.negative for p in pairs]),
        )


def siamrpn_loss(model: nn.Module, batch: RPNBatch) -> torch.Tensor:
    """`classification + λ · regression` of one `RPNBatch` (chapter 3's losses): the
    balanced cross-entropy of the sampled anchors and the smooth-L1 loss of the deltas
    on the positive ones, `λ = config.reg_weight`."""
    from siamlab.losses import rpn_classification_loss, smooth_l1_loss
    from siamlab.train import unwrapped

    device = next(model.parameters()).device
    cls, loc = model(batch.exemplar.to(device), batch.search.to(device))
    logits, deltas = per_anchor(cls, 2), per_anchor(loc, 4)
    classification = rpn_classification_loss(logits, batch.labels.to(device))
    regression = smooth_l1_loss(deltas, batch.deltas, batch.weights.to(device))
    return classification + unwrapped(model).config.reg_weight * regression


# --- Training ------------------------------------------------------------------------


def init_from_siamfc(model: SiamRPNNet, path: str | os.PathLike | None = None) -> None:
    """Copy a SiamFC checkpoint's backbone into `model.backbone` (default: the shipped
    SiamFC-tiny). SiamRPN starts from a pre-trained AlexNet (ImageNet in the paper);
    here the backbone chapter 2 trained plays that part. `ValueError` if the two
    backbones differ in shape (another width or grouping)."""
    from siamlab.models.siamfc import load_siamfc

    source = load_siamfc(path).backbone.state_dict()
    try:
        model.backbone.load_state_dict(source)
    except RuntimeError as error:
        detail = " ".join(str(error).split())[:300]
        raise ValueError(
            f"the SiamFC backbone {str(path or 'siamfc_tiny.pt')!r} does not fit this "
            f"SiamRPN's backbone (width {model.config.width}, groups "
            f"{model.config.groups}): {detail}"
        ) from error


#: Learning-rate factor of the template lifts under Adam (see `_parameter_groups`).
LIFT_LR_FACTOR = 0.01


def _parameter_groups(model: nn.Module, lr: float) -> list[dict[str, Any]]:
    """The trainable parameters, the template lifts at `lr · LIFT_LR_FACTOR`.

    Adam moves every weight by about `lr` per step whatever its gradient; a lift's
    weights enter each logit through a correlation of `C·h·w` products, each of a
    `Cin·3·3` sum, so one such step of all of them together changes the logits by tens
    and the loss explodes. A hundredth of the rate keeps that change below one.
    """
    names = ("template_cls", "template_reg")  # UpChannelRPN's; depthwise heads: none
    lifts = [getattr(model.head, n) for n in names if hasattr(model.head, n)]
    lifted = {id(p) for m in lifts for p in m.parameters()}
    trainable = [p for p in model.parameters() if p.requires_grad]
    return [
        {"params": [p for p in trainable if id(p) not in lifted], "lr": lr},
        {
            "params": [p for p in trainable if id(p) in lifted],
            "lr": lr * LIFT_LR_FACTOR,
        },
    ]


def build_rpn_network(config: Any) -> nn.Module:
    """A fresh network for `config`: `SiamRPNNet` for a `SiamRPNConfig`,
    `SiamRPNPPNet` for a `SiamRPNPPConfig` (chapter 6)."""
    from siamlab.models.siamrpnpp import SiamRPNPPConfig, SiamRPNPPNet

    if isinstance(config, SiamRPNConfig):
        return SiamRPNNet(config)
    if isinstance(config, SiamRPNPPConfig):
        return SiamRPNPPNet(config)
    raise ValueError(
        "config must be a SiamRPNConfig or SiamRPNPPConfig, "
        f"got {type(config).__name__}"
    )


def train_siamrpn(
    config: Any,
    sequences: list,
    steps: int,
    *,
    batch_size: int = 16,
    lr: float = 1e-3,
    final_lr: float = 1e-4,
    max_gap: int = 100,
    seed: int = 0,
    checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
    model: SiamRPNNet | None = None,
    pretrained: str | os.PathLike | bool | None = None,
    frozen_stages: int = 0,
    progress: bool = True,
    device: torch.device | str | None = None,
    mix: PairMix | None = None,
    shift: float = 32.0,
    workers: int = 0,
) -> tuple[nn.Module, Any]:
    """Train SiamRPN on anchor-labelled pairs with `siamlab.train.fit`; returns
    `(model, history)`.

    Adam with the learning rate decaying exponentially from `lr` to `final_lr`.
    `pretrained`: a SiamFC checkpoint whose backbone starts the training (`True`: the
    shipped SiamFC-tiny; see `init_from_siamfc`); `frozen_stages`: how many of its
    first stages stay fixed (`SiamRPNNet.freeze`). `mix`: train DaSiamRPN's way, on
    `DistractorRPNSampler` pairs in these proportions (default: SiamRPN's positive
    pairs only, `RPNPairSampler`). `shift`: the search crop's centre moves from the
    target by up to this many pixels on each axis (SiamRPN++'s spatial-aware
    sampling uses 64). A `SiamRPNPPConfig` trains SiamRPN++ (chapter 6) the same way;
    `pretrained` is for SiamRPN only. The checkpoint stores the config, so
    `load_siamrpn` rebuilds the model; a resumed run draws its later pairs from `seed`
    and the step it resumes at. `workers`: processes that draw the pairs beside the
    training (`siamlab.datasets.loader.batch_stream`; 0 draws them in this process).
    """
    from siamlab.datasets.loader import batch_stream, pair_seed
    from siamlab.device import get_device, seed_everything
    from siamlab.train import check_config, fit, load_checkpoint

    check_training_args(steps, batch_size, lr, final_lr)
    target = get_device(device)
    start = 0
    if resume and checkpoint is not None and Path(checkpoint).exists():
        state = load_checkpoint(checkpoint)
        check_config(state, config_dict(config), checkpoint)
        start = int(state.get("step", 0))
    seed_everything(seed)
    if model is None:
        model = build_rpn_network(config)
        if pretrained is not None and pretrained is not False:
            if not isinstance(model, SiamRPNNet):
                raise ValueError("pretrained (a SiamFC backbone) is for SiamRPN only")
            init_from_siamfc(model, None if pretrained is True else pretrained)
    model.freeze(frozen_stages)
    model = model.to(target)
    optimizer = torch.optim.Adam(_parameter_groups(model, lr), lr=lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(
        optimizer, gamma=(final_lr / lr) ** (1 / steps)
    )

    def sampler(worker: int) -> _AnchorLabelled:
        options = {
            "max_gap": max_gap,
            "seed": pair_seed(seed + start, worker),
            "max_shift": float(shift),
        }
        if mix is None:
            return RPNPairSampler(sequences, config, **options)
        return DistractorRPNSampler(sequences, config, mix=mix, **options)

    extra = {"config": config_dict(config)}
    if mix is not None:
        extra["pair_mix"] = asdict(mix)
    history = fit(
        model,
        optimizer,
        batch_stream(sampler, batch_size, workers),
        siamrpn_loss,
        steps,
        scheduler=scheduler,
        checkpoint=checkpoint,
        checkpoint_every=50 if checkpoint else 0,
        resume=resume,
        extra_state=extra,
        progress=progress,
        desc=(
            "SiamRPN++"
            if not isinstance(model, SiamRPNNet)
            else ("SiamRPN" if mix is None else "DaSiamRPN")
        ),
    )
    return model, history


def train_from_args(args: Any, family: str = "siamrpn") -> int:
    """`siamlab train siamrpn` / `train dasiamrpn`: train the `--preset` on
    `--dataset` and write the checkpoint to `--out`.

    SiamRPN tiny starts from SiamFC-tiny's backbone with its first three stages fixed;
    paper from scratch. SiamRPN++ (`family="siamrpnpp"`, presets tiny, paper, alex)
    trains from scratch on distractor-aware pairs (or `--pairs plain`) with the
    search crop shifted by up to 64 pixels (spatial-aware sampling). DaSiamRPN
    continues from a SiamRPN checkpoint (`--init`, default for tiny: the shipped
    SiamRPN-tiny; paper: from scratch) on
    distractor-aware pairs (`PairMix()`), or on SiamRPN's plain pairs with
    `--pairs plain` (the control that tells what the pairs, not the extra steps,
    bring).
    """
    import time

    from siamlab.datasets import load_dataset

    presets: dict[str, Any] = {"tiny": SiamRPNConfig.tiny, "paper": SiamRPNConfig.paper}
    if family == "siamrpnpp":
        from siamlab.models.siamrpnpp import SiamRPNPPConfig

        presets = {
            "tiny": SiamRPNPPConfig.tiny,
            "paper": SiamRPNPPConfig.paper,
            "alex": SiamRPNPPConfig.alex,
        }
    if args.preset not in presets:
        raise ValueError(
            f"--preset must be one of {sorted(presets)} for {family}, "
            f"got {args.preset!r}"
        )
    tiny = args.preset == "tiny"
    pairs = getattr(args, "pairs", None) or (
        "plain" if family == "siamrpn" else "distractor"
    )
    if pairs not in ("plain", "distractor"):
        raise ValueError(f"--pairs must be 'plain' or 'distractor', got {pairs!r}")
    init = getattr(args, "init", None)
    if init is not None and family != "dasiamrpn":
        raise ValueError("--init is for dasiamrpn, which continues a SiamRPN model")
    model, pretrained = None, (True if tiny and family == "siamrpn" else None)
    if family == "dasiamrpn":
        pretrained = None
        if init is not None or tiny:
            model = load_siamrpn(init)
            if config_dict(model.config) != config_dict(presets[args.preset]()):
                raise ValueError(
                    f"--init {str(init)!r} holds another preset than {args.preset!r}"
                )
    sequences = load_dataset(args.dataset, args.max_sequences)
    start = time.perf_counter()
    _, history = train_siamrpn(
        presets[args.preset](),
        sequences,
        args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        final_lr=args.lr / 10,
        seed=args.seed,
        checkpoint=args.out,
        resume=args.resume,
        model=model,
        pretrained=pretrained,
        frozen_stages=3 if tiny and family != "siamrpnpp" else 0,
        device=args.device,
        mix=PairMix() if pairs == "distractor" else None,
        shift=64.0 if family == "siamrpnpp" else 32.0,
        workers=getattr(args, "workers", 0),
    )
    tail = history.losses[-min(50, len(history.losses)) :] or [float("nan")]
    print(
        f"trained {family} ({args.preset}, {pairs} pairs) to step {history.step} in "
        f"{time.perf_counter() - start:.0f} s; mean loss of the last {len(tail)} steps "
        f"{sum(tail) / len(tail):.4f}; wrote {args.out}"
    )
    return 0


# --- Loading: siamlab checkpoints and the DaSiamRPN release ---------------------------

#: The published modules of the DaSiamRPN release (Zhu et al. 2018) and where they go:
#: `featureExtract` is AlexNet with batch norm (conv, BN, max-pool, ReLU; the last
#: convolution followed by BN only), `conv_cls1` / `conv_r1` lift the template,
#: `conv_cls2` / `conv_r2` adapt the search features, `regress_adjust` is the 1×1.
PUBLISHED_MODULES: dict[str, str] = {
    "featureExtract.0": "backbone.conv1.0",
    "featureExtract.1": "backbone.conv1.1",
    "featureExtract.4": "backbone.conv2.0",
    "featureExtract.5": "backbone.conv2.1",
    "featureExtract.8": "backbone.conv3.0",
    "featureExtract.9": "backbone.conv3.1",
    "featureExtract.11": "backbone.conv4.0",
    "featureExtract.12": "backbone.conv4.1",
    "featureExtract.14": "backbone.conv5.0",
    "featureExtract.15": "neck",
    "conv_cls1": "head.template_cls",
    "conv_r1": "head.template_reg",
    "conv_cls2": "head.search_cls",
    "conv_r2": "head.search_reg",
    "regress_adjust": "head.adjust",
}

#: The three published files: `SiamRPNvot.model` and `SiamRPNotb.model` (AlexNet
#: 96-256-384-384-256, C = 256) and `SiamRPNBIG.model` (every width doubled, C = 512);
#: all take 127-pixel exemplars and 271-pixel search regions.
PUBLISHED_RELEASES: dict[str, dict[str, float]] = {
    "vot": {"width": 1.0, "channels": 256},
    "otb": {"width": 1.0, "channels": 256},
    "big": {"width": 2.0, "channels": 512},
}


def is_published_state(state: dict[str, Any]) -> bool:
    """True for a state dict with the DaSiamRPN release's key names."""
    return any(str(key).startswith("featureExtract.") for key in state)


def published_config(state: dict[str, Any], path: str = "<state>") -> SiamRPNConfig:
    """The `SiamRPNConfig` of a release state dict, read from its first convolution's
    width (96 or 192 filters) and the search adapter's C (256 or 512)."""
    for key in ("featureExtract.0.weight", "conv_cls2.weight"):
        if key not in state or getattr(state[key], "ndim", 0) != 4:
            raise ValueError(f"weights {path!r}: missing the 4-D tensor {key!r}")
    width = state["featureExtract.0.weight"].shape[0] / 96
    channels = int(state["conv_cls2.weight"].shape[0])
    return SiamRPNConfig(search_size=271, width=width, groups=1, channels=channels)


def _release_name(path: str, config: SiamRPNConfig) -> str:
    """'vot', 'otb' or 'big' from the file name (the vot and otb files share one
    layout); a file of another name: 'big' for C = 512, else 'otb'."""
    name = Path(path).name.lower()
    for release in ("big", "vot", "otb"):
        if release in name:
            return release
    return "big" if config.channels == 512 else "otb"


def import_published(state: dict[str, Any], path: str = "<state>") -> SiamRPNNet:
    """A `SiamRPNNet` holding a DaSiamRPN release state dict (see `PUBLISHED_MODULES`).

    The release's networks read BGR pixels 0-255; siamlab's read RGB and divide by
    255, so the first convolution's input channels are reversed and its weights
    multiplied by 255: siamlab's RGB frame then gives the release's outputs on the BGR
    frame. `ValueError` names a missing, unexpected or misshapen key. The network's
    `release` attribute says which tracker settings go with it.
    """
    config = published_config(state, path)
    model = SiamRPNNet(config)
    target = model.state_dict()
    converted: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        module, _, leaf = str(key).rpartition(".")
        if module not in PUBLISHED_MODULES:
            raise ValueError(f"weights {path!r}: unexpected key {key!r}")
        name = f"{PUBLISHED_MODULES[module]}.{leaf}"
        if name not in target:
            raise ValueError(f"weights {path!r}: unexpected key {key!r}")
        if tuple(value.shape) != tuple(target[name].shape):
            raise ValueError(
                f"weights {path!r}: {key!r} has shape {tuple(value.shape)}, the layout "
                f"of this release needs {tuple(target[name].shape)}"
            )
        converted[name] = value.detach().to(target[name].dtype)
    first = "backbone.conv1.0.weight"
    if first in converted:
        converted[first] = converted[first].flip(1) * 255.0  # BGR → RGB, 0-255 → 0-1
    for name in target:
        if name not in converted and not name.endswith("num_batches_tracked"):
            published = _published_key(name)
            raise ValueError(f"weights {path!r}: missing key {published!r}")
    model.load_state_dict(converted, strict=False)
    model.release = _release_name(path, config)
    return model.eval()


def _published_key(name: str) -> str:
    """The release's key of siamlab's parameter `name`."""
    module, _, leaf = name.rpartition(".")
    for published, ours in PUBLISHED_MODULES.items():
        if ours == module:
            return f"{published}.{leaf}"
    return name


def load_siamrpn(
    path: str | os.PathLike | None = None,
    map_location: str | torch.device | None = "cpu",
) -> SiamRPNNet:
    """A `SiamRPNNet` in eval mode from a checkpoint of `siamlab train siamrpn`
    (default: the shipped tiny one) or from a DaSiamRPN release file
    (`SiamRPNvot.model`, `SiamRPNotb.model`, `SiamRPNBIG.model`), recognised by its
    keys.

    Files are read with `torch.load(weights_only=True)`
    (`siamlab.train.load_checkpoint`).
    `FileNotFoundError` for a missing path; `ValueError` naming the path otherwise.
    """
    from siamlab.device import get_device
    from siamlab.train import load_checkpoint

    path = DEFAULT_SIAMRPN_WEIGHTS if path is None else Path(path)
    device = get_device(map_location)
    state = load_checkpoint(path, map_location=device)
    if is_published_state(state):
        return import_published(state, str(path)).to(device)
    if "config" not in state or not isinstance(state.get("model"), dict):
        raise ValueError(
            f"checkpoint {str(path)!r} is neither a SiamRPN checkpoint (a 'config' "
            f"and a 'model' state dict) nor a DaSiamRPN release file "
            f"(featureExtract.* keys); "
            f"it holds {sorted(map(str, state))[:8]}"
        )
    model = network_from_checkpoint(state, path, SiamRPNConfig, SiamRPNNet)
    return model.to(device).eval()
