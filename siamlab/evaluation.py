"""How trackers are scored, by the conventions of each benchmark's public toolkit.

Every measure compares the predicted box with the ground truth frame by frame — by
their overlap (IoU) or by the distance between their centres — and reports the
fraction of frames that pass a threshold. The benchmarks differ in which frames
count and in how sequences are combined, so each sequence carries a *protocol*
(`Sequence.protocol`: `"otb"`, `"got10k"` or `"lasot"`, set by the dataset reader;
SynthTrack is `"otb"`), and every function here takes `protocol=` to override it.

- **otb** (OTB toolkit `calcSeqErrRobust.m`, Wu et al. 2015, and the got10k toolkit's
  `ExperimentOTB`): every frame counts, the first included, its prediction replaced
  by the ground truth; an invalid prediction (NaN, or a size <= 0) is replaced by the
  previous frame's, as the MATLAB toolkit does. Success = fraction of frames whose
  IoU is strictly above each of `linspace(0, 1, 21)`; precision = fraction whose
  centre error is at most `t` pixels, `t = 0 … 50`. The curves are averaged over
  sequences (each weighs the same); AUC = mean of the success curve, precision@20 =
  the curve at 20. Frames marked absent are left out: OTB-100's ground truth marks
  none, so this only matters for SynthTrack (the toolkits, which never meet one,
  would count an absent frame as a miss).
- **got10k** (got10k toolkit, `ExperimentGOT10k.report`, Huang et al. 2021): the
  first frame is left out, and so is every frame whose `cover.label` is 0 (target
  absent; without a cover label, the frames marked absent). Both boxes are clipped
  to the image before the IoU (`x` to `[0, W]`, `w` to `[0, W - x]`, in the 1-based
  coordinates of the files, likewise for `y`, `h`). AO = mean IoU and SR0.5 / SR0.75
  = fraction of IoUs above 0.5 / 0.75 over all frames of all sequences *pooled*
  (a long sequence weighs more); its success curve has 101 thresholds
  (`success_curve_101`). The other measures are pooled the same way.
- **lasot** (LaSOT toolkit `calc_seq_err_robust.m` and `eval_tracker.m`, Fan et al.
  2019): every frame counts, the first included; the first prediction and invalid
  ones are replaced as in OTB. The success and precision fractions are taken over
  *all* frames of the sequence, and the frames where the target is absent
  (`full_occlusion.txt` or `out_of_view.txt`, or a NaN or empty ground-truth row)
  count as misses. Curves are averaged over sequences as in OTB. Normalised precision
  divides the centre offset by the ground truth's width and height (each at least 1,
  as the got10k toolkit's `normalized_center_error`) with thresholds
  `linspace(0, 0.5, 51)`; its score is the mean of that curve (the area under it, by
  which LaSOT ranks trackers).

Centres are `x + (w - 1) / 2` in the toolkits and `x + w / 2` here; the difference of
two centres is the same. `norm_precision` is reported under every protocol as the
mean of the normalised precision curve.

Two measures look at losing the target rather than at overlap. `supervised_run`
follows VOT's supervised (reset) protocol (Kristan et al. 2016): a frame whose IoU
is 0 is a failure, and the tracker is restarted from the ground truth five frames
later, so one early loss does not spoil the rest of the sequence and the failures
can be counted (`failure_benchmark`). `recovery` asks of a one-pass run how many
frames a tracker needs to find the target again after it comes back into view (the
`OV` sequences of SynthTrack).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np
from numpy.typing import ArrayLike

from siamlab.boxes import center_error, iou
from siamlab.datasets.sequence import PROTOCOLS, Sequence
from siamlab.progress import progress_bar
from siamlab.trackers.base import Tracker, track

#: IoU thresholds of the success plot, 0, 0.05, …, 1 (OTB); the curve's mean is its AUC.
SUCCESS_THRESHOLDS = np.linspace(0, 1, 21)
#: IoU thresholds of GOT-10k's success curve, 0, 0.01, …, 1.
GOT10K_THRESHOLDS = np.linspace(0, 1, 101)
#: Centre-error thresholds of the precision plot in pixels, 0 … 50 (OTB).
PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64)
#: Thresholds of the normalised precision plot, 0 … 0.5 of the box size (LaSOT).
NORM_PRECISION_THRESHOLDS = np.linspace(0, 0.5, 51)
#: The scalar measures, in the order tables show them.
METRICS = ("success_auc", "precision_20", "norm_precision", "ao", "sr50", "sr75")
CURVES = (
    "success_curve",
    "precision_curve",
    "norm_precision_curve",
    "success_curve_101",
)

#: One line per protocol: which frames count and how sequences are combined.
PROTOCOL_RULES = {
    "otb": "OTB toolkit: every frame counts, the first included; "
    "curves averaged per sequence",
    "got10k": "got10k toolkit: first frame and absent frames (cover 0) left out, "
    "boxes clipped to the image; AO, SR and curves pooled over all frames",
    "lasot": "LaSOT toolkit: every frame counts, the first included, absent "
    "frames as misses; curves averaged per sequence",
}


def resolve_protocol(sequences: Iterable[Sequence], protocol: str | None = None) -> str:
    """The protocol to score `sequences` by: `protocol` if given, else theirs.

    Raises `ValueError` for an unknown `protocol`, or when the sequences carry
    different protocols and none is given (they could not be combined in one table).
    """
    if protocol is not None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
        return protocol
    found = sorted({sequence.protocol for sequence in sequences})
    if len(found) > 1:
        raise ValueError(
            f"the sequences mix the protocols {found}; pass protocol= to score them "
            "all by one"
        )
    return found[0] if found else "otb"


def _clip_to_bound(boxes: np.ndarray, bound: tuple[float, float]) -> np.ndarray:
    """0-based xywh `boxes` `(N, 4)` clipped as the got10k toolkit's `rect_iou` does.

    The toolkit clips in the 1-based coordinates of the files: `x` to `[0, W]`, then
    `w` to `[0, W - x]` (and `y`, `h` with `H`), `bound = (W, H)`.
    """
    clipped = np.array(boxes, dtype=np.float64)
    clipped[:, :2] += 1
    for axis, limit in enumerate(bound):
        clipped[:, axis] = np.clip(clipped[:, axis], 0, limit)
        clipped[:, axis + 2] = np.clip(
            clipped[:, axis + 2], 0, limit - clipped[:, axis]
        )
    clipped[:, :2] -= 1
    return clipped


def frame_errors(
    pred_boxes: ArrayLike,
    gt_boxes: ArrayLike,
    bound: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame IoU, centre error (pixels) and normalised centre error, `(N, 4)` boxes.

    The normalised error divides the centre offset by the ground truth's width and
    height, each at least 1 (the got10k toolkit's `normalized_center_error`), before
    taking its length, so it does not grow with the target's size. With `bound =
    (W, H)` both boxes are clipped to the image before the IoU (GOT-10k). A
    prediction that is not a valid box (NaN, or a non-positive size) is a miss:
    IoU 0 and infinite errors.
    """
    pred = np.asarray(pred_boxes, dtype=np.float64)
    gt = np.asarray(gt_boxes, dtype=np.float64)
    if pred.ndim != 2 or pred.shape[1] != 4 or pred.shape != gt.shape:
        raise ValueError(
            "pred_boxes and gt_boxes must both have shape (N, 4), "
            f"got {pred.shape} and {gt.shape}"
        )
    valid = np.all(np.isfinite(pred), axis=1) & (pred[:, 2] > 0) & (pred[:, 3] > 0)
    safe = np.where(valid[:, None], pred, gt)
    if bound is None:
        overlaps = iou(safe, gt)
    else:
        overlaps = iou(_clip_to_bound(safe, bound), _clip_to_bound(gt, bound))
    overlaps = np.where(valid, overlaps, 0.0)
    errors = np.where(valid, center_error(safe, gt), np.inf)
    offset = (safe[:, :2] + safe[:, 2:] / 2) - (gt[:, :2] + gt[:, 2:] / 2)
    scaled = np.hypot(*(offset / np.maximum(gt[:, 2:], 1.0)).T)
    return overlaps, errors, np.where(valid, scaled, np.inf)


