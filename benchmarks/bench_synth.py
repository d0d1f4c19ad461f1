"""SynthTrack generation speed, and what the yardstick itself costs, on one CPU core.

Run: `python benchmarks/bench_synth.py`. Prints frames per second of SynthTrack (in
order, and in random order across synth-train, as a training sampler reads it), of the
NCC baseline's `update`, and of scoring (`sequence_metrics`), each measured in this one
run.
"""

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

from siamlab.datasets import load_dataset  # noqa: E402
from siamlab.evaluation import sequence_metrics  # noqa: E402
from siamlab.trackers import NCCTracker, track  # noqa: E402


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:8.0f} per second ({count} in {seconds:.2f} s)"


def main() -> None:
    start = time.perf_counter()
    test = load_dataset("synth-test")
    print(
        "build synth-test (30 sequences' parameters):   "
        f"{time.perf_counter() - start:.2f} s"
    )
    start = time.perf_counter()
    train = load_dataset("synth-train")
    print(
        "build synth-train (400 sequences' parameters): "
        f"{time.perf_counter() - start:.2f} s"
    )

    for sequence in test[:2]:  # warm the photograph and background caches
        sequence.frame(0)
    start, count = time.perf_counter(), 0
    for sequence in test[:6]:
        for frame in sequence.frames():
            count += 1
    print(
        f"test frames in order (256x192):  {rate(count, time.perf_counter() - start)}"
    )

    rng = np.random.default_rng(0)
    picks = [
        (int(rng.integers(len(train))), int(rng.integers(100))) for _ in range(600)
    ]
    for s, i in picks[:100]:
        train[s].frame(i)
    for label in (
        "first visit",
        "revisited",
    ):  # the first visit also cuts each object from its photograph
        start = time.perf_counter()
        for s, i in picks[100:]:
            train[s].frame(i)
        print(
            f"random train frames, {label:11s} {rate(500, time.perf_counter() - start)}"
        )

    runs = [
        (sequence, track(NCCTracker(), sequence, progress=False))
        for sequence in test[:6]
    ]
    frames, seconds = sum(len(s) for s, _ in runs), sum(r.seconds for _, r in runs)
    print(f"NCC update:                     {rate(frames, seconds)}")

    start, count = time.perf_counter(), 0
    for _ in range(20):
        for sequence, run in runs:
            sequence_metrics(run.boxes, sequence, curves=True)
            count += len(sequence)
    elapsed = time.perf_counter() - start
    print(f"scoring (sequence_metrics):     {rate(count, elapsed)} frames")


if __name__ == "__main__":
    main()
