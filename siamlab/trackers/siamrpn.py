"""The SiamRPN tracker (Li et al. 2018): tracking as one-shot detection.

On the first frame the target's exemplar becomes, once, the kernels of a region proposal
network (`SiamRPNNet.template`). In each new frame one search crop around the previous
position gives every anchor an objectness score (softmax) and a box (the anchor moved
and stretched by its deltas). The proposals are re-ranked: a penalty
`exp(−(r_c·s_c − 1)·k)` for changing the box's size `s_c` and aspect ratio `r_c`
against the previous frame, and a cosine window for moving far. The best proposal
moves the box's centre; its size moves only part of the way, by a rate proportional to
its penalised score; the result is clipped to the frame.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields, replace

import numpy as np
import torch
from numpy.typing import ArrayLike

from siamlab.anchors import decode, per_anchor
from siamlab.boxes import clip_to_frame
from siamlab.crops import context_size, crop_square, exemplar_crop, to_tensor
from siamlab.device import get_device
from siamlab.models.siamrpn import SiamRPNConfig, SiamRPNNet, load_siamrpn
from siamlab.trackers.base import TrackResult, check_frame, check_init


@dataclass(frozen=True)
class SiamRPNParams:
    """Inference hyper-parameters of SiamRPN.

    - `penalty_k`: k of the size and ratio change penalty `exp(−(r_c·s_c − 1)·k)`;
    - `window_influence`: weight of the cosine window in the re-ranked score;
    - `lr`: the box size moves `lr · penalty · score` of the way to the proposal's;
    - `search_size`: side of the search crop in pixels (`None`: the network's);
    - `adaptive`: a target covering less than `small_area` of the frame is searched
      in a `small_search_size` crop (the DaSiamRPN BIG model's setting);
    - `min_size`: the box's smallest width and height in pixels.

    Defaults: the DaSiamRPN release's default configuration (its `TrackerConfig`:
    k = 0.055, window 0.42, lr 0.295), the values its BIG model uses. The SiamRPN paper
    gives the penalty's formula and the window but not these numbers.
    """

    penalty_k: float = 0.055
    window_influence: float = 0.42
    lr: float = 0.295
    search_size: int | None = None
    adaptive: bool = False
    small_search_size: int = 287
    small_area: float = 0.004
    min_size: float = 10.0

    def __post_init__(self) -> None:
        for name in ("penalty_k", "min_size", "small_area"):
            value = getattr(self, name)
            if not _finite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        for name in ("window_influence", "lr"):
            value = getattr(self, name)
            if not _finite(value) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")
        for name in ("search_size", "small_search_size"):
            value = getattr(self, name)
            if value is None and name == "search_size":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.adaptive, bool):
            raise ValueError(f"adaptive must be True or False, got {self.adaptive!r}")

    @classmethod
    def dasiamrpn_vot(cls) -> "SiamRPNParams":
        """`SiamRPNvot.model`'s settings in the DaSiamRPN release: k 0.04, window 0.44,
        lr 0.45, search 271."""
        return cls(penalty_k=0.04, window_influence=0.44, lr=0.45, search_size=271)

    @classmethod
    def dasiamrpn_otb(cls) -> "SiamRPNParams":
        """`SiamRPNotb.model`'s settings: k 0.22, window 0.40, lr 0.30, search 271."""
        return cls(penalty_k=0.22, window_influence=0.40, lr=0.30, search_size=271)

    @classmethod
    def dasiamrpn_big(cls) -> "SiamRPNParams":
        """`SiamRPNBIG.model`'s settings: k 0.055, window 0.42, lr 0.295, search 271,
        or 287 for a target smaller than 0.4 % of the frame."""
        return cls(search_size=271, adaptive=True)

    @classmethod
    def siamrpnpp_r50(cls) -> "SiamRPNParams":
        """The SiamRPN++ release's `siamrpn_r50_l234_dwxcorr` settings: k 0.05,
        window 0.42, lr 0.38, search 255."""
        return cls(penalty_k=0.05, window_influence=0.42, lr=0.38, search_size=255)

    @classmethod
    def siamrpnpp_alex(cls) -> "SiamRPNParams":
        """The SiamRPN++ release's `siamrpn_alex_dwxcorr` settings: k 0.16, window
        0.40, lr 0.30, search 287."""
        return cls(penalty_k=0.16, window_influence=0.40, lr=0.30, search_size=287)

    @classmethod
    def for_release(cls, release: str | None) -> "SiamRPNParams":
        """The settings of a release: DaSiamRPN's 'vot', 'otb', 'big', SiamRPN++'s
        'r50_l234_dwxcorr', 'alex_dwxcorr'; None: the defaults."""
        presets = {
            "vot": cls.dasiamrpn_vot,
            "otb": cls.dasiamrpn_otb,
            "big": cls.dasiamrpn_big,
            "r50_l234_dwxcorr": cls.siamrpnpp_r50,
            "alex_dwxcorr": cls.siamrpnpp_alex,
        }
        if release is None:
            return cls()
        if release not in presets:
            raise ValueError(
                f"release must be one of {sorted(presets)}, got {release!r}"
            )
        return presets[release]()


def _finite(value: object) -> bool:
    return (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def change(ratio: np.ndarray) -> np.ndarray:
    """`max(r, 1/r)`: how much a ratio differs from 1, whichever way."""
    return np.maximum(ratio, 1.0 / ratio)


def change_penalty(
    sizes: ArrayLike, target_size: ArrayLike, k: float, context: float = 0.5
) -> np.ndarray:
    """SiamRPN's re-ranking penalty `exp(−(r_c·s_c − 1)·k)` for proposals of
    `sizes (..., 2)` `(w, h)` against the previous `target_size (w, h)`.

    `s_c` compares the context squares' sides `sqrt((w + p)(h + p))`,
    `p = context·(w + h)`; `r_c` the aspect ratios `w / h`. A proposal of the same size
    and shape gets 1; any change lowers it, faster for larger `k`.
    """
    wh = np.asarray(sizes, dtype=np.float64)
    tw, th = (float(v) for v in np.asarray(target_size, dtype=np.float64).reshape(2))
    w, h = wh[..., 0], wh[..., 1]
    pad = context * (w + h)
    side = np.sqrt((w + pad) * (h + pad))
    s_c = change(side / context_size(tw, th, context))
    r_c = change((tw / th) / (w / h))
    return np.exp(-(r_c * s_c - 1.0) * k)


def hann_window(score_size: int, num_anchors: int) -> np.ndarray:
    """The cosine window `(k·S·S,)` in anchor-major order: `hanning ⊗ hanning`, 1 at
    the centre and 0 at the border, the same for every anchor shape."""
    window = np.outer(np.hanning(score_size), np.hanning(score_size)).reshape(-1)
    return np.tile(window, num_anchors)


@dataclass
class SiamRPNStep:
    """Everything one step computed, for figures and widgets (NumPy arrays).

    `crop (s, s, 3)`; `scores (A,)` softmax objectness of the `A = k·S·S` anchors
    (anchor-major; `scores.reshape(k, S, S)` gives one map per shape); `proposals
    (A, 4)` decoded cxcywh boxes in crop pixels relative to the crop centre; `penalty`,
    `window` and `pscore (A,)` the re-ranking; `best` the chosen anchor; the new
    `center`, `target_size` and xywh `box` in the frame, and its `score`.
    """

    crop: np.ndarray
    scores: np.ndarray
    proposals: np.ndarray
    penalty: np.ndarray
    window: np.ndarray
    pscore: np.ndarray
    best: int
    score_size: int
    num_anchors: int
    scale: float
    center: np.ndarray
    target_size: np.ndarray
    box: np.ndarray
    score: float

    def maps(self, values: np.ndarray | None = None) -> np.ndarray:
        """Per-anchor values `(A,)` (default: `scores`) as `(k, S, S)` maps."""
        values = self.scores if values is None else values
        return np.asarray(values).reshape(self.num_anchors, self.score_size, -1)


class SiamRPNTracker:
    """SiamRPN: `init(frame, box)` turns the exemplar into kernels once; `update(frame)`
    runs `step` and moves the state.

    `model` defaults to the shipped tiny checkpoint, or `weights`: a checkpoint of
    `siamlab train siamrpn` or a DaSiamRPN release file, whose own settings become the
    default `params`.
    """

    name = "SiamRPN"

    def __init__(
        self,
        model: SiamRPNNet | None = None,
        params: SiamRPNParams | None = None,
        *,
        weights: str | os.PathLike | None = None,
        device: torch.device | str | None = None,
        name: str | None = None,
    ) -> None:
        if model is not None and weights is not None:
            raise ValueError("give either model or weights, not both")
        if params is not None and not isinstance(params, SiamRPNParams):
            raise ValueError(
                f"params must be SiamRPNParams, got {type(params).__name__}"
            )
        self.model = model if model is not None else load_siamrpn(weights)
        if device is not None:
            self.model = self.model.to(get_device(device))
        self.device = next(self.model.parameters()).device
        self.model.eval()
        release = getattr(self.model, "release", None)
        self.params = params or SiamRPNParams.for_release(release)
        self.name = name or self.name
        self.kernels: tuple[torch.Tensor, torch.Tensor] | None = None

    @property
    def config(self) -> SiamRPNConfig:
        return self.model.config

    @torch.no_grad()
    def init(self, frame: ArrayLike, box: ArrayLike) -> None:
        """Crop the exemplar around xywh `box` and compute its kernels once."""
        image, b = check_init(frame, box)
        crop, _ = exemplar_crop(
            image, b, self.config.exemplar_size, self.config.context
        )
        self.kernels = self.model.head.kernels(
            self.model.features(to_tensor(crop, self.device))
        )
        self.center, self.target_size = b[:2] + b[2:] / 2, b[2:].copy()
        self.frame_shape = image.shape
        self.search_size = self._search_size(b, image.shape)
        self.anchors = self.config.anchors(self.search_size)

    def _search_size(self, box: np.ndarray, shape: tuple[int, ...]) -> int:
        params = self.params
        small = box[2] * box[3] / (shape[0] * shape[1]) < params.small_area
        if params.adaptive and small:
            return params.small_search_size
        return params.search_size or self.config.search_size

    @torch.no_grad()
    def search(
        self, frame: np.ndarray, center: np.ndarray, target_size: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """The network's part of a step: the search crop `(s, s, 3)` around `center`,
        the objectness `(A,)`, the proposals `(A, 4)` (crop pixels, cxcywh relative to
        the crop centre) and the frame-to-crop scale."""
        if self.kernels is None:
            raise ValueError("call init(frame, box) before searching")
        side_z = context_size(target_size[0], target_size[1], self.config.context)
        scale = self.config.exemplar_size / side_z
        crop = crop_square(
            frame, tuple(center), self.search_size / scale, self.search_size
        )
        features = self.model.features(to_tensor(crop, self.device))
        cls, loc = self.model.head.correlate(self.kernels, features)
        logits = per_anchor(cls, 2)[0].float().cpu()
        scores = torch.softmax(logits, dim=-1)[:, 1].numpy().astype(np.float64)
        deltas = per_anchor(loc, 4)[0].float().cpu().numpy().astype(np.float64)
        return crop, scores, decode(deltas, self.anchors), scale

    def step(
        self,
        frame: ArrayLike,
        params: SiamRPNParams | None = None,
        searched: tuple[np.ndarray, np.ndarray, np.ndarray, float] | None = None,
    ) -> SiamRPNStep:
        """One step from the current state, without changing it. `params` overrides
        the re-ranking settings (widgets re-run a step with other values); `searched`
        reuses `search(...)` computed before for the same frame and state."""
        if self.kernels is None:
            raise ValueError("call init(frame, box) before searching")
        image = check_frame(frame, self.frame_shape)
        params = params or self.params
        if searched is None:
            searched = self.search(image, self.center, self.target_size)
        k = self.config.num_anchors
        size = int(round(math.sqrt(len(self.anchors) / k)))
        return locate(
            *searched, params, self.center, self.target_size, image.shape, k, size,
            self.config.context,
        )  # fmt: skip

    def update(self, frame: ArrayLike) -> TrackResult:
        """Track into `frame`: one step, then move the state to its box."""
        result = self.step(frame)
        self.center, self.target_size = result.center, result.target_size
        response = result.maps(result.pscore).max(axis=0)
        return TrackResult(box=result.box, score=result.score, response=response)

    def with_params(self, **changes: object) -> "SiamRPNTracker":
        """A tracker sharing this one's network with some parameters changed."""
        known = {f.name for f in fields(SiamRPNParams)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown SiamRPNParams field(s): {', '.join(unknown)}")
        return type(self)(self.model, replace(self.params, **changes), name=self.name)


def locate(
    crop: np.ndarray,
    scores: np.ndarray,
    proposals: np.ndarray,
    scale: float,
    params: SiamRPNParams,
    center: np.ndarray,
    target_size: np.ndarray,
    frame_shape: tuple[int, ...],
    num_anchors: int,
    score_size: int,
    context: float = 0.5,
) -> SiamRPNStep:
    """Re-rank the proposals and move the box (all sizes in crop pixels until the end).

    `pscore = (1 − w)·penalty·score + w·window`; the best proposal's offset from the
    crop centre, divided by `scale`, moves the centre; the size moves
    `lr = params.lr · penalty · score` of the way to the proposal's; centre and size
    are clipped to the frame (`min_size` at least).
    """
    previous = np.asarray(target_size, dtype=np.float64) * scale
    penalty = change_penalty(proposals[:, 2:], previous, params.penalty_k, context)
    window = hann_window(score_size, num_anchors)
    influence = params.window_influence
    pscore = (1 - influence) * penalty * scores + influence * window
    best = int(np.argmax(pscore))
    proposal = proposals[best] / scale
    rate = params.lr * penalty[best] * scores[best]
    new_center = np.asarray(center, dtype=np.float64) + proposal[:2]
    new_size = (
        np.asarray(target_size, dtype=np.float64) * (1 - rate) + proposal[2:] * rate
    )
    box = clip_to_frame(
        np.concatenate([new_center - new_size / 2, new_size]),
        frame_shape,
        params.min_size,
    )
    new_center, new_size = box[:2] + box[2:] / 2, box[2:]
    return SiamRPNStep(
        crop, scores, proposals, penalty, window, pscore, best, score_size, num_anchors,
        scale, new_center, new_size, box, float(scores[best]),
    )  # fmt: skip
