"""Tracking on one's own footage: read a video, draw the tracker's answer on each frame,
write an annotated MP4 or GIF.

Frames stream one at a time (a generator for reading, an incremental writer), so a long
video costs the memory of a few frames, not of the whole film. Video files are decoded
and MP4s encoded by PyAV, the Python binding of FFmpeg's libraries (its wheel bundles
them); folders of images and GIFs are read, and GIFs written, with Pillow.
"""

from __future__ import annotations

import functools
import os
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, Iterable, Iterator

import numpy as np
from numpy.typing import ArrayLike
from PIL import GifImagePlugin, Image, ImageDraw, ImageFont, ImageSequence

from siamlab.boxes import as_boxes
from siamlab.crops import as_frame
from siamlab.datasets import formats
from siamlab.progress import progress_bar
from siamlab.trackers.base import Tracker, check_frame

#: The suffixes `VideoWriter` can write, each naming its format.
OUTPUT_SUFFIXES = (".mp4", ".gif")

#: Frames per second of the output when the input does not say (a folder of images).
DEFAULT_FPS = 25.0

#: The outline and label colour of the box (RGB): an orange that stands out on the
#: greens, greys and blues of outdoor footage.
BOX_COLOR = (255, 96, 0)


# --------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class VideoInfo:
    """What is known of a video before it is read: `frames`, the number of frames (None
    when the container does not say), and `fps`, frames per second (None for a folder
    of images)."""

    frames: int | None
    fps: float | None


def _kind(path: Path) -> str:
    """How `path` is read: `"folder"` (image files), `"gif"` (Pillow) or `"video"`
    (PyAV, any container FFmpeg knows: MP4, AVI, MOV, MKV, WebM, ...)."""
    if path.is_dir():
        return "folder"
    return "gif" if path.suffix.lower() == ".gif" else "video"


def _existing(path: str | Path, name: str) -> Path:
    source = Path(path).expanduser()
    if not str(path).strip() or not source.exists():
        raise FileNotFoundError(
            f"{name} {str(path)!r} does not exist (expected a folder of images or a "
            "video file such as MP4, AVI or GIF)"
        )
    return source


def _folder_files(folder: Path, name: str) -> list[Path]:
    files = formats.frame_files(folder)
    if not files:
        raise ValueError(
            f"{name} folder {str(folder)!r} has no image files (expected "
            f"{', '.join(formats.IMAGE_SUFFIXES)})"
        )
    return files


def _damaged(path: Path, name: str, error: BaseException | str) -> ValueError:
    """The error for an unreadable video; FFmpeg's errors give their message only (not
    the internal function that failed)."""
    error = getattr(error, "strerror", None) or error
    return ValueError(
        f"{name} {str(path)!r} cannot be read as a video (truncated, damaged or not a "
        f"video): {error}"
    )


def probe(path: str | Path, name: str = "path") -> VideoInfo:
    """The frame count and rate of the video at `path`, after checking that its first
    frame can be decoded, so that a bad input fails before a tracker is built.

    `path` is a folder of images (sorted in numeric order, as
    `siamlab.datasets.formats.frame_files` does), a GIF, or a video file. Raises
    `FileNotFoundError` for a missing path and `ValueError` for an empty folder or a
    file that is not a readable video, each naming `name`.
    """
    import av

    source = _existing(path, name)
    kind = _kind(source)
    if kind == "folder":
        files = _folder_files(source, name)
        next(read_frames(source, name))
        return VideoInfo(frames=len(files), fps=None)
    if kind == "gif":
        try:
            with Image.open(source) as image:
                duration = image.info.get("duration") or 0
                count = getattr(image, "n_frames", 1)
                image.convert("RGB")
        except (OSError, EOFError, SyntaxError, ValueError) as error:
            raise _damaged(source, name, error) from error
        return VideoInfo(count, 1000 / duration if duration > 0 else None)
    try:
        with av.open(str(source)) as container:
            if not container.streams.video:
                raise _damaged(source, name, "it has no video stream")
            stream = container.streams.video[0]
            count = stream.frames or None
            fps = float(stream.average_rate) if stream.average_rate else None
            next(container.decode(stream))
    except StopIteration:
        raise _damaged(source, name, "it has no frames") from None
    except (av.error.FFmpegError, OSError) as error:
        raise _damaged(source, name, error) from error
    return VideoInfo(frames=count, fps=fps)


