"""The SiamFC tracker: geometry of a step, robustness at the frame's edges, the shipped
checkpoint."""

import json
from pathlib import Path

import numpy as np
import pytest
import skimage.data
import torch

from siamlab.nn.models import (
    DEFAULT_SIAMFC_WEIGHTS,
    SiamFCConfig,
    SiamFCNet,
    load_siamfc,
)
from siamlab.trackers.registry import make_tracker
from siamlab.trackers.siamfc import (
    SiamFCParams,
    SiamFCTracker,
    bicubic_matrix,
    cosine_window,
    locate,
    upsample,
)

BACKGROUND = skimage.data.astronaut()[::2, ::2].copy()  # 256 x 256 photograph
PATCH = skimage.data.chelsea()[60:110, 150:200]  # 50 x 50, the cat's eye


def pasted(x: int, y: int, background: np.ndarray = BACKGROUND) -> np.ndarray:
    frame = background.copy()
    frame[y : y + 50, x : x + 50] = PATCH
    return frame


@pytest.fixture(scope="module")
def random_model() -> SiamFCNet:
    torch.manual_seed(0)
    return SiamFCNet(SiamFCConfig.tiny()).eval()


@pytest.fixture(scope="module")
def shipped() -> SiamFCNet:
    return load_siamfc()


def peak_map(n: int, size: int, cell: tuple[int, int], scale: int = -1) -> np.ndarray:
    raw = np.zeros((n, size, size), np.float32)
    raw[(n - 1) // 2 if scale < 0 else scale][cell] = 5.0
    return raw


def test_centred_peak_keeps_the_box():
    params = SiamFCParams()
    step = locate(
        peak_map(3, 17, (8, 8)),
        np.zeros((3, 1, 1, 3)),
        params,
        np.array([100.0, 80.0]),
        np.array([40.0, 20.0]),
        160.0,
        8,
        255,
        (192, 256, 3),
        np.array([40.0, 20.0]),
    )
    # the upsampled peak lies between two pixels: half an upsampled cell is 0.25 crop
    # pixels
    np.testing.assert_allclose(step.box, [80.0, 70.0, 40.0, 20.0], atol=0.2)
    assert step.scale_index == 1 and step.peak in {(135, 135), (136, 136)}


def test_peak_one_cell_right_moves_one_stride_in_crop_pixels():
    params = SiamFCParams(num_scales=1, window_influence=0.0)
    # search side 255 frame pixels = 255 crop pixels, so one cell (stride 8) is 8 frame
    # pixels
    step = locate(
        peak_map(1, 17, (8, 9)),
        np.zeros((1, 1, 1, 3)),
        params,
        np.array([100.0, 80.0]),
        np.array([40.0, 40.0]),
        255.0,
        8,
        255,
        (192, 256, 3),
        np.array([40.0, 40.0]),
    )
    np.testing.assert_allclose(step.center, [108.0, 80.0], atol=0.5)


def test_chosen_scale_is_damped():
    params = SiamFCParams(scale_penalty=1.0)
    step = locate(
        peak_map(3, 17, (8, 8), scale=2),
        np.zeros((3, 1, 1, 3)),
        params,
        np.array([100.0, 80.0]),
        np.array([40.0, 40.0]),
        160.0,
        8,
        255,
        (192, 256, 3),
        np.array([40.0, 40.0]),
    )
    assert step.scale_index == 2
    expected = 40 * (
        1 - params.scale_damping + params.scale_damping * params.scale_step
    )
    np.testing.assert_allclose(step.target_size, [expected, expected])


def test_scale_penalty_prefers_the_current_scale_on_ties():
    raw = np.ones((3, 17, 17), np.float32)
    step = locate(
        raw,
        np.zeros((3, 1, 1, 3)),
        SiamFCParams(),
        np.array([50.0, 50.0]),
        np.array([20.0, 20.0]),
        80.0,
        8,
        255,
        (100, 100, 3),
        np.array([20.0, 20.0]),
    )
    assert step.scale_index == 1


def test_cosine_window_sums_to_one_and_peaks_at_the_centre():
    window = cosine_window(272)
    assert window.sum() == pytest.approx(1.0)
    assert window[0].max() == 0 and np.unravel_index(window.argmax(), window.shape) in {
        (135, 135),
        (136, 136),
    }


def test_cosine_window_is_computed_once_and_read_only():
    window = cosine_window(17)
    assert cosine_window(17) is window
    with pytest.raises(ValueError):
        window[0, 0] = 1.0


@pytest.mark.parametrize("size, factor", [(17, 16), (5, 3), (22, 8), (17, 1), (2, 5)])
def test_upsample_is_torch_bicubic_interpolation(size, factor):
    maps = np.random.default_rng(size).normal(0, 4, (3, size, size)).astype(np.float32)
    expected = torch.nn.functional.interpolate(
        torch.from_numpy(maps)[:, None],
        size=(size * factor, size * factor),
        mode="bicubic",
        align_corners=False,
    )[:, 0].numpy()
    got = upsample(maps, factor)
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-5)


