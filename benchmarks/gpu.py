"""The trackers and a training run on the GPU: fps at the paper presets, fp32 against
mixed precision.

For a machine with CUDA (it runs anywhere: `--device cpu` checks the script itself).
Each tracker of the paper presets (random weights) tracks the 640×480 frames of
`trackers.py`; its update is timed in fp32 and under `siamlab.amp_autocast` (float16 on
CUDA, a no-op elsewhere), the two alternated round by round. The update includes the
crops on the CPU and the copy of the search batch to the device, as in real tracking;
`net ms` is the network's own time (SiamFC's backbone and head on the scale batch,
SiamRPN's and SiamRPN++'s `track`), synchronised. Then a short training run of each
family (the paper preset, batch 32 of synth-train pairs) in fp32 and with `use_amp`:
ms per step and the share of it spent preparing the batch. The note of a session with a
GPU records this table.

Run: `python benchmarks/gpu.py [--rounds N] [--frames F] [--steps S] [--device D]`.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _common import add_common_arguments, machine, median, random_frames, set_threads
from training import synchronize, to_device

import siamlab.trackers.siamfc as siamfc
import siamlab.trackers.siamrpn as siamrpn
from siamlab.device import amp_autocast, get_device
from siamlab.models.siamfc import SiamFCConfig, SiamFCNet
from siamlab.models.siamrpn import SiamRPNConfig, SiamRPNNet
from siamlab.models.siamrpnpp import SiamRPNPPConfig, SiamRPNPPNet
from siamlab.trackers.siamrpnpp import SiamRPNPPTracker


def paper_trackers(device: torch.device) -> dict[str, object]:
    torch.manual_seed(0)
    return {
        "siamfc": siamfc.SiamFCTracker(
            model=SiamFCNet(SiamFCConfig.paper()), device=device
        ),
        "siamrpn": siamrpn.SiamRPNTracker(
            model=SiamRPNNet(SiamRPNConfig.paper()), device=device
        ),
        "siamrpnpp": SiamRPNPPTracker(
            SiamRPNPPNet(SiamRPNPPConfig.paper()), device=device
        ),
    }


def network_call(tracker, frame: np.ndarray):
    """The network's part of one update of an initialised tracker."""
    if isinstance(tracker, siamfc.SiamFCTracker):
        return lambda: tracker.responses(frame, tracker.center, tracker.target_size)
    return lambda: tracker.search(frame, tracker.center, tracker.target_size)


def time_tracker(tracker, frames, box, device, amp: bool) -> tuple[float, float]:
    """Seconds per update and per network call, over `frames[1:]`."""
    tracker.init(frames[0], box)
    with torch.no_grad(), amp_autocast(device, enabled=amp):
        synchronize(device)
        start = time.perf_counter()
        for frame in frames[1:]:
            tracker.update(frame)
        synchronize(device)
        update = (time.perf_counter() - start) / (len(frames) - 1)
        call = network_call(tracker, frames[1])
        start = time.perf_counter()
        for _ in frames[1:]:
            call()
        synchronize(device)
        network = (time.perf_counter() - start) / (len(frames) - 1)
    return update, network


def tracker_table(device, rounds: int, count: int) -> list[str]:
    frames, box = random_frames(count + 1)
    lines = [f"{'tracker':>10}{'mode':>6}{'fps':>9}{'net ms':>9}{'vs fp32':>9}"]
    for name, tracker in paper_trackers(device).items():
        times = {"fp32": [], "amp": []}
        errors = {}
        for mode in times:  # warm-up (and cuDNN's algorithm search)
            try:
                time_tracker(tracker, frames[:3], box, device, mode == "amp")
            except Exception as error:  # report, do not hide, a mode that fails
                errors[mode] = f"{type(error).__name__}: {error}"
        for _ in range(rounds):
            for mode in times:
                if mode not in errors:
                    times[mode].append(
                        time_tracker(tracker, frames, box, device, mode == "amp")
                    )
        for mode, runs in times.items():
            if mode in errors:
                lines.append(f"{name:>10}{mode:>6}  failed: {errors[mode][:60]}")
                continue
            update = median([u for u, _ in runs])
            network = median([n for _, n in runs])
            ratio = (
                median([f[0] / a[0] for f, a in zip(times["fp32"], runs)])
                if times["fp32"]
                else float("nan")
            )
            lines.append(
                f"{name:>10}{mode:>6}{1 / update:>9.1f}{network * 1e3:>9.2f}"
                f"{ratio:>8.2f}×"
            )
    return lines


def training_table(device, steps: int, batch_size: int = 32) -> list[str]:
    from siamlab.datasets.formats import load_dataset
    from siamlab.datasets.pairs import PairSampler
    from siamlab.models.siamfc import siamfc_loss
    from siamlab.models.siamrpn import RPNPairSampler, siamrpn_loss

    sequences = load_dataset("synth-train", max_sequences=8)
    fc, rpn = SiamFCConfig.paper(), SiamRPNConfig.paper()
    families = {
        "siamfc": (
            lambda: SiamFCNet(fc),
            lambda: PairSampler(
                sequences, fc.exemplar_size, fc.search_size, context=fc.context
            ),
            siamfc_loss,
        ),
        "siamrpn": (
            lambda: SiamRPNNet(rpn),
            lambda: RPNPairSampler(sequences, rpn),
            siamrpn_loss,
        ),
    }
    lines = [f"{'family':>10}{'mode':>6}{'ms/step':>10}{'data':>8}"]
    for name, (build, sampler_for, loss_fn) in families.items():
        for amp in (False, True):
            torch.manual_seed(0)
            model = build().to(device).train()
            optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
            scaler = torch.amp.GradScaler("cuda", enabled=amp and device.type == "cuda")
            sampler = sampler_for()
            step_times, data_times = [], []
            for step in range(steps + 1):  # the first step warms up
                start = time.perf_counter()
                batch = to_device(sampler.batch(batch_size), device)
                synchronize(device)
                data = time.perf_counter() - start
                with amp_autocast(device, enabled=amp):
                    loss = loss_fn(model, batch)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                synchronize(device)
                if step:
                    step_times.append(time.perf_counter() - start)
                    data_times.append(data)
            step_ms = median(step_times) * 1e3
            share = median([d / s for d, s in zip(data_times, step_times)])
            mode = "amp" if amp else "fp32"
            lines.append(f"{name:>10}{mode:>6}{step_ms:>10.1f}{share:>8.0%}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, rounds=3)
    parser.add_argument("--frames", type=int, default=20, help="updates per round")
    parser.add_argument("--steps", type=int, default=10, help="training steps timed")
    parser.add_argument("--device", default=None, help="cuda, cpu, … (default: best)")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    device = get_device(args.device)
    print(machine())
    if device.type == "cuda":
        print(f"device: {torch.cuda.get_device_name(device)}")
    else:
        print(f"device: {device} (no GPU: the numbers only check the script)")
    print(f"paper presets, random weights; 640×480 frames, median of {args.rounds} "
          f"alternated rounds of {args.frames} updates")  # fmt: skip
    print("\n".join(tracker_table(device, args.rounds, args.frames)))
    print(f"training, batch 32 of synth-train pairs, median of {args.steps} steps")
    print("\n".join(training_table(device, args.steps)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
