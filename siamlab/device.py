"""Where the computation runs, and how to make it repeatable.

`get_device` picks the fastest available accelerator (CUDA, then Apple's MPS, then the
CPU), so that the same chapter runs the small configuration on a laptop and the
paper-sized one on a GPU. `seed_everything` seeds every random generator the library
uses, so a chapter run twice on the CPU prints the same numbers.
"""

from __future__ import annotations

import contextlib
import os
import random
from typing import Iterator

import numpy as np
import torch

_KNOWN_DEVICES = ("cuda", "mps", "cpu")


def _available(kind: str) -> bool:
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        backend = getattr(torch.backends, "mps", None)
        return bool(backend is not None and backend.is_available())
    return kind == "cpu"


def get_device(prefer: str | torch.device | None = None) -> torch.device:
    """The device to compute on.

    With `prefer=None`, the first available of CUDA, MPS and the CPU. The environment
    variable `SIAMLAB_DEVICE` (e.g. `cpu`) overrides the automatic choice. An explicit
    `prefer` (`"cuda"`, `"cuda:1"`, `"mps"`, `"cpu"` or a `torch.device`) is returned as
    is if available and raises `ValueError` otherwise, so that a request for a GPU never
    silently runs on the CPU.
    """
    if prefer is None:
        prefer = os.environ.get("SIAMLAB_DEVICE") or None
    if prefer is None:
        for kind in _KNOWN_DEVICES:
            if _available(kind):
                return torch.device(kind)
    try:
        device = torch.device(prefer)  # type: ignore[arg-type]
    except (RuntimeError, TypeError, ValueError) as error:
        raise ValueError(
            f"device must be one of {_KNOWN_DEVICES} (optionally with an index such as "
            f"'cuda:0'), got {prefer!r}"
        ) from error
    if device.type not in _KNOWN_DEVICES:
        raise ValueError(f"device must be one of {_KNOWN_DEVICES}, got {prefer!r}")
    if not _available(device.type):
        raise ValueError(
            f"device {str(prefer)!r} was requested but {device.type} is not available "
            "here"
        )
    if device.type == "cuda" and device.index is not None:
        if device.index >= torch.cuda.device_count():
            raise ValueError(
                f"device {str(prefer)!r}: only {torch.cuda.device_count()} CUDA "
                f"device(s) are present"
            )
    return device


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's generators (all devices) with `seed`.

    Also asks PyTorch for deterministic cuDNN kernels, so CUDA runs repeat too (at some
    speed cost).
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


@contextlib.contextmanager
def amp_autocast(device: torch.device, enabled: bool = True) -> Iterator[None]:
    """Mixed precision (float16 autocast) on CUDA; a no-op on every other device.

    On the CPU, autocast to bfloat16 is slower than float32 for these small networks, so
    the library keeps float32 there.
    """
    if enabled and torch.device(device).type == "cuda":
        with torch.autocast(device_type="cuda", dtype=torch.float16):
            yield
    else:
        yield
