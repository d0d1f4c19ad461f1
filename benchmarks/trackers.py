"""Trackers against the machine's roofline: frames per second, FLOP per frame and the
time of each stage, measured side by side.

The roofline is the machine's fp32 matrix-multiply rate (a 2048 × 2048 `torch.mm`,
in GFLOP/s), measured again right before each tracker's turn in every round, since a
shared machine's speed drifts within minutes. `siamfc`, `siamrpn`, `siamrpnpp` and
`ncc` from `siamlab.trackers.registry.make_tracker` (the tiny presets, shipped
weights) and SiamFC, SiamRPN and SiamRPN++ (ResNet-50) at the paper presets with
random weights track a 640×480 sequence of random-ish frames (a smooth random
background, a textured target moving across it). Each round, every tracker is
initialised on frame 0 and updates through the next `--frames` frames; the trackers
alternate round by round and the table shows medians over the rounds:

- `fps`: updates per second;
- `GFLOP`: per frame, counted by `torch.utils.flop_counter.FlopCounterMode` over the
  network's part of one update (SiamFC's `responses`, SiamRPN's `search`);
- `roofline`: the fraction of the roofline the tracker reaches, GFLOP/frame × fps /
  (matrix-multiply GFLOP/s measured just before it in the same round), median over
  the rounds; `net/roof`: the same for the network's time alone;
- the stages, in ms per frame, timed by wrapping the tracker's own pieces: `crop`
  (SiamFC `scale_pyramid`, SiamRPN and NCC `crop_square`), `network` (SiamFC
  `_embed` + `head`, SiamRPN `features` + `head.correlate`; for NCC the template
  matching, `skimage.feature.match_template`), `post` (SiamFC `locate`, which
  upsamples the responses ×16; SiamRPN `decode` + `locate`) and `other`: the rest of
  `update` (frame checks, uint8 → float conversion, tensor → NumPy copies, SiamRPN's
  softmax and response map), measured as the update's time minus the three stages.

Run: `python benchmarks/trackers.py [--rounds N] [--frames F] [--threads T]`.
"""

from __future__ import annotations

import argparse
import time
from contextlib import contextmanager

import numpy as np
import skimage.feature
import torch
from _common import (
    HEIGHT,
    WIDTH,
    add_common_arguments,
    machine,
    median,
    random_frames,
    set_threads,
)
from torch.utils.flop_counter import FlopCounterMode

import siamlab.trackers.baselines as baselines
import siamlab.trackers.siamfc as siamfc
import siamlab.trackers.siamrpn as siamrpn
from siamlab.models.siamfc import SiamFCConfig, SiamFCNet
from siamlab.models.siamrpn import SiamRPNConfig, SiamRPNNet
from siamlab.models.siamrpnpp import SiamRPNPPConfig, SiamRPNPPNet
from siamlab.trackers.registry import make_tracker
from siamlab.trackers.siamrpnpp import SiamRPNPPTracker

STAGES = ("crop", "network", "post")


class Stopwatch:
    """Seconds spent in each stage, for the tracker being timed now."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(STAGES, 0.0)

    def wrap(self, fn, stage: str):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - start

        return timed


@contextmanager
def patched(watch: Stopwatch, tracker):
    """The tracker's pieces (and the module functions it calls) wrapped by `watch`."""
    module_pieces = [
        (siamfc, "scale_pyramid", "crop"),
        (siamfc, "locate", "post"),
        (siamrpn, "crop_square", "crop"),
        (siamrpn, "decode", "post"),
        (siamrpn, "locate", "post"),
        (baselines, "crop_square", "crop"),
        (skimage.feature, "match_template", "network"),
    ]
    if isinstance(tracker, siamfc.SiamFCTracker):
        instance_pieces = [(tracker, "_embed"), (tracker.model, "head")]
    elif isinstance(tracker, siamrpn.SiamRPNTracker):
        instance_pieces = [
            (tracker.model, "features"),
            (tracker.model.head, "correlate"),
        ]
    else:
        instance_pieces = []
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in module_pieces]
    for owner, name, stage in module_pieces:
        setattr(owner, name, watch.wrap(getattr(owner, name), stage))
    for owner, name in instance_pieces:
        # an instance attribute shadows the method (or the submodule's __call__)
        object.__setattr__(owner, name, watch.wrap(getattr(owner, name), "network"))
    try:
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)
        for owner, name in instance_pieces:
            if name in owner.__dict__:
                object.__delattr__(owner, name)


