"""Training pairs: frames at most T apart, crops centred on the target, offsets that
follow shifts."""

import numpy as np
import pytest
import skimage.data

from siamlab.datasets.pairs import PairSampler
from siamlab.datasets.sequence import Sequence

BACKGROUND = skimage.data.astronaut()[::2, ::2].copy()  # 256 x 256
PATCH = skimage.data.chelsea()[100:140, 150:190]  # 40 x 40


def moving_sequence(n: int = 30, absent: tuple[int, ...] = ()) -> Sequence:
    """A cat's face pasted into the astronaut, moving 2 pixels right per frame."""
    boxes = np.array([[40.0 + 2 * i, 100.0, 40.0, 40.0] for i in range(n)])

    def load(i: int) -> np.ndarray:
        frame = BACKGROUND.copy()
        x = int(boxes[i, 0])
        frame[100:140, x : x + 40] = PATCH
        return frame

    mask = np.zeros(n, bool)
    mask[list(absent)] = True
    return Sequence("moving", boxes, load, absent=mask)


def test_pair_frames_are_visible_and_at_most_t_apart():
    sampler = PairSampler([moving_sequence(absent=(5, 6, 7))], max_gap=3, seed=0)
    for _ in range(200):
        _, i, j = sampler.frame_indices()
        assert abs(i - j) <= 3 and i not in (5, 6, 7) and j not in (5, 6, 7)


def test_crops_have_the_configured_sizes_and_target_at_the_centre():
    sampler = PairSampler(
        [moving_sequence()], 127, 255, stretch=0, flip=False, brightness=0, seed=0
    )
    exemplar, search, offset = sampler.sample()
    assert exemplar.shape == (127, 127, 3) and search.shape == (255, 255, 3)
    assert exemplar.dtype == np.uint8 and np.all(offset == 0)
    # the 40-px patch fills 127 / 80 · 40 ≈ 63 px in the middle of both crops; compare
    # their centres
    np.testing.assert_allclose(
        exemplar[48:80, 48:80].astype(float),
        search[112:144, 112:144].astype(float),
        atol=40,
    )


def test_shift_offsets_point_at_the_target():
    sampler = PairSampler(
        [moving_sequence()],
        127,
        255,
        stretch=0,
        flip=False,
        brightness=0,
        max_shift=30,
        seed=3,
    )
    exemplar, search, (dx, dy) = sampler.sample()
    assert 0 < abs(dx) <= 30 and 0 < abs(dy) <= 30
    cx, cy = int(round(127 + dx)), int(round(127 + dy))
    window = search[cy - 10 : cy + 10, cx - 10 : cx + 10].astype(float)
    np.testing.assert_allclose(window, exemplar[53:73, 53:73].astype(float), atol=60)


def test_batches_are_float_tensors_in_nchw():
    batch = next(PairSampler([moving_sequence()], 127, 255, seed=0).batches(4))
    assert batch.exemplar.shape == (4, 3, 127, 127) and batch.search.shape == (
        4,
        3,
        255,
        255,
    )
    assert batch.offsets.shape == (4, 2) and batch.search.max() <= 255


def test_same_seed_gives_same_pairs():
    a = PairSampler([moving_sequence()], seed=5).batch(2)
    b = PairSampler([moving_sequence()], seed=5).batch(2)
    assert (a.search == b.search).all() and (a.exemplar == b.exemplar).all()


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (([],), {}, "empty"),
        (([moving_sequence()],), {"max_gap": -1}, "max_gap"),
        (([moving_sequence()], 255, 127), {}, "exemplar_size"),
        (([moving_sequence()],), {"stretch": 2.0}, "stretch"),
    ],
)
def test_bad_arguments_are_rejected(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        PairSampler(*args, **kwargs)


def test_bad_batch_size_is_rejected():
    with pytest.raises(ValueError, match="batch_size"):
        PairSampler([moving_sequence()]).batch(0)