def read_frames(path: str | Path, name: str = "path") -> Iterator[np.ndarray]:
    """The frames of the video at `path`, one at a time, as `uint8 (H, W, 3)` RGB.

    `path` is a folder of images, a GIF or a video file (see `probe`). Only one frame is
    decoded at a time. A video that ends before the frame count its container declares
    raises `ValueError` (naming `name`) when the end is reached, so a truncated file is
    never taken for a short one.
    """
    source = _existing(path, name)
    kind = _kind(source)
    if kind == "folder":
        files = tuple(str(f) for f in _folder_files(source, name))
        for index in range(len(files)):
            try:
                yield formats._load_indexed(files, index)
            except ValueError as error:  # names the frame and its file
                raise ValueError(f"{name}: {error}") from error
    elif kind == "gif":
        yield from _read_gif(source, name)
    else:
        yield from _read_video(source, name)


def _read_gif(source: Path, name: str) -> Iterator[np.ndarray]:
    try:
        with Image.open(source) as image:
            for frame in ImageSequence.Iterator(image):
                rgb = np.asarray(frame.convert("RGB"))
                yield rgb
    except (OSError, EOFError, SyntaxError, ValueError) as error:
        raise _damaged(source, name, error) from error


def _read_video(source: Path, name: str) -> Iterator[np.ndarray]:
    import av

    count = 0
    try:
        with av.open(str(source)) as container:
            if not container.streams.video:
                raise _damaged(source, name, "it has no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # decode on every core
            declared = stream.frames
            for frame in container.decode(stream):
                count += 1
                yield frame.to_ndarray(format="rgb24")
    except (av.error.FFmpegError, OSError) as error:
        reason = getattr(error, "strerror", None) or error
        raise _damaged(source, name, f"at frame {count} (0-based): {reason}") from error
    if count == 0:
        raise _damaged(source, name, "it has no frames")
    if declared and count < declared:
        raise _damaged(
            source, name, f"it ended after {count} of the {declared} frames it declares"
        )


# --------------------------------------------------------------------------------------
# Writing


def check_output(
    path: str | Path,
    name: str = "output",
    suffixes: tuple[str, ...] | None = OUTPUT_SUFFIXES,
) -> Path:
    """`path` as a `Path`, after checking that a file can be written there: its suffix
    is one of `suffixes` (None: any), its folder exists and is writable, and it is not
    a folder.

    `ValueError` naming `name` otherwise: a typo should fail before the tracking does.
    """
    target = Path(path).expanduser()
    if not str(path).strip():
        raise ValueError(f"{name} must be a file path, got {str(path)!r}")
    if suffixes is not None and target.suffix.lower() not in suffixes:
        raise ValueError(
            f"{name} must end in {' or '.join(suffixes)}, got {str(path)!r}"
        )
    folder = target.absolute().parent
    if not folder.is_dir():
        raise ValueError(
            f"{name} {str(path)!r} cannot be written: its folder {str(folder)!r} "
            "does not exist"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(
            f"{name} {str(path)!r} cannot be written: no permission on {str(folder)!r}"
        )
    if target.is_dir():
        raise ValueError(f"{name} {str(path)!r} is a folder, expected a file")
    return target


class VideoWriter:
    """Write RGB frames one at a time to an MP4 (H.264) or an animated GIF.

    The format is `format` (`"mp4"` or `"gif"`) or else the suffix of `path`. The file
    is opened at the first frame, whose size every later frame must have. An MP4 is
    H.264 in `yuv420p`, which every browser plays (frames of odd width or height are
    padded by one repeated row or column, as that format needs even sizes) with its
    index at the front (`faststart`), so it plays while it loads. A GIF gets a palette
    of 256 colours per frame and loops forever. Use as a context manager::

        with VideoWriter("out.mp4", fps=25) as writer:
            for frame in frames:
                writer.write(frame)
    """

    def __init__(
        self, path: str | Path, fps: float = DEFAULT_FPS, *, format: str | None = None
    ) -> None:
        self.path = Path(path)
        self.format = (format or self.path.suffix.lower().lstrip(".")).lower()
        if "." + self.format not in OUTPUT_SUFFIXES:
            raise ValueError(
                f"format must be one of {[s[1:] for s in OUTPUT_SUFFIXES]} (or path "
                f"must end in one of {OUTPUT_SUFFIXES}), got {str(path)!r}"
            )
        if not np.isfinite(fps) or fps <= 0:
            raise ValueError(f"fps must be a positive number, got {fps!r}")
        self.fps = float(fps)
        self.frames = 0
        self._size: tuple[int, int] | None = None
        self._container = None  # PyAV output (MP4)
        self._stream = None
        self._file: IO[bytes] | None = None  # GIF

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, kind, error, trace) -> None:
        self.close()

    def write(self, frame: ArrayLike) -> None:
        """Append `frame`, `uint8 (H, W, 3)` RGB (or anything `as_frame` accepts)."""
        image = as_frame(frame)
        size = image.shape[:2]
        if self._size is None:
            self._size = size
            self._open(*size)
        elif size != self._size:
            raise ValueError(
                f"frame {self.frames} has size {size[1]}x{size[0]} but the first had "
                f"{self._size[1]}x{self._size[0]} (width x height)"
            )
        if self.format == "mp4":
            self._write_mp4(image)
        else:
            self._write_gif(image)
        self.frames += 1

    def close(self) -> None:
        """Flush and close the file (a writer that got no frame writes nothing)."""
        if self._container is not None:
            container, self._container = self._container, None
            import av

            try:
                for packet in self._stream.encode():  # the encoder's delayed frames
                    container.mux(packet)
            except av.error.FFmpegError as error:
                raise self._failed(error) from error
            finally:
                container.close()
        if self._file is not None:
            file, self._file = self._file, None
            try:
                file.write(b";")  # GIF trailer
            finally:
                file.close()

    def _open(self, height: int, width: int) -> None:
        if self.format == "mp4":
            import av

            try:
                self._container = av.open(
                    str(self.path),
                    "w",
                    format="mp4",
                    container_options={"movflags": "+faststart"},
                )
            except av.error.FFmpegError as error:
                raise self._failed(error) from error
            rate = Fraction(self.fps).limit_denominator(1001)
            stream = self._container.add_stream("libx264", rate=rate)
            stream.width, stream.height = width + width % 2, height + height % 2
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "20", "preset": "fast"}
            self._stream = stream
        else:
            self._file = open(self.path, "wb")

    def _write_mp4(self, image: np.ndarray) -> None:
        import av

        height, width = image.shape[:2]
        if height % 2 or width % 2:
            image = np.pad(image, ((0, height % 2), (0, width % 2), (0, 0)), "edge")
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except av.error.FFmpegError as error:
            raise self._failed(error) from error

    def _failed(self, error: Exception) -> OSError:
        """FFmpeg's error as an `OSError` that names the file (a full disk, say)."""
        reason = getattr(error, "strerror", None) or error
        return OSError(f"video {str(self.path)!r} cannot be written: {reason}")

    def _write_gif(self, image: np.ndarray) -> None:
        frame = Image.fromarray(image).quantize(256, Image.Quantize.FASTOCTREE)
        duration = round(1000 / self.fps, -1) or 10  # GIF counts in hundredths
        if self.frames == 0:
            header, _ = GifImagePlugin.getheader(
                frame, info={"loop": 0, "duration": duration}
            )
            self._file.writelines(header)
        self._file.writelines(
            GifImagePlugin.getdata(frame, duration=duration, include_color_table=True)
        )


