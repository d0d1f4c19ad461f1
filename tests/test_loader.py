"""Training batches from worker processes: the same stream as in-process for one
sampler, the workers' streams interleaved in turn, clear errors."""

import itertools

import pytest

from siamlab.datasets import load_dataset
from siamlab.datasets.loader import batch_stream
from siamlab.models.siamfc import SiamFCConfig, train_siamfc


class CountingSampler:
    """Batches `(worker, index, batch_size)`: which worker drew it, and its rank."""

    def __init__(self, worker: int) -> None:
        self.worker = worker

    def batches(self, batch_size: int):
        for index in itertools.count():
            yield (self.worker, index, batch_size)


def test_without_workers_the_batches_are_those_of_sampler_zero():
    stream = batch_stream(CountingSampler, 4, workers=0)
    assert list(itertools.islice(stream, 3)) == [(0, 0, 4), (0, 1, 4), (0, 2, 4)]


def test_workers_each_draw_from_their_own_sampler_in_turn():
    stream = batch_stream(CountingSampler, 3, workers=2)
    drawn = [tuple(int(v) for v in b) for b in itertools.islice(stream, 6)]
    assert drawn == [(0, 0, 3), (1, 0, 3), (0, 1, 3), (1, 1, 3), (0, 2, 3), (1, 2, 3)]


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2, "workers": -1}, "workers"),
        ({"batch_size": 2, "workers": 1.5}, "workers"),
        ({"batch_size": 2, "prefetch": 0}, "prefetch"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        batch_stream(CountingSampler, **kwargs)


def test_make_sampler_must_be_callable():
    with pytest.raises(ValueError, match="make_sampler"):
        batch_stream(CountingSampler(0), 2)


@pytest.mark.timeout(300)
def test_siamfc_trains_on_pairs_drawn_by_a_worker():
    sequences = load_dataset("synth-train", max_sequences=2)
    _, history = train_siamfc(
        SiamFCConfig.tiny(), sequences, 2, batch_size=2, progress=False, workers=1
    )
    assert history.step == 2 and len(history.losses) == 2
