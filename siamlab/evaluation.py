"""How trackers are scored: OTB success and precision (Wu et al. 2015), LaSOT's normalised precision
(Fan et al. 2019) and GOT-10k's average overlap and success rates (Huang et al. 2021).

Every measure compares the predicted box with the ground truth frame by frame — by their overlap
(IoU) or by the distance between their centres — and reports the fraction of frames that pass a
threshold. The first frame (given to the tracker) and frames where the target is absent are left out.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np
from numpy.typing import ArrayLike
from siamlab.progress import progress_bar

from siamlab.boxes import center_error, iou
from siamlab.datasets.sequence import Sequence
from siamlab.trackers.base import Tracker, track

#: IoU thresholds of the success plot, 0, 0.05, …, 1 (OTB); the curve's mean is its AUC.
SUCCESS_THRESHOLDS = np.linspace(0, 1, 21)
#: Centre-error thresholds of the precision plot in pixels, 0 … 50 (OTB).
PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64)
#: Thresholds of the normalised precision plot, 0 … 0.5 of the box size (LaSOT).
NORM_PRECISION_THRESHOLDS = np.linspace(0, 0.5, 51)
#: The scalar measures, in the order tables show them.
METRICS = ("success_auc", "precision_20", "norm_precision", "ao", "sr50", "sr75")
CURVES = ("success_curve", "precision_curve", "norm_precision_curve")


def frame_errors(pred_boxes: ArrayLike, gt_boxes: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame IoU, centre error (pixels) and normalised centre error of `(N, 4)` xywh boxes.

    The normalised error divides the centre offset by the ground truth's width and height before
    taking its length, so it does not grow with the target's size. A prediction that is not a valid
    box (NaN, or a non-positive size) counts as a miss: IoU 0 and infinite errors.
    """
    pred = np.asarray(pred_boxes, dtype=np.float64)
    gt = np.asarray(gt_boxes, dtype=np.float64)
    if pred.ndim != 2 or pred.shape[1] != 4 or pred.shape != gt.shape:
        raise ValueError(f"pred_boxes and gt_boxes must both have shape (N, 4), got {pred.shape} and {gt.shape}")
    valid = np.all(np.isfinite(pred), axis=1) & (pred[:, 2] > 0) & (pred[:, 3] > 0)
    safe = np.where(valid[:, None], pred, gt)
    overlaps = np.where(valid, iou(safe, gt), 0.0)
    errors = np.where(valid, center_error(safe, gt), np.inf)
    offset = (safe[:, :2] + safe[:, 2:] / 2) - (gt[:, :2] + gt[:, 2:] / 2)
    normalized = np.where(valid, np.hypot(*(offset / np.maximum(gt[:, 2:], 1e-9)).T), np.inf)
    return overlaps, errors, normalized


def success_curve(overlaps: ArrayLike, thresholds: ArrayLike = SUCCESS_THRESHOLDS) -> np.ndarray:
    """Fraction of frames whose IoU is *above* each threshold (OTB's success plot)."""
    overlaps = np.asarray(overlaps, dtype=np.float64).reshape(-1, 1)
    if len(overlaps) == 0:
        return np.full(len(np.asarray(thresholds)), np.nan)
    return np.mean(overlaps > np.asarray(thresholds)[None, :], axis=0)


def precision_curve(errors: ArrayLike, thresholds: ArrayLike = PRECISION_THRESHOLDS) -> np.ndarray:
    """Fraction of frames whose centre error is *at most* each threshold (OTB's precision plot)."""
    errors = np.asarray(errors, dtype=np.float64).reshape(-1, 1)
    if len(errors) == 0:
        return np.full(len(np.asarray(thresholds)), np.nan)
    return np.mean(errors <= np.asarray(thresholds)[None, :], axis=0)


def evaluated_frames(sequence: Sequence) -> np.ndarray:
    """Boolean mask of the frames that count: all but the first and those where the target is absent."""
    mask = ~np.asarray(sequence.absent, dtype=bool)
    mask[0] = False
    return mask


def sequence_metrics(pred_boxes: ArrayLike, sequence: Sequence, curves: bool = False) -> dict[str, Any]:
    """Scores of one tracker's `(N, 4)` boxes on `sequence`.

    Keys: `success_auc` (mean of the success curve at `SUCCESS_THRESHOLDS`), `precision_20`
    (fraction within 20 pixels), `norm_precision` (fraction within 0.2 of the box size, as LaSOT
    results are usually reported), `ao` (mean IoU), `sr50` and `sr75` (fraction with IoU above 0.5
    and 0.75), `frames` (how many counted). With `curves`, also the three curves as arrays.
    """
    pred = np.asarray(pred_boxes, dtype=np.float64)
    if pred.shape != (len(sequence), 4):
        raise ValueError(f"pred_boxes must have shape ({len(sequence)}, 4) for {sequence.name!r}, got {pred.shape}")
    mask = evaluated_frames(sequence)
    overlaps, errors, normalized = frame_errors(pred[mask], sequence.boxes[mask])
    success = success_curve(overlaps)
    precision = precision_curve(errors)
    norm_precision = precision_curve(normalized, NORM_PRECISION_THRESHOLDS)
    count = int(mask.sum())
    result: dict[str, Any] = {
        "success_auc": float(np.mean(success)),
        "precision_20": float(precision[20]),
        "norm_precision": float(norm_precision[20]),
        "ao": float(np.mean(overlaps)) if count else float("nan"),
        "sr50": float(np.mean(overlaps > 0.5)) if count else float("nan"),
        "sr75": float(np.mean(overlaps > 0.75)) if count else float("nan"),
        "frames": count,
    }
    if curves:
        result.update(success_curve=success, precision_curve=precision, norm_precision_curve=norm_precision)
    return result