def success_curve(
    overlaps: ArrayLike, thresholds: ArrayLike = SUCCESS_THRESHOLDS
) -> np.ndarray:
    """Fraction of frames whose IoU is strictly *above* each threshold (success)."""
    overlaps = np.asarray(overlaps, dtype=np.float64).reshape(-1, 1)
    if len(overlaps) == 0:
        return np.full(len(np.asarray(thresholds)), np.nan)
    return np.mean(overlaps > np.asarray(thresholds)[None, :], axis=0)


def precision_curve(
    errors: ArrayLike, thresholds: ArrayLike = PRECISION_THRESHOLDS
) -> np.ndarray:
    """Fraction of frames whose centre error is *at most* each threshold (precision)."""
    errors = np.asarray(errors, dtype=np.float64).reshape(-1, 1)
    if len(errors) == 0:
        return np.full(len(np.asarray(thresholds)), np.nan)
    return np.mean(errors <= np.asarray(thresholds)[None, :], axis=0)


def frame_size(sequence: Sequence) -> tuple[int, int]:
    """`(W, H)` of the sequence's frames: `metadata["resolution"]`, else read from
    frame 0 (and then stored in `metadata["resolution"]`)."""
    size = sequence.metadata.get("resolution")
    if size is None:
        height, width = sequence.frame(0).shape[:2]
        size = sequence.metadata["resolution"] = (int(width), int(height))
    return int(size[0]), int(size[1])


