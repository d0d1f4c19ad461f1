import numpy as np
import pytest

from siamlab.datasets import Sequence
from siamlab.datasets.synth import synth_test
from siamlab.evaluation import (
    SupervisedRun,
    failure_benchmark,
    recovery,
    recovery_frames,
    summarize_recovery,
    supervised_run,
)
from siamlab.trackers import TrackResult, track
from siamlab.trackers.registry import make_tracker

FAR = [200.0, 150.0, 5.0, 5.0]  # disjoint from every ground-truth box below: IoU 0


def ground_truth(count, absent=()):
    """Boxes that move one pixel right per frame, NaN where the target is absent."""
    boxes = np.array([[10.0 + i, 10.0, 20.0, 20.0] for i in range(count)])
    mask = np.zeros(count, bool)
    mask[list(absent)] = True
    boxes[mask] = np.nan
    return boxes, mask


def indexed_sequence(count, absent=(), name="toy"):
    """A sequence whose frame `i` is filled with the value `i`, so a tracker can
    tell which frame it is shown."""
    boxes, mask = ground_truth(count, absent)
    return Sequence(
        name,
        boxes,
        lambda i: np.full((60, 260, 3), i, np.uint8),
        absent=mask,
    )


class Scripted:
    """Answers `script[i]` on frame `i` (where not scripted: the ground truth, or
    its last answer where the target is absent) and records every call."""

    name = "scripted"

    def __init__(self, sequence, script=None):
        self.truth = sequence.boxes
        self.script = script or {}
        self.inits: list[tuple[int, list[float]]] = []
        self.updates: list[int] = []

    def init(self, frame, box):
        self.inits.append((int(frame[0, 0, 0]), np.asarray(box).tolist()))
        self.last = box

    def update(self, frame):
        index = int(frame[0, 0, 0])
        self.updates.append(index)
        truth = self.truth[index]
        default = truth if np.isfinite(truth).all() else self.last
        box = self.last = self.script.get(index, default)
        return TrackResult(box=None if box is None else np.asarray(box, float), score=1)


def test_failures_restart_the_tracker_five_frames_later_on_the_ground_truth():
    sequence = indexed_sequence(20, absent=(11, 12, 13))
    script = {3: [23.0, 10, 20, 20], 4: FAR, 6: FAR, 12: FAR, 17: FAR}
    tracker = Scripted(sequence, script)
    run = supervised_run(tracker, sequence)
    assert run.failures == [4, 17]
    assert run.inits == [0, 9]
    assert tracker.inits == [(0, [10.0, 10, 20, 20]), (9, [19.0, 10, 20, 20])]
    # not run while waiting (5-8) nor after the last failure; run on absent frames
    assert tracker.updates == [1, 2, 3, 4, 10, 11, 12, 13, 14, 15, 16, 17]
    assert run.frames_tracked == 9  # 1-4, 10, 14-17
    assert run.failures_per_100 == pytest.approx(200 / 9)
    scored = [1, 2, 3, 4, 10, 14, 15, 16, 17]
    assert np.flatnonzero(np.isfinite(run.overlaps)).tolist() == scored
    assert run.overlaps[3] == pytest.approx(200 / 600)  # shifted by half a width
    assert run.overlaps[4] == run.overlaps[17] == 0
    assert np.flatnonzero(np.isnan(run.boxes).any(axis=1)).tolist() == [
        5,
        6,
        7,
        8,
        18,
        19,
    ]
    np.testing.assert_array_equal(run.boxes[12], FAR)  # absent: kept, not scored
    np.testing.assert_array_equal(run.boxes[9], sequence.boxes[9])


def test_a_lost_target_while_absent_is_never_a_failure():
    sequence = indexed_sequence(10, absent=(3, 4, 5, 6))
    script = {i: FAR for i in (3, 4, 5, 6)}
    run = supervised_run(Scripted(sequence, script), sequence)
    assert run.failures == []
    assert run.frames_tracked == 5  # 1, 2, 7, 8, 9
    assert run.failures_per_100 == 0


def test_a_failure_on_the_last_frame_counts_and_restarts_nothing():
    sequence = indexed_sequence(10)
    tracker = Scripted(sequence, {9: FAR})
    run = supervised_run(tracker, sequence)
    assert run.failures == [9]
    assert run.inits == [0]
    assert run.frames_tracked == 9
    assert len(tracker.inits) == 1
    assert not np.isnan(run.boxes).any()


