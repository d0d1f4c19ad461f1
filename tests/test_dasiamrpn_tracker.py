"""The DaSiamRPN tracker: distractor-aware re-ranking as one kernel, its memory over
frames, local-to-global search, parameters."""

import copy

import numpy as np
import pytest
import torch

from siamlab.crops import to_tensor
from siamlab.datasets.synth import synth_test
from siamlab.models.siamrpn import SiamRPNConfig, SiamRPNNet, load_siamrpn
from siamlab.shipped import shipped_weights
from siamlab.trackers import dasiamrpn as da
from siamlab.trackers.dasiamrpn import (
    DaSiamRPNParams,
    DaSiamRPNTracker,
    DistractorMemory,
    Searched,
    combined_kernel,
    distractor_aware_scores,
    objectness_logits,
)
from siamlab.trackers.registry import make_tracker
from siamlab.trackers.siamrpn import SiamRPNParams, SiamRPNTracker

WEIGHTS = shipped_weights("siamrpn_tiny.pt")
SMALL = SiamRPNConfig(width=0.125, groups=1, channels=8)


@pytest.fixture(scope="module")
def sequence():
    seq = synth_test(1)[0]  # synth-test-000: semantic distractors ("SD")
    assert "SD" in seq.attributes
    return seq, [seq.load_frame(i) for i in range(21)]


@pytest.fixture(scope="module")
def shipped() -> SiamRPNNet:
    return load_siamrpn(WEIGHTS)


@pytest.fixture(scope="module")
def small() -> SiamRPNNet:
    torch.manual_seed(0)
    return SiamRPNNet(SMALL).eval()


def run(tracker, seq, frames):
    tracker.init(frames[0], seq.boxes[0])
    steps = []
    for frame in frames[1:]:
        step = tracker.step(frame)
        tracker.advance(frame, step)
        steps.append(step)
    return steps


@pytest.mark.parametrize(
    "changes", [{"distractor_weight": 0.0}, {"distractor_threshold": 1.0}]
)
def test_without_distractors_the_boxes_are_siamrpns(shipped, sequence, changes):
    seq, frames = sequence
    plain = SiamRPNTracker(shipped)
    plain.init(frames[0], seq.boxes[0])
    expected = np.stack([plain.update(frame).box for frame in frames[1:]])
    steps = run(DaSiamRPNTracker(shipped, DaSiamRPNParams(**changes)), seq, frames)
    np.testing.assert_array_equal(np.stack([s.box for s in steps]), expected)
    if "distractor_weight" in changes:  # found, but not used
        assert sum(len(s.distractors) for s in steps) > 0


def test_distractors_are_remembered_and_change_the_scores(shipped, sequence):
    seq, frames = sequence
    steps = run(DaSiamRPNTracker(shipped), seq, frames)
    found = [k for k, s in enumerate(steps) if len(s.distractors)]
    assert found and found[0] + 1 < len(steps)
    later = steps[found[0] + 1]
    assert np.any(later.distractor_logits != 0)
    assert not np.allclose(later.scores, later.plain_scores)


@torch.no_grad()
def test_one_correlation_with_the_combined_kernel_is_the_explicit_rerank(shipped):
    model = copy.deepcopy(shipped).double()  # float32 sums of C·h·w products round
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (4, 127, 127, 3), dtype=np.uint8)
    cls, reg = model.head.kernels(model.features(to_tensor(crops).double()))
    target, distractors = cls[:1], cls[1:]
    search = model.features(
        to_tensor(rng.integers(0, 256, (255, 255, 3), dtype=np.uint8)).double()
    )
    alphas, weight = np.array([0.95, 0.7, 0.9]), 0.8

    def f(kernel):  # one correlation: the objectness logit of every anchor
        return objectness_logits(model.head.correlate((kernel, reg[:1]), search)[0])

    combined = f(combined_kernel(target, distractors, alphas, weight))
    average = sum(a * f(d[None]) for a, d in zip(alphas, distractors)) / alphas.sum()
    explicit = f(target) - weight * average
    np.testing.assert_allclose(combined.numpy(), explicit.numpy(), atol=1e-5)
    assert (combined - f(target)).abs().max() > 0.1  # the distractors do count
    assert combined_kernel(target, distractors, alphas, 0.0) is target


@torch.no_grad()
def test_the_trackers_search_correlates_the_combined_kernel(shipped, sequence):
    seq, frames = sequence
    tracker = DaSiamRPNTracker(shipped, DaSiamRPNParams(distractor_weight=0.6))
    tracker.init(frames[0], seq.boxes[0])
    boxes = np.array([[20.0, 30.0, 40.0, 50.0], [200.0, 150.0, 60.0, 30.0]])
    kernels, alphas = tracker.distractor_kernels(frames[0], boxes), [0.95, 0.91]
    tracker.memory.add(kernels, alphas)
    searched = tracker.search(frames[1], tracker.center, tracker.target_size)
    kernel = combined_kernel(tracker.kernels[0], kernels, alphas, 0.6)
    features = shipped.features(to_tensor(searched.crop))
    cls, _ = shipped.head.correlate((kernel, tracker.kernels[1]), features)
    rerank = searched.target_logits - 0.6 * searched.distractor_logits
    # float32: each logit is a difference of two sums of C·h·w products
    np.testing.assert_allclose(rerank, objectness_logits(cls)[0], atol=1e-4)
    assert np.abs(searched.distractor_logits).max() > 0.1


