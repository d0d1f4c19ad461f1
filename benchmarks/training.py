"""One training step of each model family split into its stages, measured side by
side.

SiamFC (`PairSampler`, `siamfc_loss`) and SiamRPN (`RPNPairSampler`, `siamrpn_loss`,
SiamFC-tiny's backbone with its first three stages fixed, as `siamlab train siamrpn
--preset tiny` trains it) at the tiny presets, batches of 16 pairs from synth-train,
Adam as the library's training sets it up. Each step is timed in five stages:

- data: drawing the pairs, rendering their frames and cropping them (and, for
  SiamRPN, labelling the anchors), `sampler.batch(16)`; with `--workers N`, the wait
  for the next batch of `siamlab.datasets.loader.batch_stream` (N worker processes
  drawing ahead, as `siamlab train … --workers N` trains);
- transfer: moving the batch to the device (nothing to move on a CPU);
- forward: the network and the loss;
- backward: `zero_grad` and `loss.backward()`;
- optimiser: `optimizer.step()`.

The two families alternate step by step after one warm-up step each; the table shows
the median of each stage over the steps, the median step, and the data fraction of
the step (data / step).

The steps are timed in the steady state of a training run: SynthTrack keeps the
objects it cuts from the photographs (`siamlab.datasets.synth.sprite`, 2,048 of them),
and synth-train's fit in that cache, so after the first few hundred steps of a run
every frame is drawn from cut objects. A five-step benchmark would instead time the
cutting: the script cuts every object of synth-train first (printed with its count),
and `--cold` skips that to time the start of a run.

Run: `python benchmarks/training.py [--rounds STEPS] [--threads T] [--batch-size B]
[--workers N] [--cold]`.
"""

from __future__ import annotations

import argparse
import time

import torch
from _common import add_common_arguments, machine, median, set_threads

from siamlab.datasets import load_dataset, synth
from siamlab.datasets.loader import batch_stream
from siamlab.datasets.pairs import PairSampler
from siamlab.device import get_device, seed_everything
from siamlab.models.siamfc import SiamFCConfig, SiamFCNet, siamfc_loss
from siamlab.models.siamrpn import (
    RPNPairSampler,
    SiamRPNConfig,
    SiamRPNNet,
    _parameter_groups,
    init_from_siamfc,
    siamrpn_loss,
)

STAGES = ("data", "transfer", "forward", "backward", "optimiser")


def siamfc_family(sequences, device):
    config = SiamFCConfig.tiny()
    model = SiamFCNet(config).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    sampler = PairSampler(
        sequences, config.exemplar_size, config.search_size, context=config.context
    )
    return model, optimizer, sampler, siamfc_loss


def siamrpn_family(sequences, device):
    config = SiamRPNConfig.tiny()
    model = SiamRPNNet(config)
    init_from_siamfc(model)
    model.freeze(3)
    model = model.to(device).train()
    optimizer = torch.optim.Adam(_parameter_groups(model, 1e-3), lr=1e-3)
    return model, optimizer, RPNPairSampler(sequences, config), siamrpn_loss


def to_device(batch, device):
    """The batch with every tensor field moved to `device`."""
    for name, value in vars(batch).items():
        if isinstance(value, torch.Tensor):
            setattr(batch, name, value.to(device, non_blocking=True))
    return batch


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def cut_every_object(sequences) -> int:
    """Fill SynthTrack's cache of cut objects with every object of `sequences`, as a
    long training run has it; returns how many objects there are."""
    cuts = {layer.cut for s in sequences for layer in s.metadata["spec"].layers}
    capacity = synth.sprite.cache_info().maxsize
    if capacity is not None and len(cuts) > capacity:
        raise SystemExit(
            f"synth-train has {len(cuts)} objects, more than the {capacity} the cache "
            "holds: a run would keep cutting them; time it with --cold"
        )
    for cut in cuts:
        synth.sprite(cut)
    return len(cuts)


def batch_source(sampler, batch_size: int, workers: int):
    """The `data` stage: a function returning the next batch."""
    if workers == 0:
        return lambda: sampler.batch(batch_size)
    # every worker forks a copy of the one sampler: the same pairs, the same cost
    stream = batch_stream(lambda worker: sampler, batch_size, workers)
    return lambda: next(stream)


def timed_step(family, draw, device: torch.device) -> dict[str, float]:
    """Seconds of each stage of one training step; `draw()` gives the batch."""
    model, optimizer, _, loss_fn = family
    marks = [time.perf_counter()]
    batch = draw()
    marks.append(time.perf_counter())
    batch = to_device(batch, device)
    synchronize(device)
    marks.append(time.perf_counter())
    loss = loss_fn(model, batch)
    synchronize(device)
    marks.append(time.perf_counter())
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    synchronize(device)
    marks.append(time.perf_counter())
    optimizer.step()
    synchronize(device)
    marks.append(time.perf_counter())
    return {stage: b - a for stage, a, b in zip(STAGES, marks, marks[1:])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, rounds=5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--device", default=None, help="default: get_device()")
    parser.add_argument(
        "--workers", type=int, default=0, help="processes drawing the batches ahead"
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="time the start of a run: do not cut SynthTrack's objects beforehand",
    )
    args = parser.parse_args()
    set_threads(args.threads)
    seed_everything(0)
    device = get_device(args.device)
    sequences = load_dataset("synth-train")
    objects = 0 if args.cold else cut_every_object(sequences)
    families = {
        "SiamFC tiny": siamfc_family(sequences, device),
        "SiamRPN tiny": siamrpn_family(sequences, device),
    }
    draws = {
        name: batch_source(family[2], args.batch_size, args.workers)
        for name, family in families.items()
    }
    for name, family in families.items():
        timed_step(family, draws[name], device)  # warm-up
    steps: dict[str, list[dict[str, float]]] = {name: [] for name in families}
    for _ in range(args.rounds):
        for name, family in families.items():
            steps[name].append(timed_step(family, draws[name], device))
    print(machine() + f", device {device}")
    state = (
        "cold: objects cut as the pairs need them"
        if args.cold
        else f"steady state: all {objects} objects of synth-train cut beforehand"
    )
    print(
        f"batch {args.batch_size}; median ms of {args.rounds} steps, the families "
        f"alternated step by step; {args.workers} data workers; {state}"
    )
    header = "".join(f"{stage:>11}" for stage in STAGES)
    print(f"{'model':>13}{header}{'step':>11}{'data share':>12}")
    for name, times in steps.items():
        cells = [median([t[stage] for t in times]) * 1e3 for stage in STAGES]
        totals = [sum(t.values()) for t in times]
        share = median([t["data"] / total for t, total in zip(times, totals)])
        row = "".join(f"{cell:11.1f}" for cell in cells)
        print(f"{name:>13}{row}{median(totals) * 1e3:11.1f}{share:12.0%}")


if __name__ == "__main__":
    main()