@contextmanager
def staged(target: str | Path) -> Iterator[Path]:
    """A temporary path beside `target` (same folder, same suffix) that becomes
    `target` only when the `with` block succeeds; on any exception, KeyboardInterrupt
    included, it is removed, so a failed run leaves neither a partial file nor a
    stray temporary one."""
    target = Path(target)
    handle, name = tempfile.mkstemp(
        dir=target.absolute().parent,
        prefix=f".{target.name}.partial-",
        suffix=target.suffix,
    )
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's files are private; a video is not
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------
# Drawing


@functools.lru_cache(maxsize=1)
def _viridis() -> np.ndarray:
    """matplotlib's viridis as a `uint8 (256, 3)` lookup table: perceptually uniform
    and readable by colour-blind readers, as in the book's response-map figures."""
    from matplotlib import colormaps

    return np.round(colormaps["viridis"](np.linspace(0, 1, 256))[:, :3] * 255).astype(
        np.uint8
    )


@functools.lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def colorize(response: ArrayLike) -> np.ndarray:
    """A 2-D `response` map as a `uint8 (h, w, 3)` image: its minimum dark blue, its
    maximum yellow (viridis); a constant or non-finite map is all dark blue."""
    values = np.asarray(response, dtype=np.float64)
    if values.ndim != 2 or values.size == 0:
        raise ValueError(f"response must be a 2-D array, got shape {values.shape}")
    finite = np.isfinite(values)
    scaled = np.zeros(values.shape)
    if finite.any():
        low, high = values[finite].min(), values[finite].max()
        if high > low:
            scaled[finite] = (values[finite] - low) / (high - low)
    return _viridis()[np.round(scaled * 255).astype(np.intp)]


