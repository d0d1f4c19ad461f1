"""What every benchmark here shares: the machine's description, side-by-side timing
(contenders alternated round by round, medians of rounds) and the frames trackers are
timed on. It imports no `siamlab`, so a benchmark may run it beside another commit's.

Not a benchmark itself; the scripts import it as `_common` (Python puts the script's
folder first on the path).
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import time
from typing import Callable

import numpy as np
import torch
from PIL import Image

WIDTH, HEIGHT = 640, 480


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (the processor's name elsewhere)."""
    try:
        with open("/proc/cpuinfo") as lines:
            for line in lines:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    """One line: torch version, intra-op threads, CPU model and cores, load now."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{cpu_model()} ({os.cpu_count()} cores), load average {load}"
    )


def add_common_arguments(parser, rounds: int) -> None:
    """`--rounds` and `--threads`, the options every benchmark takes."""
    parser.add_argument(
        "--rounds", type=int, default=rounds, help="alternated rounds (median)"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )


def set_threads(threads: int | None) -> None:
    if threads is not None:
        torch.set_num_threads(threads)


def alternate(
    contenders: dict[str, Callable[[], object]],
    rounds: int,
    min_seconds: float = 0.02,
    warmup: int = 3,
) -> dict[str, list[float]]:
    """Seconds per call of each contender in each of `rounds` rounds, the contenders
    run one after the other in every round (so a change in the machine's load hits
    them all alike).

    Each contender is called `warmup` times first; the fastest of those calls sets how
    many calls a round makes of it (at least `min_seconds` of them, as `timeit` does),
    whose mean is that round's time: one descheduling of a short call then weighs less.
    """
    number = {}
    for name, fn in contenders.items():
        fastest = math.inf
        for _ in range(warmup):
            start = time.perf_counter()
            fn()
            fastest = min(fastest, time.perf_counter() - start)
        number[name] = max(1, math.ceil(min_seconds / fastest))
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            start = time.perf_counter()
            for _ in range(number[name]):
                fn()
            times[name].append((time.perf_counter() - start) / number[name])
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def ratio_range(slow: list[float], fast: list[float]) -> tuple[float, float, float]:
    """Median, lowest and highest of the per-round ratios `slow / fast`."""
    ratios = [s / f for s, f in zip(slow, fast)]
    return statistics.median(ratios), min(ratios), max(ratios)


def random_frames(count: int, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """`count` uint8 frames `(480, 640, 3)` and the target's first xywh box: a
    textured 64×48 target moving over a smooth random background."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (HEIGHT // 16, WIDTH // 16, 3), dtype=np.uint8)
    background = np.asarray(
        Image.fromarray(coarse).resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)
    )
    target = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    frames, first = [], None
    for index in range(count):
        x = int(200 + 120 * np.sin(index / 7))
        y = int(200 + 60 * np.cos(index / 9))
        frame = background.copy()
        frame[y : y + 48, x : x + 64] = target
        frames.append(frame)
        first = first if first is not None else np.array([x, y, 64, 48], float)
    return frames, first
