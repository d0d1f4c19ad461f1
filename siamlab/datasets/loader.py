"""Training batches drawn in worker processes while the network trains.

A pair sampler (`PairSampler` and its RPN and distractor-aware kinds) decodes or renders
two frames per pair and crops them: on real video (GOT-10k, LaSOT: JPEG files on disk)
that is most of a training step unless it runs beside the training. `batch_stream`
gives the endless stream of batches that `siamlab.train.fit` consumes, either drawn in
this process (`workers=0`, as the chapters train) or by a `torch.utils.data.DataLoader`
whose `workers` processes each draw from their own sampler, several batches ahead.

Each worker builds its sampler with `make_sampler(worker)`, so each can seed its own
draws with `pair_seed(seed, worker)`, distinct per worker and per torchrun process: the
run is repeatable for a given number of workers and processes, and `workers=0` draws
exactly the batches of `make_sampler(0)`. Workers start by fork where the platform has
it (Linux), so the sequences need not be picklable there.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

#: Steps between the seeds of workers and of torchrun processes (`pair_seed`): far
#: from `seed + step`, the seed a resumed run starts from.
WORKER_SEED_STRIDE = 1_000_003
RANK_SEED_STRIDE = 7_000_003


def pair_seed(seed: int, worker: int = 0) -> int:
    """The seed of data worker `worker`'s sampler in this process.

    `seed` itself for worker 0 of a single process, so that `workers=0` outside torchrun
    draws what it always drew; distinct for every worker and every torchrun process
    (DistributedDataParallel expects each process to train on its own pairs).
    """
    rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
    return seed + WORKER_SEED_STRIDE * worker + RANK_SEED_STRIDE * rank


class _Batches(IterableDataset):
    """The endless batches of one worker's sampler."""

    def __init__(self, make_sampler: Callable[[int], Any], batch_size: int) -> None:
        super().__init__()
        self.make_sampler, self.batch_size = make_sampler, batch_size

    def __iter__(self) -> Iterator[Any]:
        info = get_worker_info()
        worker = 0 if info is None else info.id
        return self.make_sampler(worker).batches(self.batch_size)


def _check_count(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def batch_stream(
    make_sampler: Callable[[int], Any],
    batch_size: int,
    workers: int = 0,
    prefetch: int = 2,
) -> Iterator[Any]:
    """Endless training batches of `batch_size` pairs.

    `make_sampler(worker)` returns a sampler with a `batches(batch_size)` method for
    worker `worker` (0, 1, …). With `workers=0` the batches are those of
    `make_sampler(0)`, drawn in this process when `fit` asks for them; with
    `workers > 0`, a DataLoader's processes draw them, `prefetch` batches ahead each,
    and hand them over in turn (worker 0's first batch, worker 1's first, …). Workers
    run with one PyTorch thread each, but each takes a core while it draws: they pay
    where cores are spare (beside a GPU, or on a CPU with more cores than the training
    uses); on two cores, drawing in this process is faster (`benchmarks/training.py`).
    """
    _check_count("batch_size", batch_size, 1)
    _check_count("workers", workers, 0)
    _check_count("prefetch", prefetch, 1)
    if not callable(make_sampler):
        raise ValueError(
            f"make_sampler must be a function of the worker index, got {make_sampler!r}"
        )
    if workers == 0:
        return make_sampler(0).batches(batch_size)
    context = (
        "fork"
        if "fork" in torch.multiprocessing.get_all_start_methods()
        else None  # spawn: the sampler and its sequences must be picklable
    )
    loader = DataLoader(
        _Batches(make_sampler, batch_size),
        batch_size=None,  # the samplers already batch
        num_workers=workers,
        prefetch_factor=prefetch,
        persistent_workers=True,
        multiprocessing_context=context,
    )
    return iter(loader)
