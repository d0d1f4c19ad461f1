"""SynthTrack: tracking sequences generated from scikit-image's bundled photographs,
exact ground truth.

Each sequence pans over a photograph (the background) while an object cut from another
photograph with a soft-edged mask moves, turns, grows, changes colour and blurs in front
of it; the attributes of OTB (Wu et al. 2015) — scale variation, occlusion, semantic
distractors, … — are switched on per sequence. A frame is a pure function of the
sequence's parameters and its index, so any frame of any sequence can be produced
directly, without rendering the ones before it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from siamlab.datasets.sequence import Sequence

#: OTB-style attribute tags used by SynthTrack, with what each means here.
ATTRIBUTES: dict[str, str] = {
    "SV": "scale variation: the target's size changes by a factor of 2 or more",
    "ARC": "aspect-ratio change: the width / height ratio changes by a factor of 2 or "
    "more",
    "FM": "fast motion: the target jumps by more than 20 pixels between frames",
    "MB": "motion blur: the target is smeared along its motion",
    "IV": "illumination variation: the scene's brightness and the target's colours "
    "change",
    "OCC": "occlusion: another object passes in front of the target",
    "OV": "out of view: the target leaves the frame and comes back elsewhere",
    "SD": "semantic distractors: other instances of the target's category cross its "
    "path",
    "BC": "background clutter: the background is cut from the target's own photograph",
}

#: Frame size `(width, height)` in pixels.
FRAME_SIZE: tuple[int, int] = (256, 192)

#: Photographs of each split (scikit-image names); train and test share none.
PHOTOS: dict[str, dict[str, tuple[str, ...]]] = {
    "train": {
        "backgrounds": (
            "coffee",
            "stereo_motorcycle",
            "immunohistochemistry",
            "brick",
            "gravel",
            "camera",
        ),
        "targets": (
            "astronaut",
            "coffee",
            "immunohistochemistry",
            "stereo_motorcycle",
            "camera",
            "coins",
        ),
    },
    "test": {
        "backgrounds": ("chelsea", "rocket", "grass", "moon", "text"),
        "targets": ("chelsea", "rocket", "retina", "hubble_deep_field", "moon"),
    },
}

_MARGIN = 3  # source pixels kept around a cut, so the soft edge has photograph under it
_OUTLINE_POINTS = 120


@functools.lru_cache(maxsize=None)
def photograph(name: str) -> np.ndarray:
    """scikit-image's photograph `name` as `uint8 (H, W, 3)`, longest side at most 512
    pixels."""
    import skimage.data

    loader = getattr(skimage.data, name, None)
    if loader is None:
        raise ValueError(f"name must be a scikit-image photograph, got {name!r}")
    image = loader()
    if isinstance(image, tuple):  # stereo_motorcycle: (left, right, disparity)
        image = image[0]
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    image = np.ascontiguousarray(image[:, :, :3])
    longest = max(image.shape[:2])
    if longest > 512:
        scale = 512 / longest
        size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
        image = np.asarray(
            Image.fromarray(image).resize(size, Image.Resampling.LANCZOS)
        )
    image.setflags(write=False)
    return image


# --------------------------------------------------------------------------------------
# Objects: cuts from photographs with a soft blob-shaped mask.


@dataclass(frozen=True)
class Cut:
    """An object cut from a photograph: the rectangle `(x, y, w, h)` in photograph
    pixels, the outline's shape parameters, and an optional horizontal flip and hue
    rotation (degrees).

    Its `category` is the photograph (cuts of one photograph share its kind of texture,
    as the coins of `coins` or the stars of `hubble_deep_field` do) and its `instance`
    the rectangle: two cuts of one category are different instances when their
    rectangles differ.
    """

    photo: str
    rect: tuple[int, int, int, int]
    shape: tuple[float, ...]
    flip: bool = False
    hue: float = 0.0

    @property
    def category(self) -> str:
        return self.photo

    @property
    def instance(self) -> tuple[int, int, int, int]:
        return self.rect


def _outline(shape: tuple[float, ...], angles: np.ndarray) -> np.ndarray:
    """Radius of the un-normalised blob outline at polar `angles`: a superellipse with
    exponent `shape[0]` whose radius is modulated by harmonics 2, 3, 4 (`shape[1:]`:
    amplitude, phase pairs)."""
    power = shape[0]
    radius = (np.abs(np.cos(angles)) ** power + np.abs(np.sin(angles)) ** power) ** (
        -1 / power
    )
    wobble = 1.0
    for k, (amplitude, phase) in enumerate(zip(shape[1::2], shape[2::2]), start=2):
        wobble = wobble + amplitude * np.cos(k * angles + phase)
    return radius * wobble


@functools.lru_cache(maxsize=None)
def _outline_extent(shape: tuple[float, ...]) -> tuple[float, float]:
    """Half-extents of the raw outline along x and y (used to normalise it into
    [-1, 1]²)."""
    angles = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    radius = _outline(shape, angles)
    return float(np.max(np.abs(radius * np.cos(angles)))), float(
        np.max(np.abs(radius * np.sin(angles)))
    )


@functools.lru_cache(maxsize=None)
def outline_points(shape: tuple[float, ...]) -> np.ndarray:
    """Points of the object's outline in normalised coordinates, `(K, 2)`, touching
    [-1, 1]²."""
    angles = np.linspace(0, 2 * np.pi, _OUTLINE_POINTS, endpoint=False)
    radius = _outline(shape, angles)
    ex, ey = _outline_extent(shape)
    return np.stack(
        [radius * np.cos(angles) / ex, radius * np.sin(angles) / ey], axis=1
    )


def _hue_matrix(degrees: float) -> np.ndarray:
    """3×3 matrix rotating RGB colours by `degrees` about the grey axis (keeps
    brightness)."""
    theta = math.radians(degrees)
    c, s = math.cos(theta), math.sin(theta)
    k = 1 / 3
    r = math.sqrt(k)
    return np.array(
        [
            [c + (1 - c) * k, k * (1 - c) - r * s, k * (1 - c) + r * s],
            [k * (1 - c) + r * s, c + k * (1 - c), k * (1 - c) - r * s],
            [k * (1 - c) - r * s, k * (1 - c) + r * s, c + k * (1 - c)],
        ]
    )


@functools.lru_cache(maxsize=2048)
def sprite(cut: Cut) -> Image.Image:
    """The cut as an RGBA Pillow image with `_MARGIN` extra pixels on each side.

    Alpha is 0.5 exactly on the outline and ramps over about two pixels, so the object
    has a soft edge and its ground-truth box (the outline's box) is where a viewer sees
    the border.
    """
    x, y, w, h = cut.rect
    m = _MARGIN
    rgb = photograph(cut.photo)[y - m : y + h + m, x - m : x + w + m].astype(np.float32)
    if cut.hue:
        rgb = np.clip(rgb @ _hue_matrix(cut.hue).T, 0, 255)
    ys, xs = np.mgrid[0 : h + 2 * m, 0 : w + 2 * m].astype(np.float64) + 0.5
    u = (xs - m) / (w / 2) - 1  # normalised coordinates, outline touches ±1
    v = (ys - m) / (h / 2) - 1
    ex, ey = _outline_extent(cut.shape)
    radius = np.hypot(u * ex, v * ey)
    boundary = _outline(cut.shape, np.arctan2(v * ey, u * ex))
    pixels_per_unit = min(w, h) / 2 / min(ex, ey)
    alpha = np.clip(0.5 + (boundary - radius) * pixels_per_unit / 2.0, 0, 1)
    rgba = np.dstack([rgb, 255 * alpha]).round().astype(np.uint8)
    if cut.flip:
        rgba = rgba[:, ::-1]
    return Image.fromarray(np.ascontiguousarray(rgba), mode="RGBA")


# --------------------------------------------------------------------------------------
# A sequence's parameters: everything a frame depends on, precomputed per frame.


@dataclass
class Layer:
    """One object's state in every frame: centre `(N, 2)`, half-extents `(N, 2)` before
    rotation, rotation `angle` `(N,)` in degrees, colour `gain` `(N, 3)`, `blur` vector
    `(N, 2)` in pixels, and `visible` `(N,)`."""

    cut: Cut
    center: np.ndarray
    half: np.ndarray
    angle: np.ndarray
    gain: np.ndarray
    blur: np.ndarray
    visible: np.ndarray
    role: str = "target"  # target | distractor | occluder | clutter

    def outlines(self) -> np.ndarray:
        """The object's outline in frame pixels in every frame, `(N, K, 2)` (a closed
        polygon)."""
        points = outline_points(self.cut.shape)  # (K, 2)
        if self.cut.flip:  # the sprite is mirrored, and so is its outline
            points = points * np.array([-1.0, 1.0])
        theta = np.radians(self.angle)[:, None]
        px = points[None, :, 0] * self.half[:, 0:1]
        py = points[None, :, 1] * self.half[:, 1:2]
        xs = self.center[:, 0:1] + px * np.cos(theta) - py * np.sin(theta)
        ys = self.center[:, 1:2] + px * np.sin(theta) + py * np.cos(theta)
        return np.stack([xs, ys], axis=2)

    def boxes(self) -> np.ndarray:
        """Tight xywh box of the outline in every frame, `(N, 4)` (not clipped to the
        frame)."""
        outlines = self.outlines()
        low, high = outlines.min(axis=1), outlines.max(axis=1)
        return np.concatenate([low, high - low], axis=1)


@dataclass
class SequenceSpec:
    """All that frame `i` of a SynthTrack sequence depends on (see `render_frame`)."""

    name: str
    frame_size: tuple[int, int]
    background: str
    background_scale: float
    pan: np.ndarray  # (N, 2) integer top-left offsets into the scaled background
    brightness: np.ndarray  # (N,)
    layers: list[Layer]  # drawn in order; clutter, distractors, target, occluder
    noise_seed: int
    attributes: tuple[str, ...] = ()

    @property
    def target(self) -> Layer:
        return next(layer for layer in self.layers if layer.role == "target")


@functools.lru_cache(maxsize=64)
def _scaled_background(name: str, scale: float) -> np.ndarray:
    image = photograph(name)
    size = (math.ceil(image.shape[1] * scale), math.ceil(image.shape[0] * scale))
    return np.asarray(
        Image.fromarray(image).resize(size, Image.Resampling.BILINEAR), dtype=np.float32
    )


@functools.lru_cache(maxsize=4)
def _noise(width: int, height: int) -> np.ndarray:
    """A fixed tile of Gaussian sensor noise (σ = 3 grey levels), twice the frame in
    each direction."""
    return (
        np.random.default_rng(12345)
        .normal(0, 3, (2 * height, 2 * width, 3))
        .astype(np.float32)
    )


def _draw(canvas: np.ndarray, layer: Layer, index: int) -> None:
    """Composite `layer`'s object of frame `index` onto the float canvas `(H, W, 3)` in
    place."""
    height, width = canvas.shape[:2]
    image = sprite(layer.cut)
    sw, sh = layer.cut.rect[2], layer.cut.rect[3]
    (cx, cy), (ax, ay) = layer.center[index], layer.half[index]
    theta = math.radians(layer.angle[index])
    blur = layer.blur[index]
    reach = math.hypot(ax, ay) + abs(blur[0]) / 2 + abs(blur[1]) / 2 + 2
    x0, y0 = max(int(cx - reach), 0), max(int(cy - reach), 0)
    x1, y1 = min(int(cx + reach) + 2, width), min(int(cy + reach) + 2, height)
    if x1 <= x0 or y1 <= y0:
        return
    # frame point X -> sprite point:
    #   diag(sw/2ax, sh/2ay) R(-θ) (X - c) + (m + sw/2, m + sh/2)
    cos, sin = math.cos(theta), math.sin(theta)
    a = np.array(
        [
            [cos * sw / (2 * ax), sin * sw / (2 * ax)],
            [-sin * sh / (2 * ay), cos * sh / (2 * ay)],
        ]
    )
    offset = np.array([_MARGIN + sw / 2, _MARGIN + sh / 2]) + a @ (
        np.array([x0, y0]) - np.array([cx, cy])
    )
    data = (a[0, 0], a[0, 1], offset[0], a[1, 0], a[1, 1], offset[1])
    patch = image.transform(
        (x1 - x0, y1 - y0), Image.Transform.AFFINE, data, Image.Resampling.BILINEAR
    )
    rgba = np.asarray(patch, dtype=np.float32) / 255.0
    alpha = rgba[:, :, 3:4]
    color = rgba[:, :, :3] * alpha * (255.0 * layer.gain[index])
    steps = int(min(math.hypot(*blur), 16))
    if steps >= 2:
        color, alpha = _motion_blur(color, alpha, blur, steps)
    region = canvas[y0:y1, x0:x1]
    region *= 1 - alpha
    region += color


def _motion_blur(color: np.ndarray, alpha: np.ndarray, blur: np.ndarray, steps: int):
    """Average premultiplied colour and alpha over `steps + 1` shifts along the `blur`
    vector."""
    acc_c, acc_a = np.zeros_like(color), np.zeros_like(alpha)
    h, w = alpha.shape[:2]
    for t in np.linspace(-0.5, 0.5, steps + 1):
        dx, dy = int(round(t * blur[0])), int(round(t * blur[1]))
        if abs(dx) >= w or abs(dy) >= h:
            continue
        ys, yd = slice(max(-dy, 0), h - max(dy, 0)), slice(max(dy, 0), h - max(-dy, 0))
        xs, xd = slice(max(-dx, 0), w - max(dx, 0)), slice(max(dx, 0), w - max(-dx, 0))
        acc_c[yd, xd] += color[ys, xs]
        acc_a[yd, xd] += alpha[ys, xs]
    return acc_c / (steps + 1), acc_a / (steps + 1)


def render_frame(spec: SequenceSpec, index: int) -> np.ndarray:
    """Frame `index` of the sequence `spec` as `uint8 (H, W, 3)`: a pure function of its
    arguments."""
    width, height = spec.frame_size
    background = _scaled_background(spec.background, spec.background_scale)
    px, py = (int(v) for v in spec.pan[index])
    canvas = background[py : py + height, px : px + width].copy()
    for layer in spec.layers:
        if layer.visible[index]:
            _draw(canvas, layer, index)
    canvas *= spec.brightness[index]
    nx, ny = (
        (index * 7919 + spec.noise_seed) % width,
        (index * 104729 + spec.noise_seed) % height,
    )
    canvas += _noise(width, height)[ny : ny + height, nx : nx + width]
    return np.clip(canvas, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------
# Building a sequence's parameters from a seed.


def _integer(value: object) -> bool:
    """True for a Python or NumPy integer that is not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


