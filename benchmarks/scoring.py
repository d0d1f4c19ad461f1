"""Scoring: `siamlab.evaluation.sequence_metrics` against the same measures computed
frame by frame in plain Python, measured side by side.

100 synthetic sequences × 1,000 frames of random boxes in a 640×480 frame (ground
truth a random walk, predictions the ground truth moved and resized by random amounts,
so that the IoUs cover 0 … 1), scored by the OTB protocol (the first frame replaced by
the ground truth; every frame counts). The plain-Python version loops over the frames
computing each IoU and centre error, then counts the frames past each threshold of
the success, precision and normalised precision curves, as a per-frame toolkit does.
Both must give the same success AUC, precision@20, normalised precision, AO, SR0.5 and
SR0.75 to 1e-9 for every sequence (checked before timing); the table shows each one's
median seconds for all sequences and the ratio.

Run: `python benchmarks/scoring.py [--rounds N] [--sequences S] [--frames F]`.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from _common import (
    add_common_arguments,
    alternate,
    machine,
    median,
    ratio_range,
    set_threads,
)

from siamlab.datasets.sequence import Sequence
from siamlab.evaluation import METRICS, sequence_metrics

WIDTH, HEIGHT = 640, 480


def random_run(
    rng: np.random.Generator, frames: int, index: int
) -> tuple[Sequence, np.ndarray]:
    """A sequence of random-walk ground-truth boxes and noisy predicted boxes."""
    size = rng.uniform(20, 120, size=2) * np.exp(
        np.cumsum(rng.normal(0, 0.02, (frames, 2)), axis=0)
    )
    size = np.clip(size, 8, 300)
    center = np.array([WIDTH, HEIGHT]) / 2 + np.cumsum(
        rng.normal(0, 3, (frames, 2)), axis=0
    )
    center = np.clip(center, 0, [WIDTH, HEIGHT])
    gt = np.concatenate([center - size / 2, size], axis=1)
    noise = rng.normal(0, 1, (frames, 2)) * size * rng.uniform(0.05, 0.6)
    pred = np.concatenate(
        [gt[:, :2] + noise, gt[:, 2:] * np.exp(rng.normal(0, 0.2, (frames, 2)))],
        axis=1,
    )
    sequence = Sequence(
        f"random-{index:03d}",
        gt,
        load_frame=lambda i: np.zeros((HEIGHT, WIDTH, 3), np.uint8),
        metadata={"resolution": (WIDTH, HEIGHT)},
        protocol="otb",
    )
    return sequence, pred


def per_frame_metrics(pred: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    """The OTB protocol's measures of one sequence, frame by frame in plain Python
    (valid predictions and ground truth, every frame present)."""
    pred_rows, gt_rows = pred.tolist(), gt.tolist()
    pred_rows[0] = gt_rows[0]
    overlaps, errors, normalized = [], [], []
    for (x, y, w, h), (gx, gy, gw, gh) in zip(pred_rows, gt_rows):
        iw = max(0.0, min(x + w, gx + gw) - max(x, gx))
        ih = max(0.0, min(y + h, gy + gh) - max(y, gy))
        inter = iw * ih
        union = w * h + gw * gh - inter
        overlaps.append(min(max(inter / union if union > 0 else 0.0, 0.0), 1.0))
        dx, dy = (x + w / 2) - (gx + gw / 2), (y + h / 2) - (gy + gh / 2)
        errors.append(math.hypot(dx, dy))
        normalized.append(math.hypot(dx / max(gw, 1.0), dy / max(gh, 1.0)))
    n = len(overlaps)
    success = [sum(o > t for o in overlaps) / n for t in np.linspace(0, 1, 21).tolist()]
    norm_thresholds = np.linspace(0, 0.5, 51).tolist()
    norm_curve = [sum(e <= t for e in normalized) / n for t in norm_thresholds]
    return {
        "success_auc": sum(success) / len(success),
        "precision_20": sum(e <= 20 for e in errors) / n,
        "norm_precision": sum(norm_curve) / len(norm_curve),
        "ao": sum(overlaps) / n,
        "sr50": sum(o > 0.5 for o in overlaps) / n,
        "sr75": sum(o > 0.75 for o in overlaps) / n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, rounds=3)
    parser.add_argument("--sequences", type=int, default=100)
    parser.add_argument("--frames", type=int, default=1000)
    args = parser.parse_args()
    set_threads(args.threads)
    rng = np.random.default_rng(0)
    runs = [random_run(rng, args.frames, i) for i in range(args.sequences)]

    def library() -> list[dict]:
        return [sequence_metrics(pred, sequence) for sequence, pred in runs]

    def plain() -> list[dict]:
        return [per_frame_metrics(pred, sequence.boxes) for sequence, pred in runs]

    worst = 0.0
    for got, expected in zip(library(), plain()):
        for key in METRICS:
            worst = max(worst, abs(got[key] - expected[key]))
    if not worst <= 1e-9:
        raise AssertionError(f"the two scorings differ by {worst:.3g}")
    times = alternate({"per frame": plain, "sequence_metrics": library}, args.rounds)
    ratio, low, high = ratio_range(times["per frame"], times["sequence_metrics"])
    print(machine())
    print(
        f"{args.sequences} sequences × {args.frames} frames, OTB protocol; "
        f"median of {args.rounds} alternated rounds; largest difference {worst:.1e}"
    )
    print(f"{'scoring':>28} {'seconds':>8} {'frames/s':>10} {'ratio':>18}")
    frames = args.sequences * args.frames
    for name in ("per frame", "sequence_metrics"):
        seconds = median(times[name])
        label = "per frame (plain Python)" if name == "per frame" else name
        cell = "1" if name == "per frame" else f"{ratio:.1f}× ({low:.1f}–{high:.1f})"
        print(f"{label:>28} {seconds:8.3f} {frames / seconds:10.0f} {cell:>18}")


if __name__ == "__main__":
    main()
