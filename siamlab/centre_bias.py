"""Padding, translation invariance and the centre bias (SiamRPN++, Li et al. 2019).

A Siamese tracker scores every window of the search image with the same function, which
is only true if the network is translation-equivariant: shifting the search image by
one stride shifts its response map by one cell, `f(z, x[Δτ]) = f(z, x)[Δτ]`.
`translation_error` measures how far a network is from that. Unpadded networks (SiamFC's
AlexNet) are exact; zero padding tells every layer where the border is, so a padded
network can learn *where* in the crop something is, not only *what* it is.

Trained on pairs whose target always sits in the middle of the search crop, a padded
network learns exactly that shortcut: the peak lands at the centre whatever the image
shows. `CentreBiasNet` is SiamFC's score map on a padded AlexNet, small enough to train
on a CPU; `train_centre_bias` trains it with the target shifted uniformly by up to
`shift` pixels (SiamRPN++'s spatial-aware sampling; `shift = 0` is the centred
training), and `centre_bias` measures where the peaks land on test pairs whose targets
are off-centre.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn

from siamlab.datasets.pairs import PairBatch, PairSampler
from siamlab.models.config import check_training_args, config_from_dict
from siamlab.nn.backbones import AlexNet, ResNet
from siamlab.nn.heads import SiamFCHead
from siamlab.shipped import shipped_weights

# --- Translation invariance ----------------------------------------------------------


def _check_translation_args(
    respond: Callable[[torch.Tensor], torch.Tensor],
    image: torch.Tensor,
    size: int,
    shifts: Sequence[int],
    stride: int,
) -> list[int]:
    if not callable(respond):
        raise ValueError(f"respond must be callable, got {type(respond).__name__}")
    for name, value in (("size", size), ("stride", stride)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    shifts = [int(k) for k in shifts]
    if not shifts or min(shifts) < 1:
        raise ValueError(f"shifts must be positive cell counts, got {shifts!r}")
    if not isinstance(image, torch.Tensor) or image.dim() != 3 or image.shape[0] != 3:
        raise ValueError(
            "image must be a (3, H, W) tensor, got "
            f"{getattr(image, 'shape', type(image).__name__)}"
        )
    need = size + max(shifts) * stride
    if image.shape[1] < size or image.shape[2] < need:
        raise ValueError(
            f"image must be at least {size} high and {need} wide for shifts up to "
            f"{max(shifts)} cells of {stride} pixels, got {tuple(image.shape[1:])}"
        )
    return shifts


def translation_error_maps(
    respond: Callable[[torch.Tensor], torch.Tensor],
    image: torch.Tensor,
    size: int,
    shifts: Sequence[int] = (1, 2, 4),
    stride: int = 8,
) -> dict[int, np.ndarray]:
    """Where `respond` breaks translation equivariance, per shift in cells.

    `image (3, H, W)` must be at least `size` high and `size + max(shifts)·stride`
    wide. Search crops `size × size` are cut from it at horizontal offsets
    `k·stride` pixels; an equivariant `respond` (crop batch `(N, 3, size, size)` →
    maps `(N, C, h, w)`) gives maps that are shifted copies of the first one:
    `r_k[..., j] = r_0[..., j + k]` wherever both exist. Returns, per `k`, the
    largest difference over the channels at each cell of that overlap `(h, w − k)`,
    divided by the largest `|r_0|`: 0 everywhere for an exactly equivariant network,
    up to float rounding.
    """
    shifts = _check_translation_args(respond, image, size, shifts, stride)
    offsets = [0, *shifts]
    crops = torch.stack([image[:, :size, k * stride :][..., :size] for k in offsets])
    with torch.no_grad():
        maps = respond(crops.float())
    if not isinstance(maps, torch.Tensor) or maps.dim() != 4:
        raise ValueError(
            f"respond must return (N, C, h, w), got {getattr(maps, 'shape', maps)}"
        )
    first = maps[0]
    scale = float(first.abs().max()) or 1.0
    errors = {}
    for index, k in enumerate(shifts, start=1):
        width = first.shape[-1] - k
        if width < 1:
            raise ValueError(f"a shift of {k} cells leaves no overlap of the maps")
        difference = (maps[index][..., :width] - first[..., k:]).abs().amax(dim=0)
        errors[k] = (difference / scale).numpy().astype(np.float64)
    return errors


def translation_error(
    respond: Callable[[torch.Tensor], torch.Tensor],
    image: torch.Tensor,
    size: int,
    shifts: Sequence[int] = (1, 2, 4),
    stride: int = 8,
) -> dict[int, float]:
    """How far `respond` is from translation equivariance, per shift in cells: the
    largest value of `translation_error_maps` (0 for an exactly equivariant network,
    up to float rounding)."""
    maps = translation_error_maps(respond, image, size, shifts, stride)
    return {k: float(m.max()) for k, m in maps.items()}


# --- The network and its training ----------------------------------------------------


#: The backbones `CentreBiasNet` can use: the tiny ResNet of SiamRPN++ (padded, its
#: last stage seeing the whole crop) or SiamFC's AlexNet at a quarter width with zero
#: padding added (padded, but each cell sees only 87 pixels).
CENTRE_BIAS_BACKBONES = ("resnet", "alexnet_padded")


@dataclass(frozen=True)
class CentreBiasConfig:
    """The centre-bias network and its crops: half of SiamFC's sizes (exemplar 63,
    search 127, a 9×9 score map), so that the paper's shifts of 0/16/32/64 pixels in
    a 255 crop become 0/8/16/32 here.

    - `backbone`: one of `CENTRE_BIAS_BACKBONES`;
    - `channels`: the 1×1 adjustment of the features before the correlation;
    - `radius`: label radius in search-crop pixels (one cell);
    - `out_scale`, `context`: as in `SiamFCConfig`.
    """

    exemplar_size: int = 63
    search_size: int = 127
    backbone: str = "resnet"
    channels: int = 32
    radius: float = 8.0
    out_scale: float = 0.01
    context: float = 0.5

    def __post_init__(self) -> None:
        for name in ("exemplar_size", "search_size", "channels"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("radius", "out_scale", "context"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number, got {value!r}")
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
        if self.backbone not in CENTRE_BIAS_BACKBONES:
            raise ValueError(
                f"backbone must be one of {CENTRE_BIAS_BACKBONES}, "
                f"got {self.backbone!r}"
            )
        if self.score_size < 1:
            raise ValueError(
                f"exemplar_size {self.exemplar_size} and search_size "
                f"{self.search_size} leave no score map for this backbone"
            )

    @property
    def total_stride(self) -> int:
        return 8

    @property
    def score_size(self) -> int:
        backbone = _backbone(self.backbone)
        return (
            backbone.feature_size(self.search_size)
            - backbone.feature_size(self.exemplar_size)
            + 1
        )

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "CentreBiasConfig":
        return config_from_dict(cls, values)


def _backbone(name: str) -> nn.Module:
    if name == "resnet":
        return ResNet.tiny(used_layers=(4,))
    return AlexNet(0.25, padding=True)


class CentreBiasNet(nn.Module):
    """SiamFC's score map `out_scale · (a(φ(z)) ⋆ a(φ(x))) + b` on a padded backbone
    φ (`config.backbone`; for the ResNet, its last stage), `a` a 1×1 convolution and
    batch norm to `config.channels`: `forward(z (N, 3, 63, 63), x (N, 3, 127, 127))`
    → logits `(N, 1, 9, 9)` for the default sizes."""

    def __init__(self, config: CentreBiasConfig | None = None) -> None:
        super().__init__()
        self.config = config or CentreBiasConfig()
        self.backbone = _backbone(self.config.backbone)
        out = self.backbone.out_channels
        out = out[-1] if isinstance(out, list) else out
        self.adjust = nn.Sequential(
            nn.Conv2d(out, self.config.channels, 1, bias=False),
            nn.BatchNorm2d(self.config.channels),
        )
        self.head = SiamFCHead(self.config.out_scale)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """φ then the 1×1 adjustment: `(N, 3, H, W)` (0-255) → `(N, channels, h, w)`."""
        features = self.backbone(images)
        if isinstance(features, list):
            features = features[-1]
        return self.adjust(features)

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(z), self.features(x))


def centre_bias_loss(model: nn.Module, batch: PairBatch) -> torch.Tensor:
    """SiamFC's balanced logistic loss with the label disc on each target (chapter 2's
    `siamfc_labels` with the pairs' offsets)."""
    from siamlab.losses import balanced_logistic_loss, siamfc_labels
    from siamlab.train import unwrapped

    core = unwrapped(model)
    device = next(model.parameters()).device
    response = model(batch.exemplar.to(device), batch.search.to(device))
    labels = siamfc_labels(
        response.shape[-1], core.config.radius, core.config.total_stride, batch.offsets
    )
    return balanced_logistic_loss(response, labels.to(device))