def test_a_failure_near_the_end_leaves_the_remaining_frames_unscored():
    sequence = indexed_sequence(10)
    run = supervised_run(Scripted(sequence, {6: FAR}), sequence)
    assert run.failures == [6]
    assert run.inits == [0]  # 6 + 5 = 11 lies past the end
    assert run.frames_tracked == 6
    assert np.flatnonzero(np.isnan(run.boxes).any(axis=1)).tolist() == [7, 8, 9]


def test_the_restart_waits_for_the_target_when_it_is_absent_then():
    sequence = indexed_sequence(12, absent=(6, 7, 8))
    tracker = Scripted(sequence, {2: FAR})
    run = supervised_run(tracker, sequence)
    assert run.failures == [2]
    assert run.inits == [0, 9]  # 2 + 5 = 7 is absent; 9 is the next visible frame
    assert tracker.inits[1] == (9, [19.0, 10, 20, 20])


def test_a_failure_on_the_return_frame_counts():
    sequence = indexed_sequence(12, absent=(3, 4))
    run = supervised_run(Scripted(sequence, {5: FAR}), sequence)
    assert run.failures == [5]
    assert run.inits == [0, 10]


def test_skip_sets_the_restart_distance():
    sequence = indexed_sequence(10)
    tracker = Scripted(sequence, {2: FAR, 3: FAR, 5: FAR})
    run = supervised_run(tracker, sequence, skip=1)
    assert run.failures == [2, 5]  # frame 3 is the restart, not an update
    assert run.inits == [0, 3, 6]
    assert tracker.updates == [1, 2, 4, 5, 7, 8, 9]
    assert run.frames_tracked == 7


@pytest.mark.parametrize(
    "answer", [None, [np.nan] * 4, [20.0, 10, 0, 20], [20.0, 10, 20, -1]]
)
def test_a_missing_or_invalid_box_on_a_visible_frame_is_a_failure(answer):
    sequence = indexed_sequence(8)
    run = supervised_run(Scripted(sequence, {2: answer}), sequence)
    assert run.failures == [2]
    assert run.overlaps[2] == 0


def test_a_perfect_tracker_never_fails():
    sequence = indexed_sequence(15, absent=(5, 6))
    run = supervised_run(Scripted(sequence), sequence)
    assert isinstance(run, SupervisedRun)
    assert run.failures == [] and run.inits == [0]
    assert run.frames_tracked == 12
    np.testing.assert_array_equal(run.overlaps[np.isfinite(run.overlaps)], 1)


def test_failure_benchmark_pools_failures_over_sequences():
    first = indexed_sequence(20, name="first")
    second = indexed_sequence(10, absent=(4,), name="second")
    scripted = iter([(first, {4: FAR}), (second, {2: FAR, 9: FAR})])
    perfect = iter([first, second])
    table = failure_benchmark(
        {
            "scripted": lambda: Scripted(*next(scripted)),
            "perfect": lambda: Scripted(next(perfect)),
        },
        [first, second],
        progress=False,
    )
    row = table["scripted"]
    assert row["per_sequence"] == {"first": 1, "second": 2}
    assert row["failures"] == 3
    # first: 1-4 and 10-19 (restart on 9); second: 1-2 and 8-9 (restart on 7)
    assert row["frames"] == 14 + 4
    assert row["failures_per_100"] == pytest.approx(100 * 3 / 18)
    assert table["perfect"] == {
        "failures": 0,
        "frames": 19 + 8,
        "per_sequence": {"first": 0, "second": 0},
        "failures_per_100": 0,
    }


def test_recovery_frames_counts_frames_until_the_iou_clears_the_threshold():
    nan = np.nan
    absent = np.array([0, 1, 1, 0, 0, 0], bool)
    assert recovery_frames([0.9, nan, nan, 0.8, 0.1, 0.9], absent) == [0]
    assert recovery_frames([0.9, nan, nan, 0.1, 0.5, 0.6], absent) == [2]
    assert recovery_frames([0.9, nan, nan, 0.1, 0.5, 0.5], absent) == [None]
    assert recovery_frames([0.9, nan, nan, 0.1, 0.5, 0.5], absent, threshold=0.4) == [1]


