"""The SiamRPN tracker: geometry of a step, the penalty, presets, bad inputs."""

import math

import numpy as np
import pytest
import skimage.data
import torch

from siamlab.anchors import encode
from siamlab.models.siamrpn import SiamRPNConfig, SiamRPNNet
from siamlab.trackers.registry import make_tracker
from siamlab.trackers.siamrpn import (
    SiamRPNParams,
    SiamRPNTracker,
    change_penalty,
    hann_window,
    locate,
)

SMALL = SiamRPNConfig(width=0.125, groups=1, channels=8)
BACKGROUND = skimage.data.astronaut()[::2, ::2].copy()  # 256 x 256 photograph
PATCH = skimage.data.chelsea()[60:100, 130:200]  # 40 high, 70 wide


def pasted(x: int, y: int) -> np.ndarray:
    frame = BACKGROUND.copy()
    frame[y : y + 40, x : x + 70] = PATCH
    return frame


@pytest.fixture(scope="module")
def random_model() -> SiamRPNNet:
    torch.manual_seed(0)
    return SiamRPNNet(SMALL).eval()


class Oracle:
    """Stands in for the network's head: it 'detects' a known box in the crop."""

    def __init__(self, config: SiamRPNConfig, box: np.ndarray, anchor: int) -> None:
        anchors = config.anchors()
        k, size = config.num_anchors, config.score_size
        logits = np.zeros((len(anchors), 2), np.float32)
        logits[anchor, 1] = 8.0
        deltas = np.zeros((len(anchors), 4), np.float32)
        deltas[anchor] = encode(box, anchors[anchor])
        # back to the head's layout: channel c·k + a holds component c of shape a
        self.cls = torch.from_numpy(logits.T.reshape(1, 2 * k, size, size).copy())
        self.loc = torch.from_numpy(deltas.T.reshape(1, 4 * k, size, size).copy())

    def __call__(self, kernels, features):
        return self.cls, self.loc


def test_step_decodes_the_detected_box_into_the_frame(random_model, monkeypatch):
    """A proposal 16 crop pixels right of the centre and twice as wide: with lr = 1 the
    box moves and takes that size exactly (crop pixels / scale = frame pixels)."""
    tracker = SiamRPNTracker(
        random_model, SiamRPNParams(penalty_k=0.0, window_influence=0.0, lr=1.0)
    )
    tracker.init(pasted(60, 100), [60, 100, 70, 40])
    scale = SMALL.exemplar_size / math.sqrt((70 + 55) * (40 + 55))
    box = np.array([16.0, -8.0, 140 * scale, 40 * scale])  # crop pixels
    anchors = SMALL.anchors()
    anchor = int(np.argmin(np.abs(anchors - box).sum(axis=1)))
    oracle = Oracle(SMALL, box, anchor)
    monkeypatch.setattr(random_model.head, "correlate", oracle)
    result = tracker.update(pasted(60, 100))
    expected = [95 + 16 / scale - 70, 120 - 8 / scale - 20, 140, 40]
    np.testing.assert_allclose(result.box, expected, atol=0.05)  # float32 deltas
    assert result.score > 0.99 and result.response.shape == (17, 17)


def test_size_moves_by_lr_times_penalised_score(random_model, monkeypatch):
    params = SiamRPNParams(penalty_k=0.1, window_influence=0.0, lr=0.5)
    tracker = SiamRPNTracker(random_model, params)
    tracker.init(pasted(60, 100), [60, 100, 70, 40])
    scale = SMALL.exemplar_size / math.sqrt((70 + 55) * (40 + 55))
    box = np.array([0.0, 0.0, 70 * scale, 60 * scale])
    anchor = int(np.argmin(np.abs(SMALL.anchors() - box).sum(axis=1)))
    monkeypatch.setattr(random_model.head, "correlate", Oracle(SMALL, box, anchor))
    step = tracker.step(pasted(60, 100))
    penalty = change_penalty([[70.0, 60.0]], [70.0, 40.0], 0.1)[0]
    rate = 0.5 * penalty * step.scores[step.best]
    np.testing.assert_allclose(step.target_size, [70, 40 * (1 - rate) + 60 * rate])
    np.testing.assert_allclose(step.center, [95, 120], atol=1e-6)


def test_penalty_against_a_hand_computation():
    # proposal 40 x 20 against a previous 20 x 20, k = 0.1:
    # context squares sqrt(70·50) and sqrt(40·40), so s_c = 59.16 / 40; r_c = 2
    s_c = math.sqrt(70 * 50) / 40
    expected = math.exp(-(2 * s_c - 1) * 0.1)
    assert change_penalty([40.0, 20.0], [20.0, 20.0], 0.1) == pytest.approx(expected)
    # the same size and shape is not penalised; a 2x taller box as much as 2x wider
    assert change_penalty([20.0, 20.0], [20.0, 20.0], 0.5) == pytest.approx(1.0)
    wide, tall = change_penalty([[40.0, 20.0], [20.0, 40.0]], [20.0, 20.0], 0.1)
    assert wide == pytest.approx(tall)


def test_window_is_one_at_the_centre_for_every_anchor():
    window = hann_window(17, 5).reshape(5, 17, 17)
    assert window.shape == (5, 17, 17) and np.all(window[:, 8, 8] == 1)
    assert np.all(window[:, 0, :] == 0)