@dataclass(frozen=True)
class SynthConfig:
    """A SynthTrack split: `num_sequences` sequences of `length` frames from the
    photographs of `split` ("train" or "test"), deterministic from `seed`.

    `target_size` bounds the target's size `sqrt(w·h)` in pixels at its reference scale;
    `attribute_rate` is the probability of each attribute beyond the one every sequence
    is given in turn (sequence `i` always has attribute `i mod 9`, so every attribute
    occurs).
    """

    split: str = "test"
    num_sequences: int = 30
    length: int = 150
    seed: int = 2024
    frame_size: tuple[int, int] = FRAME_SIZE
    target_size: tuple[float, float] = (24.0, 60.0)
    attribute_rate: float = 0.3

    def __post_init__(self) -> None:
        if self.split not in PHOTOS:
            raise ValueError(
                f"split must be one of {sorted(PHOTOS)}, got {self.split!r}"
            )
        for name, low in (("num_sequences", 1), ("length", 2), ("seed", 0)):
            value = getattr(self, name)
            if not _integer(value) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        rate = self.attribute_rate
        if (
            isinstance(rate, bool)
            or not isinstance(rate, (int, float))
            or not 0 <= rate <= 1
        ):
            raise ValueError(f"attribute_rate must be a number in [0, 1], got {rate!r}")
        size = self.frame_size
        if (
            not isinstance(size, (tuple, list))
            or len(size) != 2
            or not all(map(_integer, size))
        ):
            raise ValueError(
                f"frame_size must be (width, height) integers, got {size!r}"
            )
        width, height = self.frame_size
        if width < 64 or height < 64:
            raise ValueError(
                f"frame_size must be at least (64, 64), got {self.frame_size}"
            )
        sizes = self.target_size
        if (
            not isinstance(sizes, (tuple, list))
            or len(sizes) != 2
            or not all(
                isinstance(v, (int, float, np.integer, np.floating)) for v in sizes
            )
        ):
            raise ValueError(f"target_size must be (low, high) numbers, got {sizes!r}")
        low, high = sizes
        if not 8 <= low <= high <= min(width, height) / 2:
            raise ValueError(
                "target_size must satisfy 8 <= low <= high <= min(frame)/2, got "
                f"{self.target_size}"
            )

    @classmethod
    def test(cls) -> "SynthConfig":
        """`synth-test`: the fixed benchmark of the book, 30 sequences × 150 frames."""
        return cls(split="test", num_sequences=30, length=150, seed=2024)

    @classmethod
    def train(cls) -> "SynthConfig":
        """`synth-train`: 400 shorter sequences (100 frames) from the training
        photographs."""
        return cls(split="train", num_sequences=400, length=100, seed=7)


