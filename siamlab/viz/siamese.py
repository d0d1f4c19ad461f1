"""Figures of chapter 1: the contrastive loss (Hadsell et al. 2006) and the embeddings
it learns.

The loss-versus-distance curves show what the loss asks of similar and dissimilar pairs;
the loss curve, the embedding scatter and the distance histograms show whether training
delivered it. Functions draw into a given `ax` (or a new figure) and return the
`matplotlib.figure.Figure`."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch
from matplotlib import pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from siamlab.losses import contrastive_loss

SIMILAR_STYLE = {"color": "tab:red", "linestyle": "--"}
DISSIMILAR_STYLE = {"color": "tab:blue", "linestyle": "-"}


def new_figure(size: tuple[float, float]) -> Figure:
    """A new figure that pyplot does not keep, so Jupyter shows a returned figure once,
    not twice.

    Creating it through pyplot loads Jupyter's inline backend, which renders figures as
    images."""
    figure = plt.figure(figsize=size, layout="constrained")
    plt.close(figure)
    return figure


def _axes(ax: Axes | None, size: tuple[float, float] = (5.0, 3.6)) -> Axes:
    """`ax` itself, or the axes of a new figure."""
    return ax if ax is not None else new_figure(size).add_subplot()


def plot_contrastive_loss(
    margin: float = 1.0,
    d_max: float | None = None,
    y_max: float | None = None,
    ax: Axes | None = None,
) -> Figure:
    """The contrastive loss of one pair against its distance `d ∈ [0, d_max]`, for both
    labels.

    Similar pairs (`y = 1`, red dashed) pay `d²`; dissimilar pairs (`y = 0`, blue solid)
    pay `max(margin − d, 0)²`, zero once they are `margin` apart. Values come from
    `contrastive_loss`."""
    ax = _axes(ax)
    d_max = float(d_max if d_max is not None else max(2.0 * margin, 1.0))
    y_max = float(y_max if y_max is not None else max(d_max**2, margin**2) * 1.05)
    d = torch.linspace(0.0, d_max, 201)
    similar = contrastive_loss(d, torch.ones_like(d), margin, reduction="none")
    dissimilar = contrastive_loss(d, torch.zeros_like(d), margin, reduction="none")
    ax.plot(d, similar, label="similar pair ($y=1$): $d^2$", **SIMILAR_STYLE)
    ax.plot(
        d,
        dissimilar,
        label="dissimilar pair ($y=0$): $\\max(m-d,0)^2$",
        **DISSIMILAR_STYLE,
    )
    ax.axvline(margin, color="grey", linestyle=":", label=f"margin $m={margin:g}$")
    ax.set_xlim(0, d_max)
    ax.set_ylim(0, y_max)
    ax.set(
        xlabel="distance $d$ between the two embeddings",
        ylabel="loss of the pair",
        title=f"Contrastive loss, margin $m = {margin:g}$",
    )
    ax.legend(loc="best", fontsize="small")
    return ax.figure


def plot_pairs(
    images: torch.Tensor, pairs: object, n: int = 8, title: str = "Pairs of digits"
) -> Figure:
    """The first `n` pairs as two rows of images (`first` above `second`), each column
    labelled.

    `images`: `(N, 1, H, W)`; `pairs`: an object with index arrays `first`, `second` and
    `same`."""
    n = min(n, len(pairs.same))
    figure = new_figure((1.1 * n, 2.7))
    axes = figure.subplots(2, n, squeeze=False)
    for k in range(n):
        same = bool(pairs.same[k])
        for row, index in enumerate((pairs.first[k], pairs.second[k])):
            ax = axes[row, k]
            ax.imshow(np.asarray(images[index, 0]), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        style = SIMILAR_STYLE if same else DISSIMILAR_STYLE
        axes[0, k].set_title(
            "same" if same else "different", color=style["color"], fontsize="medium"
        )
    figure.suptitle(title)
    return figure


def plot_loss_history(
    losses: Mapping[str, Sequence[float]], window: int = 25, ax: Axes | None = None
) -> Figure:
    """Training loss per step for each named run (faint), with its running mean over
    `window` steps."""
    ax = _axes(ax)
    for name, values in losses.items():
        values = np.asarray(values, dtype=float)
        smooth = np.convolve(values, np.ones(window) / window, mode="valid")
        (line,) = ax.plot(values, alpha=0.25, linewidth=0.8)
        ax.plot(
            np.arange(window - 1, len(values)),
            smooth,
            color=line.get_color(),
            label=name,
        )
    ax.set_yscale("log")
    ax.set(
        xlabel="training step",
        ylabel="contrastive loss (log scale)",
        title="Training loss",
    )
    ax.legend(fontsize="small")
    return ax.figure


def project_2d(embeddings: np.ndarray | torch.Tensor) -> np.ndarray:
    """Embeddings `(N, D)` as `(N, 2)`: unchanged when `D = 2`, else their two principal
    components."""
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError(
            f"embeddings must have shape (N, D) with D >= 2, got {x.shape}"
        )
    if x.shape[1] == 2:
        return x
    centred = x - x.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    return centred @ components[:2].T


def plot_embedding(
    embeddings: np.ndarray | torch.Tensor,
    labels: np.ndarray,
    ax: Axes | None = None,
    title: str = "Embeddings of test digits",
) -> Figure:
    """Scatter of embeddings `(N, D)` coloured by digit, each digit written at its
    cluster's centre.

    `D > 2` is shown through its first two principal components (see `project_2d`).
    """
    ax = _axes(ax, size=(5.0, 4.6))
    points, labels = project_2d(embeddings), np.asarray(labels)
    dims = np.asarray(embeddings).shape[1]
    for digit in np.unique(labels):
        mine = points[labels == digit]
        colour = f"C{digit % 10}"
        ax.scatter(mine[:, 0], mine[:, 1], s=9, color=colour, alpha=0.6)
        cx, cy = np.median(mine, axis=0)
        ax.text(
            cx,
            cy,
            str(digit),
            fontsize=13,
            fontweight="bold",
            ha="center",
            va="center",
            color=colour,
            bbox={"boxstyle": "circle,pad=0.15", "facecolor": "white", "alpha": 0.8},
        )
    names = (
        ("embedding 1", "embedding 2")
        if dims == 2
        else ("principal component 1", "principal component 2")
    )
    ax.set(xlabel=names[0], ylabel=names[1], title=title)
    ax.set_aspect("equal", adjustable="datalim")
    return ax.figure


def plot_distance_histograms(
    distances: np.ndarray,
    same: np.ndarray,
    *,
    threshold: float | None = None,
    margin: float | None = None,
    metric: str = "euclidean",
    bins: int | np.ndarray = 40,
    ax: Axes | None = None,
) -> Figure:
    """Histograms of pair distances `(P,)`: same-digit pairs (`same = 1`, red) and
    different (blue).

    Optional vertical lines mark the verification `threshold` and the training `margin`.
    """
    ax = _axes(ax)
    distances, same = np.asarray(distances, dtype=float), np.asarray(same).astype(bool)
    if np.ndim(bins) == 0:
        bins = np.linspace(
            0.0, max(distances.max(), margin or 0.0) * 1.02 + 1e-9, int(bins) + 1
        )
    ax.hist(
        distances[same],
        bins=bins,
        color=SIMILAR_STYLE["color"],
        alpha=0.55,
        label="same digit",
    )
    ax.hist(
        distances[~same],
        bins=bins,
        color=DISSIMILAR_STYLE["color"],
        alpha=0.55,
        label="different digits",
    )
    if margin is not None:
        ax.axvline(
            margin,
            color="grey",
            linestyle=":",
            linewidth=2,
            label=f"margin $m={margin:g}$",
        )
    if threshold is not None:
        ax.axvline(
            threshold, color="black", linestyle="--", label=f"threshold {threshold:.3f}"
        )
    ax.set(
        xlabel=f"{metric} distance between the embeddings",
        ylabel="number of test pairs",
        title="Distances of unseen test pairs",
    )
    ax.legend(fontsize="small")
    return ax.figure


def plot_margin_panel(
    margin: float,
    distances: np.ndarray,
    same: np.ndarray,
    *,
    metric: str = "cosine",
    d_max: float = 2.0,
    figure: Figure | None = None,
) -> Figure:
    """Side by side: the loss curves for `margin` and the test distances of a model
    trained with it.

    Redraws into `figure` (two axes) when given, so that a widget can reuse one figure.
    """
    if figure is None:
        figure = new_figure((10.0, 3.8))
        figure.subplots(1, 2)
    left, right = figure.axes
    left.clear()
    right.clear()
    plot_contrastive_loss(
        margin, d_max=d_max, y_max=max(2.0 * margin**2, 0.05), ax=left
    )
    plot_distance_histograms(
        distances,
        same,
        margin=margin,
        metric=metric,
        bins=np.linspace(0.0, d_max, 41),
        ax=right,
    )
    right.set_xlim(0, d_max)
    return figure
