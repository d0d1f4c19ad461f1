"""siamlab: a runnable textbook of Siamese visual object trackers.

The top level holds the few helpers every chapter starts with (`seed_everything`,
`get_device`, `show_source`); the rest lives in submodules, one idea each, imported on
first use so that `import siamlab` stays fast:

- `siamlab.boxes`, `siamlab.crops`, `siamlab.anchors`: geometry on NumPy arrays;
- `siamlab.losses`, `siamlab.nn`: the networks and what trains them;
- `siamlab.datasets`, `siamlab.trackers`, `siamlab.evaluation`: data, trackers and their
  yardstick;
- `siamlab.viz`, `siamlab.widgets`: figures and interactive explorers for the book.
"""

from __future__ import annotations

import importlib
from typing import Any

from siamlab.device import amp_autocast, get_device, seed_everything
from siamlab.source import show_source

__version__ = "0.1.0"

__all__ = [
    "amp_autocast",
    "get_device",
    "seed_everything",
    "show_source",
    "__version__",
]


def __getattr__(name: str) -> Any:
    """Import a submodule on first use (`siamlab.nn`, `siamlab.anchors`, ...)."""
    if name.startswith("_"):
        raise AttributeError(name)
    try:
        module = importlib.import_module(f"siamlab.{name}")
    except ModuleNotFoundError as error:
        if error.name == f"siamlab.{name}":
            raise AttributeError(
                f"module 'siamlab' has no attribute {name!r}"
            ) from None
        raise
    globals()[name] = module
    return module
