"""The SiamFC tracker (Bertinetto et al. 2016): search for the first frame's exemplar in
every frame.

The exemplar's features are computed once, on the first frame, and never updated. In
each new frame the search region around the previous position is cropped at a few scales
that form ONE mini-batch; the response maps are upsampled ×16 (bicubic), non-centre
scales are penalised, the best scale's map is blended with a cosine window that favours
small motion, and its peak moves the box. The size follows the chosen scale only
partially (scale damping), which keeps it from drifting.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, replace

import numpy as np
import torch
from numpy.typing import ArrayLike

from siamlab.boxes import clip_to_frame
from siamlab.crops import context_size, exemplar_crop, scale_pyramid, to_tensor
from siamlab.device import get_device
from siamlab.nn.models import SiamFCConfig, SiamFCNet, load_siamfc
from siamlab.trackers.base import TrackResult, check_frame, check_init


@dataclass(frozen=True)
class SiamFCParams:
    """Inference hyper-parameters. Defaults: SiamFC-3s as published with the authors'
    code (Bertinetto et al. 2016): scale step 1.0375, penalty 0.9745, damping ("scale
    learning rate") 0.59, window influence 0.176, ×16 upsampling.

    - `num_scales`: search scales `scale_step ** (k − (n−1)/2)`, `k = 0 … n−1` (odd n);
    - `scale_penalty`: multiplies the responses of every scale but the centre one;
    - `scale_damping`: the size moves this fraction of the way to the chosen scale;
    - `window_influence`: weight of the cosine (Hann) window in the final map (0: no
      window);
    - `upsample`: bicubic upsampling factor of the response;
    - `template_update`: 0 (SiamFC: the exemplar is never updated); γ > 0 blends the
      exemplar features with those of the newest box, `(1 − γ)·old + γ·new` (used to
      show drift).
    """

    num_scales: int = 3
    scale_step: float = 1.0375
    scale_penalty: float = 0.9745
    scale_damping: float = 0.59
    window_influence: float = 0.176
    upsample: int = 16
    template_update: float = 0.0

    def __post_init__(self) -> None:
        n = self.num_scales
        if not isinstance(n, int) or isinstance(n, bool) or n < 1 or n % 2 == 0:
            raise ValueError(f"num_scales must be a positive odd integer, got {n!r}")
        up = self.upsample
        # the upsampled maps are (n, S·upsample, S·upsample): 64 is 4× the paper's 16
        if not isinstance(up, int) or isinstance(up, bool) or not 1 <= up <= 64:
            raise ValueError(f"upsample must be an integer in 1 … 64, got {up!r}")
        if not _finite_number(self.scale_step) or not self.scale_step >= 1:
            raise ValueError(
                f"scale_step must be a finite number >= 1, got {self.scale_step!r}"
            )
        for name in (
            "scale_penalty",
            "scale_damping",
            "window_influence",
            "template_update",
        ):
            value = getattr(self, name)
            if not _finite_number(value) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")

    @classmethod
    def five_scales(cls) -> "SiamFCParams":
        """SiamFC with five scales, as the authors' released code sets it (its
        `params-5s.txt`): step 1.0255, penalty 0.962, damping 0.34, window influence
        0.168. (The paper's text gives 1.025 and a damping of 0.35.)"""
        return cls(
            num_scales=5,
            scale_step=1.0255,
            scale_penalty=0.962,
            scale_damping=0.34,
            window_influence=0.168,
        )

    @property
    def scales(self) -> np.ndarray:
        return self.scale_step ** (
            np.arange(self.num_scales) - (self.num_scales - 1) / 2
        )


def _finite_number(value: object) -> bool:
    """True for a finite int or float (not a bool, NaN or infinity)."""
    return (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
        and bool(np.isfinite(value))
    )


@dataclass
class SiamFCStep:
    """Everything one tracker step computed, for figures and widgets (maps are NumPy
    arrays).

    `crops (n, s, s, 3)` search crops, `scales (n,)`, `responses (n, S, S)` raw logits,
    `upsampled (n, U, U)`, `penalised (n,)` the peak of each scale after the penalty,
    `window (U, U)`, `final (U, U)` the chosen scale's normalised map blended with the
    window, `scale_index`, `peak (row, col)` in `final`, the new `box` (xywh, clipped)
    and its `score` (sigmoid of the raw peak).
    """

    crops: np.ndarray
    scales: np.ndarray
    responses: np.ndarray
    upsampled: np.ndarray
    penalised: np.ndarray
    window: np.ndarray
    final: np.ndarray
    scale_index: int
    peak: tuple[int, int]
    box: np.ndarray
    score: float
    center: np.ndarray
    target_size: np.ndarray


class SiamFCTracker:
    """SiamFC: `init(frame, box)` computes the exemplar features once; `update(frame)`
    runs `step`.

    `model` defaults to the shipped tiny checkpoint (or `weights`, a checkpoint path).
    Works on frames of any size: crops leaving the frame are padded with its mean
    colour.
    """

    name = "SiamFC"

    def __init__(
        self,
        model: SiamFCNet | None = None,
        params: SiamFCParams | None = None,
        *,
        weights: str | os.PathLike | None = None,
        device: torch.device | str | None = None,
        name: str | None = None,
    ) -> None:
        if model is not None and weights is not None:
            raise ValueError("give either model or weights, not both")
        self.device = get_device(device) if device is not None else None
        self.model = model if model is not None else load_siamfc(weights)
        if self.device is not None:
            self.model = self.model.to(self.device)
        self.device = next(self.model.parameters()).device
        self.model.eval()
        self.params = params or SiamFCParams()
        self.name = name or self.name
        self.kernel: torch.Tensor | None = None

    @property
    def config(self) -> SiamFCConfig:
        return self.model.config

    @torch.no_grad()
    def _embed(self, crops: np.ndarray) -> torch.Tensor:
        return self.model.backbone(
            to_tensor(np.require(crops, requirements="W"), self.device)
        )

    def init(self, frame: ArrayLike, box: ArrayLike) -> None:
        """Crop the exemplar around xywh `box` and compute its features (the kernel)
        once."""
        image, b = check_init(frame, box)
        crop, _ = exemplar_crop(
            image, b, self.config.exemplar_size, self.config.context
        )
        self.kernel = self._embed(crop)
        self.center = b[:2] + b[2:] / 2
        self.target_size = b[2:].copy()
        self.initial_size = b[2:].copy()
        self.frame_shape = image.shape

    def search_side(self, target_size: ArrayLike) -> float:
        """Side in frame pixels of the search square (at scale 1) for a target of `(w,
        h)`."""
        side = context_size(target_size[0], target_size[1], self.config.context)
        return side * self.config.search_size / self.config.exemplar_size

    @torch.no_grad()
    def responses(
        self,
        frame: ArrayLike,
        center: ArrayLike,
        target_size: ArrayLike,
        params: SiamFCParams | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Search crops `(n, s, s, 3)` at every scale and their raw responses `(n, S,
        S)` — the network's part of a step, run as one mini-batch of `n` scales."""
        if self.kernel is None:
            raise ValueError("call init(frame, box) before searching")
        params = params or self.params
        crops = scale_pyramid(
            frame,
            tuple(center),
            self.search_side(np.asarray(target_size)),
            self.config.search_size,
            params.scales,
        )
        response = self.model.head(self.kernel, self._embed(crops))
        return crops, response[:, 0].float().cpu().numpy()

    def step(
        self,
        frame: ArrayLike,
        box: ArrayLike | None = None,
        params: SiamFCParams | None = None,
        searched: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> SiamFCStep:
        """One tracking step from the current state (or from xywh `box`), without
        changing state.

        `params` overrides the tracker's parameters (widgets re-run a step with other
        values); `searched` reuses `responses(...)` computed before for the same frame
        and state.
        """
        if self.kernel is None:
            raise ValueError("call init(frame, box) before searching")
        image = check_frame(frame, self.frame_shape)
        params = params or self.params
        if box is None:
            center, target_size = self.center, self.target_size
        else:
            _, b = check_init(image, box)
            center, target_size = b[:2] + b[2:] / 2, b[2:]
        crops, raw = (
            searched
            if searched is not None
            else self.responses(image, center, target_size, params)
        )
        return locate(
            raw,
            crops,
            params,
            center,
            target_size,
            self.search_side(target_size),
            self.config.total_stride,
            self.config.search_size,
            image.shape,
            self.initial_size,
        )

    def update(self, frame: ArrayLike) -> TrackResult:
        """Track into `frame`: one step, then move the state to its box."""
        image = check_frame(frame, getattr(self, "frame_shape", None))
        result = self.step(image)
        self.center, self.target_size = result.center, result.target_size
        if self.params.template_update > 0:
            crop, _ = exemplar_crop(
                image, result.box, self.config.exemplar_size, self.config.context
            )
            gamma = self.params.template_update
            self.kernel = (1 - gamma) * self.kernel + gamma * self._embed(crop)
        return TrackResult(box=result.box, score=result.score, response=result.final)

    def with_params(self, **changes: object) -> "SiamFCTracker":
        """A tracker sharing this one's network with some parameters changed (for
        ablations)."""
        unknown = sorted(set(changes) - set(SiamFCParams.__dataclass_fields__))
        if unknown:
            raise ValueError(f"unknown SiamFCParams field(s) {unknown}")
        return SiamFCTracker(
            self.model, replace(self.params, **changes), name=self.name
        )


@functools.lru_cache(maxsize=16)
def cosine_window(size: int) -> np.ndarray:
    """The Hann window `(size, size)`, normalised to sum 1: high at the centre, 0 at the
    border. Computed once per size and shared, so it is read-only."""
    window = np.outer(np.hanning(size), np.hanning(size))
    window = window / window.sum()
    window.flags.writeable = False
    return window


BICUBIC_A = -0.75  # the cubic convolution kernel's parameter, as torch and OpenCV use


def bicubic_matrix(size: int, factor: int) -> np.ndarray:
    """The `(size·factor, size)` matrix `M` whose product `M @ v` upsamples a signal
    `v` of `size` samples `factor` times by bicubic interpolation, the way
    `torch.nn.functional.interpolate(mode="bicubic", align_corners=False)` does:
    output `i` sits at input position `(i + ½) / factor − ½`, its four nearest samples
    are weighted by Keys' cubic kernel (a = −0.75), and a tap beyond either end takes
    the end sample. Float64 and read-only.

    Bicubic upsampling is separable, so a map `R (size, size)` upsamples as
    `M @ R @ Mᵀ`: two small matrix products, far cheaper than interpolating every
    output cell on its own.
    """
    return _bicubic_matrix(_positive_int("size", size), _positive_int("factor", factor))


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


@functools.lru_cache(maxsize=16)
def _bicubic_matrix(size: int, factor: int) -> np.ndarray:
    out = size * factor
    position = (np.arange(out) + 0.5) / factor - 0.5
    left = np.floor(position).astype(np.int64)
    t = position - left
    a = BICUBIC_A
    weights = np.stack(
        [
            ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
            ((a + 2) * t - (a + 3)) * t * t + 1,
            ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
            ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a,
        ],
        axis=1,
    )
    taps = np.clip(left[:, None] + np.arange(-1, 3), 0, size - 1)
    matrix = np.zeros((out, size))
    np.add.at(matrix, (np.repeat(np.arange(out), 4), taps.ravel()), weights.ravel())
    matrix.flags.writeable = False
    return matrix


@functools.lru_cache(maxsize=16)
def _bicubic_tensor(size: int, factor: int) -> torch.Tensor:
    return torch.from_numpy(_bicubic_matrix(size, factor).copy())


def upsample(maps: np.ndarray, factor: int) -> np.ndarray:
    """Square maps `(n, S, S)` upsampled `factor` times by bicubic interpolation,
    `(n, S·factor, S·factor)` float32: `M @ R @ Mᵀ` with `bicubic_matrix`, computed
    in float64 (the same values as torch's bicubic `interpolate` to float32
    rounding). The products run in torch, whose threads are the network's: NumPy's
    own BLAS threads would contend with them."""
    maps = np.asarray(maps)
    if maps.ndim != 3 or maps.shape[1] != maps.shape[2] or maps.shape[1] == 0:
        raise ValueError(f"maps must have shape (n, S, S), S > 0, got {maps.shape}")
    if not np.issubdtype(maps.dtype, np.number) or np.issubdtype(
        maps.dtype, np.complexfloating
    ):
        raise ValueError(f"maps must be real numbers, got dtype {maps.dtype}")
    matrix = _bicubic_tensor(maps.shape[-1], _positive_int("factor", factor))
    up = matrix @ torch.from_numpy(maps.astype(np.float64)) @ matrix.T
    return up.float().numpy()


def locate(
    raw: np.ndarray,
    crops: np.ndarray,
    params: SiamFCParams,
    center: np.ndarray,
    target_size: np.ndarray,
    search_side: float,
    stride: int,
    search_size: int,
    frame_shape: tuple[int, ...],
    initial_size: np.ndarray,
) -> SiamFCStep:
    """Turn raw responses `(n, S, S)` into the new box: upsample, penalise, window, take
    the peak.

    A peak `d` upsampled cells from the map's centre moves the target by
    `d · stride / upsample` search-crop pixels, i.e. `· search_side · scale /
    search_size` frame pixels.
    """
    scales = params.scales
    n, size = raw.shape[0], raw.shape[-1] * params.upsample
    up = upsample(raw, params.upsample)
    peaks = up.reshape(n, -1).max(axis=1)
    penalty = np.where(np.arange(n) == (n - 1) // 2, 1.0, params.scale_penalty)
    penalised = peaks * np.where(peaks > 0, penalty, 1 / penalty)
    index = int(np.argmax(penalised))
    final = up[index] - up[index].min()
    final = final / (final.sum() + 1e-16)
    window = cosine_window(size)
    final = (1 - params.window_influence) * final + params.window_influence * window
    row, col = np.unravel_index(int(np.argmax(final)), final.shape)
    shift = (
        (np.array([col, row], dtype=np.float64) - (size - 1) / 2)
        * stride
        / params.upsample
    )
    new_center = (
        np.asarray(center, dtype=np.float64)
        + shift * search_side * scales[index] / search_size
    )
    factor = (1 - params.scale_damping) + params.scale_damping * scales[index]
    new_size = np.clip(
        np.asarray(target_size) * factor, 0.2 * initial_size, 5 * initial_size
    )
    height, width = frame_shape[:2]
    new_center = np.clip(new_center, 0, [width, height])
    box = clip_to_frame(
        np.concatenate([new_center - new_size / 2, new_size]), frame_shape
    )
    score = float(1 / (1 + np.exp(-up[index].max())))
    return SiamFCStep(
        crops,
        scales,
        raw,
        up,
        penalised,
        window,
        final,
        index,
        (int(row), int(col)),
        box,
        score,
        new_center,
        new_size,
    )