def test_only_the_top_k_proposals_are_reranked():
    target = np.array([4.0, 3.0, -2.0, -6.0])
    distractor = np.array([5.0, 1.0, -1.0, -9.0])
    scores = distractor_aware_scores(target, distractor, 1.0, candidates=2)
    np.testing.assert_allclose(scores, [1 / (1 + np.e), 1 / (1 + np.exp(-2)), 0, 0])
    # outside the top k, background unlike the distractors would otherwise win
    everywhere = distractor_aware_scores(target, distractor, 1.0, candidates=4)
    assert np.argmax(everywhere) == 3
    plain = distractor_aware_scores(target, distractor, 0.0, candidates=2)
    np.testing.assert_allclose(plain, 1 / (1 + np.exp(-target)))


def test_memory_is_the_weighted_sum_over_frames():
    torch.manual_seed(0)
    lr = 0.3
    frames = [torch.randn(2, 10, 4, 3, 3), None, torch.randn(3, 10, 4, 3, 3)]
    alphas = [np.array([0.9, 0.6]), None, np.array([0.5, 0.8, 1.0])]
    memory = DistractorMemory(lr)
    for kernels, a in zip(frames, alphas):
        memory.add(kernels, a)
    numerator, weight, last = 0.0, 0.0, len(frames) - 1
    for t, (kernels, a) in enumerate(zip(frames, alphas)):
        if kernels is None:
            continue
        beta = (1 - lr) ** (last - t)
        numerator = numerator + beta * sum(x * k for x, k in zip(a, kernels))
        weight += beta * a.sum()
    torch.testing.assert_close(memory.kernel()[0], numerator / weight)
    only_last = DistractorMemory(1.0)
    only_last.add(frames[0], alphas[0])
    only_last.add(None, None)
    assert only_last.kernel() is None


class Script:
    """Stands in for `search`: the anchors as proposals, objectness 0.01 except one
    anchor at the centre of the map (the target) given a scripted score."""

    def __init__(self, tracker: DaSiamRPNTracker, scores: list[float]) -> None:
        self.tracker, self.scores = tracker, list(scores)

    def __call__(self, frame, center, target_size):
        size = self.tracker.search_size
        anchors = self.tracker.anchors_for(size)
        s = self.tracker.config.score_size_for(size)
        scores = np.full(len(anchors), 0.01)
        middle = 2 * s * s + (s * s) // 2  # square anchors, centre position
        scores[middle] = self.scores.pop(0)
        logits = np.log(scores / (1 - scores))
        crop = np.zeros((size, size, 3), np.uint8)
        return Searched(crop, scores, logits, np.zeros_like(logits), anchors, 1.0)


def scripted(model, scores, **changes):
    tracker = DaSiamRPNTracker(model, DaSiamRPNParams(long_term=True, **changes))
    frame = np.zeros((240, 320, 3), np.uint8)
    tracker.init(frame, [140, 100, 40, 40])
    tracker.search = Script(tracker, scores)
    steps = []
    for _ in scores:
        step = tracker.step(frame)
        tracker.advance(frame, step)
        steps.append(step)
    return tracker, steps


def test_lost_below_lost_threshold_and_found_above_found_threshold(small):
    # 0.99 tracking; 0.5 lost; 0.9 still lost (between the thresholds); 0.999 found
    tracker, steps = scripted(small, [0.99, 0.5, 0.9, 0.999, 0.99], expansion="jump")
    assert [s.lost for s in steps] == [False, False, True, True, False]
    assert [s.search_size for s in steps] == [255, 255, 831, 831, 255]
    assert steps[2].window.shape == (5 * 89 * 89,)
    assert [s.moved for s in steps] == [True, False, True, True, True]
    np.testing.assert_array_equal(steps[1].box, steps[0].box)  # kept where it was
    assert not np.array_equal(steps[2].box, steps[1].box)


def test_step_expansion_grows_by_step_size_up_to_the_maximum(small):
    _, steps = scripted(
        small, [0.5] * 6 + [0.999, 0.99], step_size=64, max_search_size=500
    )
    sizes = [s.search_size for s in steps]
    assert sizes == [255, 319, 383, 447, 503, 503, 503, 255]  # 503 = 127 + 8·47


def test_lost_window_is_almost_off(small, monkeypatch):
    tracker, steps = scripted(small, [0.5, 0.5], expansion="jump")
    window = steps[1].window
    rest = (1 - 0.001) * steps[1].penalty * steps[1].scores
    np.testing.assert_allclose(steps[1].pscore, rest + 0.001 * window)