def test_recovery_frames_gives_none_when_the_target_leaves_again_first():
    absent = np.array([0, 1, 0, 0, 1, 0, 0], bool)
    overlaps = [0.9, np.nan, 0.1, 0.2, np.nan, 0.4, 0.8]
    assert recovery_frames(overlaps, absent) == [None, 1]


def test_recovery_frames_ignores_an_absence_that_runs_to_the_end():
    absent = np.array([0, 1, 0, 1, 1], bool)
    assert recovery_frames([0.9, np.nan, 0.7, np.nan, np.nan], absent) == [0]
    assert recovery_frames([0.9, 0.2, 0.3], np.zeros(3, bool)) == []
    assert recovery_frames([], np.zeros(0, bool)) == []


def test_recovery_frames_counts_a_return_after_an_absent_start():
    absent = np.array([1, 1, 0, 0], bool)
    assert recovery_frames([np.nan, np.nan, 0.3, 0.9], absent) == [1]


def test_recovery_scores_a_one_pass_run_against_the_ground_truth():
    sequence = indexed_sequence(10, absent=(2, 3, 6))
    boxes = sequence.boxes.copy()
    boxes[[2, 3, 6]] = FAR  # whatever is predicted while absent does not matter
    boxes[4] = np.nan  # no answer on the first return: IoU 0
    boxes[7:] = FAR  # never found again before the sequence ends
    assert recovery(boxes, sequence) == [1, None]
    assert recovery(sequence.boxes, sequence, threshold=1) == [None, None]


def test_summarize_recovery_pools_the_returns_of_all_sequences():
    summary = summarize_recovery([[0, None], [3], []])
    assert summary == {
        "returns": 3,
        "recovered": 2,
        "fraction": pytest.approx(2 / 3),
        "mean_frames": 1.5,
    }
    assert summarize_recovery({"a": [0, None], "b": [3]}) == summary
    empty = summarize_recovery([[], []])
    assert empty["returns"] == empty["recovered"] == 0
    assert np.isnan(empty["fraction"]) and np.isnan(empty["mean_frames"])
    never = summarize_recovery([[None, None]])
    assert never["fraction"] == 0 and np.isnan(never["mean_frames"])


def test_static_tracker_on_a_synth_sequence_is_scored_consistently():
    sequence = synth_test(1)[0]
    assert sequence.absent.any() and "OV" in sequence.attributes
    run = supervised_run(make_tracker("static"), sequence)
    assert run.failures, "a tracker that never moves loses a moving target"
    assert run.failures_per_100 == 100 * len(run.failures) / run.frames_tracked
    running = np.zeros(len(sequence), bool)
    stops = run.failures + [len(sequence) - 1] * (len(run.inits) - len(run.failures))
    for start, stop in zip(run.inits, stops):
        running[start : stop + 1] = True
    np.testing.assert_array_equal(np.isnan(run.boxes).any(axis=1), ~running)
    visible = ~sequence.absent
    scored = running & visible
    scored[run.inits] = False
    np.testing.assert_array_equal(np.isfinite(run.overlaps), scored)
    assert run.frames_tracked == scored.sum()
    for failure, restart in zip(run.failures, run.inits[1:]):
        assert restart >= failure + 5 and visible[restart]
        assert not visible[failure + 5 : restart].any()
    np.testing.assert_array_equal(run.boxes[run.inits], sequence.boxes[run.inits])
    assert np.all(run.overlaps[run.failures] == 0)
    # until its first failure the static tracker answers the first box
    np.testing.assert_array_equal(
        run.boxes[: run.failures[0] + 1],
        np.tile(sequence.boxes[0], (run.failures[0] + 1, 1)),
    )
    returns = np.flatnonzero(sequence.absent[:-1] & ~sequence.absent[1:])
    found = recovery(
        track(make_tracker("static"), sequence, progress=False).boxes, sequence
    )
    assert len(found) == len(returns)


@pytest.mark.parametrize("skip", [-1, 0, 2.5, True, "5"])
def test_supervised_run_rejects_a_bad_skip(skip):
    sequence = indexed_sequence(5)
    with pytest.raises(ValueError, match="skip"):
        supervised_run(Scripted(sequence), sequence, skip=skip)
    with pytest.raises(ValueError, match="skip"):
        failure_benchmark({"s": Scripted(sequence)}, [sequence], skip=skip)


