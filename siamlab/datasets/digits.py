"""Same / different pairs of handwritten digits for learning a similarity (chapter 1).

The 1,797 8×8 digits bundled with scikit-learn are split, digit by digit, into train,
validation and test images with no image in two splits; pairs are then drawn within a
split, half of the same digit and half of different digits, so a verifier is always
judged on images it has never seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class DigitSplit:
    """The images of one split.

    `images`: float32 tensor `(N, 1, 8, 8)` with values in `[0, 1]` (scikit-learn's 0–16
    divided by 16); `labels`: int64 array `(N,)` of digits 0–9; `indices`: positions in
    `sklearn.datasets.load_digits()`, which show that no image is in two splits.
    """

    name: str
    images: torch.Tensor
    labels: np.ndarray
    indices: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Pairs:
    """Pairs of images of one split: `first`, `second` index the split; `same` is 1 for
    the same digit."""

    first: np.ndarray
    second: np.ndarray
    same: np.ndarray

    def __len__(self) -> int:
        return len(self.same)


def load_digit_splits(
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2), seed: int = 0
) -> dict[str, DigitSplit]:
    """scikit-learn's digits split into `{"train", "val", "test"}` with the given
    fractions.

    The split is stratified (each digit divided in the same proportions) and depends
    only on `seed`.
    """
    from sklearn.datasets import load_digits

    # written with `not` so that NaN fails the checks too
    if (
        len(fractions) != 3
        or any(not f > 0 for f in fractions)
        or not abs(sum(fractions) - 1) <= 1e-6
    ):
        raise ValueError(
            f"fractions must be three positive numbers summing to 1, got {fractions!r}"
        )
    digits = load_digits()
    rng = np.random.default_rng(seed)
    chosen: dict[str, list[np.ndarray]] = {name: [] for name in SPLITS}
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(digits.target == digit))
        ends = np.round(np.cumsum(fractions) * len(members)).astype(int)
        for name, part in zip(SPLITS, np.split(members, ends[:2])):
            chosen[name].append(part)
    splits = {}
    for name in SPLITS:
        indices = np.sort(np.concatenate(chosen[name]))
        images = torch.from_numpy(
            digits.images[indices].astype(np.float32) / 16.0
        ).unsqueeze(1)
        splits[name] = DigitSplit(
            name, images, digits.target[indices].astype(np.int64), indices
        )
    return splits


def sample_pairs(labels: np.ndarray, n_pairs: int, rng: np.random.Generator) -> Pairs:
    """`n_pairs` random pairs of positions in `labels`: `n_pairs // 2` of the same
    digit, the rest not.

    A same-digit pair picks a digit uniformly, then two different images of it; a
    different-digit pair picks two different digits, then one image of each. The pairs
    come shuffled.
    """
    labels = np.asarray(labels)
    if not isinstance(n_pairs, (int, np.integer)) or n_pairs < 2:
        raise ValueError(f"n_pairs must be an integer >= 2, got {n_pairs!r}")
    order = np.argsort(labels, kind="stable")
    _, starts, counts = np.unique(labels[order], return_index=True, return_counts=True)
    if len(counts) < 2 or counts.min() < 2:
        raise ValueError(
            "labels must hold at least two digits, each with at least two images"
        )
    n_same, n_diff = n_pairs // 2, n_pairs - n_pairs // 2
    digit = rng.integers(len(counts), size=n_same)
    i = rng.integers(counts[digit])
    j = (i + rng.integers(1, counts[digit])) % counts[
        digit
    ]  # any other image of the same digit
    digit_a = rng.integers(len(counts), size=n_diff)
    digit_b = (digit_a + rng.integers(1, len(counts), size=n_diff)) % len(counts)
    first = np.r_[
        order[starts[digit] + i], order[starts[digit_a] + rng.integers(counts[digit_a])]
    ]
    second = np.r_[
        order[starts[digit] + j], order[starts[digit_b] + rng.integers(counts[digit_b])]
    ]
    same = np.r_[np.ones(n_same, np.int64), np.zeros(n_diff, np.int64)]
    shuffle = rng.permutation(n_pairs)
    return Pairs(first[shuffle], second[shuffle], same[shuffle])


def pair_batches(
    split: DigitSplit, batch_size: int = 128, seed: int = 0
) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """An endless stream of fresh balanced batches `(x1, x2, y)` from `split`, for
    `siamlab.train.fit`.

    `x1`, `x2`: `(batch_size, 1, 8, 8)` images; `y`: `(batch_size,)` float labels, 1 for
    the same digit.
    """
    rng = np.random.default_rng(seed)
    while True:
        pairs = sample_pairs(split.labels, batch_size, rng)
        yield (
            split.images[pairs.first],
            split.images[pairs.second],
            torch.from_numpy(pairs.same).float(),
        )