def annotate(
    frame: ArrayLike,
    box: ArrayLike,
    score: float,
    response: ArrayLike | None = None,
) -> np.ndarray:
    """A copy of `frame` (`uint8 (H, W, 3)`) with the xywh `box` (0-based pixels) drawn
    as an outline, its `score` written on a label at its top-left corner, and, given a
    2-D `response`, that map coloured (`colorize`) in an inset at the top-right corner,
    a quarter of the frame's shorter side wide.

    The line width and the text grow with the frame, so the drawing reads the same on
    a 64-pixel thumbnail and on a 1080p film.
    """
    image = Image.fromarray(as_frame(frame))
    x, y, w, h = as_boxes(box, "box").reshape(4)
    width, height = image.size
    side = min(width, height)
    line = max(1, round(side / 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle(
        (x, y, x + max(w - 1, 0), y + max(h - 1, 0)), outline=BOX_COLOR, width=line
    )
    font = _font(max(8, round(side / 30)))
    text = f"{score:.2f}"
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    label_w, label_h = right - left + 2 * line, bottom - top + 2 * line
    label_x = max(0, min(max(x, 0), width - label_w))
    label_y = y - label_h if y - label_h >= 0 else max(y, 0)
    label_y = max(0, min(label_y, height - label_h))
    draw.rectangle(
        (label_x, label_y, label_x + label_w - 1, label_y + label_h - 1),
        fill=BOX_COLOR,
    )
    draw.text((label_x + line - left, label_y + line - top), text, font=font, fill=0)
    if response is not None:
        inset_side = max(8, side // 4)
        inset = Image.fromarray(colorize(response)).resize(
            (inset_side, inset_side), Image.Resampling.NEAREST
        )
        left = width - inset_side - 2 * line  # a white frame of `line` pixels
        draw.rectangle((left, 0, width - 1, inset_side + 2 * line - 1), fill="white")
        image.paste(inset, (left + line, line))
    return np.asarray(image)


# --------------------------------------------------------------------------------------
# Tracking


def parse_box(text: str, name: str = "box") -> list[float]:
    """A box typed as `x,y,w,h` (e.g. on the command line) as four floats;
    `ValueError` naming `name` when it is not four numbers."""
    try:
        numbers = [float(part) for part in str(text).split(",")]
    except ValueError:
        numbers = []
    if len(numbers) != 4:
        raise ValueError(
            f"{name} must be 4 numbers x,y,w,h (the target's top-left corner, width "
            f"and height in pixels, 0-based), got {text!r}"
        )
    return numbers


def check_box(box: ArrayLike, shape: tuple[int, ...], name: str = "box") -> np.ndarray:
    """The xywh `box` as float64 `(4,)`, checked against a frame of `shape`
    `(H, W, ...)`: four finite numbers, positive width and height, overlapping the
    frame. `ValueError` naming `name` otherwise."""
    b = as_boxes(box, name, positive=True)
    if b.size != 4:
        raise ValueError(f"{name} must be one box x,y,w,h, got shape {b.shape}")
    x, y, w, h = b.reshape(4)
    height, width = shape[:2]
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise ValueError(
            f"{name} {[float(v) for v in (x, y, w, h)]} lies outside the frame of "
            f"width {width} and height {height}: it must overlap the frame"
        )
    return b.reshape(4)


def track_video(
    tracker: Tracker,
    frames: Iterable[np.ndarray],
    box: ArrayLike,
    output: str | Path,
    *,
    inset: bool = False,
    boxes_path: str | Path | None = None,
    progress: bool = True,
    fps: float | None = None,
    total: int | None = None,
    name: str = "box",
) -> dict:
    """Run `tracker` over `frames` from the xywh `box` (0-based) on the first, writing
    each frame annotated with its box and score (`annotate`, with the response map as
    an inset when `inset` is set and the tracker gives one) to `output`, an MP4 or GIF
    (`VideoWriter`), at `fps` frames per second (default `DEFAULT_FPS`).

    `frames` is consumed one frame at a time, so a generator such as `read_frames`
    keeps memory flat. With `boxes_path`, the boxes are also written as a results file
    (one 1-based `x,y,w,h` row per frame, like the benchmarks' toolkits; see
    `siamlab.datasets.formats.write_boxes`). Both files are written beside their
    target and moved into place only when the whole run succeeds. `total` (the frame
    count, if known) sizes the progress bar; `name` is the box's name in error
    messages.

    Returns the statistics: `frames`, `seconds` (the whole run), `tracking_seconds`
    (`init` and `update` only), `tracker_fps` and `fps` (the whole run), `output`,
    `boxes_path`, and the `(N, 4)` `boxes` and `(N,)` `scores` (the first box is the
    given one with score 1).
    """
    start = time.perf_counter()
    output = check_output(output)
    if boxes_path is not None:
        boxes_path = check_output(boxes_path, "boxes_path", suffixes=None)
    iterator = iter(frames)
    first = next(iterator, None)
    if first is None:
        raise ValueError("frames must hold at least one frame, got none")
    first = as_frame(first)
    initial = check_box(box, first.shape, name)
    boxes, scores = [initial], [1.0]
    elapsed = 0.0
    bar = progress_bar(
        total=total, enabled=progress, desc=tracker.name, unit="frame", leave=False
    )
    with ExitStack() as stack:
        stack.callback(bar.close)
        video_tmp = stack.enter_context(staged(output))
        boxes_tmp = stack.enter_context(staged(boxes_path)) if boxes_path else None
        writer = stack.enter_context(VideoWriter(video_tmp, fps or DEFAULT_FPS))
        tick = time.perf_counter()
        tracker.init(first, initial)
        elapsed += time.perf_counter() - tick
        writer.write(annotate(first, initial, 1.0))
        bar.update(1)
        for frame in iterator:
            frame = check_frame(frame, first.shape)
            tick = time.perf_counter()
            result = tracker.update(frame)
            elapsed += time.perf_counter() - tick
            response = result.response if inset else None
            writer.write(annotate(frame, result.box, result.score, response))
            boxes.append(np.asarray(result.box, dtype=np.float64).reshape(4))
            scores.append(float(result.score))
            bar.update(1)
        writer.close()
        if boxes_tmp is not None:
            formats.write_boxes(boxes_tmp, np.stack(boxes))
    seconds = time.perf_counter() - start
    count = len(boxes)
    return {
        "frames": count,
        "seconds": seconds,
        "tracking_seconds": elapsed,
        "tracker_fps": count / elapsed if elapsed > 0 else float("inf"),
        "fps": count / seconds if seconds > 0 else float("inf"),
        "output": str(output),
        "boxes_path": None if boxes_path is None else str(boxes_path),
        "boxes": np.stack(boxes),
        "scores": np.asarray(scores),
    }