def test_distractors_are_the_other_strong_objects_after_nms(small, monkeypatch):
    tracker = DaSiamRPNTracker(small, DaSiamRPNParams(max_distractors=1))
    frame = np.zeros((240, 320, 3), np.uint8)
    tracker.init(frame, [140, 100, 40, 40])
    s, anchors = SMALL.score_size, tracker.anchors_for(255)
    at = lambda row, col: 2 * s * s + row * s + col  # noqa: E731 (square anchors)
    scores = np.full(len(anchors), 0.01)
    scores[[at(8, 8), at(8, 9), at(2, 2), at(14, 13)]] = [0.99, 0.98, 0.95, 0.93]
    logits = np.log(scores / (1 - scores))
    crop = np.zeros((255, 255, 3), np.uint8)
    searched = Searched(crop, scores, logits, np.zeros_like(logits), anchors, 1.0)
    step = tracker.step(frame, searched=searched)
    assert step.best == at(8, 8)
    assert step.distractor_anchors.tolist() == [at(2, 2)]  # (8, 9) is the target
    centre = np.array([160.0, 120.0]) + anchors[at(2, 2), :2]
    np.testing.assert_allclose(step.distractors[0, :2] + 32, centre)


def test_remembered_distractors_move_the_choice_to_the_target(small):
    tracker = DaSiamRPNTracker(small, DaSiamRPNParams(distractor_weight=1.0))
    frame = np.zeros((240, 320, 3), np.uint8)
    tracker.init(frame, [140, 100, 40, 40])
    s, anchors = SMALL.score_size, tracker.anchors_for(255)
    target, other = 2 * s * s + 8 * s + 6, 2 * s * s + 8 * s + 10
    logits = np.full(len(anchors), -5.0)
    logits[[target, other]] = [3.0, 3.5]
    looks_like_distractor = np.zeros(len(anchors))
    looks_like_distractor[other] = 2.0
    crop = np.zeros((255, 255, 3), np.uint8)
    plain = 1 / (1 + np.exp(-logits))
    searched = Searched(crop, plain, logits, looks_like_distractor, anchors, 1.0)
    assert tracker.step(frame, searched=searched).best == target
    off = replace_params(tracker, distractor_weight=0.0)
    assert tracker.step(frame, off, searched).best == other


def replace_params(tracker, **changes):
    return tracker.with_params(**changes).params


@pytest.mark.parametrize(
    "field, value",
    [
        ("distractor_weight", -0.1),
        ("candidates", 0),
        ("distractor_threshold", 1.5),
        ("max_distractors", 2.5),
        ("nms_iou", float("nan")),
        ("distractor_lr", -1),
        ("template_lr", 2),
        ("long_term", 1),
        ("expansion", "grow"),
        ("lost_threshold", -0.2),
        ("step_size", 0),
        ("max_search_size", -5),
        ("lost_search_size", 300.5),
        ("lost_window_influence", 1.1),
        ("base", {"lr": 0.3}),
    ],
)
def test_bad_params_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        DaSiamRPNParams(**{field: value})


def test_found_threshold_below_lost_threshold_is_refused():
    with pytest.raises(ValueError, match="found_threshold"):
        DaSiamRPNParams(lost_threshold=0.9, found_threshold=0.5)


def test_with_params_changes_either_level(small):
    tracker = DaSiamRPNTracker(small)
    other = tracker.with_params(penalty_k=0.1, distractor_weight=0.0, long_term=True)
    assert other.model is small and other.params.base.penalty_k == 0.1
    assert other.params.distractor_weight == 0.0 and other.params.long_term
    assert other.params.base.lr == SiamRPNParams().lr
    with pytest.raises(ValueError, match="alpha"):
        tracker.with_params(alpha=1.0)
    with pytest.raises(ValueError, match="params"):
        DaSiamRPNTracker(small, SiamRPNParams())


def test_make_tracker_and_default_weights(monkeypatch, tmp_path):
    tracker = make_tracker("dasiamrpn", weights=str(WEIGHTS))
    assert isinstance(tracker, DaSiamRPNTracker) and tracker.name == "DaSiamRPN"
    missing = tmp_path / "dasiamrpn_tiny.pt"
    monkeypatch.setattr(da, "DEFAULT_DASIAMRPN_WEIGHTS", missing)
    with pytest.raises(FileNotFoundError, match="dasiamrpn_tiny.pt"):
        DaSiamRPNTracker()


def test_search_sizes_snap_to_the_score_map(small):
    tracker = DaSiamRPNTracker(small, DaSiamRPNParams(long_term=True))
    tracker.init(np.zeros((240, 320, 3), np.uint8), [140, 100, 40, 40])
    assert tracker.valid_search_size(830) == 831
    assert tracker.lost_search_size(0) == 255
    assert tracker.lost_search_size(3) == 255 + 3 * 64
    assert tracker.lost_search_size(100) == 831  # capped at 255 · 831 / 255
    assert SMALL.score_size_for(831) == 89


def test_the_trackers_score_sizes_are_the_configs_computed_once_per_size(small):
    tracker = DaSiamRPNTracker(small, DaSiamRPNParams(long_term=True))
    sizes = [255, 831, 255, 503]
    assert [tracker.score_size_for(s) for s in sizes] == [
        SMALL.score_size_for(s) for s in sizes
    ]
    assert sorted(tracker._score_sizes) == [255, 503, 831]
