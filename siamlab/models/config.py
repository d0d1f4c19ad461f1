"""Model configs stored in checkpoints as plain dicts, read back strictly, and the
checks every training function makes of its arguments."""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any, TypeVar

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
