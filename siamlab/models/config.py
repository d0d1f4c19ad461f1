"""Model configs stored in checkpoints as plain dicts, read back strictly, and the
checks every training function makes of its arguments."""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any, TypeVar

import numpy as np

ConfigT = TypeVar("ConfigT")


def config_from_dict(cls: type[ConfigT], values: Any) -> ConfigT:
    """`cls(**values)` for a config dataclass, if `values` holds exactly its fields.

    A checkpoint whose config was stored in another form, or with fields of another
    model, is a `ValueError` rather than a network silently built from defaults.
    """
    name = cls.__name__
    if not isinstance(values, dict):
        raise ValueError(
            f"a {name} must be stored as a dict of its fields, "
            f"got {type(values).__name__} {values!r}"
        )
    names = {f.name for f in fields(cls)}
    unknown = sorted(map(str, set(values) - names))
    missing = sorted(names - set(values))
    if unknown or missing:
        raise ValueError(
            f"{name} fields do not match: unknown {unknown}, missing {missing}"
        )
    return cls(**values)


class AnchorGeometry:
    """What an RPN config derives from its `ratios`, `scales` and `search_size` and from
    its own `score_size_for(search_size)`: the stride, the anchor count, the score-map
    side and the anchors (chapter 3's `anchor_grid`). Shared by `SiamRPNConfig` and
    `SiamRPNPPConfig`, which differ in how their backbones size the score map."""

    ratios: tuple[float, ...]  # fields of the dataclasses that use this mixin
    scales: tuple[float, ...]
    search_size: int

    def score_size_for(self, search_size: int) -> int:  # pragma: no cover
        raise NotImplementedError

    @property
    def total_stride(self) -> int:
        return 8

    @property
    def num_anchors(self) -> int:
        return len(self.ratios) * len(self.scales)

    @property
    def score_size(self) -> int:
        """Side of the score maps for `search_size` (see `score_size_for`)."""
        return self.score_size_for(self.search_size)

    def anchors(self, search_size: int | None = None) -> np.ndarray:
        """The anchors of the score map, cxcywh relative to the crop centre,
        `(k·S·S, 4)` in anchor-major order (chapter 3's `anchor_grid`)."""
        from siamlab.anchors import anchor_grid, anchor_shapes

        size = self.score_size_for(search_size or self.search_size)
        shapes = anchor_shapes(self.total_stride, self.ratios, self.scales)
        return anchor_grid(size, self.total_stride, shapes)


def network_from_checkpoint(
    state: dict[str, Any], path: object, config_cls: type, network_cls: type
) -> Any:
    """`network_cls(config_cls.from_dict(state["config"]))` holding `state["model"]`,
    for the loaders of checkpoints written by `siamlab train`. A config or weights that
    do not fit are a `ValueError` naming `path`."""
    try:
        model = network_cls(config_cls.from_dict(state["config"]))
    except (ValueError, TypeError) as error:
        raise ValueError(f"checkpoint {str(path)!r}: bad config: {error}") from error
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, TypeError, KeyError) as error:
        detail = " ".join(str(error).split())[:300]
        raise ValueError(
            f"checkpoint {str(path)!r} holds weights of another model or preset than "
            f"its config ({detail})"
        ) from error
    return model


def check_training_args(
    steps: int, batch_size: int, lr: float, final_lr: float
) -> None:
    """`ValueError` naming the first training argument out of range."""
    for name, value in (("steps", steps), ("batch_size", batch_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    for name, value in (("lr", lr), ("final_lr", final_lr)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number, got {value!r}")
        if not (math.isfinite(value) and value > 0):
            raise ValueError(
                f"{name} (learning rate) must be positive and finite, got {value}"
            )