def evaluated_frames(sequence: Sequence, protocol: str | None = None) -> np.ndarray:
    """Boolean `(N,)` mask of the frames whose errors are measured.

    otb: every frame whose ground truth is present (the first always is). got10k:
    all but the first, and only those with `cover > 0` (`metadata["cover_label"]`,
    else those not marked absent). lasot: the frames where the target is present —
    the others still count, as misses (see `sequence_metrics`).
    """
    protocol = resolve_protocol([sequence], protocol)
    present = ~sequence.absent & np.all(np.isfinite(sequence.boxes), axis=1)
    if protocol != "got10k":
        return present
    cover = sequence.metadata.get("cover_label")
    visible = present if cover is None else (np.asarray(cover) > 0) & present
    visible[0] = False
    return visible


def _curves(overlaps: np.ndarray, errors: np.ndarray, normalized: np.ndarray) -> dict:
    return {
        "success_curve": success_curve(overlaps),
        "precision_curve": precision_curve(errors),
        "norm_precision_curve": precision_curve(normalized, NORM_PRECISION_THRESHOLDS),
        "success_curve_101": success_curve(overlaps, GOT10K_THRESHOLDS),
    }


def _carry_forward_invalid(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """`pred` `(N, 4)` with each invalid box after the first (a non-finite value, or a
    width or height <= 0) replaced by the previous frame's box, where the ground truth
    is not NaN: the OTB and LaSOT toolkits' `calcSeqErrRobust` / `calc_seq_err_robust`.
    """
    invalid = ~np.all(np.isfinite(pred), axis=1) | (pred[:, 2] <= 0) | (pred[:, 3] <= 0)
    known = ~np.any(np.isnan(gt), axis=1)
    for index in np.flatnonzero(invalid[1:] & known[1:]) + 1:  # in order: chains carry
        pred[index] = pred[index - 1]
    return pred


def sequence_metrics(
    pred_boxes: ArrayLike,
    sequence: Sequence,
    curves: bool = False,
    *,
    protocol: str | None = None,
) -> dict[str, Any]:
    """Scores of one tracker's `(N, 4)` boxes on `sequence`, by `protocol` (default:
    the sequence's; see the module's docstring for each protocol's frames).

    Keys: `success_auc` (mean of the success curve at `SUCCESS_THRESHOLDS`),
    `precision_20` (fraction within 20 pixels), `norm_precision` (mean of the
    normalised precision curve at `NORM_PRECISION_THRESHOLDS`), `ao` (mean IoU),
    `sr50` and `sr75` (fraction with IoU above 0.5 and 0.75), `frames` (how many
    frames the fractions are taken over) and `protocol`. With `curves`, also the
    curves of `CURVES` as arrays. A sequence with no frame to score gives NaN.
    """
    protocol = resolve_protocol([sequence], protocol)
    pred = np.array(pred_boxes, dtype=np.float64)
    if pred.shape != (len(sequence), 4):
        raise ValueError(
            f"pred_boxes must have shape ({len(sequence)}, 4) for {sequence.name!r}, "
            f"got {pred.shape}"
        )
    if protocol != "got10k":  # the OTB and LaSOT toolkits' conventions
        pred = _carry_forward_invalid(pred, sequence.boxes)
        pred[0] = sequence.boxes[0]
    mask = evaluated_frames(sequence, protocol)
    bound = frame_size(sequence) if protocol == "got10k" else None
    overlaps, errors, normalized = frame_errors(pred[mask], sequence.boxes[mask], bound)
    if protocol == "lasot":  # absent frames stay in the denominator, as misses
        misses = int(np.sum(~mask))
        overlaps = np.concatenate([overlaps, np.zeros(misses)])
        errors = np.concatenate([errors, np.full(misses, np.inf)])
        normalized = np.concatenate([normalized, np.full(misses, np.inf)])
    found = _curves(overlaps, errors, normalized)
    count = len(overlaps)
    result: dict[str, Any] = {
        "success_auc": float(np.mean(found["success_curve"])),
        "precision_20": float(found["precision_curve"][20]),
        "norm_precision": float(np.mean(found["norm_precision_curve"])),
        "ao": float(np.mean(overlaps)) if count else float("nan"),
        "sr50": float(np.mean(overlaps > 0.5)) if count else float("nan"),
        "sr75": float(np.mean(overlaps > 0.75)) if count else float("nan"),
        "frames": count,
        "protocol": protocol,
    }
    if curves:
        result.update(found)
    return result


def _average(rows: list[Mapping[str, Any]], key: str, pooled: bool) -> np.ndarray:
    """Mean of `row[key]` over rows: weighted by `frames` when `pooled` (GOT-10k),
    else each sequence with at least one frame weighing the same (OTB, LaSOT)."""
    frames = np.array([row["frames"] for row in rows], dtype=np.float64)
    weights = frames if pooled else (frames > 0).astype(np.float64)
    values = np.array([np.asarray(row[key], dtype=np.float64) for row in rows])
    if weights.sum() == 0:
        return np.full(values.shape[1:], np.nan)
    shape = (-1,) + (1,) * (values.ndim - 1)
    values = np.where(weights.reshape(shape) > 0, values, 0.0)
    return np.sum(values * weights.reshape(shape), axis=0) / weights.sum()


def _combine(rows: list[Mapping[str, Any]], protocol: str) -> dict[str, Any]:
    pooled = protocol == "got10k"
    combined: dict[str, Any] = {
        key: float(_average(rows, key, pooled)) for key in METRICS
    }
    combined["frames"] = int(sum(row["frames"] for row in rows))
    return combined


def summarize(
    per_sequence: Mapping[str, Mapping[str, Any]],
    sequences: Iterable[Sequence],
    *,
    protocol: str | None = None,
) -> dict[str, Any]:
    """Combine per-sequence scores into one table row, as `protocol`'s toolkit does.

    `per_sequence` maps a sequence name to `sequence_metrics(..., curves=True)`
    (plus `fps`, if any). OTB and LaSOT average the sequences (each weighs the
    same); GOT-10k pools their frames (each sequence weighs its `frames`). Returns
    the combined `METRICS` and `CURVES` (as lists), `protocol`, `frames`,
    `sequences` (scalars per sequence) and `attributes` (the combined `METRICS` over
    the sequences that carry each attribute, with `num_sequences`).
    """
    sequences = list(sequences)
    if not per_sequence:
        raise ValueError("per_sequence must hold at least one sequence's scores")
    rows = list(per_sequence.values())
    if protocol is None:
        found = sorted({row["protocol"] for row in rows if "protocol" in row})
        if len(found) > 1:
            raise ValueError(f"per_sequence mixes the protocols {found}")
        protocol = found[0] if found else resolve_protocol(sequences)
    protocol = resolve_protocol([], protocol)
    summary = _combine(rows, protocol)
    pooled = protocol == "got10k"
    for key in CURVES:
        summary[key] = _average(rows, key, pooled).tolist()
    summary["protocol"] = protocol
    summary["sequences"] = {
        name: {key: _plain(value) for key, value in row.items() if key not in CURVES}
        for name, row in per_sequence.items()
    }
    summary["attributes"] = _by_attribute(per_sequence, sequences, protocol)
    return summary


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, (float, np.floating)) else value


