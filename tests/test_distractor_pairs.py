"""DaSiamRPN's training pairs: semantic negatives of the same and of another category,
augmented still-frame positives, and their anchor labels."""

import numpy as np
import pytest

from siamlab.datasets.pairs import DistractorPairSampler, PairMix
from siamlab.datasets.synth import synth_train
from siamlab.models.siamrpn import DistractorRPNSampler, SiamRPNConfig

SEQUENCES = synth_train(24)


def sampler(mix=None, seed=0, **options):
    return DistractorPairSampler(SEQUENCES, 63, 127, mix=mix, seed=seed, **options)


def overlaps_target(layer_cut, target_cut):
    """True when `layer_cut` is a cut of the same photograph that shares a pixel with
    `target_cut`'s rectangle."""
    if layer_cut.photo != target_cut.photo:
        return False
    (x1, y1, w1, h1), (x2, y2, w2, h2) = layer_cut.rect, target_cut.rect
    dx = max(0, min(x1 + w1, x2 + w2) - max(x1, x2))
    dy = max(0, min(y1 + h1, y2 + h2) - max(y1, y2))
    return dx * dy > 0


def test_the_sequences_hold_several_categories_with_several_instances():
    categories = [s.metadata["category"] for s in SEQUENCES]
    counts = {c: categories.count(c) for c in set(categories)}
    assert len(counts) >= 3 and max(counts.values()) >= 3


@pytest.mark.parametrize("kind", ["same_category", "other_category"])
def test_negative_pairs_contain_no_instance_of_the_exemplars_target(kind):
    weights = dict(same_category=0.0, other_category=0.0, look_alike=0.0)
    mix = PairMix(positive=0.0, still=1e-9, **{**weights, kind: 1.0})
    source = sampler(mix, seed=1)
    pairs = [source.pair() for _ in range(40)]
    negatives = [p for p in pairs if p.negative]
    # a target whose category has no other instance falls back to another category
    assert len(negatives) == 40 and sum(p.kind == kind for p in negatives) >= 32
    for pair in negatives:
        seq, _ = pair.exemplar_from
        other, _ = pair.search_from
        assert other != seq
        target = SEQUENCES[seq].metadata["spec"].target.cut
        centred = SEQUENCES[other].metadata["spec"].target.cut
        same = centred.category == target.category
        assert same == (pair.kind == "same_category")
        spec = SEQUENCES[other].metadata["spec"]
        assert spec.background != target.photo
        for layer in spec.layers:
            assert not overlaps_target(layer.cut, target)


def test_positive_pairs_come_from_one_sequence_and_still_pairs_from_one_frame():
    mix = PairMix(positive=1, still=1, same_category=0, other_category=0, look_alike=0)
    source = sampler(mix)
    kinds = set()
    for _ in range(30):
        pair = source.pair()
        kinds.add(pair.kind)
        assert not pair.negative
        assert pair.exemplar_from[0] == pair.search_from[0]
        if pair.kind == "still":
            assert pair.exemplar_from == pair.search_from
    assert kinds == {"positive", "still"}


def test_the_mix_sets_the_proportions_of_kinds():
    source = sampler(PairMix(positive=0.5, still=0.0, same_category=0.25,
                             other_category=0.25, look_alike=0.0), seed=4)  # fmt: skip
    kinds = [source.pair().kind for _ in range(400)]
    assert abs(kinds.count("positive") / 400 - 0.5) < 0.08
    assert "still" not in kinds
    assert abs(kinds.count("same_category") / 400 - 0.25) < 0.08


def test_still_pairs_are_augmented_and_plain_ones_are_not():
    still = PairMix(
        positive=0, still=1, same_category=0, other_category=0, look_alike=0
    )
    options = dict(stretch=0.0, max_shift=0.0, flip=False, brightness=0.0)
    plain = DistractorPairSampler(
        SEQUENCES, 63, 127, mix=still, seed=2, blur=0.0, illumination=0.0, colour=0.0,
        **options,
    )  # fmt: skip
    strong = DistractorPairSampler(
        SEQUENCES, 63, 127, mix=still, seed=2, blur=2.0, illumination=0.4, colour=0.2,
        **options,
    )  # fmt: skip
    a, b = plain.pair(), strong.pair()
    assert a.search_from == b.search_from  # the same frame and box
    assert np.array_equal(a.exemplar, b.exemplar)
    assert np.abs(a.search.astype(float) - b.search.astype(float)).mean() > 3