def _smooth(rng: np.random.Generator, n: int, low: float, high: float) -> np.ndarray:
    """A smooth random curve over `n` frames that spans exactly `[low, high]` (two
    sinusoids)."""
    t = np.arange(n) / max(n - 1, 1)
    curve = np.zeros(n)
    for weight in (1.0, rng.uniform(0.2, 0.6)):
        curve += weight * np.sin(
            2 * np.pi * rng.uniform(0.4, 1.6) * t + rng.uniform(0, 2 * np.pi)
        )
    span = curve.max() - curve.min()
    curve = (curve - curve.min()) / span if span > 1e-9 else np.full(n, 0.5)
    return low + (high - low) * curve


def _choose_attributes(
    rng: np.random.Generator, index: int, rate: float
) -> tuple[str, ...]:
    names = list(ATTRIBUTES)
    chosen = {names[index % len(names)]} | {
        name for name in names if rng.random() < rate
    }
    return tuple(name for name in names if name in chosen)


@functools.lru_cache(maxsize=None)
def _texture_sums(photo: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Summed-area tables of a photograph's grey level, its square, and its
    near-black/white pixels."""
    grey = photograph(photo).astype(np.float64).mean(axis=2)
    tables = []
    for values in (grey, grey**2, ((grey < 16) | (grey > 240)).astype(np.float64)):
        table = np.zeros((grey.shape[0] + 1, grey.shape[1] + 1))
        table[1:, 1:] = values.cumsum(axis=0).cumsum(axis=1)
        tables.append(table)
    return tuple(tables)


def _box_sum(table: np.ndarray, x: int, y: int, w: int, h: int) -> float:
    return float(table[y + h, x + w] - table[y, x + w] - table[y + h, x] + table[y, x])


def _cut(rng: np.random.Generator, photo: str, width: float, height: float) -> Cut:
    """A textured rectangle of about `width × height` pixels from `photo`, with a random
    outline."""
    image = photograph(photo)
    ph, pw = image.shape[:2]
    w = int(np.clip(round(width), 8, pw - 2 * _MARGIN - 2))
    h = int(np.clip(round(height), 8, ph - 2 * _MARGIN - 2))
    best, best_score = None, -np.inf
    sums = _texture_sums(photo)
    for _ in range(25):
        x = int(rng.integers(_MARGIN, pw - w - _MARGIN + 1))
        y = int(rng.integers(_MARGIN, ph - h - _MARGIN + 1))
        total, squares, extreme = (
            _box_sum(table, x, y, w, h) / (w * h) for table in sums
        )
        score = float(np.sqrt(max(squares - total**2, 0.0))) * (1.0 - 2.0 * extreme)
        if score > best_score:
            best, best_score = (x, y, w, h), score
        if score >= 30:
            break
    shape = (float(rng.uniform(2.0, 4.5)),) + tuple(
        float(v)
        for _ in range(3)
        for v in (rng.uniform(0, 0.07), rng.uniform(0, 2 * np.pi))
    )
    return Cut(photo=photo, rect=best, shape=shape)


def _target_motion(
    rng: np.random.Generator, n: int, size: tuple[int, int], radius: float, fast: bool
):
    """Centres `(n, 2)` of smooth random motion (damped random velocity), bouncing off
    the frame's borders; with `fast`, two to four jumps of 18–28 pixels per frame."""
    width, height = size
    low = np.array([radius + 1, radius + 1])
    high = np.maximum(np.array([width - radius - 1, height - radius - 1]), low + 1)
    position = rng.uniform(low, high)
    velocity = rng.normal(0, 1.5, 2)
    sigma = rng.uniform(0.4, 0.9)
    bursts: set[int] = set()
    if fast:
        count = min(int(rng.integers(2, 5)), n - 1)
        bursts = set(rng.choice(np.arange(1, n), size=count, replace=False))
    centers = np.zeros((n, 2))
    for t in range(n):
        centers[t] = position
        velocity = 0.93 * velocity + rng.normal(0, sigma, 2)
        step = velocity
        if t + 1 in bursts:
            direction = rng.normal(0, 1, 2)
            step = direction / np.linalg.norm(direction) * rng.uniform(18, 28)
        position = position + step
        for axis in range(2):  # reflect off the borders
            if position[axis] < low[axis]:
                position[axis], velocity[axis] = (
                    min(2 * low[axis] - position[axis], high[axis]),
                    abs(velocity[axis]),
                )
            elif position[axis] > high[axis]:
                position[axis], velocity[axis] = (
                    max(2 * high[axis] - position[axis], low[axis]),
                    -abs(velocity[axis]),
                )
    return centers


def _out_of_view(
    rng: np.random.Generator, centers: np.ndarray, size: tuple[int, int], radius: float
) -> np.ndarray:
    """Add an excursion that takes the target out through the nearest border and brings
    it back through the opposite one, somewhere else.

    While it is away, the rest of its path is mirrored across the frame's middle along
    the axis it left by: it returns at the mirror image of where it would have been,
    moving as the mirror image of its old path.
    """
    n = len(centers)
    start = int(rng.uniform(0.3, 0.55) * n)
    ramp, away = max(int(0.06 * n), 3), max(int(rng.uniform(0.06, 0.14) * n), 3)
    c = centers[start]
    width, height = size
    distances = [c[0], width - c[0], c[1], height - c[1]]
    side = int(np.argmin(distances))
    axis, extent = side // 2, (width, height)[side // 2]
    sign = -1.0 if side % 2 == 0 else 1.0  # out through the low or the high border
    # per frame, how far the exit border is from the (unmirrored) path
    border = centers[:, axis] if sign < 0 else extent - centers[:, axis]
    depth = border + 2 * radius + 8
    t = np.arange(n)
    profile = np.clip(
        np.minimum((t - start) / ramp, (start + 2 * ramp + away - t) / ramp), 0, 1
    )
    moved = centers.copy()
    returned = t >= start + ramp + away // 2  # fully out of view at this frame
    moved[returned, axis] = extent - centers[returned, axis]
    direction = np.where(returned, -sign, sign)
    moved[:, axis] += profile * depth * direction
    return moved


def _appearance(
    rng: np.random.Generator, n: int, attributes: tuple[str, ...], base_half: np.ndarray
):
    """Half-extents `(n, 2)`, rotation `(n,)` and colour gain `(n, 3)` of the target.

    Every sequence turns by 15–40 degrees and drifts slightly in size and colour; `SV`
    and `ARC` change size or aspect ratio by a factor of 2–2.8, `IV` changes each colour
    channel by up to ±30 %.
    """
    size_ratio = rng.uniform(2.0, 2.8) if "SV" in attributes else rng.uniform(1.05, 1.3)
    aspect_ratio = (
        rng.uniform(2.0, 2.8) if "ARC" in attributes else rng.uniform(1.0, 1.15)
    )
    log_scale = _smooth(rng, n, -np.log(size_ratio) / 2, np.log(size_ratio) / 2)
    log_aspect = _smooth(rng, n, -np.log(aspect_ratio) / 2, np.log(aspect_ratio) / 2)
    scale, aspect = np.exp(log_scale), np.exp(log_aspect)
    half = (
        base_half[None, :]
        * scale[:, None]
        * np.stack([np.sqrt(aspect), 1 / np.sqrt(aspect)], axis=1)
    )
    turn = rng.uniform(15, 40)
    angle = _smooth(rng, n, -turn / 2, turn / 2) + rng.uniform(-10, 10)
    swing = rng.uniform(0.2, 0.3) if "IV" in attributes else 0.05
    gain = np.stack([_smooth(rng, n, 1 - swing, 1 + swing) for _ in range(3)], axis=1)
    return half, angle, gain


def _blur(rng: np.random.Generator, centers: np.ndarray, enabled: bool) -> np.ndarray:
    """Motion-blur vectors `(n, 2)`: along the motion, plus bursts of 6–12 pixels (only
    with `MB`)."""
    n = len(centers)
    if not enabled:
        return np.zeros((n, 2))
    velocity = np.gradient(centers, axis=0)
    direction = rng.normal(0, 1, 2)
    direction /= np.linalg.norm(direction)
    bursts = np.clip(_smooth(rng, n, -1.0, 1.0), 0, None) * rng.uniform(6, 12)
    return velocity * rng.uniform(0.8, 1.2) + np.outer(bursts, direction)


def _base_size(
    rng: np.random.Generator, config: SynthConfig, attributes: tuple[str, ...]
) -> np.ndarray:
    """Half-extents `(2,)` of the target at its reference scale, kept small enough for
    `SV`."""
    low, high = config.target_size
    if (
        "SV" in attributes
    ):  # leave room for a ×2.8 range: from 16 pixels up to half the frame height
        low, high = max(low, 16 * 1.7), min(high, config.frame_size[1] / 2 / 1.7)
    size = rng.uniform(low, max(low, high))
    aspect = np.exp(rng.uniform(np.log(0.6), np.log(1.6)))
    return np.array([size * np.sqrt(aspect), size / np.sqrt(aspect)]) / 2


def _target_layer(
    rng: np.random.Generator, config: SynthConfig, attributes: tuple[str, ...]
) -> Layer:
    n, size = config.length, config.frame_size
    photos = PHOTOS[config.split]["targets"]
    base_half = _base_size(rng, config, attributes)
    detail = rng.uniform(1.0, 1.6)  # source pixels per frame pixel
    cut = _cut(rng, photos[int(rng.integers(len(photos)))], *(2 * base_half * detail))
    half, angle, gain = _appearance(rng, n, attributes, base_half)
    radius = float(np.hypot(*half.max(axis=0)))
    centers = _target_motion(
        rng, n, size, min(radius, min(size) / 2 - 2), "FM" in attributes
    )
    if "OV" in attributes:
        centers = _out_of_view(rng, centers, size, radius)
    blur = _blur(rng, centers, "MB" in attributes)
    return Layer(cut, centers, half, angle, gain, blur, np.ones(n, bool), role="target")


def _distractor_layers(
    rng: np.random.Generator, target: Layer, count: int
) -> list[Layer]:
    """Other instances of the target's category that cross its path: cuts of the same
    photograph (neighbouring regions, so of the same kind of texture) with the
    target's outline, its size within 15 %, swinging through the target's position
    two to four times in the sequence, drawn behind it."""
    n = len(target.center)
    size = float(np.sqrt(np.prod(2 * target.half[0])))
    layers = []
    x0, y0, w, h = target.cut.rect
    ph, pw = photograph(target.cut.photo).shape[:2]
    for _ in range(count):
        for _ in range(20):  # another instance: a region that overlaps the target's
            dx, dy = rng.uniform(0.6, 1.6, 2) * (w, h) * rng.choice([-1, 1], 2)
            x = int(np.clip(x0 + dx, _MARGIN, pw - w - _MARGIN))
            y = int(np.clip(y0 + dy, _MARGIN, ph - h - _MARGIN))
            if abs(x - x0) >= w / 2 or abs(y - y0) >= h / 2:  # less than a quarter
                break
        cut = replace(target.cut, rect=(x, y, w, h))
        t = np.arange(n)
        swings = rng.uniform(1.0, 2.0)  # periods of the swing: 2-4 crossings
        along = np.sin(2 * np.pi * swings * t / n + rng.uniform(0, 2 * np.pi))
        reach = rng.uniform(2.0, 3.0) * size
        heading = rng.uniform(0, 2 * np.pi) + _smooth(rng, n, -0.4, 0.4)
        aside = rng.uniform(-0.25, 0.25) * size
        direction = np.stack([np.cos(heading), np.sin(heading)], axis=1)
        normal = np.stack([-direction[:, 1], direction[:, 0]], axis=1)
        centers = target.center + (reach * along)[:, None] * direction + aside * normal
        half = (
            target.half
            * rng.uniform(0.85, 1.15)
            * np.exp(_smooth(rng, n, -0.1, 0.1))[:, None]
        )
        angle = target.angle + _smooth(rng, n, -20, 20)
        layers.append(
            Layer(
                cut,
                centers,
                half,
                angle,
                target.gain.copy(),
                np.zeros((n, 2)),
                np.ones(n, bool),
                role="distractor",
            )
        )
    return layers


def _occluder_layer(
    rng: np.random.Generator, config: SynthConfig, target: Layer
) -> Layer:
    """An opaque object from another photograph that crosses in front of the target once
    or twice, offset sideways so that it covers part of the target (the box stays the
    whole target)."""
    n = config.length
    split = PHOTOS[config.split]
    photos = [
        p for p in split["backgrounds"] + split["targets"] if p != target.cut.photo
    ]
    target_half = target.half.max(axis=0)
    half = target_half * rng.uniform(1.0, 1.5, 2)
    cut = _cut(
        rng, photos[int(rng.integers(len(photos)))], *(2 * half * rng.uniform(1.0, 1.4))
    )
    cut = replace(cut, shape=(float(rng.uniform(3.0, 6.0)),) + cut.shape[1:])
    centers, visible = np.zeros((n, 2)), np.zeros(n, bool)
    t = np.arange(n)
    for _ in range(int(rng.integers(1, 3))):
        duration = float(np.clip(rng.uniform(0.12, 0.22) * n, 4, 30))
        # (the lower bound passes the upper one only in sequences shorter than 3 frames)
        middle = rng.uniform(min(0.2 * n + duration / 2, 0.9 * n), 0.9 * n)
        window = np.abs(t - middle) <= duration / 2
        direction = rng.normal(0, 1, 2)
        direction /= np.linalg.norm(direction)
        side = np.array([-direction[1], direction[0]]) * rng.choice([-1, 1])
        reach = float(np.hypot(*target_half) + np.hypot(*half))
        along = (t - middle) / (duration / 2) * reach
        across = rng.uniform(0.15, 0.5) * reach
        path = target.center + np.outer(along, direction) + across * side
        centers[window], visible[window] = path[window], True
    angle = np.full(n, rng.uniform(-30, 30))
    return Layer(
        cut,
        centers,
        np.tile(half, (n, 1)),
        angle,
        np.ones((n, 3)),
        np.zeros((n, 2)),
        visible,
        role="occluder",
    )


def _clutter_layers(
    rng: np.random.Generator, config: SynthConfig, target: Layer, pan: np.ndarray
) -> list[Layer]:
    """Four to six static cuts of the target's photograph, fixed to the background as it
    pans."""
    n, (width, height) = config.length, config.frame_size
    layers = []
    for _ in range(int(rng.integers(4, 7))):
        half = target.half[0] * rng.uniform(0.7, 1.3, 2)
        cut = _cut(rng, target.cut.photo, *(2 * half * rng.uniform(1.0, 1.6)))
        anchor = rng.uniform([0, 0], [width, height])
        centers = anchor - (pan - pan[0])
        layers.append(
            Layer(
                cut,
                centers,
                np.tile(half, (n, 1)),
                np.full(n, rng.uniform(-30, 30)),
                np.ones((n, 3)),
                np.zeros((n, 2)),
                np.ones(n, bool),
                role="clutter",
            )
        )
    return layers


def _background(
    rng: np.random.Generator, config: SynthConfig, target: Layer, clutter: bool
):
    """Background photograph, its scale and the camera's pan `(n, 2)` (integer
    offsets)."""
    n, (width, height) = config.length, config.frame_size
    split = PHOTOS[config.split]
    if clutter:
        name = target.cut.photo
    else:
        choices = [p for p in split["backgrounds"] if p != target.cut.photo]
        name = choices[int(rng.integers(len(choices)))]
    ph, pw = photograph(name).shape[:2]
    least = max((width + 24) / pw, (height + 24) / ph)
    scale = round(
        float(least * rng.choice([1.0, 1.2, 1.4, 1.6])), 3
    )  # few levels: cached resizes
    room = np.array([math.ceil(pw * scale) - width, math.ceil(ph * scale) - height]) - 1
    pan = np.zeros((n, 2), dtype=np.int64)
    for axis in range(2):
        span = min(room[axis], rng.uniform(8, 60))
        start = rng.uniform(0, room[axis] - span)
        pan[:, axis] = np.round(start + _smooth(rng, n, 0, span)).astype(np.int64)
    return name, scale, pan


def make_spec(config: SynthConfig, index: int) -> SequenceSpec:
    """The parameters of sequence `index` of `config` (deterministic from `config.seed`
    and `index`)."""
    split_code = sorted(PHOTOS).index(config.split)
    rng = np.random.default_rng([config.seed, index, split_code])
    attributes = _choose_attributes(rng, index, config.attribute_rate)
    target = _target_layer(rng, config, attributes)
    name, scale, pan = _background(rng, config, target, "BC" in attributes)
    layers = _clutter_layers(rng, config, target, pan) if "BC" in attributes else []
    if "SD" in attributes:
        layers += _distractor_layers(rng, target, int(rng.integers(1, 4)))
    layers.append(target)
    if "OCC" in attributes:
        layers.append(_occluder_layer(rng, config, target))
    lighting = rng.uniform(0.35, 0.5) if "IV" in attributes else 0.05
    brightness = _smooth(rng, config.length, 1 - lighting, 1 + lighting * 0.6)
    return SequenceSpec(
        name=f"synth-{config.split}-{index:03d}",
        frame_size=tuple(config.frame_size),
        background=name,
        background_scale=scale,
        pan=pan,
        brightness=brightness,
        layers=layers,
        noise_seed=int(rng.integers(1 << 20)),
        attributes=attributes,
    )


def _clip_polygon(points: np.ndarray, width: float, height: float) -> np.ndarray:
    """The part of polygon `(K, 2)` inside `[0, W] × [0, H]` (Sutherland–Hodgman),
    `(M, 2)`."""
    for axis, limit, keep_below in (
        (0, 0.0, False),
        (0, width, True),
        (1, 0.0, False),
        (1, height, True),
    ):
        if len(points) == 0:
            break
        inside = points[:, axis] <= limit if keep_below else points[:, axis] >= limit
        following = np.roll(points, -1, axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (limit - points[:, axis]) / (following[:, axis] - points[:, axis])
            crossing = points + t[:, None] * (following - points)
        # each vertex keeps itself if inside, then the edge's crossing point if the edge
        # crosses
        keep = np.stack([inside, inside != np.roll(inside, -1)], axis=1)
        points = np.stack([points, crossing], axis=1)[keep]
    return points


def _polygon_area(points: np.ndarray) -> float:
    if len(points) < 3:
        return 0.0
    x, y = points[:, 0], points[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def ground_truth(spec: SequenceSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes `(N, 4)`, absence `(N,)` and occluded fraction `(N,)` of the target.

    The box is the tight box of the target's outline; where the target is partly outside
    the frame it is the box of the part inside (as annotators draw the visible part).
    The target is *absent* when less than a quarter of its area is inside the frame;
    absent rows hold NaN.
    """
    full = spec.target.boxes()
    boxes = full.copy()
    width, height = spec.frame_size
    absent = np.zeros(len(full), dtype=bool)
    crossing = np.any(full[:, :2] < 0, axis=1) | np.any(
        full[:, :2] + full[:, 2:] > (width, height), axis=1
    )
    outlines = spec.target.outlines()
    for index in np.flatnonzero(crossing):
        inside = _clip_polygon(outlines[index], width, height)
        if _polygon_area(inside) < 0.25 * _polygon_area(outlines[index]):
            absent[index] = True
            continue
        low, high = inside.min(axis=0), inside.max(axis=0)
        boxes[index] = [*low, *(high - low)]
    boxes[absent] = np.nan
    cover = np.zeros(len(full))
    for layer in spec.layers:
        if layer.role == "occluder":
            other = layer.boxes()
            low = np.maximum(full[:, :2], other[:, :2])
            high = np.minimum(full[:, :2] + full[:, 2:], other[:, :2] + other[:, 2:])
            overlap = np.prod(np.clip(high - low, 0, None), axis=1) / (
                full[:, 2] * full[:, 3]
            )
            cover = np.maximum(cover, np.where(layer.visible, overlap, 0.0))
    return boxes, absent, np.round(cover, 3)


def contents(spec: SequenceSpec) -> tuple[tuple[str, tuple | None], ...]:
    """Every `(category, instance)` that may appear in the sequence's frames: each
    layer's cut, and the background photograph as `(photo, None)` (all of its
    instances)."""
    return ((spec.background, None),) + tuple(
        (layer.cut.category, layer.cut.instance) for layer in spec.layers
    )


def make_sequence(config: SynthConfig, index: int) -> Sequence:
    """Sequence `index` of `config`, frames rendered on demand by `render_frame`.

    `metadata` holds the `spec`, the occluded fraction per frame (`cover`), the
    target's `category` and `instance` (see `Cut`), all that may appear in its frames
    (`contents`), and the boxes of the semantic
    distractors (`distractor_boxes`, `(N, k, 4)`, k = 0 without `SD`: other instances
    of the target's category) for training against them.
    """
    if not 0 <= index < config.num_sequences:
        raise ValueError(f"index must be in [0, {config.num_sequences}), got {index}")
    spec = make_spec(config, index)
    boxes, absent, cover = ground_truth(spec)
    distractors = [layer.boxes() for layer in spec.layers if layer.role == "distractor"]
    distractor_boxes = (
        np.stack(distractors, axis=1)
        if distractors
        else np.zeros((config.length, 0, 4))
    )
    metadata = {
        "spec": spec,
        "cover": cover,
        "category": spec.target.cut.category,
        "instance": spec.target.cut.instance,
        "contents": contents(spec),
        "distractor_boxes": distractor_boxes,
        "split": config.split,
        "index": index,
        "frame_size": tuple(config.frame_size),
    }
    return Sequence(
        name=spec.name,
        boxes=boxes,
        load_frame=functools.partial(render_frame, spec),
        absent=absent,
        attributes=spec.attributes,
        metadata=metadata,
    )


def make_sequences(
    config: SynthConfig, max_sequences: int | None = None
) -> list[Sequence]:
    """The first `max_sequences` (default: all) sequences of `config`."""
    if max_sequences is not None and (not _integer(max_sequences) or max_sequences < 1):
        raise ValueError(
            f"max_sequences must be a positive integer or None, got {max_sequences!r}"
        )
    count = config.num_sequences
    if max_sequences is not None:
        count = min(int(max_sequences), count)
    return [make_sequence(config, index) for index in range(count)]


def synth_test(max_sequences: int | None = None) -> list[Sequence]:
    """`synth-test`, the book's benchmark (`SynthConfig.test()`)."""
    return make_sequences(SynthConfig.test(), max_sequences)


def synth_train(max_sequences: int | None = None) -> list[Sequence]:
    """`synth-train`, the training sequences (`SynthConfig.train()`)."""
    return make_sequences(SynthConfig.train(), max_sequences)


def _centers(boxes: np.ndarray) -> np.ndarray:
    return boxes[..., :2] + boxes[..., 2:] / 2


def _attribute_scores(sequence: Sequence, tag: str) -> np.ndarray:
    """How strongly each frame of `sequence` shows attribute `tag` (higher is
    stronger)."""
    spec = sequence.metadata["spec"]
    target = spec.target
    if tag in ("SV", "ARC"):
        value = (
            np.prod(target.half, axis=1)
            if tag == "SV"
            else target.half[:, 0] / target.half[:, 1]
        )
        return np.abs(np.log(value / value[0]))
    if tag == "FM":
        return np.r_[0, np.hypot(*np.diff(target.center, axis=0).T)]
    if tag == "MB":
        return np.hypot(*target.blur.T)
    if tag == "IV":
        return np.abs(spec.brightness - 1) + np.abs(target.gain - 1).sum(axis=1)
    if tag == "OCC":
        return sequence.metadata["cover"]
    if tag == "OV":
        return np.r_[sequence.absent[1:], False].astype(float)
    if tag == "SD":
        distance = np.linalg.norm(
            _centers(sequence.metadata["distractor_boxes"]) - target.center[:, None],
            axis=2,
        )
        return -np.min(distance, axis=1, initial=np.inf)
    return -np.abs(np.arange(len(sequence)) - len(sequence) / 2)  # BC: the middle frame


def attribute_examples(sequences: list[Sequence]) -> list[tuple[Sequence, int, str]]:
    """For each attribute a `(sequence, frame index, tag)` that shows it: a sequence
    with the tag (a different one per tag where possible) at its frame of largest scale
    or aspect change, biggest jump, strongest blur or lighting change, most occlusion,
    just before leaving the frame, closest look-alike, or the middle frame (`BC`); the
    target is in view and, except for `OV`, whole."""
    examples, used = [], set()
    for tag in ATTRIBUTES:
        candidates = []
        for sequence in (s for s in sequences if tag in s.attributes):
            width, height = sequence.metadata["frame_size"]
            box = sequence.boxes
            whole = np.all(box[:, :2] > 1, axis=1) & np.all(
                box[:, :2] + box[:, 2:] < (width - 1, height - 1), axis=1
            )
            allowed = ~sequence.absent & (whole | (tag == "OV"))
            score = np.where(allowed, _attribute_scores(sequence, tag), -np.inf)
            if np.isfinite(score.max()):
                camouflaged = (
                    tag != "BC" and "BC" in sequence.attributes
                )  # harder to see the attribute
                rank = (
                    sequence.name in used,
                    camouflaged,
                    -score.max() if tag != "BC" else 0.0,
                )
                candidates.append((rank, sequence, int(np.argmax(score))))
        if candidates:
            _, sequence, index = min(candidates, key=lambda c: c[0])
            used.add(sequence.name)
            examples.append((sequence, index, tag))
    return examples