def _by_attribute(
    per_sequence: Mapping[str, Mapping[str, Any]],
    sequences: list[Sequence],
    protocol: str,
) -> dict[str, dict[str, Any]]:
    """`_combine`'s measures over the sequences carrying each attribute, in the
    order of SynthTrack's `ATTRIBUTES` (other tags after them, by name)."""
    from siamlab.datasets.synth import ATTRIBUTES

    order = list(ATTRIBUTES)
    tags = {tag for sequence in sequences for tag in sequence.attributes}
    attributes: dict[str, dict[str, Any]] = {}
    for tag in sorted(
        tags, key=lambda t: (order.index(t) if t in order else len(order), t)
    ):
        names = [
            s.name for s in sequences if tag in s.attributes and s.name in per_sequence
        ]
        if not names:
            continue
        row = _combine([per_sequence[n] for n in names], protocol)
        del row["frames"]
        attributes[tag] = {**row, "num_sequences": len(names)}
    return attributes


def _fresh(tracker: Tracker | Callable[[], Tracker]) -> Tracker:
    """A tracker to run: factories (classes, functions) are called, instances used."""
    if isinstance(tracker, type) or not isinstance(tracker, Tracker):
        if not callable(tracker):
            raise ValueError(
                f"trackers must map names to trackers or factories, got {tracker!r}"
            )
        return tracker()
    return tracker


