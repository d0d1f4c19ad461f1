"""SiamFC (Bertinetto et al. 2016): a backbone shared by both branches and the
cross-correlation head.

`SiamFCNet` is `f(z, x) = s · φ(z) ⋆ φ(x) + b`; its sizes live in a small `SiamFCConfig`
with two named presets, `tiny()` for a CPU and `paper()` for the published network, so
that no module reads a global configuration. The shipped checkpoint is package data
(`siamlab.shipped`).
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from siamlab.crops import to_tensor
from siamlab.models.config import check_training_args, config_from_dict
from siamlab.nn.backbones import AlexNet
from siamlab.nn.heads import SiamFCHead
from siamlab.shipped import shipped_weights

# : The checkpoint trained by `python -m siamlab train siamfc --preset tiny` that ships
# with the book.
DEFAULT_SIAMFC_WEIGHTS = shipped_weights("siamfc_tiny.pt")  # package data


@dataclass(frozen=True)
class SiamFCConfig:
    """Sizes of a SiamFC network and of its training labels.

    - `exemplar_size`, `search_size`: input sides of z and x in pixels (paper: 127 and
      255);
    - `width`: channel multiplier of the AlexNet backbone (paper: 1.0);
    - `out_scale`: constant output scale of the head (authors' code: 0.001);
    - `radius`: label radius R in search-crop pixels; cells within R / stride of the
      centre are positives (paper: 16, i.e. 2 cells at stride 8);
    - `context`: context margin of the crops (paper: 0.5).
    """

    exemplar_size: int = 127
    search_size: int = 255
    width: float = 1.0
    out_scale: float = 0.001
    radius: float = 16.0
    context: float = 0.5

    def __post_init__(self) -> None:
        for name in ("exemplar_size", "search_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.search_size < self.exemplar_size:
            raise ValueError(
                f"search_size ({self.search_size}) must be >= exemplar_size "
                f"({self.exemplar_size})"
            )
        for name in ("width", "out_scale", "radius", "context"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ValueError(f"{name} must be a number, got {value!r}")
            low_ok = value >= 0 if name == "context" else value > 0
            if not (low_ok and math.isfinite(value)):
                kind = "non-negative" if name == "context" else "positive"
                raise ValueError(
                    f"{name} must be a finite {kind} number, got {value!r}"
                )

    @classmethod
    def paper(cls) -> "SiamFCConfig":
        """The published SiamFC: 127 / 255 inputs, full-width AlexNet, 17×17
        response."""
        return cls()

    @classmethod
    def tiny(cls) -> "SiamFCConfig":
        """The CPU preset: the paper's input sizes and geometry with a quarter of the
        channels.

        Smaller inputs do not work with this backbone (at 95 the exemplar features are
        only 2×2, at 63 nothing is left), so the saving comes from the channels: about
        12× fewer operations.
        """
        return cls(width=0.25)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "SiamFCConfig":
        """Rebuild a config saved with `dataclasses.asdict`.

        Every field must be present and no other key, so a checkpoint of another model,
        or one whose config was stored in another form, is a `ValueError` rather than a
        network silently built from defaults.
        """
        return config_from_dict(cls, values)

    @property
    def total_stride(self) -> int:
        return 8

    @property
    def score_size(self) -> int:
        """Side of the response map: search features minus exemplar features plus
        one."""
        backbone = AlexNet(0.0625)
        return (
            backbone.feature_size(self.search_size)
            - backbone.feature_size(self.exemplar_size)
            + 1
        )


class SiamFCNet(nn.Module):
    """SiamFC: `response = head(backbone(z), backbone(x))`, one backbone for both
    branches.

    `forward(exemplar (N, 3, e, e), search (N, 3, s, s))` with pixel values 0-255
    returns the response logits `(N, 1, S, S)`, `S = config.score_size`. Trackers call
    `backbone` once for the exemplar and `head` for every frame.
    """

    def __init__(self, config: SiamFCConfig | None = None) -> None:
        super().__init__()
        self.config = config or SiamFCConfig.paper()
        self.backbone = AlexNet(self.config.width)
        self.head = SiamFCHead(self.config.out_scale)
        if self.backbone.feature_size(self.config.exemplar_size) < 1:
            raise ValueError(
                f"exemplar_size {self.config.exemplar_size} leaves no feature map "
                "(need >= 87)"
            )

    def forward(self, exemplar: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(exemplar), self.backbone(search))

    @torch.no_grad()
    def score_map(self, exemplar: np.ndarray, search: np.ndarray) -> np.ndarray:
        """The response `(S, S)` of one `uint8 (e, e, 3)` exemplar crop against one
        `uint8` search crop of any size at least the exemplar's (the bigger the crop,
        the bigger the map)."""
        device = next(self.parameters()).device
        tensors = [
            to_tensor(np.require(crop, requirements="W"), device)
            for crop in (exemplar, search)
        ]
        return self(*tensors)[0, 0].float().cpu().numpy()


def load_siamfc(
    path: str | os.PathLike | None = None,
    map_location: str | torch.device | None = "cpu",
) -> SiamFCNet:
    """A `SiamFCNet` with weights from a checkpoint of `siamlab train siamfc` (default:
    the shipped tiny checkpoint, `DEFAULT_SIAMFC_WEIGHTS`), in eval mode, on
    `map_location` (checked by `siamlab.device.get_device`).

    `FileNotFoundError` names a missing path; every other problem is one `ValueError`
    naming the path: not a checkpoint (see `siamlab.train.load_checkpoint`), NaN or
    infinite weights, a config stored in another form, or weights of another model or
    preset (missing, extra or differently shaped tensors).
    """
    from siamlab.device import get_device
    from siamlab.train import load_checkpoint

    path = DEFAULT_SIAMFC_WEIGHTS if path is None else Path(path)
    device = get_device(map_location)
    state = load_checkpoint(path, map_location=device)
    if "config" not in state or not isinstance(state.get("model"), dict):
        raise ValueError(
            f"checkpoint {str(path)!r} is not a SiamFC checkpoint (needs a 'config' "
            f"and a 'model' state dict), it holds {sorted(map(str, state))}"
        )
    try:
        model = SiamFCNet(SiamFCConfig.from_dict(state["config"]))
    except ValueError as error:
        raise ValueError(f"checkpoint {str(path)!r}: bad config: {error}") from error
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, TypeError, KeyError) as error:
        first = str(error).strip().splitlines()
        detail = " ".join(line.strip() for line in first[1:3])[:300]
        raise ValueError(
            f"checkpoint {str(path)!r} holds weights of another model or preset than "
            f"its config ({detail})"
        ) from error
    return model.to(device).eval()


def config_dict(config: SiamFCConfig) -> dict[str, Any]:
    """The config as a plain dict, the form stored in checkpoints."""
    return asdict(config)


def siamfc_loss(model: SiamFCNet, batch: Any) -> torch.Tensor:
    """The training loss of one `siamlab.datasets.pairs.PairBatch`: the balanced
    logistic loss of the response against label discs of radius `config.radius` around
    each target (`batch.offsets`)."""
    from siamlab.losses import balanced_logistic_loss, siamfc_labels
    from siamlab.train import unwrapped

    device = next(model.parameters()).device
    response = model(batch.exemplar.to(device), batch.search.to(device))
    config = unwrapped(model).config
    labels = siamfc_labels(
        response.shape[-1], config.radius, config.total_stride, batch.offsets
    )
    return balanced_logistic_loss(response, labels.to(device))


def train_siamfc(
    config: SiamFCConfig,
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
    model: SiamFCNet | None = None,
    progress: bool = True,
    device: torch.device | str | None = None,
    workers: int = 0,
):
    """Train SiamFC on pairs from `sequences` with `siamlab.train.fit`; returns
    `(model, history)`.

    Adam with the learning rate decaying exponentially from `lr` to `final_lr` over
    `steps` (the paper uses SGD from 1e-2 to 1e-5 over 50 epochs; Adam gets further in a
    few hundred steps). The checkpoint stores the config, so `load_siamfc` rebuilds the
    model from it. A resumed run draws its later pairs from `seed` and the step it
    resumes at. `workers`: processes that draw the pairs beside the training
    (`siamlab.datasets.loader.batch_stream`; 0 draws them in this process).
    """
    from siamlab.datasets.loader import batch_stream, pair_seed
    from siamlab.datasets.pairs import PairSampler
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
    model = (model or SiamFCNet(config)).to(target)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(
        optimizer, gamma=(final_lr / lr) ** (1 / steps)
    )

    def sampler(worker: int) -> PairSampler:
        return PairSampler(
            sequences,
            config.exemplar_size,
            config.search_size,
            max_gap=max_gap,
            context=config.context,
            seed=pair_seed(seed + start, worker),
        )

    history = fit(
        model,
        optimizer,
        batch_stream(sampler, batch_size, workers),
        siamfc_loss,
        steps,
        scheduler=scheduler,
        checkpoint=checkpoint,
        checkpoint_every=100 if checkpoint else 0,
        resume=resume,
        extra_state={"config": config_dict(config)},
        progress=progress,
        desc="SiamFC",
    )
    return model, history