def test_bad_trackers_and_empty_benchmarks_are_rejected():
    sequence = indexed_sequence(5)
    with pytest.raises(ValueError, match="tracker"):
        supervised_run(object(), sequence)
    with pytest.raises(ValueError, match="non-empty"):
        failure_benchmark({}, [sequence], progress=False)
    with pytest.raises(ValueError, match="non-empty"):
        failure_benchmark({"s": Scripted(sequence)}, [], progress=False)


@pytest.mark.parametrize(
    ("overlaps", "absent", "threshold", "name"),
    [
        ([0.5, 0.5], [False], 0.5, "absent"),
        ([0.5, 0.5], [0, 1], 0.5, "absent"),
        ([[0.5, 0.5]], [[False, True]], 0.5, "overlaps"),
        ([0.5, np.nan], [False, False], 0.5, "overlaps"),
        ([0.5, 1.5], [False, False], 0.5, "overlaps"),
        ([0.5, 0.5], [False, False], 1.5, "threshold"),
        ([0.5, 0.5], [False, False], -0.1, "threshold"),
        ([0.5, 0.5], [False, False], True, "threshold"),
    ],
)
def test_recovery_frames_rejects_bad_input(overlaps, absent, threshold, name):
    with pytest.raises(ValueError, match=name):
        recovery_frames(overlaps, absent, threshold=threshold)


def test_recovery_and_its_summary_reject_bad_input():
    sequence = indexed_sequence(5)
    with pytest.raises(ValueError, match="boxes"):
        recovery(sequence.boxes[:4], sequence)
    for bad in ([1, None], [[1, -1]], [[True]], [[1.5]], ["ab"]):
        with pytest.raises(ValueError, match="recoveries"):
            summarize_recovery(bad)


class Counting:
    """Wraps a tracker and counts its `update` calls."""

    def __init__(self, tracker):
        self.tracker, self.updates, self.name = tracker, 0, "counting"

    def init(self, frame, box):
        self.tracker.init(frame, box)

    def update(self, frame):
        self.updates += 1
        return self.tracker.update(frame)


def test_a_one_pass_run_stands_in_for_the_frames_before_the_first_failure():
    sequence = synth_test(2)[1]
    one_pass = track(make_tracker("ncc"), sequence, progress=False).boxes
    live = Counting(make_tracker("ncc"))
    replayed = Counting(make_tracker("ncc"))
    expected = supervised_run(live, sequence)
    reused = supervised_run(replayed, sequence, one_pass=one_pass)
    assert expected.failures, "the example needs a failure"
    assert reused.failures == expected.failures and reused.inits == expected.inits
    np.testing.assert_array_equal(reused.boxes, expected.boxes)
    assert replayed.updates == live.updates - expected.failures[0]  # frames 1..f
    with pytest.raises(ValueError, match="one_pass"):
        supervised_run(live, sequence, one_pass=one_pass[:-1])


def test_robustness_benchmark_agrees_with_the_runs_it_combines():
    from siamlab.evaluation import robustness_benchmark, sequence_metrics

    sequences = synth_test(2)
    groups = {"all": sequences, "first": sequences[:1]}
    table = robustness_benchmark({"ncc": lambda: make_tracker("ncc")}, groups,
                                 progress=False)  # fmt: skip
    runs = [track(make_tracker("ncc"), s, progress=False) for s in sequences]
    supervised = [supervised_run(make_tracker("ncc"), s) for s in sequences]
    first, every = table["ncc"]["first"], table["ncc"]["all"]
    assert (
        first["success_auc"]
        == sequence_metrics(runs[0].boxes, sequences[0])["success_auc"]
    )
    assert every["failures"] == sum(len(s.failures) for s in supervised)
    assert every["frames"] == sum(s.frames_tracked for s in supervised)
    assert every["failures_per_100"] == pytest.approx(
        100 * every["failures"] / every["frames"]
    )
    returns = [recovery(r.boxes, s) for r, s in zip(runs, sequences)]
    assert every["returns"] == sum(len(r) for r in returns)
    with pytest.raises(ValueError, match="non-empty"):
        robustness_benchmark({"ncc": make_tracker("ncc")}, {"none": []})
