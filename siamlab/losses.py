"""Losses of the Siamese family, as plain functions on tensors.

- `contrastive_loss` (Hadsell et al. 2006): pulls similar pairs together, pushes
  dissimilar pairs beyond a margin (chapter 1);
- `balanced_logistic_loss` (SiamFC, Bertinetto et al. 2016): logistic loss over the
  score map with positives and negatives given equal total weight (chapter 2);
- `rpn_classification_loss`, `smooth_l1_loss` (Faster R-CNN, Ren et al. 2015; SiamRPN,
  Li et al. 2018): objectness and box regression over anchors (chapter 3).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# --- Chapter 1: distances between embeddings, contrastive loss (Hadsell et al. 2006)

DISTANCES = ("euclidean", "cosine")


def _safe_norm(x: torch.Tensor) -> torch.Tensor:
    """Euclidean norm over the last dimension whose gradient at the zero vector is 0,
    not NaN.

    The derivative of √s is 1/(2√s), infinite at s = 0, and autograd multiplies it by
    ∂s/∂x = 0: 0·∞ = NaN. Taking the root only where s > 0 (and of a harmless 1
    elsewhere) keeps both the value (exactly 0) and the gradient (0) finite.
    """
    squared = x.pow(2).sum(dim=-1)
    positive = squared > 0
    root = torch.sqrt(torch.where(positive, squared, torch.ones_like(squared)))
    return torch.where(positive, root, torch.zeros_like(root))


def pairwise_distance(
    a: torch.Tensor, b: torch.Tensor, metric: str = "euclidean"
) -> torch.Tensor:
    """Distance between matching rows of `a` and `b` (shape `(N, D)` each), shape
    `(N,)`.

    - `"euclidean"`: `‖a − b‖₂`, in `[0, ∞)`; exactly 0 with a zero (finite) gradient
      where `a = b`.
    - `"cosine"`: `1 − cos(a, b)`, in `[0, 2]`; it ignores the vectors' lengths. A zero
      vector is given cosine 0 with everything (distance 1) rather than NaN.
    """
    _check_distance_args(a, b, metric)
    if metric == "euclidean":
        return _safe_norm(a - b)
    a_unit = F.normalize(a, dim=1, eps=1e-12)
    b_unit = F.normalize(b, dim=1, eps=1e-12)
    return 1.0 - (a_unit * b_unit).sum(dim=1)


def _check_distance_args(a: torch.Tensor, b: torch.Tensor, metric: str) -> None:
    if metric not in DISTANCES:
        raise ValueError(f"metric must be one of {DISTANCES}, got {metric!r}")
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(
            f"a and b must both have shape (N, D), "
            f"got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def _check_contrastive_args(
    d: torch.Tensor, y: torch.Tensor, margin: float, reduction: str
) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(
            f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
        )
    if d.shape != y.shape or d.ndim != 1:
        raise ValueError(
            f"d and y must both have shape (N,), "
            f"got {tuple(d.shape)} and {tuple(y.shape)}"
        )
    if not bool(((y == 0) | (y == 1)).all()):
        raise ValueError("y must contain only 0 (dissimilar) and 1 (similar)")
    if not margin >= 0:
        raise ValueError(f"margin must be >= 0, got {margin!r}")
    if bool((d < 0).any()):
        raise ValueError("d must be non-negative distances")


def contrastive_loss(
    d: torch.Tensor, y: torch.Tensor, margin: float = 1.0, reduction: str = "mean"
) -> torch.Tensor:
    """Contrastive loss of pairs at distances `d` (shape `(N,)`) with labels `y` (1
    similar, 0 not).

    `L = y·d² + (1 − y)·max(margin − d, 0)²`, averaged over the pairs
    (`reduction="mean"`; also `"sum"` and `"none"`). Similar pairs are pulled together;
    dissimilar pairs are pushed apart only until they are `margin` away, beyond which
    they cost nothing. Hadsell et al. (2006) write a ½ before each term and use the
    opposite label (Y = 0 for similar pairs); the ½ only halves the gradient, so it is
    left out here.
    """
    _check_contrastive_args(d, y, margin, reduction)
    y = y.to(d.dtype)
    losses = y * d.pow(2) + (1 - y) * torch.clamp(margin - d, min=0).pow(2)
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()


# --- Chapter 2: label map and balanced logistic loss of SiamFC (Bertinetto et al. 2016)


def siamfc_labels(
    score_size: int, radius: float, stride: int = 8, offsets: torch.Tensor | None = None
) -> torch.Tensor:
    """SiamFC's label map: 1 where a score-map cell is within `radius` search-crop
    pixels of the target, 0 elsewhere.

    Cell `(i, j)` lies `((j − c)·stride, (i − c)·stride)` pixels from the crop centre,
    `c = (S − 1)/2`, so the positives are the cells with `stride·‖u − c‖ ≤ radius` (the
    paper's R = 16 at stride 8 gives a disc of radius 2 cells). Without `offsets` the
    target is at the centre and the result is `(S, S)`; with `offsets (N, 2)` of `(dx,
    dy)` pixels from the centre it is `(N, 1, S, S)`.
    """
    if not isinstance(score_size, int) or score_size < 1:
        raise ValueError(f"score_size must be a positive integer, got {score_size!r}")
    if not radius >= 0 or not stride > 0:
        raise ValueError(
            f"radius must be >= 0 and stride > 0, got radius={radius}, stride={stride}"
        )
    cells = (
        torch.arange(score_size, dtype=torch.float32) - (score_size - 1) / 2
    ) * stride
    if offsets is None:
        return (torch.hypot(cells[None, :], cells[:, None]) <= radius).float()
    offsets = torch.as_tensor(offsets, dtype=torch.float32)
    if offsets.ndim != 2 or offsets.shape[1] != 2:
        raise ValueError(
            f"offsets must have shape (N, 2) (dx, dy), got {tuple(offsets.shape)}"
        )
    dx = cells[None, None, :] - offsets[:, 0, None, None]
    dy = cells[None, :, None] - offsets[:, 1, None, None]
    return (torch.hypot(dx, dy) <= radius).float()[:, None]


def _checked_score_labels(response: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """`labels` as a tensor like `response`, after checking shapes and values."""
    if response.ndim != 4 or response.shape[1] != 1:
        raise ValueError(
            f"response must have shape (N, 1, S, S), got {tuple(response.shape)}"
        )
    labels = torch.as_tensor(labels, dtype=response.dtype, device=response.device)
    if (
        labels.shape != response.shape[-labels.ndim :]
        and labels.shape != response.shape
    ):
        raise ValueError(
            f"labels must have shape (S, S) or {tuple(response.shape)}, "
            f"got {tuple(labels.shape)}"
        )
    if bool(((labels != 0) & (labels != 1)).any()):
        raise ValueError("labels must contain only 1 (positive) and 0 (negative)")
    return labels


def balanced_logistic_loss(
    response: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """SiamFC's loss: the logistic loss `log(1 + exp(−y·v))` over the score map,
    balanced.

    `response (N, 1, S, S)` are the logits `v`; `labels` (`(S, S)` or `(N, 1, S, S)`)
    hold 1 for positives and 0 for negatives (`y = +1 / −1`). In each map the positives
    share weight ½ and the negatives share weight ½, so the few positive cells count as
    much as the many negative ones; the result is the mean over the N maps. A map
    without positives (or negatives) adds 0 for them.
    """
    labels = _checked_score_labels(response, labels)
    labels = labels.expand_as(response)
    sign = 2 * labels - 1
    losses = F.softplus(-sign * response)
    total = response.new_zeros(response.shape[0])
    for mask in (labels, 1 - labels):
        count = mask.sum(dim=(1, 2, 3)).clamp(min=1)
        total = total + 0.5 * (losses * mask).sum(dim=(1, 2, 3)) / count
    return total.mean()


# --- Chapter 3: objectness and box regression over anchors (Ren et al. 2015; Li et al.)


def _checked_anchor_labels(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """`labels` on the device of `logits`, after checking shapes and values."""
    if logits.shape[-1] != 2 or logits.shape[:-1] != labels.shape:
        raise ValueError(
            f"logits must be (..., 2) and labels (...), "
            f"got {tuple(logits.shape)} and {tuple(labels.shape)}"
        )
    labels = labels.to(logits.device)
    if bool(((labels != 1) & (labels != 0) & (labels != -1)).any()):
        raise ValueError(
            "labels must contain only 1 (target), 0 (background) and -1 (ignored)"
        )
    return labels


def rpn_classification_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Objectness loss of a region proposal network over its sampled anchors.

    `logits (..., 2)` are (background, target) scores per anchor, e.g. `(N, A, 2)` from
    `siamlab.anchors.per_anchor`; `labels (...)` hold 1 (target), 0 (background) or −1
    (ignored). The cross-entropy is averaged separately over all positive and all
    negative anchors of the batch and the two means are combined as `½·(positives +
    negatives)`, so both count equally however many of each were sampled. Ignored
    anchors do not count; an empty group adds 0 (a negative pair has no positives).
    """
    labels = _checked_anchor_labels(logits, labels)
    nll = -F.log_softmax(logits, dim=-1)
    total = logits.new_zeros(())
    for value in (0, 1):
        chosen = (labels == value).to(logits.dtype)
        total = total + 0.5 * (nll[..., value] * chosen).sum() / chosen.sum().clamp(
            min=1
        )
    return total


def smooth_l1(x: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """Element-wise smooth L1: `½x²/β` where `|x| < β`, else `|x| − ½β` (Ren et al.
    2015: β = 1).

    Quadratic near zero (gentle gradients for small errors), linear beyond β (an
    outlier's gradient is capped at 1). SiamRPN writes it with σ, `β = 1/σ²`; β = 0 is
    plain L1.
    """
    if not beta >= 0:
        raise ValueError(f"beta must be >= 0, got {beta!r}")
    absolute = x.abs()
    if beta == 0:
        return absolute
    return torch.where(absolute < beta, 0.5 * x.pow(2) / beta, absolute - 0.5 * beta)


def _check_regression_args(
    deltas: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor
) -> None:
    shapes = (tuple(deltas.shape), tuple(targets.shape), tuple(weights.shape))
    if (
        deltas.shape != targets.shape
        or deltas.shape[-1] != 4
        or shapes[0][:-1] != shapes[2]
    ):
        raise ValueError(
            "deltas and targets must be (..., A, 4) and weights (..., A), "
            "got {}, {} and {}".format(*shapes)
        )


def smooth_l1_loss(
    deltas: torch.Tensor,
    targets: torch.Tensor,
    weights: torch.Tensor,
    beta: float = 1.0,
) -> torch.Tensor:
    """Box-regression loss: smooth L1 between predicted and target deltas, weighted per
    anchor.

    `deltas` and `targets` are `(N, A, 4)` `(dx, dy, dw, dh)` (or `(A, 4)` for one
    pair), `weights` `(N, A)` (or `(A,)`): `1 / #positives` on positive anchors and 0
    elsewhere, as `siamlab.anchors.assign_targets` gives. The loss sums `weight ·
    Σ_coords smooth_l1` over anchors and averages over the N pairs, i.e. the mean over
    each pair's positive anchors.
    """
    _check_regression_args(deltas, targets, weights)
    per_anchor = smooth_l1(deltas - targets.to(deltas), beta).sum(dim=-1)
    pairs = deltas.shape[0] if deltas.ndim == 3 else 1
    return (per_anchor * weights.to(deltas)).sum() / pairs
