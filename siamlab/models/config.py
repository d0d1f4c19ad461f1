"""Model configs stored in checkpoints as plain dicts, and read back strictly."""

from __future__ import annotations

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
