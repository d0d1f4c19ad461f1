"""A Siamese network that learns when two images show the same thing (Bromley et al.
1993; Hadsell et al. 2006).

One embedding network φ maps each image to a vector; the Siamese network applies the
same φ, with the same weights, to both images of a pair, and the distance between the
two vectors says how alike they are. Verification is then a threshold on that distance,
chosen on validation pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import torch
from torch import nn

from siamlab.losses import contrastive_loss, pairwise_distance
from siamlab.train import History, fit


class EmbeddingNet(nn.Module):
    """φ: a small CNN from an 8×8 grey image `(N, 1, 8, 8)` to an embedding `(N,
    out_dim)`.

    Two 3×3 convolutions at 8×8, pooling to 4×4, one more at 4×4, pooling to 2×2, then
    two linear layers. `width` is the channel count of the first convolutions (about 20k
    weights at 16).
    """

    def __init__(self, out_dim: int = 16, width: int = 16) -> None:
        super().__init__()
        if out_dim < 1 or width < 1:
            raise ValueError(
                f"out_dim and width must be >= 1, got {out_dim} and {width}"
            )
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.project = nn.Sequential(
            nn.Flatten(),
            nn.Linear(2 * width * 2 * 2, 64),
            nn.ReLU(),
            nn.Linear(64, out_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.features(x))


class SiameseNet(nn.Module):
    """Two branches that are one module: `forward(x1, x2)` returns `(φ(x1), φ(x2))`.

    Weight sharing is nothing more than calling the same `embedding` twice, so a
    gradient step moves both branches together and the distance between the outputs is
    symmetric.
    """

    def __init__(self, embedding: nn.Module) -> None:
        super().__init__()
        self.embedding = embedding

    def forward(
        self, x1: torch.Tensor, x2: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.embedding(x1), self.embedding(x2)


def train_siamese(
    model: SiameseNet,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
    *,
    metric: str = "euclidean",
    margin: float = 1.0,
    steps: int = 500,
    lr: float = 3e-3,
    **fit_options: Any,
) -> History:
    """Train `model` with the contrastive loss on batches `(x1, x2, y)` (y = 1: similar)
    using Adam.

    `metric` (`"euclidean"` or `"cosine"`) is the distance inside the loss;
    `fit_options` go to `siamlab.train.fit` (e.g. `progress=False`). Returns the loss
    history.
    """
    device = next(model.parameters()).device

    def loss_fn(net: SiameseNet, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        x1, x2, y = (t.to(device) for t in batch)
        e1, e2 = net(x1, x2)
        return contrastive_loss(pairwise_distance(e1, e2, metric), y, margin)

    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    return fit(model, optimizer, batches, loss_fn, steps, **fit_options)


@torch.no_grad()
def embed(
    embedding: nn.Module, images: torch.Tensor, batch_size: int = 1024
) -> torch.Tensor:
    """φ of every image, `(N, 1, H, W)` → `(N, D)` on the CPU, in evaluation mode and
    without gradients."""
    embedding.eval()
    device = next(embedding.parameters()).device
    chunks = [
        embedding(images[i : i + batch_size].to(device)).cpu()
        for i in range(0, len(images), batch_size)
    ]
    return torch.cat(chunks)


def pair_distances(
    embeddings: torch.Tensor, pairs: Any, metric: str = "euclidean"
) -> np.ndarray:
    """Distances `(P,)` between rows `pairs.first[k]` and `pairs.second[k]` of
    `embeddings` `(N, D)`.

    `pairs` is anything with index arrays `first` and `second`, such as
    `siamlab.datasets.digits.Pairs`.
    """
    first, second = torch.as_tensor(pairs.first), torch.as_tensor(pairs.second)
    return pairwise_distance(embeddings[first], embeddings[second], metric).numpy()


def _check_verification(
    distances: np.ndarray, same: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    distances, same = np.asarray(distances, dtype=np.float64), np.asarray(same)
    if distances.ndim != 1 or distances.shape != same.shape or len(same) == 0:
        raise ValueError(
            f"distances and same must be non-empty (P,) arrays, got "
            f"{distances.shape} and {same.shape}"
        )
    if not np.isin(same, (0, 1)).all():
        raise ValueError("same must contain only 0 and 1")
    return distances, same.astype(bool)


def verification_accuracy(
    distances: np.ndarray, same: np.ndarray, threshold: float
) -> float:
    """Fraction of pairs decided right when "same" means `distance < threshold`."""
    distances, same = _check_verification(distances, same)
    return float(np.mean((distances < threshold) == same))


def best_threshold(distances: np.ndarray, same: np.ndarray) -> float:
    """The threshold that maximises `verification_accuracy` on these pairs (e.g.
    validation pairs).

    Every cut between two consecutive sorted distances is tried at once with cumulative
    sums; the threshold returned is the midpoint of the best gap (ties: the smallest
    such threshold).
    """
    distances, same = _check_verification(distances, same)
    order = np.argsort(distances, kind="stable")
    d, s = distances[order], same[order]
    # Accepting the k nearest pairs as "same": right on the same pairs among them, and
    # on the
    # different pairs among the others.
    same_below = np.r_[0, np.cumsum(s)]
    diff_above = (~s).sum() - np.r_[0, np.cumsum(~s)]
    correct = same_below + diff_above
    valid = np.r_[True, d[1:] > d[:-1], True]  # a cut may not split tied distances
    k = int(np.argmax(np.where(valid, correct, -1)))
    if k == 0:
        return float(d[0])
    if k == len(d):
        return float(d[-1] + 1.0)
    return float((d[k - 1] + d[k]) / 2)


@dataclass
class Verification:
    """How well an embedding verifies pairs: the threshold chosen on validation pairs,
    the accuracy it gives there and on the test pairs, and the test distances `(P,)`
    (for histograms)."""

    threshold: float
    val_accuracy: float
    test_accuracy: float
    test_distances: np.ndarray


def verify(
    embedding: nn.Module,
    val_images: torch.Tensor,
    val_pairs: Any,
    test_images: torch.Tensor,
    test_pairs: Any,
    metric: str = "euclidean",
) -> Verification:
    """Choose the threshold on validation pairs, then measure accuracy on unseen test
    pairs.

    `*_images`: `(N, 1, H, W)`; `*_pairs`: objects with `first`, `second` (indices into
    the images) and `same` (1 for a same-class pair). The test pairs play no part in
    choosing the threshold.
    """
    val_distances = pair_distances(embed(embedding, val_images), val_pairs, metric)
    threshold = best_threshold(val_distances, val_pairs.same)
    test_distances = pair_distances(embed(embedding, test_images), test_pairs, metric)
    return Verification(
        threshold=threshold,
        val_accuracy=verification_accuracy(val_distances, val_pairs.same, threshold),
        test_accuracy=verification_accuracy(test_distances, test_pairs.same, threshold),
        test_distances=test_distances,
    )