def run_benchmark(
    trackers: Mapping[str, Tracker | Callable[[], Tracker]],
    sequences: Iterable[Sequence],
    *,
    results_dir: str | Path | None = None,
    progress: bool = True,
    protocol: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Run every tracker on every sequence and score it by `protocol` (default: the
    sequences' own, see `resolve_protocol`).

    `trackers` maps a display name to a tracker or a factory (called once per
    sequence, so each sequence starts fresh). Returns, per tracker, `summarize`'s
    table (which names the protocol) plus `fps` (frames per second of `update` over
    all sequences). With `results_dir`, the raw boxes are also saved as
    `results_dir/<tracker>/<sequence>.txt`, one 1-based `x,y,w,h` row per frame, like
    the public toolkits' results (read them back with `score_results`).
    """
    from siamlab.datasets.formats import write_boxes

    sequences = list(sequences)
    if not trackers or not sequences:
        raise ValueError("trackers and sequences must both be non-empty")
    protocol = resolve_protocol(sequences, protocol)
    per_sequence: dict[str, dict[str, Any]] = {name: {} for name in trackers}
    frames, seconds = 0, dict.fromkeys(trackers, 0.0)
    label = ", ".join(trackers)
    bar = progress_bar(
        sequences, enabled=progress, desc=label if len(label) < 40 else "benchmark"
    )
    for sequence in bar:
        if len(trackers) > 1:  # load the frames once for all trackers
            sequence = replace(sequence, load_frame=list(sequence.frames()).__getitem__)
        frames += len(sequence)
        for name, tracker in trackers.items():
            run = track(_fresh(tracker), sequence, progress=False)
            scores = sequence_metrics(
                run.boxes, sequence, curves=True, protocol=protocol
            )
            per_sequence[name][sequence.name] = {**scores, "fps": run.fps}
            seconds[name] += run.seconds
            if results_dir is not None:
                write_boxes(
                    Path(results_dir) / name / f"{sequence.name}.txt", run.boxes
                )
    fps = {
        name: frames / seconds[name] if seconds[name] > 0 else float("inf")
        for name in trackers
    }
    return {
        name: {
            **summarize(per_sequence[name], sequences, protocol=protocol),
            "fps": fps[name],
        }
        for name in trackers
    }


def score_results(
    results_dir: str | Path,
    sequences: Iterable[Sequence],
    *,
    protocol: str | None = None,
) -> dict[str, Any]:
    """Score stored results by `protocol` (default: the sequences' own).

    Reads `results_dir/<sequence>.txt` for every sequence (1-based `x,y,w,h` rows,
    one per frame, in the coordinates of the benchmarks' ground-truth files).
    Returns `summarize`'s table with `fps` set to None (the files record no time).
    """
    from siamlab.datasets.formats import read_boxes

    folder = Path(results_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"results_dir {str(folder)!r} is not a folder")
    sequences = list(sequences)
    protocol = resolve_protocol(sequences, protocol)
    per_sequence = {}
    for sequence in sequences:
        path = folder / f"{sequence.name}.txt"
        if not path.is_file():
            raise FileNotFoundError(
                f"no results for sequence {sequence.name!r}: {str(path)!r} is missing"
            )
        per_sequence[sequence.name] = sequence_metrics(
            read_boxes(path), sequence, curves=True, protocol=protocol
        )
    return {**summarize(per_sequence, sequences, protocol=protocol), "fps": None}


def format_table(
    table: Mapping[str, Mapping[str, Any]],
    keys: Iterable[str] = METRICS + ("fps",),
) -> str:
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


def _visible(sequence: Sequence) -> np.ndarray:
    """Boolean `(N,)` mask of the frames where the target can be scored and tracked
    from: not marked absent, and a finite ground-truth box of positive size."""
    boxes = sequence.boxes
    sized = np.all(np.isfinite(boxes), axis=1) & (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
    return ~sequence.absent & sized


def _check_skip(skip: object) -> int:
    if not isinstance(skip, (int, np.integer)) or isinstance(skip, bool) or skip < 1:
        raise ValueError(
            "skip must be an integer >= 1 (the tracker restarts that many frames "
            f"after a failure), got {skip!r}"
        )
    return int(skip)


def _check_threshold(threshold: object) -> float:
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float, np.integer, np.floating))
        or not 0 <= threshold <= 1
    ):
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")
    return float(threshold)


def _restart_frame(visible: np.ndarray, failure: int, skip: int) -> int | None:
    """The frame the tracker restarts on after failing on frame `failure`: `skip`
    frames later, or the first frame after that where the target is visible; None
    when the sequence ends first."""
    later = np.flatnonzero(visible[failure + skip :])
    return failure + skip + int(later[0]) if len(later) else None


@dataclass
class SupervisedRun:
    """The result of `supervised_run` on a sequence of `N` frames.

    `failures`: the frames where the tracker lost the target (IoU 0, or no valid
    box), in order. `inits`: the frames where it was (re-)initialised with the
    ground truth, frame 0 first. `frames_tracked`: how many frames were scored
    (the target visible and the tracker running, init frames excluded, failure
    frames included). `boxes` `(N, 4)`: the init box on init frames, the
    prediction on updated frames, NaN on the frames between a failure and the
    restart (the tracker is not run there). `overlaps` `(N,)`: the IoU on the
    scored frames (0 on failures), NaN elsewhere.
    """

    failures: list[int]
    inits: list[int]
    frames_tracked: int
    boxes: np.ndarray
    overlaps: np.ndarray

    @property
    def failures_per_100(self) -> float:
        """Failures per 100 scored frames (NaN when no frame was scored), so that
        sequences of different lengths compare."""
        if self.frames_tracked == 0:
            return float("nan")
        return 100 * len(self.failures) / self.frames_tracked


def supervised_run(
    tracker: Tracker,
    sequence: Sequence,
    *,
    skip: int = 5,
    progress: bool = False,
    one_pass: ArrayLike | None = None,
) -> SupervisedRun:
    """Run `tracker` over `sequence` by VOT's supervised protocol and count its
    failures.

    The tracker is initialised on frame 0 with the ground truth and updated on the
    following frames. On a frame where the target is visible (`Sequence.absent`
    false and a ground-truth box of positive size), a prediction with IoU 0 with
    the ground truth, or no valid box (NaN, size <= 0), is a failure. The tracker
    then stops and is initialised again on the ground truth `skip` frames later, or
    on the first frame after that where the target is visible; the frames in
    between are neither run nor scored. `skip = 5` is the VOT challenges' setting
    (Kristan et al. 2016): restarting at once would find the tracker in the same
    situation that made it fail. Frames where the target is absent are run but
    never scored, so they never count as failures. `init` is called on the same
    tracker object for every restart, so it must reset the tracker's state (every
    tracker of `siamlab.trackers` does).

    `one_pass`: the `(N, 4)` boxes of a one-pass run of the same tracker on the same
    sequence (`track(...).boxes`). Up to the first failure a supervised run *is* that
    run, so for a deterministic tracker those frames are read from it instead of run
    again; only the frames after a restart cost tracking.
    """
    if not isinstance(tracker, Tracker):
        raise ValueError(
            f"tracker must have init(frame, box) and update(frame), got {tracker!r}"
        )
    skip = _check_skip(skip)
    count = len(sequence)
    visible = _visible(sequence)
    if one_pass is not None:
        one_pass = np.asarray(one_pass, dtype=np.float64)
        if one_pass.shape != (count, 4):
            raise ValueError(
                f"one_pass must hold the (N, 4) boxes of a run on {sequence.name!r}, "
                f"N = {count}, got shape {one_pass.shape}"
            )
    boxes = np.full((count, 4), np.nan)
    overlaps = np.full(count, np.nan)
    failures: list[int] = []
    inits: list[int] = []
    restart: int | None = 0
    running = False
    bar = progress_bar(
        total=count - 1,
        enabled=progress,
        desc=f"{tracker.name} on {sequence.name}",
        leave=False,
    )
    for index in range(count):
        replay = one_pass is not None and not failures
        if index == restart:
            box = sequence.boxes[index].copy()
            if not replay:
                tracker.init(sequence.frame(index), box)
            boxes[index] = box
            inits.append(index)
            restart, running = None, True
        elif running:
            if replay:
                box = one_pass[index]
            else:
                result = tracker.update(sequence.frame(index))
                box = np.full(4, np.nan) if result.box is None else result.box
            boxes[index] = np.asarray(box, dtype=np.float64).reshape(4)
            if visible[index]:
                found = frame_errors(boxes[[index]], sequence.boxes[[index]])[0]
                overlaps[index] = found[0]
                if overlaps[index] <= 0:
                    failures.append(index)
                    restart, running = _restart_frame(visible, index, skip), False
        if index > 0:
            bar.update()
    bar.close()
    return SupervisedRun(
        failures=failures,
        inits=inits,
        frames_tracked=int(np.sum(np.isfinite(overlaps))),
        boxes=boxes,
        overlaps=overlaps,
    )


def failure_benchmark(
    trackers: Mapping[str, Tracker | Callable[[], Tracker]],
    sequences: Iterable[Sequence],
    *,
    skip: int = 5,
    progress: bool = True,
) -> dict[str, dict[str, Any]]:
    """Count every tracker's failures on every sequence by `supervised_run`.

    `trackers` maps a display name to a tracker or a factory (called once per
    sequence). Returns, per tracker, `failures` (the total), `frames` (the scored
    frames, in total), `failures_per_100` (per 100 scored frames, all sequences
    pooled) and `per_sequence` (sequence name to its number of failures).
    """
    sequences = list(sequences)
    if not trackers or not sequences:
        raise ValueError("trackers and sequences must both be non-empty")
    skip = _check_skip(skip)
    table: dict[str, dict[str, Any]] = {
        name: {"failures": 0, "frames": 0, "per_sequence": {}} for name in trackers
    }
    label = ", ".join(trackers)
    bar = progress_bar(
        sequences, enabled=progress, desc=label if len(label) < 40 else "failures"
    )
    for sequence in bar:
        if len(trackers) > 1:  # load the frames once for all trackers
            sequence = replace(sequence, load_frame=list(sequence.frames()).__getitem__)
        for name, tracker in trackers.items():
            run = supervised_run(_fresh(tracker), sequence, skip=skip)
            table[name]["failures"] += len(run.failures)
            table[name]["frames"] += run.frames_tracked
            table[name]["per_sequence"][sequence.name] = len(run.failures)
    for row in table.values():
        frames = row["frames"]
        row["failures_per_100"] = (
            100 * row["failures"] / frames if frames else float("nan")
        )
    return table


def recovery_frames(
    overlaps: ArrayLike, absent: ArrayLike, *, threshold: float = 0.5
) -> list[int | None]:
    """How long a tracker takes to find the target again each time it comes back.

    `overlaps` `(N,)` are the IoUs of a one-pass run (values on absent frames are
    ignored and may be NaN), `absent` `(N,)` booleans mark the frames where the
    target is not visible. A *return* is a visible frame right after one or more
    absent frames. For each return, in order: the number of frames from it to the
    first frame whose IoU is above `threshold` (0 when the return frame itself is),
    or None when that does not happen before the target leaves again or the
    sequence ends.
    """
    values = np.asarray(overlaps, dtype=np.float64)
    hidden = np.asarray(absent)
    if values.ndim != 1:
        raise ValueError(f"overlaps must be 1-D, got shape {values.shape}")
    if hidden.dtype != bool:
        raise ValueError(f"absent must hold booleans, got dtype {hidden.dtype}")
    if hidden.shape != values.shape:
        raise ValueError(
            f"absent must have the length of overlaps ({len(values)}), "
            f"got shape {hidden.shape}"
        )
    threshold = _check_threshold(threshold)
    seen = values[~hidden]
    if not np.all((seen >= 0) & (seen <= 1)):
        raise ValueError(
            "overlaps must lie in [0, 1] on the frames where the target is visible, "
            f"got {seen[~((seen >= 0) & (seen <= 1))].tolist()}"
        )
    returns = np.flatnonzero(hidden[:-1] & ~hidden[1:]) + 1
    leaves = np.append(np.flatnonzero(hidden), len(values))
    found: list[int | None] = []
    for start in returns:
        end = leaves[np.searchsorted(leaves, start)]
        above = np.flatnonzero(values[start:end] > threshold)
        found.append(int(above[0]) if len(above) else None)
    return found


def recovery(
    boxes: ArrayLike, sequence: Sequence, *, threshold: float = 0.5
) -> list[int | None]:
    """`recovery_frames` of a one-pass run's `(N, 4)` xywh `boxes` on `sequence`
    (e.g. `track(tracker, sequence).boxes`).

    The IoU is taken with the ground truth on the frames where the target is
    visible (an invalid prediction, NaN or size <= 0, has IoU 0); the other frames
    are the absent ones.
    """
    pred = np.asarray(boxes, dtype=np.float64)
    if pred.shape != (len(sequence), 4):
        raise ValueError(
            f"boxes must have shape ({len(sequence)}, 4) for {sequence.name!r}, "
            f"got {pred.shape}"
        )
    visible = _visible(sequence)
    overlaps = np.full(len(sequence), np.nan)
    overlaps[visible] = frame_errors(pred[visible], sequence.boxes[visible])[0]
    return recovery_frames(overlaps, ~visible, threshold=threshold)


def summarize_recovery(
    recoveries: Mapping[str, Iterable[int | None]] | Iterable[Iterable[int | None]],
) -> dict[str, Any]:
    """Pool `recovery` results, one list per sequence (or a mapping from sequence
    name to its list).

    Returns `returns` (how many times the target came back), `recovered` (how many
    of those the tracker found it again), `fraction` (recovered / returns) and
    `mean_frames` (mean frames to recover, over the recovered returns). The last
    two are NaN when there is nothing to average.
    """
    lists = recoveries.values() if isinstance(recoveries, Mapping) else recoveries
    frames: list[int] = []
    returns = 0
    for entry in lists:
        if entry is None or isinstance(entry, (int, np.integer, str)):
            raise ValueError(
                "recoveries must hold one list per sequence (as recovery returns), "
                f"got the item {entry!r}"
            )
        for value in entry:
            if value is not None and (
                not isinstance(value, (int, np.integer))
                or isinstance(value, bool)
                or value < 0
            ):
                raise ValueError(
                    "recoveries must hold integers >= 0 or None, got the value "
                    f"{value!r}"
                )
            returns += 1
            if value is not None:
                frames.append(int(value))
    return {
        "returns": returns,
        "recovered": len(frames),
        "fraction": len(frames) / returns if returns else float("nan"),
        "mean_frames": float(np.mean(frames)) if frames else float("nan"),
    }


def robustness_benchmark(
    trackers: Mapping[str, Tracker | Callable[[], Tracker]],
    groups: Mapping[str, Iterable[Sequence]],
    *,
    skip: int = 5,
    threshold: float = 0.5,
    progress: bool = True,
) -> dict[str, dict[str, dict[str, float]]]:
    """Accuracy, failures and recovery of each tracker on each group of sequences.

    Every sequence (once, however many groups hold it) gets a one-pass run, which
    gives its success AUC (by its protocol) and its recoveries (`recovery`), and a
    supervised run (`supervised_run`, replaying the one-pass run up to its first
    failure). Returns, per tracker and group: `success_auc` (mean over the
    group's sequences), `failures`, `frames` (scored in the supervised runs) and
    `failures_per_100` (pooled), and `returns`, `recovered` (share of the returns
    after which IoU exceeded `threshold` again; NaN without returns) and
    `frames_to_recover` (their mean), pooled over the group.
    """
    groups = {name: list(sequences) for name, sequences in groups.items()}
    if not trackers or not groups or not all(groups.values()):
        raise ValueError("trackers and every group of sequences must be non-empty")
    skip = _check_skip(skip)
    unique = {s.name: s for sequences in groups.values() for s in sequences}
    table: dict[str, dict[str, dict[str, float]]] = {}
    bar = progress_bar(
        total=len(trackers) * len(unique), enabled=progress, desc="robustness"
    )
    for name, tracker in trackers.items():
        scores = {}
        for sequence in unique.values():
            run = track(_fresh(tracker), sequence, progress=False)
            supervised = supervised_run(
                _fresh(tracker), sequence, skip=skip, one_pass=run.boxes
            )
            scores[sequence.name] = {
                "auc": sequence_metrics(run.boxes, sequence)["success_auc"],
                "recovery": recovery(run.boxes, sequence, threshold=threshold),
                "failures": len(supervised.failures),
                "frames": supervised.frames_tracked,
            }
            bar.update()
        table[name] = {}
        for group, sequences in groups.items():
            picked = [scores[s.name] for s in sequences]
            failures = sum(p["failures"] for p in picked)
            frames = sum(p["frames"] for p in picked)
            back = summarize_recovery([p["recovery"] for p in picked])
            table[name][group] = {
                "success_auc": float(np.mean([p["auc"] for p in picked])),
                "failures": failures,
                "frames": frames,
                "failures_per_100": 100 * failures / frames if frames else math.nan,
                "returns": back["returns"],
                "recovered": back["fraction"],
                "frames_to_recover": back["mean_frames"],
            }
    bar.close()
    return table