def test_window_and_penalty_change_the_choice():
    """Two equal detections: the window prefers the central one, the penalty the one
    of the previous shape."""
    k, size = 1, 3
    proposals = np.array([[0, 0, 10, 10]] * 9, float)
    proposals[0] = [-8, -8, 10, 10]  # corner, same shape
    proposals[4] = [0, 0, 30, 10]  # centre, 3x wider
    scores = np.zeros(9)
    scores[[0, 4]] = 0.9
    args = (np.zeros((4, 4, 3)), scores, proposals, 1.0)
    later = ((0.0, 0.0), (10.0, 10.0), (100, 100, 3), k, size)
    no_window = SiamRPNParams(penalty_k=0.5, window_influence=0.0)
    assert locate(*args, no_window, *later).best == 0
    no_penalty = SiamRPNParams(penalty_k=0.0, window_influence=0.3)
    assert locate(*args, no_penalty, *later).best == 4


def test_random_network_stays_in_the_frame(random_model):
    tracker = SiamRPNTracker(random_model)
    tracker.init(pasted(0, 0), [0, 0, 70, 40])
    for x in (5, 10, 15):
        box = tracker.update(pasted(x, 0)).box
        assert box[2] >= 10 and box[3] >= 10
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        assert 0 <= cx <= 256 and 0 <= cy <= 256


def test_dasiamrpn_presets_carry_the_release_settings():
    vot, otb, big = (SiamRPNParams.for_release(r) for r in ("vot", "otb", "big"))
    assert (vot.penalty_k, vot.window_influence, vot.lr) == (0.04, 0.44, 0.45)
    assert (otb.penalty_k, otb.window_influence, otb.lr) == (0.22, 0.40, 0.30)
    assert (big.penalty_k, big.window_influence, big.lr) == (0.055, 0.42, 0.295)
    assert vot.search_size == otb.search_size == big.search_size == 271
    assert big.adaptive and not vot.adaptive and big.small_search_size == 287


def test_adaptive_search_grows_for_small_targets(random_model):
    tracker = SiamRPNTracker(
        random_model, SiamRPNParams(search_size=271, adaptive=True)
    )
    tracker.init(pasted(60, 100), [60, 100, 70, 40])
    assert tracker.search_size == 271
    tracker.init(pasted(60, 100), [60, 100, 12, 12])  # 144 / 65536 < 0.4 %
    assert tracker.search_size == 287
    assert len(tracker.anchors) == 5 * 21 * 21
    assert tracker.update(pasted(60, 100)).response.shape == (21, 21)


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"penalty_k": -1.0}, "penalty_k"),
        ({"window_influence": 1.5}, "window_influence"),
        ({"lr": float("nan")}, "lr"),
        ({"search_size": 0}, "search_size"),
        ({"adaptive": 1}, "adaptive"),
        ({"min_size": True}, "min_size"),
    ],
)
def test_bad_params_are_rejected(changes, match):
    with pytest.raises(ValueError, match=match):
        SiamRPNParams(**changes)


def test_bad_inputs_are_rejected(random_model):
    tracker = SiamRPNTracker(random_model)
    with pytest.raises(ValueError, match="init"):
        tracker.update(pasted(0, 0))
    with pytest.raises(ValueError, match="box"):
        tracker.init(pasted(0, 0), [300, 300, 10, 10])
    tracker.init(pasted(60, 100), [60, 100, 70, 40])
    with pytest.raises(ValueError, match="size"):
        tracker.update(np.zeros((100, 100, 3), np.uint8))
    with pytest.raises(ValueError, match="both"):
        SiamRPNTracker(random_model, weights="x.pt")
    with pytest.raises(ValueError, match="release"):
        SiamRPNParams.for_release("lasot")
    with pytest.raises(ValueError, match="unknown"):
        tracker.with_params(scale_step=1.1)
    with pytest.raises(FileNotFoundError):
        make_tracker("siamrpn", weights="/nonexistent/SiamRPNBIG.model")


def test_shipped_tracker_finds_a_pasted_copy():
    from siamlab.boxes import iou

    tracker = make_tracker("siamrpn")
    for dx, dy in [(0, 0), (6, -4), (-10, 8)]:
        tracker.init(pasted(90, 120), [90, 120, 70, 40])
        box = tracker.update(pasted(90 + dx, 120 + dy)).box
        assert iou(box, [90 + dx, 120 + dy, 70, 40]) > 0.6, (dx, dy, box)
        assert 1.3 < box[2] / box[3] < 2.0  # the patch is 70 x 40


def test_shipped_checkpoint_matches_its_manifest():
    import json

    from siamlab.models.siamrpn import DEFAULT_SIAMRPN_WEIGHTS
    from siamlab.train import load_checkpoint

    manifest = json.loads(
        (DEFAULT_SIAMRPN_WEIGHTS.parent / "MANIFEST.json").read_text()
    )
    entry = manifest["siamrpn_tiny.pt"]
    state = load_checkpoint(DEFAULT_SIAMRPN_WEIGHTS)
    assert (
        state["step"] == entry["steps"]
        and f"--steps {entry['steps']}" in entry["command"]
    )
    assert SiamRPNConfig.from_dict(state["config"]) == SiamRPNConfig.tiny()
    assert "optimizer" not in state  # shipped without the optimiser's state
