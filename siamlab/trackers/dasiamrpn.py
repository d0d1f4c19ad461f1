"""DaSiamRPN at inference (Zhu et al. 2018): distractor-aware re-ranking and
local-to-global search on top of the SiamRPN step.

Look-alikes of the target (*distractors*: strong proposals other than the chosen one,
after non-maximum suppression) are cropped like the exemplar and become kernels of
their own; proposals are re-ranked by `f(z, p) − α̂ · Σᵢ αᵢ f(dᵢ, p) / Σᵢ αᵢ`, how much
they look like the target minus how much they look like its distractors, remembered
over frames by a running weighted average. Because the up-channel correlation is linear
in the kernel, that whole difference is one correlation with one combined kernel
(`combined_kernel`). When the best score falls below a threshold the target counts as
lost and the search region grows (`expansion`), almost without a cosine window, until a
confident detection brings the tracker back to local search.

Here `f` is the objectness logit (target minus background channel), `αᵢ` a
distractor's objectness (a clear look-alike counts more than a marginal one); as in the
paper, only the top-k proposals are re-ranked (`distractor_aware_scores`), and the
score the SiamRPN step ranks by is `sigmoid` of the re-ranked logit, so that the
penalty, the window and the box update stay SiamRPN's. The tracker stacks the target's
kernels and the remembered average distractor kernel in the same correlation: one call
gives `f(z, p)` (the plain scores, which the thresholds read) and the distractors' term,
and their difference for any α̂ is the combined kernel's map.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields, replace

import numpy as np
import torch
from numpy.typing import ArrayLike

from siamlab.anchors import decode, per_anchor
from siamlab.boxes import cxcywh_to_xywh, nms
from siamlab.crops import context_size, crop_square, exemplar_crop, to_tensor
from siamlab.models.siamrpn import SiamRPNNet
from siamlab.shipped import shipped_weights
from siamlab.trackers.base import TrackResult, check_frame
from siamlab.trackers.siamrpn import SiamRPNParams, SiamRPNStep, SiamRPNTracker, locate

#: The DaSiamRPN-tiny checkpoint shipped with the book (package data).
DEFAULT_DASIAMRPN_WEIGHTS = shipped_weights("dasiamrpn_tiny.pt")

#: SiamRPN++'s long-term tracker searches a 831-pixel crop while lost, for a 255-pixel
#: search crop when tracking (pysot, `pysot/core/config.py`, `LOST_INSTANCE_SIZE`).
LOST_SIZE_RATIO = 831 / 255

EXPANSIONS = ("step", "jump")


@dataclass(frozen=True)
class DaSiamRPNParams:
    """Inference hyper-parameters of DaSiamRPN; every part can be switched off alone.

    SiamRPN's step:

    - `base`: the SiamRPN re-ranking (`SiamRPNParams`: penalty, window, lr, search
      size). Default: `SiamRPNParams()`, or the settings of the DaSiamRPN release the
      network came from.

    Distractor-aware re-ranking (the paper's section 3.3):

    - `distractor_weight`: α̂, how much the distractors' similarity is subtracted; 0
      turns the re-ranking off (default 0.5, our choice);
    - `candidates`: k, how many proposals are re-ranked: the top k by objectness
      (the paper's set P of "top-k" proposals; the others drop out, score 0). Among
      strong proposals the logit difference ranks look-alikes down; over the whole
      map it would also rank up plain background, whose logits against the
      distractors are far below zero (default 50, our choice: about the anchors of
      the target and one or two look-alikes on a 5 × 17 × 17 map);
    - `distractor_threshold`: a proposal other than the target whose objectness
      exceeds it is a distractor (default 0.9, our choice, for the objectness of a
      network whose target scores lie mostly above 0.95);
    - `max_distractors`: at most this many a frame, the strongest (default 5);
    - `nms_iou`: IoU of the non-maximum suppression that separates the target from
      the other objects (default 0.3, below the 0.6 of a positive anchor: a proposal
      overlapping the target that much is the target, not another object);
    - `distractor_lr`: η of the running average over frames, frame `t`'s distractors
      weighted `(1 − η)^(T − t)` at frame `T`; 1 keeps only the last frame's
      (default 0.5, our choice);
    - `template_lr`: rate of the same running average for the target's kernels, from
      crops at the tracked box; 0 keeps the first frame's exemplar, as the paper does
      (default 0).

    Local-to-global search (the paper's section 4, for long-term tracking):

    - `long_term`: turns it on (default False: the paper's short-term tracker);
    - `expansion`: `"step"`, DaSiamRPN's search region that grows by `step_size`
      pixels each frame while the target is lost, up to `max_search_size`; or
      `"jump"`, SiamRPN++'s long-term tracker's, at once to `lost_search_size`;
    - `lost_threshold`, `found_threshold`: the target is lost when the chosen
      proposal's objectness falls below the first; local search resumes when it
      exceeds the second; meanwhile a proposal moves the box only when its
      objectness reaches `lost_threshold` (so a weak proposal cannot drag the box
      away, and the last size is kept while the target is missing), the rule of
      SiamRPN++'s `SiamRPNLTTracker`. Defaults 0.8 and 0.998: `CONFIDENCE_LOW` and
      `CONFIDENCE_HIGH` of SiamRPN++'s published long-term model
      (pysot, `experiments/siamrpn_r50_l234_dwxcorr_lt/config.yaml`; its general
      configuration has 0.85 and 0.998);
    - `lost_search_size`: the search crop while lost with `"jump"`; None: the local
      search size times 831 / 255 (pysot's `LOST_INSTANCE_SIZE` for its 255-pixel
      search crops; 831 for the tiny preset's 255, 887 for a release's 271);
    - `step_size`: growth a frame for `"step"` (default 64 pixels, 8 score-map
      positions, our choice: the paper says "a constant step" without its size);
    - `max_search_size`: the largest `"step"` crop; None: as `lost_search_size`;
    - `lost_window_influence`: the cosine window's weight while lost (default 0.001,
      pysot's `SiamRPNLTTracker`: almost none, the target may be anywhere).

    Search sizes are snapped by the tracker to the nearest size that keeps the score
    map aligned with the crop (`exemplar_size + stride · (S − 1)`), and never below the
    local search size.
    """

    base: SiamRPNParams = SiamRPNParams()
    distractor_weight: float = 0.5
    candidates: int = 50
    distractor_threshold: float = 0.9
    max_distractors: int = 5
    nms_iou: float = 0.3
    distractor_lr: float = 0.5
    template_lr: float = 0.0
    long_term: bool = False
    expansion: str = "step"
    lost_threshold: float = 0.8
    found_threshold: float = 0.998
    step_size: int = 64
    max_search_size: int | None = None
    lost_search_size: int | None = None
    lost_window_influence: float = 0.001

    def __post_init__(self) -> None:
        if not isinstance(self.base, SiamRPNParams):
            raise ValueError(f"base must be SiamRPNParams, got {self.base!r}")
        value = self.distractor_weight
        if not _finite(value) or value < 0:
            raise ValueError(
                f"distractor_weight must be a finite number >= 0, got {value!r}"
            )
        for name in (
            "distractor_threshold", "nms_iou", "distractor_lr", "template_lr",
            "lost_threshold", "found_threshold", "lost_window_influence",
        ):  # fmt: skip
            value = getattr(self, name)
            if not _finite(value) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")
        for name in ("candidates", "max_distractors", "step_size"):
            value = getattr(self, name)
            low = 0 if name == "max_distractors" else 1
            if not _integer(value) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        for name in ("max_search_size", "lost_search_size"):
            value = getattr(self, name)
            if value is not None and (not _integer(value) or value < 1):
                raise ValueError(
                    f"{name} must be a positive integer or None, got {value!r}"
                )
        if not isinstance(self.long_term, bool):
            raise ValueError(f"long_term must be True or False, got {self.long_term!r}")
        if self.expansion not in EXPANSIONS:
            raise ValueError(
                f"expansion must be one of {EXPANSIONS}, got {self.expansion!r}"
            )
        if self.found_threshold < self.lost_threshold:
            raise ValueError(
                f"found_threshold ({self.found_threshold}) must be >= lost_threshold "
                f"({self.lost_threshold})"
            )

    @classmethod
    def siamrpn(cls, base: SiamRPNParams | None = None) -> "DaSiamRPNParams":
        """Plain SiamRPN: no distractors, local search only (the ablation's first
        row)."""
        return cls(base=base or SiamRPNParams(), distractor_weight=0.0)


def _finite(value: object) -> bool:
    return (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _integer(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


# --- The re-ranking as arithmetic on kernels -----------------------------------------


def objectness_logits(cls: torch.Tensor) -> torch.Tensor:
    """The head's `cls (N, 2k, S, S)` → objectness logits `(N, k·S·S)`, anchor-major:
    target minus background channel, so that `sigmoid(logit)` is the softmax
    objectness."""
    pairs = per_anchor(cls, 2)
    return pairs[..., 1] - pairs[..., 0]


def combined_kernel(
    target: torch.Tensor,
    distractors: torch.Tensor | None,
    alphas: ArrayLike | None,
    weight: float,
) -> torch.Tensor:
    """`K_z − α̂ · Σᵢ αᵢ K_dᵢ / Σᵢ αᵢ`: the one kernel whose correlation is the
    distractor-aware score.

    `target (1, 2k, C, h, w)` classification kernels, `distractors (n, 2k, C, h, w)`
    with weights `alphas (n,)`, `weight` α̂. The head correlates without adding a bias
    afterwards (the lift's bias lies inside each kernel), so a correlation is linear
    in its kernel and `corr(K) = f(z, ·) − α̂ Σᵢ αᵢ f(dᵢ, ·) / Σᵢ αᵢ` exactly, for both
    channels and so for their difference, the logit. (Were a bias `b` added after the
    correlation, the weighted average, whose weights sum to 1, would carry it once,
    and the result would differ from the paper's by the constant `α̂ · b`.) No
    distractors, or α̂ = 0: `target` itself.
    """
    if distractors is None or len(distractors) == 0 or weight == 0:
        return target
    a = torch.as_tensor(np.asarray(alphas, dtype=np.float64)).to(distractors)
    average = (a[:, None, None, None, None] * distractors).sum(0, keepdim=True)
    return target - weight * average / a.sum()


def distractor_aware_scores(
    target_logits: np.ndarray,
    distractor_logits: np.ndarray,
    weight: float,
    candidates: int,
) -> np.ndarray:
    """The scores `(A,)` the distractor-aware step ranks by.

    `sigmoid(f(z, p) − α̂ · f_D(p))` for the `candidates` proposals of highest
    objectness `f(z, p)` (`target_logits (A,)`; `f_D`: `distractor_logits (A,)`, the
    remembered distractors' weighted average), 0 for the others; α̂ = `weight` = 0:
    the plain objectness `sigmoid(f(z, p))` everywhere.
    """
    target = np.asarray(target_logits, dtype=np.float64)
    if weight == 0:
        return 1.0 / (1.0 + np.exp(-target))
    top = np.argsort(-target, kind="stable")[:candidates]
    scores = np.zeros_like(target)
    logits = target[top] - weight * np.asarray(distractor_logits)[top]
    scores[top] = 1.0 / (1.0 + np.exp(-logits))
    return scores


class DistractorMemory:
    """The distractor term of the paper's incremental learning, as running sums.

    After frames `1 … T` it holds `N = Σₜ βₜ Σᵢ αᵢ,ₜ K_dᵢ,ₜ` and `W = Σₜ βₜ Σᵢ αᵢ,ₜ`
    with `βₜ = (1 − η)^(T − t)`; `kernel()` is their ratio `N / W`, the weighted
    average of every distractor kernel seen, recent frames weighing more. Each frame
    costs one `add` (a frame without distractors still ages the others); `η = 1`
    keeps only the last frame, `η = 0` weighs all frames alike.
    """

    def __init__(self, lr: float) -> None:
        self.lr = float(lr)
        self.numerator: torch.Tensor | None = None
        self.weight = 0.0

    def add(self, kernels: torch.Tensor | None, alphas: ArrayLike | None) -> None:
        """One frame: age the sums by `1 − η`, then add `Σᵢ αᵢ K_dᵢ` and `Σᵢ αᵢ` of
        this frame's `kernels (n, 2k, C, h, w)` (None or n = 0: none)."""
        keep = 1.0 - self.lr
        if self.numerator is not None:
            self.numerator = keep * self.numerator
        self.weight *= keep
        if kernels is None or len(kernels) == 0:
            return
        a = torch.as_tensor(np.asarray(alphas, dtype=np.float64)).to(kernels)
        frame = (a[:, None, None, None, None] * kernels).sum(0, keepdim=True)
        self.numerator = frame if self.numerator is None else self.numerator + frame
        self.weight += float(a.sum())

    def kernel(self) -> torch.Tensor | None:
        """The remembered average distractor kernel `(1, 2k, C, h, w)`, or None."""
        if self.numerator is None or self.weight <= 0:
            return None
        return self.numerator / self.weight


# --- The step ------------------------------------------------------------------------


@dataclass
class DaSiamRPNStep(SiamRPNStep):
    """A SiamRPN step (`scores` are the distractor-aware scores the step ranked by)
    with what DaSiamRPN adds, for figures and widgets.

    `plain_scores (A,)` the objectness against the target alone; `target_logits (A,)`
    and `distractor_logits (A,)` `f(z, p)` and the remembered distractors' average
    `Σ αᵢ f(dᵢ, p) / Σ αᵢ` (zeros while none is remembered), so that the scores for any
    α̂ are `sigmoid(target_logits − α̂ · distractor_logits)`; `distractors (n, 4)` the
    distractors found in this frame, xywh frame pixels, with their objectness
    `distractor_scores (n,)` and anchor indices `distractor_anchors (n,)`; `lost`
    whether the step searched in the lost state, `search_size` its crop's side, and
    `moved` whether the box followed the proposal (a long-term tracker keeps it while
    the score is below `lost_threshold`).
    """

    plain_scores: np.ndarray
    target_logits: np.ndarray
    distractor_logits: np.ndarray
    distractors: np.ndarray
    distractor_scores: np.ndarray
    distractor_anchors: np.ndarray
    lost: bool
    search_size: int
    moved: bool


@dataclass
class Searched:
    """The network's part of a step: the crop, the frame-to-crop `scale`, the decoded
    `proposals (A, 4)` and the logits against the target and against the remembered
    distractors (`target_logits`, `distractor_logits (A,)`); `plain_scores` is the
    softmax objectness computed as SiamRPN computes it."""

    crop: np.ndarray
    plain_scores: np.ndarray
    target_logits: np.ndarray
    distractor_logits: np.ndarray
    proposals: np.ndarray
    scale: float


class DaSiamRPNTracker(SiamRPNTracker):
    """DaSiamRPN: SiamRPN with distractor-aware re-ranking and, optionally,
    local-to-global search.

    `model` defaults to the shipped `dasiamrpn_tiny.pt`, or `weights`: a siamlab
    checkpoint or a DaSiamRPN release file (whose settings become `params.base`).
    `update(frame)` runs `step`, then `advance`s the state: the box, the lost state and
    search size, the distractor memory (and the template, if `template_lr > 0`).
    """

    name = "DaSiamRPN"

    def __init__(
        self,
        model: SiamRPNNet | None = None,
        params: DaSiamRPNParams | None = None,
        *,
        weights: str | os.PathLike | None = None,
        device: torch.device | str | None = None,
        name: str | None = None,
    ) -> None:
        if params is not None and not isinstance(params, DaSiamRPNParams):
            raise ValueError(
                f"params must be DaSiamRPNParams, got {type(params).__name__}"
            )
        if model is None and weights is None:
            weights = DEFAULT_DASIAMRPN_WEIGHTS
            if not weights.is_file():
                raise FileNotFoundError(
                    f"the default DaSiamRPN weights {str(weights)!r} are missing: "
                    "pass weights= (a SiamRPN checkpoint works) or model="
                )
        base = params.base if params is not None else None
        super().__init__(model, base, weights=weights, device=device, name=name)
        self.params: DaSiamRPNParams = params or DaSiamRPNParams(base=self.params)
        self._anchors: dict[int, np.ndarray] = {}
        self._score_sizes: dict[int, int] = {}

    # --- sizes of the search region ----------------------------------------------

    def valid_search_size(self, size: float) -> int:
        """The size nearest `size` (at least the exemplar's) whose score map is
        aligned with the crop: `exemplar_size + stride · (S − 1)`."""
        config = self.config
        positions = max(round((size - config.exemplar_size) / config.total_stride), 0)
        return config.exemplar_size + config.total_stride * positions

    def anchors_for(self, search_size: int) -> np.ndarray:
        """The anchors of a `search_size` crop, computed once per size."""
        if search_size not in self._anchors:
            self._anchors[search_size] = self.config.anchors(search_size)
        return self._anchors[search_size]

    def score_size_for(self, search_size: int) -> int:
        """The score-map side of a `search_size` crop, computed once per size (the
        config sizes it by building a backbone, too slow to repeat every frame)."""
        if search_size not in self._score_sizes:
            self._score_sizes[search_size] = self.config.score_size_for(search_size)
        return self._score_sizes[search_size]

    def _search_size(self, box: np.ndarray, shape: tuple[int, ...]) -> int:
        params = self.params.base
        small = box[2] * box[3] / (shape[0] * shape[1]) < params.small_area
        if params.adaptive and small:
            return params.small_search_size
        return params.search_size or self.config.search_size

    def lost_search_size(self, frames_lost: int) -> int:
        """The search size after `frames_lost` frames in the lost state (0: local)."""
        p, local = self.params, self.local_search_size
        if frames_lost == 0 or not p.long_term:
            return local
        lost = p.lost_search_size or local * LOST_SIZE_RATIO
        if p.expansion == "jump":
            size = lost
        else:
            size = min(local + p.step_size * frames_lost, p.max_search_size or lost)
        return max(self.valid_search_size(size), local)

    # --- state ---------------------------------------------------------------------

    @torch.no_grad()
    def init(self, frame: ArrayLike, box: ArrayLike) -> None:
        """Crop the exemplar around xywh `box`, compute its kernels; empty memory."""
        super().init(frame, box)
        self.local_search_size = self.search_size
        self.anchors = self.anchors_for(self.search_size)
        self.memory = DistractorMemory(self.params.distractor_lr)
        self.lost, self.frames_lost = False, 0

    @torch.no_grad()
    def search(  # type: ignore[override]
        self, frame: np.ndarray, center: np.ndarray, target_size: np.ndarray
    ) -> Searched:
        """Crop, features and one correlation: the target's kernels and, when
        distractors are remembered, the average distractor kernel side by side."""
        if self.kernels is None:
            raise ValueError("call init(frame, box) before searching")
        side_z = context_size(target_size[0], target_size[1], self.config.context)
        scale = self.config.exemplar_size / side_z
        crop = crop_square(
            frame, tuple(center), self.search_size / scale, self.search_size
        )
        features = self.model.features(to_tensor(crop, self.device))
        remembered = self.memory.kernel()
        if remembered is None:
            cls, loc = self.model.head.correlate(self.kernels, features)
            pairs = per_anchor(cls, 2)[0].float().cpu()
            plain = torch.softmax(pairs, dim=-1)[:, 1].numpy().astype(np.float64)
            target = (pairs[:, 1] - pairs[:, 0]).numpy().astype(np.float64)
            distractor = np.zeros_like(target)
        else:
            stacked = torch.cat([self.kernels[0], remembered], dim=1)
            cls, loc = self.model.head.correlate((stacked, self.kernels[1]), features)
            logits = objectness_logits(cls.reshape(2, -1, *cls.shape[2:]))
            target, distractor = logits.double().cpu().numpy()
            plain = 1.0 / (1.0 + np.exp(-target))
        deltas = per_anchor(loc, 4)[0].float().cpu().numpy().astype(np.float64)
        proposals = decode(deltas, self.anchors_for(self.search_size))
        return Searched(crop, plain, target, distractor, proposals, scale)

    def step(  # type: ignore[override]
        self,
        frame: ArrayLike,
        params: DaSiamRPNParams | None = None,
        searched: Searched | None = None,
    ) -> DaSiamRPNStep:
        """One step from the current state, without changing it. `params` overrides
        the settings (widgets re-rank with another α̂); `searched` reuses `search`."""
        if self.kernels is None:
            raise ValueError("call init(frame, box) before searching")
        image = check_frame(frame, self.frame_shape)
        p = params or self.params
        if searched is None:
            searched = self.search(image, self.center, self.target_size)
        if p.distractor_weight == 0 or not np.any(searched.distractor_logits):
            scores = searched.plain_scores
        else:
            scores = distractor_aware_scores(
                searched.target_logits, searched.distractor_logits,
                p.distractor_weight, p.candidates,
            )  # fmt: skip
        base = p.base
        if self.lost:
            base = replace(base, window_influence=p.lost_window_influence)
        k = self.config.num_anchors
        size = self.score_size_for(self.search_size)
        result = locate(
            searched.crop, scores, searched.proposals, searched.scale, base,
            self.center, self.target_size, image.shape, k, size, self.config.context,
        )  # fmt: skip
        confident = searched.plain_scores[result.best] >= p.lost_threshold
        moved = not p.long_term or bool(confident)
        if not moved:
            result.center = np.asarray(self.center, dtype=np.float64).copy()
            result.target_size = np.asarray(self.target_size, dtype=np.float64).copy()
            result.box = np.concatenate(
                [result.center - result.target_size / 2, result.target_size]
            )
        chosen, found = self._distractors(searched, result, p)
        return DaSiamRPNStep(
            **vars(result),
            plain_scores=searched.plain_scores,
            target_logits=searched.target_logits,
            distractor_logits=searched.distractor_logits,
            distractors=found,
            distractor_scores=searched.plain_scores[chosen],
            distractor_anchors=chosen,
            lost=self.lost,
            search_size=self.search_size,
            moved=moved,
        )

    def _distractors(
        self, searched: Searched, result: SiamRPNStep, p: DaSiamRPNParams
    ) -> tuple[np.ndarray, np.ndarray]:
        """Anchor indices `(n,)` and xywh frame boxes `(n, 4)` of the distractors.

        Non-maximum suppression by the re-ranked score `pscore` over the chosen
        proposal and those whose objectness exceeds `distractor_threshold` (the others
        could never be distractors; leaving them out keeps the suppression short on a
        large lost-state map); the survivors other than the chosen one, strongest
        objectness first, at most `max_distractors`.
        """
        plain, best = searched.plain_scores, result.best
        strong = np.flatnonzero(plain > p.distractor_threshold)
        candidates = np.union1d(strong, [best])
        if p.max_distractors == 0 or len(candidates) < 2:
            return np.zeros(0, np.int64), np.zeros((0, 4))
        boxes = cxcywh_to_xywh(searched.proposals[candidates])
        kept = candidates[nms(boxes, result.pscore[candidates], p.nms_iou)]
        others = kept[kept != best]
        others = others[np.argsort(-plain[others], kind="stable")][: p.max_distractors]
        centres = self.center + searched.proposals[others, :2] / searched.scale
        sizes = searched.proposals[others, 2:] / searched.scale
        return others, np.concatenate([centres - sizes / 2, sizes], axis=1)

    @torch.no_grad()
    def distractor_kernels(
        self, frame: np.ndarray, boxes: np.ndarray
    ) -> torch.Tensor | None:
        """Classification kernels `(n, 2k, C, h, w)` of exemplar crops (the template's
        context rule) around xywh `boxes (n, 4)` of `frame`; boxes outside the frame
        are skipped. None when there is none."""
        height, width = frame.shape[:2]
        x, y, w, h = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).T
        inside = (x < width) & (y < height) & (x + w > 0) & (y + h > 0)
        crops = [
            exemplar_crop(frame, b, self.config.exemplar_size, self.config.context)[0]
            for b in np.asarray(boxes).reshape(-1, 4)[inside]
        ]
        if not crops:
            return None
        features = self.model.features(to_tensor(np.stack(crops), self.device))
        return self.model.head.kernels(features)[0]

    # --- moving on -----------------------------------------------------------------

    @torch.no_grad()
    def advance(
        self, frame: ArrayLike, result: DaSiamRPNStep, remember: bool | None = None
    ) -> None:
        """Move the state to `result` (a step on `frame` from the current state):
        the box; the lost state and the next search size (long-term); the distractor
        memory, when `remember` (default: when `distractor_weight > 0`); the template,
        when `template_lr > 0` and the box moved."""
        p = self.params
        image = check_frame(frame, self.frame_shape)
        self.center, self.target_size = result.center, result.target_size
        if p.long_term:
            score = result.plain_scores[result.best]
            if score < p.lost_threshold:
                self.lost = True
            elif score > p.found_threshold:
                self.lost = False
            self.frames_lost = self.frames_lost + 1 if self.lost else 0
        self.search_size = self.lost_search_size(self.frames_lost)
        if remember if remember is not None else p.distractor_weight > 0:
            x, y, w, h = result.distractors.reshape(-1, 4).T
            height, width = image.shape[:2]
            inside = (x < width) & (y < height) & (x + w > 0) & (y + h > 0)
            kernels = self.distractor_kernels(image, result.distractors)
            self.memory.add(kernels, result.distractor_scores[inside])
        if p.template_lr > 0 and result.moved:
            crop, _ = exemplar_crop(
                image, result.box, self.config.exemplar_size, self.config.context
            )
            new = self.model.head.kernels(
                self.model.features(to_tensor(crop, self.device))
            )
            rate = p.template_lr
            self.kernels = tuple(
                (1 - rate) * old + rate * fresh for old, fresh in zip(self.kernels, new)
            )  # type: ignore[assignment]

    def update(self, frame: ArrayLike) -> TrackResult:
        """Track into `frame`: one step, then `advance` to it."""
        result = self.step(frame)
        self.advance(frame, result)
        response = result.maps(result.pscore).max(axis=0)
        return TrackResult(box=result.box, score=result.score, response=response)

    def with_params(self, **changes: object) -> "DaSiamRPNTracker":
        """A tracker sharing this one's network with some parameters changed: fields
        of `DaSiamRPNParams`, or of `SiamRPNParams` (they change `base`)."""
        own = {f.name for f in fields(DaSiamRPNParams)}
        inner = {f.name for f in fields(SiamRPNParams)}
        unknown = sorted(set(changes) - own - inner)
        if unknown:
            names = ", ".join(unknown)
            raise ValueError(
                f"unknown DaSiamRPNParams or SiamRPNParams field(s): {names}"
            )
        base_changes = {k: v for k, v in changes.items() if k in inner}
        mine = {k: v for k, v in changes.items() if k in own}
        base = replace(mine.pop("base", self.params.base), **base_changes)
        params = replace(self.params, base=base, **mine)
        return DaSiamRPNTracker(self.model, params, name=self.name)