def test_bicubic_rows_are_partitions_of_unity_and_factor_one_is_identity():
    matrix = bicubic_matrix(17, 16)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(bicubic_matrix(9, 1), np.eye(9))


@pytest.mark.parametrize(
    "maps, factor, message",
    [
        (np.zeros((3, 17, 16)), 16, "maps must have shape"),
        (np.zeros((17, 17)), 16, "maps must have shape"),
        (np.zeros((3, 0, 0)), 16, "maps must have shape"),
        (np.array([[["a"]]]), 16, "maps must be real numbers"),
        (np.zeros((3, 17, 17)), 0, "factor must be a positive integer"),
        (np.zeros((3, 17, 17)), 2.0, "factor must be a positive integer"),
        (np.zeros((3, 17, 17)), True, "factor must be a positive integer"),
    ],
)
def test_upsample_rejects_bad_maps_and_factors(maps, factor, message):
    with pytest.raises(ValueError, match=message):
        upsample(maps, factor)


def test_params_scales_are_symmetric_powers_of_the_step():
    np.testing.assert_allclose(SiamFCParams().scales, [1 / 1.0375, 1, 1.0375])
    five = SiamFCParams.five_scales().scales
    np.testing.assert_allclose(five, 1.0255 ** np.arange(-2, 3))


def test_five_scales_is_the_authors_siamfc_5s_parameter_file():
    params = SiamFCParams.five_scales()
    released = (5, 1.0255, 0.962, 0.34, 0.168)  # siamese-fc, tracking/params-5s.txt
    fields = ("num_scales", "scale_step", "scale_penalty", "scale_damping")
    fields += ("window_influence",)
    assert tuple(getattr(params, name) for name in fields) == released


def test_shipped_tracker_finds_a_pasted_copy(shipped):
    # the geometry is exact (the tests of `locate` above); what limits accuracy is the
    # tiny network:
    # over motions of up to 8 pixels it finds the copy to about a pixel (median), never
    # a stride off
    tracker = SiamFCTracker(shipped)
    errors = []
    for dx in range(-8, 9, 4):
        for dy in range(-8, 9, 4):
            tracker.init(pasted(100, 120), [100, 120, 50, 50])
            result = tracker.update(pasted(100 + dx, 120 + dy))
            centre = result.box[:2] + result.box[2:] / 2
            errors.append(np.hypot(*(centre - [125 + dx, 145 + dy])))
            np.testing.assert_allclose(result.box[2:], [50, 50], rtol=0.05)
    assert np.median(errors) <= 1.5 and max(errors) <= 4.0, np.round(errors, 2)


def test_one_mini_batch_of_scales_per_frame(random_model):
    calls = []
    hook = random_model.backbone.register_forward_hook(
        lambda m, i, o: calls.append(tuple(i[0].shape))
    )
    try:
        tracker = SiamFCTracker(random_model, SiamFCParams.five_scales())
        tracker.init(pasted(100, 120), [100, 120, 50, 50])
        kernel = tracker.kernel.clone()
        tracker.update(pasted(104, 120))
        tracker.update(pasted(108, 120))
    finally:
        hook.remove()
    assert calls == [(1, 3, 127, 127), (5, 3, 255, 255), (5, 3, 255, 255)]
    assert torch.equal(kernel, tracker.kernel)  # the exemplar is never updated


@pytest.mark.parametrize(
    "shape, box",
    [
        ((192, 256, 3), [0, 0, 30, 20]),  # touching the top-left corner
        ((192, 256, 3), [226, 172, 30, 20]),  # touching the bottom-right corner
        ((60, 40, 3), [-10, -20, 80, 100]),  # larger than the frame
        ((31, 500, 3), [480, 5, 20, 20]),  # a thin, wide frame
    ],
)
def test_edges_and_huge_targets_do_not_crash_and_stay_in_the_frame(
    random_model, shape, box
):
    rng = np.random.default_rng(0)
    tracker = SiamFCTracker(random_model)
    tracker.init(rng.integers(0, 255, shape, dtype=np.uint8), box)
    for _ in range(3):
        result = tracker.update(rng.integers(0, 255, shape, dtype=np.uint8))
        x, y, w, h = result.box
        assert np.all(np.isfinite(result.box)) and w >= 1 and h >= 1
        assert 0 <= x + w / 2 <= shape[1] and 0 <= y + h / 2 <= shape[0]
        assert w <= shape[1] and h <= shape[0]
        assert result.response.shape == (17 * 16, 17 * 16) and 0 <= result.score <= 1