def network_gflop(tracker, frame: np.ndarray) -> float | None:
    """GFLOP of the network's part of one update of an initialised tracker."""
    if isinstance(tracker, siamfc.SiamFCTracker):
        run = lambda: tracker.responses(frame, tracker.center, tracker.target_size)  # noqa: E731
    elif isinstance(tracker, siamrpn.SiamRPNTracker):
        run = lambda: tracker.search(frame, tracker.center, tracker.target_size)  # noqa: E731
    else:
        return None
    with FlopCounterMode(display=False) as counter:
        run()
    return counter.get_total_flops() / 1e9


def trackers() -> dict[str, object]:
    torch.manual_seed(0)
    return {
        "siamfc tiny": make_tracker("siamfc"),
        "siamfc paper": siamfc.SiamFCTracker(model=SiamFCNet(SiamFCConfig.paper())),
        "siamrpn tiny": make_tracker("siamrpn"),
        "siamrpn paper": siamrpn.SiamRPNTracker(
            model=SiamRPNNet(SiamRPNConfig.paper())
        ),
        "siamrpnpp tiny": make_tracker("siamrpnpp"),
        "siamrpnpp paper": SiamRPNPPTracker(SiamRPNPPNet(SiamRPNPPConfig.paper())),
        "ncc": make_tracker("ncc"),
    }


class Roofline:
    """The fp32 matrix-multiply rate, measured on demand: `measure()` times one
    2048 × 2048 `torch.mm` (after a warm-up product) and returns GFLOP/s; `rates` keeps
    every measurement."""

    def __init__(self, size: int = 2048) -> None:
        generator = torch.Generator().manual_seed(0)
        self.a = torch.randn(size, size, generator=generator)
        self.b = torch.randn(size, size, generator=generator)
        self.flop = 2 * size**3
        self.rates: list[float] = []
        torch.mm(self.a, self.b)

    def measure(self) -> float:
        start = time.perf_counter()
        torch.mm(self.a, self.b)
        rate = self.flop / (time.perf_counter() - start) / 1e9
        self.rates.append(rate)
        return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, rounds=3)
    parser.add_argument("--frames", type=int, default=6, help="updates per round")
    args = parser.parse_args()
    set_threads(args.threads)
    roofline = Roofline()
    frames, box = random_frames(args.frames + 1)
    contenders = trackers()
    gflop = {}
    for name, tracker in contenders.items():
        tracker.init(frames[0], box)
        gflop[name] = network_gflop(tracker, frames[1])
        tracker.update(frames[1])  # warm-up
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, tracker in contenders.items():
            rate = roofline.measure()
            tracker.init(frames[0], box)
            watch = Stopwatch()
            with patched(watch, tracker), torch.no_grad():
                start = time.perf_counter()
                for frame in frames[1:]:
                    tracker.update(frame)
                total = time.perf_counter() - start
            per_frame = {s: v / args.frames for s, v in watch.seconds.items()}
            per_frame["update"] = total / args.frames
            per_frame["roofline"] = rate
            rounds[name].append(per_frame)
    print(machine())
    rates = roofline.rates
    print(
        f"roofline: fp32 torch.mm 2048 × 2048 before each tracker in each round, "
        f"median {median(rates):.1f} GFLOP/s (from {min(rates):.1f} to "
        f"{max(rates):.1f}); {WIDTH}×{HEIGHT} frames, median of {args.rounds} "
        f"alternated rounds of {args.frames} updates"
    )
    columns = ("fps", "GFLOP", "roofline", "net/roof", "crop", "network", "post")
    print(f"{'tracker':>14}" + "".join(f"{c:>9}" for c in columns) + f"{'other':>9}")
    for name, runs in rounds.items():
        update = median([r["update"] for r in runs])
        stage = {s: median([r[s] for r in runs]) for s in STAGES}
        other = median([r["update"] - sum(r[s] for s in STAGES) for r in runs])
        if gflop[name] is None:
            flops = ["–", "–", "–"]
        else:
            whole = [gflop[name] / r["update"] / r["roofline"] for r in runs]
            net = [gflop[name] / r["network"] / r["roofline"] for r in runs]
            flops = [f"{gflop[name]:.2f}", f"{median(whole):.2f}", f"{median(net):.2f}"]
        times = [f"{stage[s] * 1e3:.1f}" for s in STAGES]
        cells = [f"{1 / update:.1f}", *flops, *times, f"{other * 1e3:.1f}"]
        print(f"{name:>14}" + "".join(f"{c:>9}" for c in cells))
    print("stages in ms per frame; ncc's network is template matching (no torch FLOPs)")


if __name__ == "__main__":
    main()