def summarize(per_sequence: Mapping[str, Mapping[str, Any]], sequences: Iterable[Sequence]) -> dict[str, Any]:
    """Average per-sequence scores (each sequence weighs the same, as in OTB) into one table row.

    `per_sequence` maps a sequence name to `sequence_metrics(..., curves=True)` (plus `fps`, if any).
    Returns the averaged `METRICS` and curves (as lists), `sequences` (scalars per sequence) and
    `attributes` (the averaged `METRICS` over the sequences that carry each attribute).
    """
    sequences = list(sequences)
    if not per_sequence:
        raise ValueError("per_sequence must hold at least one sequence's scores")
    rows = list(per_sequence.values())
    summary: dict[str, Any] = {key: float(np.nanmean([row[key] for row in rows])) for key in METRICS}
    for key in CURVES:
        summary[key] = np.nanmean([row[key] for row in rows], axis=0).tolist()
    summary["sequences"] = {
        name: {key: (float(value) if isinstance(value, (float, np.floating)) else value)
               for key, value in row.items() if key not in CURVES}
        for name, row in per_sequence.items()
    }
    from siamlab.datasets.synth import ATTRIBUTES

    order = list(ATTRIBUTES)
    tags = {tag for sequence in sequences for tag in sequence.attributes}
    attributes: dict[str, dict[str, Any]] = {}
    for tag in sorted(tags, key=lambda t: (order.index(t) if t in order else len(order), t)):
        names = [s.name for s in sequences if tag in s.attributes and s.name in per_sequence]
        attributes[tag] = {key: float(np.nanmean([per_sequence[n][key] for n in names])) for key in METRICS}
        attributes[tag]["num_sequences"] = len(names)
    summary["attributes"] = attributes
    return summary


def _fresh(tracker: Tracker | Callable[[], Tracker]) -> Tracker:
    """A tracker to run: factories (classes, functions) are called, instances used as they are."""
    if isinstance(tracker, type) or not isinstance(tracker, Tracker):
        if not callable(tracker):
            raise ValueError(f"trackers must map names to trackers or factories, got {tracker!r}")
        return tracker()
    return tracker


def run_benchmark(
    trackers: Mapping[str, Tracker | Callable[[], Tracker]],
    sequences: Iterable[Sequence],
    *,
    results_dir: str | Path | None = None,
    progress: bool = True,
) -> dict[str, dict[str, Any]]:
    """Run every tracker on every sequence and score it.

    `trackers` maps a display name to a tracker or a factory (called once per sequence, so each
    sequence starts fresh). Returns, per tracker, `summarize`'s table plus `fps` (frames per second
    of `update` over all sequences). With `results_dir`, the raw boxes are also saved as
    `results_dir/<tracker>/<sequence>.txt`, one 1-based `x,y,w,h` row per frame, like the public
    toolkits' results (read them back with `score_results`).
    """
    from siamlab.datasets.formats import write_boxes

    sequences = list(sequences)
    if not trackers or not sequences:
        raise ValueError("trackers and sequences must both be non-empty")
    per_sequence: dict[str, dict[str, Any]] = {name: {} for name in trackers}
    frames, seconds = 0, dict.fromkeys(trackers, 0.0)
    label = ", ".join(trackers)
    for sequence in progress_bar(sequences, enabled=progress, desc=label if len(label) < 40 else "benchmark"):
        if len(trackers) > 1:  # load the frames once for all trackers
            sequence = replace(sequence, load_frame=list(sequence.frames()).__getitem__)
        frames += len(sequence)
        for name, tracker in trackers.items():
            run = track(_fresh(tracker), sequence, progress=False)
            per_sequence[name][sequence.name] = {**sequence_metrics(run.boxes, sequence, curves=True), "fps": run.fps}
            seconds[name] += run.seconds
            if results_dir is not None:
                write_boxes(Path(results_dir) / name / f"{sequence.name}.txt", run.boxes)
    fps = {name: frames / seconds[name] if seconds[name] > 0 else float("inf") for name in trackers}
    return {name: {**summarize(per_sequence[name], sequences), "fps": fps[name]} for name in trackers}


def score_results(results_dir: str | Path, sequences: Iterable[Sequence]) -> dict[str, Any]:
    """Score stored results: `results_dir/<sequence>.txt` for every sequence (1-based `x,y,w,h` rows,
    one per frame, in the coordinates of the benchmarks' ground-truth files). Returns `summarize`'s
    table with `fps` set to None (the files do not record time)."""
    from siamlab.datasets.formats import read_boxes

    folder = Path(results_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"results_dir {str(folder)!r} is not a folder")
    sequences = list(sequences)
    per_sequence = {}
    for sequence in sequences:
        path = folder / f"{sequence.name}.txt"
        if not path.is_file():
            raise FileNotFoundError(f"no results for sequence {sequence.name!r}: {str(path)!r} is missing")
        per_sequence[sequence.name] = sequence_metrics(read_boxes(path), sequence, curves=True)
    return {**summarize(per_sequence, sequences), "fps": None}


def format_table(table: Mapping[str, Mapping[str, Any]], keys: Iterable[str] = METRICS + ("fps",)) -> str:
    """A plain-text table, one row per tracker, of `run_benchmark`'s scalar results."""
    keys = list(keys)
    width = max(len("tracker"), *(len(name) for name in table))
    lines = [f"{'tracker':<{width}}  " + "  ".join(f"{k:>14}" for k in keys)]
    for name, row in table.items():
        cells = []
        for key in keys:
            value = row.get(key)
            cells.append(f"{'-':>14}" if value is None else f"{value:>14.3f}")
        lines.append(f"{name:<{width}}  " + "  ".join(cells))
    return "\n".join(lines)