def test_grayscale_frames_are_accepted(random_model):
    tracker = SiamFCTracker(random_model)
    gray = BACKGROUND[:, :, 0]
    tracker.init(gray, [50, 50, 30, 30])
    assert tracker.update(gray).box.shape == (4,)


def test_bad_inputs_are_rejected(random_model):
    tracker = SiamFCTracker(random_model)
    with pytest.raises(ValueError, match="init"):
        tracker.update(BACKGROUND)
    with pytest.raises(ValueError, match="uint8"):
        tracker.init(BACKGROUND.astype(np.float32), [10, 10, 20, 20])
    with pytest.raises(ValueError, match="positive width"):
        tracker.init(BACKGROUND, [10, 10, 0, 20])
    with pytest.raises(ValueError, match="outside the frame"):
        tracker.init(BACKGROUND, [1000, 10, 20, 20])
    with pytest.raises(ValueError, match="num_scales"):
        SiamFCParams(num_scales=2)
    with pytest.raises(ValueError, match="window_influence"):
        SiamFCParams(window_influence=1.5)
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        SiamFCTracker(weights="/nonexistent/missing.pt")


def test_template_update_changes_the_kernel(random_model):
    tracker = SiamFCTracker(random_model, SiamFCParams(template_update=0.5))
    tracker.init(pasted(100, 120), [100, 120, 50, 50])
    kernel = tracker.kernel.clone()
    tracker.update(pasted(110, 120))
    assert not torch.equal(kernel, tracker.kernel)


def test_registry_builds_siamfc_with_the_shipped_weights():
    tracker = make_tracker("siamfc")
    assert isinstance(tracker, SiamFCTracker) and tracker.config == SiamFCConfig.tiny()


def test_shipped_checkpoint_matches_its_manifest():
    manifest = json.loads((DEFAULT_SIAMFC_WEIGHTS.parent / "MANIFEST.json").read_text())
    entry = manifest["siamfc_tiny.pt"]
    state = torch.load(DEFAULT_SIAMFC_WEIGHTS, map_location="cpu", weights_only=False)
    assert (
        state["step"] == entry["steps"]
        and f"--steps {entry['steps']}" in entry["command"]
    )
    assert f"--seed {entry['seed']}" in entry["command"]
    assert SiamFCConfig.from_dict(state["config"]) == SiamFCConfig.tiny()
    assert len(entry["commit"]) == 40 and 0 < entry["synth_test"]["success_auc"] <= 1
    assert DEFAULT_SIAMFC_WEIGHTS.stat().st_size < 5e6
    assert Path(DEFAULT_SIAMFC_WEIGHTS).is_relative_to(
        Path(__file__).resolve().parents[1]
    )


def test_score_map_of_a_larger_search_is_larger(random_model):
    exemplar = np.zeros((127, 127, 3), np.uint8)
    assert random_model.score_map(
        exemplar, np.zeros((255, 255, 3), np.uint8)
    ).shape == (17, 17)
    assert random_model.score_map(
        exemplar, np.zeros((383, 383, 3), np.uint8)
    ).shape == (33, 33)


def test_score_map_explorer_reruns_a_step_with_new_knobs(random_model):
    from siamlab.datasets.sequence import Sequence
    from siamlab.trackers.base import track
    from siamlab.widgets.siamfc import ScoreMapExplorer

    boxes = np.array([[100.0 + 3 * i, 120.0, 50.0, 50.0] for i in range(4)])
    sequence = Sequence("pasted", boxes, lambda i: pasted(100 + 3 * i, 120))
    tracker = SiamFCTracker(random_model)
    run = track(tracker, sequence, progress=False)
    explorer = ScoreMapExplorer(tracker, sequence, run.boxes)
    figure = explorer.update()
    assert explorer.values["frame"] == 2 and len(figure.axes) >= 3
    explorer.update(frame=3, window_influence=0.0, scale_penalty=1.0)
    assert explorer.values == {
        "frame": 3,
        "window_influence": 0.0,
        "scale_penalty": 1.0,
    }
    with pytest.raises(ValueError, match="frame"):
        explorer.update(frame=0)
    with pytest.raises(ValueError, match="unknown"):
        explorer.update(zoom=2)
