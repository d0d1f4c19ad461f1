"""The training loop shared by every chapter: seeded, with a progress bar, atomic
checkpoints and resume.

The same loop scales out: under `torchrun --nproc_per_node=N` it trains with PyTorch's
DistributedDataParallel (gloo on CPUs, NCCL on GPUs) after `init_distributed()`.

A model is trained by `fit(model, optimizer, batches, loss_fn, steps)`: `batches` is any
iterator of training batches, and `loss_fn(model, batch)` returns the scalar loss of one
batch. The loop knows nothing about trackers; the chapters and `siamlab train` supply
the pieces.
"""

from __future__ import annotations

import glob
import math
import os
import pickle
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from siamlab.device import amp_autocast, get_device
from siamlab.progress import progress_bar

_END = object()  # marks an exhausted iterator of batches


class NonFiniteLossError(RuntimeError, ValueError):
    """Training diverged (the loss became NaN or infinite): a bad setting such as a too
    high learning rate, reported by the command line as an error rather than a bug."""


@dataclass
class History:
    """What `fit` returns: the loss of every step, and the step the run ended at."""

    losses: list[float] = field(default_factory=list)
    step: int = 0

    def smoothed(self, window: int = 20) -> list[float]:
        """Running mean of the losses over `window` steps, for loss-curve figures."""
        if not isinstance(window, int) or isinstance(window, bool) or window < 1:
            raise ValueError(f"window must be a positive integer, got {window!r}")
        out, total = [], 0.0
        for i, value in enumerate(self.losses):
            total += value
            if i >= window:
                total -= self.losses[i - window]
            out.append(total / min(i + 1, window))
        return out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove_leftovers(path: Path) -> None:
    """Delete the temporary files that an interrupted save of `path` left beside it."""
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        leftover.unlink(missing_ok=True)


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write `state` with `torch.save` atomically: to a temporary file, then renamed
    over `path`.

    A run killed while saving leaves the previous checkpoint intact, and the temporary
    file it left behind (`.<name>.*.tmp`) is removed by the next save to the same path.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"checkpoint path {str(path)!r} is a folder, expected a file")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise ValueError(
                f"checkpoint path {str(path)!r} cannot be written: {str(parent)!r} is "
                "a file"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(path)
    handle, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(state, file)
        # mkstemp's files are private; a checkpoint is not
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


#: What `torch.load(weights_only=True)` raises on a file that is not a checkpoint (a
#: truncated or corrupt archive, random bytes, a pickle of arbitrary classes).
_UNREADABLE = (
    RuntimeError,
    EOFError,
    pickle.UnpicklingError,
    ValueError,
    TypeError,
    AttributeError,
    ImportError,
    IndexError,
    KeyError,
    UnicodeDecodeError,
)


def _non_finite(value: Any, where: str = "") -> str | None:
    """The first entry of a (nested) checkpoint holding NaN or infinity, or None."""
    if isinstance(value, torch.Tensor):
        if value.is_floating_point() or value.is_complex():
            return None if bool(torch.isfinite(value).all()) else where or "the state"
        return None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _non_finite(item, f"{where}.{key}" if where else str(key))
        if found is not None:
            return found
    return None


def load_checkpoint(
    path: str | os.PathLike, map_location: str | torch.device | None = "cpu"
) -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint`: the state `dict` it stored.

    Loaded with `weights_only=True`, so a checkpoint from elsewhere cannot run code.
    `FileNotFoundError` names a missing path; `ValueError` names the path and what is
    wrong for anything that is not a checkpoint (a truncated file, other bytes, a pickle
    of other classes, a top level that is not a dict) and for NaN or infinite values in
    any of its tensors, which would otherwise surface much later as a score of 0.
    `map_location` is a device name checked by `get_device` (`None`: the fastest).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
    if not path.is_file():
        raise ValueError(f"checkpoint {str(path)!r} is not a file")
    device = get_device(map_location)
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except _UNREADABLE as error:
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        if "weights only load failed" in reason.lower():
            reason = (
                "it stores Python objects other than tensors and plain values, which "
                "are not loaded because unpickling them could run code"
            )
        raise ValueError(
            f"checkpoint {str(path)!r} cannot be read as a PyTorch checkpoint "
            "(truncated, corrupt or not written by torch.save of tensors and plain "
            "values)" + (f": {reason}" if reason else "")
        ) from error
    if not isinstance(state, dict):
        raise ValueError(
            f"checkpoint {str(path)!r} must hold a dict, got {type(state).__name__}"
        )
    bad = _non_finite(state)
    if bad is not None:
        raise ValueError(
            f"checkpoint {str(path)!r} holds NaN or infinite values in {bad}"
        )
    return state


def _resume(
    path: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    extra: dict[str, Any],
) -> History:
    """The history of the checkpoint at `path`, whose weights and optimiser state are
    loaded into `model` and `optimizer`; `ValueError` if its stored `config` differs
    from the one asked for (`extra["config"]`) or its tensors do not fit the model."""
    state = load_checkpoint(path)
    check_config(state, extra.get("config"), path)
    if not isinstance(state.get("model"), dict) or not isinstance(
        state.get("optimizer"), dict
    ):
        raise ValueError(
            f"checkpoint {str(path)!r} cannot be resumed: it needs the 'model' and "
            f"'optimizer' states that fit() writes"
        )
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
    except (RuntimeError, ValueError, KeyError, TypeError) as error:
        first = str(error).strip().splitlines()[0][:200]
        raise ValueError(
            f"checkpoint {str(path)!r} does not fit this model or optimiser: {first}"
        ) from error
    return History(losses=list(state.get("losses", [])), step=int(state.get("step", 0)))


def check_config(state: dict[str, Any], expected: Any, path: str | os.PathLike) -> None:
    """Raise `ValueError` naming `path` when the checkpoint `state` stores a `config`
    other than `expected` (a resumed run must continue the same model; `None`: no
    check)."""
    if expected is None:
        return
    stored = state.get("config")
    if stored != expected:
        raise ValueError(
            f"checkpoint {str(path)!r} was written with config {stored!r}, which "
            f"differs from the requested {expected!r}; use another --out or the same "
            "preset"
        )


def _checkpoint_state(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    history: History,
    extra: dict[str, Any],
) -> dict[str, Any]:
    return {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "losses": history.losses,
        "step": history.step,
        **extra,
    }


def init_distributed(backend: str | None = None) -> tuple[int, int]:
    """Join the process group that `torchrun` describes in the environment; return
    `(rank, world_size)`.

    Without `torchrun` (no `WORLD_SIZE` above 1 in the environment) this does nothing
    and returns `(0, 1)`. The backend defaults to NCCL when CUDA is available and gloo
    otherwise, so the same command trains on several GPUs or on several CPU processes.
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1 or not dist.is_available():
        return 0, 1
    backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
    dist.init_process_group(backend=backend)
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    return dist.get_rank(), dist.get_world_size()


def unwrapped(model: nn.Module) -> nn.Module:
    """The model itself, inside the DistributedDataParallel wrapper that `fit` puts
    around it under torchrun: loss functions read its `config` through this."""
    return model.module if isinstance(model, DistributedDataParallel) else model


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _mean_across_processes(value: torch.Tensor) -> float:
    """The loss averaged over all processes (itself when training in one process)."""
    value = value.detach().float()
    if _distributed():
        value = value.clone()
        dist.all_reduce(value)
        value /= dist.get_world_size()
    return float(value)


def _step(
    train_model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    loss: torch.Tensor,
    grad_clip: float | None,
) -> None:
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if grad_clip is not None:
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(train_model.parameters(), grad_clip)
    scaler.step(optimizer)
    scaler.update()


def fit(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    batches: Iterable[Any],
    loss_fn: Callable[[nn.Module, Any], torch.Tensor],
    steps: int,
    *,
    scheduler: Any = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 0,
    resume: bool = False,
    extra_state: dict[str, Any] | None = None,
    grad_clip: float | None = None,
    use_amp: bool = False,
    progress: bool = True,
    desc: str = "training",
) -> History:
    """Train `model` for `steps` optimiser steps and return the loss history.

    Each step draws one batch from `batches`, computes `loss_fn(model, batch)`,
    back-propagates and steps `optimizer` (and `scheduler`, if given). With
    `checkpoint`, the state is written there atomically every `checkpoint_every` steps
    (0: only at the end), together with `extra_state` (e.g. the model's config);
    `resume=True` continues from that file when it exists, so a killed run loses at most
    `checkpoint_every` steps; a resumed checkpoint must store the same
    `extra_state["config"]`. A non-finite loss stops training with `NonFiniteLossError`
    rather than silently corrupting the weights. `use_amp` enables float16 autocast on
    CUDA only.

    Under `torchrun` (after `init_distributed()`), the model is wrapped in
    DistributedDataParallel: each process must draw its own `batches` (seed them with
    the rank), gradients are averaged, the history holds the loss averaged over
    processes, and only rank 0 shows progress and writes checkpoints.
    """
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    every = checkpoint_every
    if not isinstance(every, int) or isinstance(every, bool) or every < 0:
        raise ValueError(f"checkpoint_every must be an integer >= 0, got {every!r}")
    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and path.is_dir():  # found now, not after the training
        raise ValueError(f"checkpoint {str(path)!r} is a folder, expected a file")
    history = History()
    if resume and path is not None and path.exists():
        history = _resume(path, model, optimizer, scheduler, extra_state or {})
    device = next(model.parameters()).device
    main_process = not _distributed() or dist.get_rank() == 0
    train_model = DistributedDataParallel(model) if _distributed() else model
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and device.type == "cuda")
    iterator: Iterator[Any] = iter(batches)

    def write() -> None:
        if path is not None and main_process:
            save_checkpoint(
                path,
                _checkpoint_state(
                    model, optimizer, scheduler, history, extra_state or {}
                ),
            )

    model.train()
    bar = progress_bar(
        range(history.step, steps),
        enabled=progress and main_process,
        initial=history.step,
        total=steps,
        desc=desc,
    )
    for _ in bar:
        batch = next(iterator, _END)
        if batch is _END:
            raise ValueError(f"batches ran out after {history.step} of {steps} steps")
        with amp_autocast(device, enabled=use_amp):
            loss = loss_fn(train_model, batch)
        value = _mean_across_processes(loss)
        if not math.isfinite(value):
            raise NonFiniteLossError(
                f"loss became {value} at step {history.step}; lower the learning rate"
            )
        _step(train_model, optimizer, scaler, loss, grad_clip)
        if scheduler is not None:
            scheduler.step()
        history.losses.append(value)
        history.step += 1
        bar.set_postfix(loss=f"{history.smoothed()[-1]:.4f}")
        if checkpoint_every and history.step % checkpoint_every == 0:
            write()
    write()
    model.eval()
    return history
