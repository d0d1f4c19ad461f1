"""The checkpoints that ship inside the package, and their manifest.

The trained weights (`siamlab/weights/*.pt`) are package data: they travel in the wheel
and are found with `importlib.resources`, so a shipped tracker works from an installed
wheel in any working folder, not only from a clone of the repository. `MANIFEST.json`
beside them records, for each file, the command that produced it and its benchmark
numbers.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

WEIGHTS_PACKAGE = "siamlab"
WEIGHTS_FOLDER = "weights"


def weights_dir() -> Path:
    """The folder of the shipped checkpoints (inside the installed package)."""
    return Path(str(resources.files(WEIGHTS_PACKAGE).joinpath(WEIGHTS_FOLDER)))


def shipped_weights(name: str) -> Path:
    """Path of the shipped checkpoint `name` (e.g. `"siamfc_tiny.pt"`).

    The path is returned whether or not the file exists, so that a missing file is
    reported by the loader that needs it, with its full path.
    """
    if not isinstance(name, str) or not name or Path(name).name != name:
        raise ValueError(
            f"name must be a file name such as 'siamfc_tiny.pt', got {name!r}"
        )
    return weights_dir() / name


def manifest() -> dict[str, Any]:
    """`MANIFEST.json`: for each shipped checkpoint, how it was made and how it
    scores."""
    path = weights_dir() / "MANIFEST.json"
    if not path.is_file():
        raise FileNotFoundError(f"the weights manifest {str(path)!r} is missing")
    return json.loads(path.read_text(encoding="utf-8"))


def available() -> list[str]:
    """Names of the checkpoints that ship with this installation, sorted."""
    folder = weights_dir()
    return sorted(p.name for p in folder.glob("*.pt")) if folder.is_dir() else []