def shift_sampler(
    sequences: list,
    config: CentreBiasConfig,
    shift: float,
    seed: int = 0,
    **options: Any,
) -> PairSampler:
    """Pairs for `config`'s crops with the search crop's centre moved from the target
    by a uniform random offset within `± shift` pixels on each axis (SiamRPN++'s
    spatial-aware sampling); `options` go to `PairSampler`."""
    if isinstance(shift, bool) or not isinstance(shift, (int, float)) or shift < 0:
        raise ValueError(f"shift must be a number of pixels >= 0, got {shift!r}")
    half = (config.search_size - 1) / 2
    if shift > half:
        raise ValueError(
            f"shift must be at most {half:g} pixels (half the search crop), got {shift}"
        )
    return PairSampler(
        sequences,
        config.exemplar_size,
        config.search_size,
        context=config.context,
        max_shift=float(shift),
        seed=seed,
        **options,
    )


#: The training shifts of the experiment: SiamRPN++'s 0, 16, 32 and 64 pixels in a
#: 255-pixel search crop, halved with the crop.
SHIFTS: tuple[float, ...] = (0.0, 8.0, 16.0, 32.0)

#: The four networks of `siamlab train centre-bias`, shipped with the book.
DEFAULT_CENTRE_BIAS_WEIGHTS = shipped_weights("centre_bias_tiny.pt")  # package data


