import dataclasses

import numpy as np
import pytest

from siamlab.datasets import load_dataset, synth
from siamlab.datasets.synth import ATTRIBUTES, PHOTOS, SynthConfig


def small(split="test", num=9, length=40, seed=3):
    return SynthConfig(split=split, num_sequences=num, length=length, seed=seed)


def test_frames_are_256_by_192_uint8_rgb():
    sequence = synth.make_sequence(small(), 0)
    frame = sequence.frame(0)
    assert frame.shape == (192, 256, 3) and frame.dtype == np.uint8


def test_sequences_are_deterministic_from_the_seed():
    a, b = synth.make_sequence(small(), 4), synth.make_sequence(small(), 4)
    np.testing.assert_array_equal(a.boxes, b.boxes)
    np.testing.assert_array_equal(a.frame(17), b.frame(17))


def test_a_different_seed_gives_a_different_sequence():
    a, b = synth.make_sequence(small(seed=3), 0), synth.make_sequence(small(seed=4), 0)
    assert not np.array_equal(a.boxes, b.boxes)


def test_a_frame_is_the_same_whether_rendered_first_or_after_the_others():
    sequence = synth.make_sequence(small(), 2)
    direct = sequence.frame(30).copy()
    frames = list(sequence.frames())
    np.testing.assert_array_equal(direct, frames[30])


def test_frames_change_over_the_sequence():
    sequence = synth.make_sequence(small(), 1)
    assert np.abs(sequence.frame(0).astype(int) - sequence.frame(20)).mean() > 2


def test_every_sequence_has_the_attribute_it_is_given_in_turn():
    config = small(num=9)
    for index in range(9):
        assert list(ATTRIBUTES)[index] in synth.make_spec(config, index).attributes


def test_synth_test_is_30_sequences_of_150_frames_covering_every_attribute():
    sequences = load_dataset("synth-test")
    assert len(sequences) == 30 and {len(s) for s in sequences} == {150}
    covered = {tag for s in sequences for tag in s.attributes}
    assert covered == set(ATTRIBUTES)
    assert len({s.name for s in sequences}) == 30


def test_max_sequences_takes_the_first_ones():
    sequences = load_dataset("synth-train", max_sequences=3)
    assert [s.name for s in sequences] == [
        "synth-train-000",
        "synth-train-001",
        "synth-train-002",
    ]


def test_train_and_test_use_disjoint_photographs():
    train = set(PHOTOS["train"]["backgrounds"]) | set(PHOTOS["train"]["targets"])
    test = set(PHOTOS["test"]["backgrounds"]) | set(PHOTOS["test"]["targets"])
    assert not train & test
    for index in range(12):
        spec = synth.make_spec(small(split="train", num=12), index)
        assert spec.background in train and all(
            layer.cut.photo in train for layer in spec.layers
        )


def test_ground_truth_box_is_the_box_of_the_drawn_object():
    config = small(num=30)
    for number in (
        5,
        14,
        15,
    ):  # these leave the frame in frames 27-28: boxes of the visible part
        spec = synth.make_spec(config, number)
        boxes, absent, _ = synth.ground_truth(spec)
        # a black object on white, without blur: the canvas then holds 1 - alpha
        layer = dataclasses.replace(
            spec.target, blur=0 * spec.target.blur, gain=0 * spec.target.gain
        )
        for index in np.flatnonzero(~absent)[::3]:
            canvas = np.ones((192, 256, 3), np.float32)
            synth._draw(canvas, layer, index)
            ys, xs = np.nonzero(canvas[:, :, 0] <= 0.5)
            drawn = [
                xs.min(),
                ys.min(),
                xs.max() + 1 - xs.min(),
                ys.max() + 1 - ys.min(),
            ]
            np.testing.assert_allclose(drawn, boxes[index], atol=1.5)


def test_out_of_view_sequences_have_absent_frames_and_boxes_inside_the_frame():
    config = small(num=9, length=60)
    sequence = synth.make_sequence(config, list(ATTRIBUTES).index("OV"))
    assert sequence.absent.any() and not sequence.absent[0]
    visible = sequence.boxes[~sequence.absent]
    assert np.all(visible[:, :2] >= 0)
    assert np.all(visible[:, 0] + visible[:, 2] <= 256 + 1e-9)
    assert np.all(visible[:, 1] + visible[:, 3] <= 192 + 1e-9)
    assert np.all(np.isnan(sequence.boxes[sequence.absent]))


def test_semantic_distractors_are_listed_in_the_metadata():
    config = small(num=9)
    with_sd = synth.make_sequence(config, list(ATTRIBUTES).index("SD"))
    assert with_sd.metadata["distractor_boxes"].shape[1] >= 1
    for index in range(9):
        sequence = synth.make_sequence(config, index)
        has = sequence.metadata["distractor_boxes"].shape[1] > 0
        assert has == ("SD" in sequence.attributes)


def test_out_of_view_targets_return_through_the_opposite_border():
    for sequence in synth_test_with("OV"):
        absent = np.flatnonzero(sequence.absent)
        exit_box, return_box = (
            sequence.boxes[absent[0] - 1],
            sequence.boxes[absent[-1] + 1],
        )
        width, height = sequence.metadata["frame_size"]
        centre = lambda b: b[:2] + b[2:] / 2  # noqa: E731
        moved = np.abs(centre(return_box) - centre(exit_box)) / (width, height)
        assert moved.max() > 0.5, sequence.name  # across the frame, not where it left


def test_semantic_distractors_are_other_instances_of_the_category_crossing_the_target():
    for sequence in synth_test_with("SD"):
        spec = sequence.metadata["spec"]
        target = spec.target
        assert sequence.metadata["category"] == target.cut.category == target.cut.photo
        distractors = [layer for layer in spec.layers if layer.role == "distractor"]
        for layer, boxes in zip(
            distractors, np.moveaxis(sequence.metadata["distractor_boxes"], 1, 0)
        ):
            assert layer.cut.category == target.cut.category
            assert layer.cut.instance != target.cut.instance
            size = np.sqrt(np.prod(sequence.boxes[:, 2:], axis=1))
            gap = np.linalg.norm(
                boxes[:, :2] + boxes[:, 2:] / 2 - target.center, axis=1
            )
            assert np.nanmin(gap / size) < 0.5, sequence.name  # it crosses the target


def synth_test_with(tag, count=3):
    sequences = [s for s in synth.synth_test(12) if tag in s.attributes]
    assert len(sequences) >= 2
    return sequences[:count]


def test_occlusion_sequences_report_a_covered_fraction():
    sequence = synth.make_sequence(small(num=9), list(ATTRIBUTES).index("OCC"))
    cover = sequence.metadata["cover"]
    assert cover.max() > 0.1 and cover.min() >= 0 and cover.max() <= 1


def test_scale_variation_changes_the_target_size_at_least_twofold():
    spec = synth.make_spec(small(num=9), list(ATTRIBUTES).index("SV"))
    area = np.prod(spec.target.half, axis=1)
    assert np.sqrt(area.max() / area.min()) >= 2.0 - 1e-6


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"split": "val"}, "split"),
        ({"num_sequences": 0}, "num_sequences"),
        ({"seed": -1}, "seed"),
        ({"frame_size": (32, 32)}, "frame_size"),
        ({"target_size": (60, 20)}, "target_size"),
    ],
)
def test_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SynthConfig(**kwargs)


def test_make_sequence_rejects_an_index_out_of_range():
    with pytest.raises(ValueError, match="index"):
        synth.make_sequence(small(num=2), 2)
