import numpy as np
import pytest
import torch

from siamlab import crops as C


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)


def test_context_size_hand_computed():
    # w=10, h=30, p=0.5*(40)=20: sqrt(30*50)
    assert C.context_size(10, 30) == pytest.approx(np.sqrt(1500))
    assert C.context_size(10, 10, context=0) == pytest.approx(10)


def test_crop_inside_the_frame_is_exact(frame):
    crop = C.crop_square(frame, center=(40, 30), side=20, out_size=20)
    np.testing.assert_array_equal(crop, frame[20:40, 30:50])


def test_crop_downsampled_by_two_averages_pixel_pairs():
    frame = np.zeros((8, 8, 3), dtype=np.uint8)
    frame[:, ::2] = 200  # columns alternate 200, 0
    crop = C.crop_square(frame, center=(4, 4), side=8, out_size=4)
    # output pixel centres fall between two source columns: bilinear gives their mean
    assert np.all(np.abs(crop.astype(int) - 100) <= 1)


@pytest.mark.parametrize(
    "center", [(0, 0), (80, 0), (0, 60), (80, 60), (40, 0), (0, 30), (79.5, 59.5)]
)
def test_crops_at_every_border_are_padded_with_the_mean_colour(frame, center):
    crop = C.crop_square(frame, center=center, side=40, out_size=40)
    fill = np.array(C.mean_color(frame))
    assert crop.shape == (40, 40, 3)
    outside = (np.arange(40)[None, :] + center[0] - 20 + 0.5 < 0) | (
        np.arange(40)[None, :] + center[0] - 20 + 0.5 > 80
    )
    outside = outside | (
        (np.arange(40)[:, None] + center[1] - 20 + 0.5 < 0)
        | (np.arange(40)[:, None] + center[1] - 20 + 0.5 > 60)
    )
    assert outside.any()
    np.testing.assert_array_equal(
        crop[outside], np.broadcast_to(fill, crop[outside].shape)
    )


def test_crop_larger_than_the_frame_contains_the_whole_frame(frame):
    crop = C.crop_square(frame, center=(40, 30), side=160, out_size=160)
    np.testing.assert_array_equal(crop[50:110, 40:120], frame)


def test_exemplar_crop_scale_and_size(frame):
    crop, scale = C.exemplar_crop(frame, [30, 20, 10, 10], exemplar_size=31)
    assert crop.shape == (31, 31, 3)
    assert scale == pytest.approx(31 / 20)


def test_exemplar_crop_of_a_box_outside_the_frame_is_rejected(frame):
    with pytest.raises(ValueError, match="outside the frame"):
        C.exemplar_crop(frame, [100, 100, 10, 10])


def test_box_larger_than_the_frame_is_handled_by_padding(frame):
    crop, _ = C.exemplar_crop(frame, [-20, -20, 200, 150], exemplar_size=15)
    assert crop.shape == (15, 15, 3)


def test_search_side_scales_the_exemplar_square():
    assert C.search_side([0, 0, 10, 10], 127, 255) == pytest.approx(20 * 255 / 127)
    with pytest.raises(ValueError, match="search_size"):
        C.search_side([0, 0, 10, 10], 127, 63)


def test_scale_pyramid_is_one_batch_of_crops(frame):
    scales = [1 / 1.0375, 1.0, 1.0375]
    pyramid = C.scale_pyramid(frame, (40, 30), 30, 31, scales)
    assert pyramid.shape == (3, 31, 31, 3) and pyramid.dtype == np.uint8
    np.testing.assert_array_equal(pyramid[1], C.crop_square(frame, (40, 30), 30, 31))


def test_scale_pyramid_crops_every_scale_as_crop_square_does(frame):
    scales = [0.5, 1 / 1.0375, 1.0, 1.0375, 3.0]
    pyramid = C.scale_pyramid(frame, (40.3, 29.6), 30.7, 31, scales)
    for crop, scale in zip(pyramid, scales):
        expected = C.crop_square(frame, (40.3, 29.6), 30.7 * scale, 31)
        np.testing.assert_array_equal(crop, expected)


@pytest.mark.parametrize("shape", [(480, 640, 3), (7, 5, 3), (1, 1, 3)])
def test_mean_color_is_the_rounded_float_mean(shape):
    image = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    expected = tuple(int(round(v)) for v in image.reshape(-1, 3).mean(axis=0))
    assert C.mean_color(image) == expected


def test_scale_pyramid_checks_its_arguments(frame):
    with pytest.raises(ValueError, match="out_size"):
        C.scale_pyramid(frame, (40, 30), 30, 0, [1.0])
    with pytest.raises(ValueError, match="side"):
        C.scale_pyramid(frame, (40, 30), float("nan"), 31, [1.0])
    with pytest.raises(ValueError, match="center"):
        C.scale_pyramid(frame, (float("inf"), 30), 30, 31, [1.0])


def test_scale_pyramid_rejects_bad_scales(frame):
    with pytest.raises(ValueError, match="scales"):
        C.scale_pyramid(frame, (40, 30), 30, 31, [1.0, -1.0])
    with pytest.raises(ValueError, match="scales"):
        C.scale_pyramid(frame, (40, 30), 30, 31, [])


def test_grayscale_and_rgba_frames_become_rgb():
    gray = np.full((5, 6), 7, dtype=np.uint8)
    assert C.as_frame(gray).shape == (5, 6, 3)
    rgba = np.zeros((5, 6, 4), dtype=np.uint8)
    assert C.as_frame(rgba).shape == (5, 6, 3)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((5, 6, 3)), "uint8"),
        (np.zeros((5, 6, 2), np.uint8), "shape"),
        (np.zeros((0, 6, 3), np.uint8), "empty"),
    ],
)
def test_bad_frames_are_rejected_with_the_argument_name(bad, message):
    with pytest.raises(ValueError, match=f"frame.*{message}|{message}"):
        C.as_frame(bad)


@pytest.mark.parametrize(
    "kwargs",
    [dict(side=0), dict(side=np.nan), dict(out_size=0), dict(center=(np.nan, 1))],
)
def test_bad_crop_arguments_are_rejected(frame, kwargs):
    args = dict(center=(10, 10), side=10, out_size=10) | kwargs
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        C.crop_square(frame, **args)


def test_bad_box_sizes_are_rejected(frame):
    for box in ([0, 0, 0, 10], [0, 0, 10, -1], [0, 0, np.nan, 10]):
        with pytest.raises(ValueError, match="box"):
            C.exemplar_crop(frame, box)


def test_to_tensor_makes_float_nchw(frame):
    tensor = C.to_tensor(frame)
    assert tensor.shape == (1, 3, 60, 80) and tensor.dtype == torch.float32
    assert tensor[0, :, 5, 7].tolist() == frame[5, 7].tolist()