def train_centre_bias(
    sequences: list,
    shift: float,
    steps: int = 200,
    *,
    config: CentreBiasConfig | None = None,
    batch_size: int = 16,
    lr: float = 1e-3,
    final_lr: float = 1e-4,
    seed: int = 0,
    progress: bool = True,
) -> tuple[CentreBiasNet, Any]:
    """Train a `CentreBiasNet` on pairs shifted by up to `shift` pixels (Adam, the
    learning rate decaying exponentially from `lr` to `final_lr`); returns
    `(model, history)`."""
    from siamlab.device import seed_everything
    from siamlab.train import fit

    config = config or CentreBiasConfig()
    check_training_args(steps, batch_size, lr, final_lr)
    sampler = shift_sampler(sequences, config, shift, seed=seed)
    seed_everything(seed)
    model = CentreBiasNet(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(
        optimizer, gamma=(final_lr / lr) ** (1 / steps)
    )
    history = fit(
        model,
        optimizer,
        sampler.batches(batch_size),
        centre_bias_loss,
        steps,
        scheduler=scheduler,
        progress=progress,
        desc=f"shift {shift:g}",
    )
    return model, history


def save_centre_bias(
    path: str | os.PathLike,
    models: dict[float, CentreBiasNet],
    losses: dict[float, list[float]] | None = None,
) -> Path:
    """Write networks trained with different shifts to one checkpoint (atomically),
    their weights as float16 (what the experiment needs, at half the size)."""
    from siamlab.train import save_checkpoint

    configs = {asdict(model.config).__repr__() for model in models.values()}
    if len(configs) != 1:
        raise ValueError("models must share one CentreBiasConfig")
    first = next(iter(models.values()))
    state = {
        "config": asdict(first.config),
        "shifts": [float(s) for s in models],
        "models": {
            f"{float(s):g}": {
                k: v.half() if v.is_floating_point() else v
                for k, v in m.state_dict().items()
            }
            for s, m in models.items()
        },  # fmt: skip
        "losses": {f"{float(s):g}": list(v) for s, v in (losses or {}).items()},
    }
    return save_checkpoint(path, state)


def load_centre_bias(
    path: str | os.PathLike | None = None,
) -> dict[float, CentreBiasNet]:
    """The networks of a `save_centre_bias` checkpoint (default: the shipped one) by
    training shift, in eval mode."""
    from siamlab.train import load_checkpoint

    path = DEFAULT_CENTRE_BIAS_WEIGHTS if path is None else Path(path)
    state = load_checkpoint(path)
    if not {"config", "shifts", "models"} <= set(state):
        raise ValueError(
            f"checkpoint {str(path)!r} is not a centre-bias checkpoint (needs "
            f"'config', 'shifts' and 'models'); it holds {sorted(map(str, state))[:8]}"
        )
    config = CentreBiasConfig.from_dict(state["config"])
    models = {}
    for shift in state["shifts"]:
        model = CentreBiasNet(config)
        weights = state["models"][f"{float(shift):g}"]
        model.load_state_dict(
            {k: v.float() if v.is_floating_point() else v for k, v in weights.items()}
        )
        models[float(shift)] = model.eval()
    return models


def train_from_args(args: Any) -> int:
    """`siamlab train centre-bias`: one network per shift in `SHIFTS`, each `--steps`
    steps from `--seed`, all written to `--out`."""
    import time

    from siamlab.datasets import load_dataset

    for flag in ("pairs", "init"):
        if getattr(args, flag, None) is not None:
            raise ValueError(f"--{flag} is not an option of centre-bias")
    if args.preset != "tiny":
        raise ValueError(f"centre-bias has only the tiny preset, got {args.preset!r}")
    sequences = load_dataset(args.dataset, args.max_sequences)
    start = time.perf_counter()
    models, losses = {}, {}
    for shift in SHIFTS:
        models[shift], history = train_centre_bias(
            sequences, shift, args.steps, batch_size=args.batch_size, lr=args.lr,
            final_lr=args.lr / 10, seed=args.seed,
        )  # fmt: skip
        losses[shift] = history.losses
    save_centre_bias(args.out, models, losses)
    print(
        f"trained {len(models)} centre-bias networks (shifts "
        f"{', '.join(f'{s:g}' for s in SHIFTS)} px) of {args.steps} steps in "
        f"{time.perf_counter() - start:.0f} s; wrote {args.out}"
    )
    return 0


# --- Where the peaks land ------------------------------------------------------------


@dataclass
class CentreBias:
    """Where a network's peaks land on test pairs (offsets in search-crop pixels).

    - `targets (N, 2)`: each target's `(dx, dy)` from the crop centre;
    - `peaks (N, 2)`: the response peak's `(dx, dy)`;
    - `heat (S, S)`: how many peaks of off-centre targets fell in each cell;
    - `centre_rate`: of the targets at least two cells from the centre (on either
      axis), the fraction whose peak is within one cell of the centre (chance, for
      peaks spread evenly over a 9×9 map: 9/81 ≈ 0.11);
    - `accuracy`: the fraction of all pairs whose peak is within one cell (8 px on
      each axis) of the target.
    """

    targets: np.ndarray
    peaks: np.ndarray
    heat: np.ndarray
    centre_rate: float
    accuracy: float


def peak_offsets(response: torch.Tensor, stride: int = 8) -> np.ndarray:
    """Each map's peak as `(dx, dy)` pixels from the map's centre: `(N, 1, S, S)` →
    `(N, 2)`."""
    if response.dim() != 4 or response.shape[1] != 1:
        raise ValueError(f"response must be (N, 1, S, S), got {tuple(response.shape)}")
    n, _, rows, cols = response.shape
    flat = response.reshape(n, -1).argmax(dim=1).cpu().numpy()
    row, col = np.divmod(flat, cols)
    return np.stack(
        [(col - (cols - 1) / 2) * stride, (row - (rows - 1) / 2) * stride], axis=1
    )


def offset_pairs(
    sequences: list, config: CentreBiasConfig, max_offset: float, count: int, seed: int
) -> PairBatch:
    """`count` pairs from `sequences` with the target uniformly within `± max_offset`
    pixels of the search crop's centre, without flips or colour changes."""
    sampler = shift_sampler(
        sequences, config, max_offset, seed=seed, flip=False, brightness=0.0,
        stretch=0.0,
    )  # fmt: skip
    return sampler.batch(count)


@torch.no_grad()
def centre_bias(
    model: CentreBiasNet, pairs: PairBatch, batch_size: int = 64
) -> CentreBias:
    """Run `model` on `pairs` and measure where its peaks land (see `CentreBias`)."""
    if not isinstance(model, CentreBiasNet):
        raise ValueError(f"model must be a CentreBiasNet, got {type(model).__name__}")
    model.eval()
    device = next(model.parameters()).device
    responses = [
        model(
            pairs.exemplar[i : i + batch_size].to(device),
            pairs.search[i : i + batch_size].to(device),
        )
        for i in range(0, len(pairs.exemplar), batch_size)
    ]
    response = torch.cat(responses)
    stride = model.config.total_stride
    peaks = peak_offsets(response, stride)
    targets = pairs.offsets.numpy().astype(np.float64)
    size = response.shape[-1]
    off_centre = np.abs(targets).max(axis=1) >= 2 * stride
    near_centre = np.abs(peaks).max(axis=1) <= stride
    cells = np.round(peaks / stride + (size - 1) / 2).astype(int)
    heat = np.zeros((size, size), dtype=np.int64)
    np.add.at(heat, (cells[off_centre, 1], cells[off_centre, 0]), 1)
    hit = np.abs(peaks - targets).max(axis=1) <= stride
    return CentreBias(
        targets=targets,
        peaks=peaks,
        heat=heat,
        centre_rate=float(near_centre[off_centre].mean()) if off_centre.any() else 0.0,
        accuracy=float(hit.mean()),
    )