def test_a_single_category_cannot_make_negative_pairs():
    one = [s for s in SEQUENCES if s.metadata["category"] == "coins"]
    source = DistractorPairSampler(
        one,
        63,
        127,
        mix=PairMix(positive=0, still=1e-9, other_category=1, same_category=0),
    )
    with pytest.raises(ValueError, match="two categories"):
        for _ in range(20):
            source.pair()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(positive=-1), "positive"),
        (dict(same_category=float("nan")), "same_category"),
        (dict(positive=0, still=0), "no positive pairs"),
        (dict(other_category=True), "other_category"),
    ],
)
def test_pair_mix_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PairMix(**kwargs)


def test_sampler_rejects_bad_augmentation_and_mix():
    with pytest.raises(ValueError, match="illumination"):
        sampler(illumination=1.5)
    with pytest.raises(ValueError, match="mix"):
        sampler(mix={"positive": 1})


def test_negative_pairs_get_no_positive_anchor_and_negatives_near_the_centre():
    config = SiamRPNConfig.tiny()
    mix = PairMix(positive=1, still=0, same_category=1, other_category=1, look_alike=1)
    batch = DistractorRPNSampler(SEQUENCES[:12], config, mix=mix, seed=5).batch(12)
    labels = batch.labels.numpy()
    anchors = config.anchors()
    boxes = batch.boxes.numpy()
    negative = (labels == 1).sum(axis=1) == 0
    assert negative.any() and (~negative).any()
    for row, box in zip(labels[negative], boxes[negative]):
        sampled = anchors[row == 0]
        assert len(sampled) > 0
        assert np.all(np.abs(sampled[:, :2] - box[:2]) <= 24.0)
    assert float(batch.weights[torch_bool(negative)].sum()) == 0.0


def torch_bool(mask):
    import torch

    return torch.from_numpy(mask)


def test_look_alike_pairs_centre_a_look_alike_far_from_the_target():
    mix = PairMix(positive=0, still=1e-9, same_category=0, other_category=0,
                  look_alike=1.0)  # fmt: skip
    source = sampler(mix, seed=6, stretch=0.0, max_shift=0.0, flip=False)
    for _ in range(20):
        pair = source.pair()
        assert pair.negative and pair.kind == "look_alike"
        seq, j = pair.search_from
        assert pair.exemplar_from[0] == seq and "SD" in SEQUENCES[seq].attributes
        target = SEQUENCES[seq].boxes[j]
        look_alikes = SEQUENCES[seq].metadata["distractor_boxes"][j]
        side = 127 / pair.box[2] * look_alikes[:, 2]  # search side if centred on each
        # the crop is centred on one look-alike, at that look-alike's own scale
        centred = np.isclose(pair.box[2:], 127 / side[:, None] * look_alikes[:, 2:])
        assert centred.all(axis=1).any()
        k = int(np.argmax(centred.all(axis=1)))
        gap = np.linalg.norm(
            look_alikes[k, :2] + look_alikes[k, 2:] / 2 - target[:2] - target[2:] / 2
        )
        assert gap * 127 / side[k] >= 64.0 - 1e-6


def test_without_look_alikes_the_draw_becomes_same_category():
    plain = [s for s in SEQUENCES if "SD" not in s.attributes]
    mix = PairMix(positive=0, still=1e-9, same_category=0, other_category=0,
                  look_alike=1.0)  # fmt: skip
    source = DistractorPairSampler(plain, 63, 127, mix=mix, seed=0)
    kinds = {source.pair().kind for _ in range(10)}
    assert kinds <= {"same_category", "other_category"} and "same_category" in kinds
