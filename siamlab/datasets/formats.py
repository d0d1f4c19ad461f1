"""The folder layouts of the public tracking benchmarks (OTB, GOT-10k, LaSOT, VOT), read
and written.

Each benchmark stores a sequence as a folder of numbered images beside a ground-truth
text file of 1-based `x, y, w, h` rows (VOT: possibly 8-value polygons), with its own
files for absent frames. The readers turn them into `Sequence`s with the library's
0-based boxes; the writers do the reverse, so that SynthTrack can be scored by other
toolkits. `load_dataset` maps a spec such as `otb:/data/OTB100` or `synth-test` to a
list of sequences.
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from PIL import Image

from siamlab.datasets.sequence import Sequence

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")

#: OTB-100 sequences whose annotation starts after the first image (1-based first
# annotated image).
OTB_FIRST_FRAME = {
    "David": 300,
    "BlurCar1": 247,
    "BlurCar3": 3,
    "BlurCar4": 18,
    "Tiger1": 6,
}

#: VOT per-frame tag files and the OTB attribute each corresponds to.
VOT_TAGS = {
    "occlusion": "OCC",
    "illum_change": "IV",
    "size_change": "SV",
    "motion_change": "FM",
}

DATASET_SPECS = (
    "synth-test",
    "synth-train",
    "otb:DIR",
    "got10k:DIR",
    "lasot:DIR",
    "vot:DIR",
    "vot-area:DIR",
)


# --------------------------------------------------------------------------------------
# Text files


def _read_text(path: Path) -> str:
    """The text of `path`, UTF-8 (a leading byte-order mark is dropped); `ValueError`
    naming the file for another encoding, `FileNotFoundError` when it is not a file."""
    if not path.is_file():
        raise FileNotFoundError(f"path {str(path)!r} is not a file")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path}: not UTF-8 text (byte {error.start}: {error.reason}); save it as "
            f"UTF-8 or ASCII"
        ) from None


def read_boxes(
    path: str | Path, one_based: bool = True, box_rule: str = "bounds"
) -> np.ndarray:
    """Boxes of a ground-truth or results file as 0-based xywh floats, `(N, 4)`.

    Rows hold 4 numbers (`x, y, w, h`) or 8 (a polygon `x1, y1, … x4, y4`, replaced by
    an axis-aligned box: `polygon_box` with `box_rule`), separated by commas, tabs or
    spaces; `NaN` rows stay NaN. With
    `one_based` (the benchmarks' convention) 1 is subtracted from x and y. A malformed
    row raises `ValueError` naming the file and the line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path {str(path)!r} is not a file")
    rows = []
    lines = _read_text(path).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    for number, line in enumerate(lines, start=1):
        rows.append(_parse_row(line, path, number, box_rule))
    if not rows:
        raise ValueError(f"{path}: no boxes in the file")
    boxes = np.array(rows, dtype=np.float64)
    if one_based:
        boxes[:, :2] -= 1
    return boxes


def _parse_row(
    line: str, path: Path, number: int, box_rule: str = "bounds"
) -> list[float]:
    fields = [field for field in re.split(r"[,\s]+", line.strip()) if field]
    if fields and fields[0].startswith("m"):
        raise ValueError(
            f"{path}:{number}: segmentation masks are not supported, "
            "only boxes and polygons"
        )
    try:
        values = [float(field) for field in fields]
    except ValueError:
        raise ValueError(
            f"{path}:{number}: expected numbers, got {line.strip()!r}"
        ) from None
    if any(math.isinf(value) for value in values):
        raise ValueError(
            f"{path}:{number}: infinite value in {line.strip()!r} (NaN marks an absent "
            f"target; infinity is not a coordinate)"
        )
    if len(values) == 8:
        return polygon_box(values, box_rule)
    if len(values) != 4:
        raise ValueError(
            f"{path}:{number}: expected 4 values (x, y, w, h) or 8 (a polygon), "
            f"got {len(values)}: {line.strip()!r}"
        )
    return values


#: The rules that turn a VOT polygon into an axis-aligned box (see `polygon_box`).
BOX_RULES = ("bounds", "area")


def polygon_box(polygon: list[float] | np.ndarray, rule: str = "bounds") -> list[float]:
    """The axis-aligned `[x, y, w, h]` box of a polygon `x1, y1, … x4, y4` (same
    coordinates).

    `rule="bounds"` (the default): the smallest box holding every vertex, the polygon's
    bounding rectangle — the conversion of the VOT toolkit (`Polygon` to `Rectangle`).
    `rule="area"`: the area-preserving box the reference trackers initialise with
    (SiamFC's and DCFNet's `get_axis_aligned_BB`, pysot's `get_axis_aligned_bbox`):
    centred on the mean of the vertices, with the bounding rectangle's proportions
    scaled by `s = sqrt(A1 / A2)`, where `A1 = |p1 - p2| * |p2 - p3|` (the polygon's
    area when it is a rectangle) and `A2` is the bounding rectangle's area, so the box's
    area is `A1`. (pysot adds 1 to w and h, for its pixel-count convention; siamlab's
    coordinates are continuous, so it does not.)
    """
    values = np.asarray(polygon, dtype=np.float64).reshape(-1)
    if values.shape != (8,):
        raise ValueError(
            f"polygon must hold 8 values (x1, y1, … x4, y4), got {values.size}"
        )
    if rule not in BOX_RULES:
        raise ValueError(f"box_rule must be one of {BOX_RULES}, got {rule!r}")
    xs, ys = values[0::2], values[1::2]
    x1, x2, y1, y2 = xs.min(), xs.max(), ys.min(), ys.max()
    if rule == "bounds":
        return [float(x1), float(y1), float(x2 - x1), float(y2 - y1)]
    corners = values.reshape(4, 2)
    a1 = np.linalg.norm(corners[0] - corners[1]) * np.linalg.norm(
        corners[1] - corners[2]
    )
    a2 = (x2 - x1) * (y2 - y1)
    scale = np.sqrt(a1 / a2) if a2 > 0 else 1.0
    w, h = scale * (x2 - x1), scale * (y2 - y1)
    return [float(xs.mean() - w / 2), float(ys.mean() - h / 2), float(w), float(h)]


def write_boxes(
    path: str | Path,
    boxes: np.ndarray,
    one_based: bool = True,
    absent: np.ndarray | None = None,
) -> None:
    """Write 0-based xywh `boxes` `(N, 4)` as comma-separated rows (1-based with
    `one_based`).

    Rows of `absent` frames (and non-finite rows) are written as `0,0,0,0`, which the
    readers treat as absent.
    """
    boxes = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    missing = ~np.all(np.isfinite(boxes), axis=1)
    if absent is not None:
        missing |= np.asarray(absent, dtype=bool)
    if one_based:
        boxes[:, :2] += 1
    lines = [
        "0,0,0,0" if skip else ",".join(f"{v:.4f}" for v in row)
        for row, skip in zip(boxes, missing)
    ]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(lines) + "\n")


def _absent_rows(boxes: np.ndarray) -> np.ndarray:
    """Rows that mark an absent target: non-finite values or a non-positive width or
    height."""
    finite = np.all(np.isfinite(boxes), axis=1)
    return (
        ~finite | (np.nan_to_num(boxes[:, 2]) <= 0) | (np.nan_to_num(boxes[:, 3]) <= 0)
    )


def _read_flags(path: Path, count: int) -> np.ndarray | None:
    """A per-frame 0/1 (or integer) label file, one value per line or comma-separated;
    None if missing."""
    if not path.is_file():
        return None
    fields = [f for f in re.split(r"[,\s]+", _read_text(path).strip()) if f]
    try:
        values = np.array([int(float(f)) for f in fields], dtype=np.int64)
    except ValueError:
        raise ValueError(f"{path}: expected one integer per frame") from None
    if len(values) != count:
        raise ValueError(
            f"{path}: expected {count} values (one per frame), got {len(values)}"
        )
    return values


# --------------------------------------------------------------------------------------
# Frames


def _load_image(path: str) -> np.ndarray:
    """One image file as `uint8 (H, W, 3)` RGB.

    16-bit images (Pillow modes `I;16…` and `I`) are scaled by 255 / 65535, so their
    whole range maps onto 0 … 255 instead of being clipped to white; floating-point
    images are refused (their range is unknown).
    """
    with Image.open(path) as image:
        if image.mode.startswith("I"):
            values = np.asarray(image).astype(np.float64)
            scaled = np.clip(np.round(values * (255 / 65535)), 0, 255).astype(np.uint8)
            return np.repeat(scaled.reshape(*scaled.shape[:2], 1), 3, axis=2)
        if image.mode == "F":
            raise ValueError(
                "floating-point images are not supported (8 or 16 bits only)"
            )
        return np.asarray(image.convert("RGB"))


def _load_indexed(files: tuple[str, ...], index: int) -> np.ndarray:
    """Frame `index` (0-based) of a sequence; `ValueError` naming the frame and its file
    when the image cannot be decoded (corrupt, truncated, empty or not an image)."""
    try:
        return _load_image(files[index])
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ValueError(
            f"frame {index} (0-based) of {len(files)}, file {files[index]!r}, "
            f"cannot be read as an image: {error}"
        ) from error


def _natural_key(path: Path) -> tuple[list[str | int], str]:
    """Sort key that compares the digit runs of a name as numbers: `2.jpg` <
    `10.jpg`."""
    parts = re.split(r"(\d+)", path.name)
    return [int(p) if i % 2 else p for i, p in enumerate(parts)], path.name


def frame_files(folder: Path) -> list[Path]:
    """The images of a folder in numeric order: `1.jpg, 2.jpg, … 10.jpg` as well as the
    benchmarks' zero-padded `00000001.jpg …` (a plain string sort would put 10 before
    2)."""
    images = (p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    return sorted(images, key=_natural_key)


def _sequence(
    name: str,
    boxes: np.ndarray,
    files: list[Path],
    absent: np.ndarray | None = None,
    attributes: Iterable[str] = (),
    *,
    truth: Path | None = None,
    exact: bool = True,
    **metadata,
) -> Sequence:
    """A `Sequence` of `files` with one row of `boxes` each. With `exact` (GOT-10k,
    LaSOT, VOT) the counts must be equal; otherwise (OTB) images after the last row are
    unused."""
    source = str(truth) if truth is not None else f"sequence {name!r}"
    if len(files) < len(boxes):
        raise ValueError(f"{source}: {len(boxes)} boxes but only {len(files)} images")
    if exact and len(files) > len(boxes):
        raise ValueError(
            f"{source}: {len(boxes)} box rows for {len(files)} images; "
            "every frame needs one row (is the file cut short?)"
        )
    files = files[: len(boxes)]
    flags = (
        _absent_rows(boxes)
        if absent is None
        else (np.asarray(absent, bool) | _absent_rows(boxes))
    )

    load_frame = functools.partial(_load_indexed, tuple(str(f) for f in files))
    return Sequence(
        name=name,
        boxes=boxes,
        load_frame=load_frame,
        absent=flags,
        attributes=tuple(attributes),
        metadata={"files": [str(f) for f in files], **metadata},
    )


def _folder(root: str | Path) -> Path:
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"dataset folder {str(root)!r} does not exist")
    return root


def _limit(folders: list[Path], max_sequences: int | None) -> list[Path]:
    if max_sequences is not None and (
        isinstance(max_sequences, bool)
        or not isinstance(max_sequences, (int, np.integer))
        or max_sequences < 1
    ):
        raise ValueError(
            f"max_sequences must be a positive integer or None, got {max_sequences!r}"
        )
    return folders if max_sequences is None else folders[: int(max_sequences)]


def _read_attributes(path: Path) -> tuple[str, ...]:
    if not path.is_file():
        return ()
    return tuple(t for t in re.split(r"[,\s]+", _read_text(path).strip()) if t)


# --------------------------------------------------------------------------------------
# Readers


def read_otb(root: str | Path, max_sequences: int | None = None) -> list[Sequence]:
    """OTB layout: `root/<Name>/img/0001.jpg …` and `root/<Name>/groundtruth_rect.txt`.

    Sequences with two targets (`groundtruth_rect.1.txt`, `.2.txt`) become `Name.1` and
    `Name.2`; an optional `attributes.txt` (comma-separated OTB tags, written by
    `write_otb`) sets attributes. `root` may also be a single sequence's folder.

    Frame count, as the OTB toolkit does it: row `k` of the ground truth belongs to
    image `startFrame + k` (`OTB_FIRST_FRAME`, else image 1), and images after the last
    row are not part of the sequence (the toolkit's `endFrame`: some OTB folders hold
    more images than annotated frames). Fewer images than rows is a `ValueError` naming
    the file. GOT-10k, LaSOT and VOT have no such range: there rows and images must
    match exactly.
    """
    root = _folder(root)
    folders = (
        [root]
        if (root / "img").is_dir()
        else sorted(p for p in root.iterdir() if (p / "img").is_dir())
    )
    if not folders:
        raise FileNotFoundError(
            f"no OTB sequences (folders with img/) in {str(root)!r}"
        )
    sequences = []
    for folder in folders:
        files = frame_files(folder / "img")
        first = OTB_FIRST_FRAME.get(folder.name, 1)
        files = [
            f for f in files if _frame_number(f) is None or _frame_number(f) >= first
        ]
        truths = sorted(folder.glob("groundtruth_rect*.txt"))
        if not truths:
            raise FileNotFoundError(f"no groundtruth_rect.txt in {str(folder)!r}")
        attributes = _read_attributes(folder / "attributes.txt")
        for truth in truths:
            suffix = truth.name[len("groundtruth_rect") : -len(".txt")]
            name = folder.name + (suffix if suffix else "")
            sequences.append(
                _sequence(
                    name,
                    read_boxes(truth),
                    files,
                    attributes=attributes,
                    truth=truth,
                    exact=False,
                    format="otb",
                )
            )
    return _limit(sequences, max_sequences)


def _frame_number(path: Path) -> int | None:
    digits = re.findall(r"\d+", path.stem)
    return int(digits[-1]) if digits else None


def _sequence_folders(root: Path, depth: int) -> list[Path]:
    """Folders up to `depth` levels below `root` (itself included) holding a
    `groundtruth.txt`."""
    if (root / "groundtruth.txt").is_file():
        return [root]
    if depth == 0:
        return []
    return [
        f
        for child in sorted(p for p in root.iterdir() if p.is_dir())
        for f in _sequence_folders(child, depth - 1)
    ]


def _listed(root: Path, folders: list[Path]) -> list[Path]:
    """Order `folders` as `root/list.txt` lists them, when that file exists."""
    listing = root / "list.txt"
    if not listing.is_file():
        return folders
    names = [line.strip() for line in _read_text(listing).splitlines() if line.strip()]
    by_name = {f.name: f for f in folders}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise FileNotFoundError(
            f"{listing}: listed sequence {missing[0]!r} has no folder "
            "with groundtruth.txt"
        )
    return [by_name[n] for n in names]


def read_got10k(root: str | Path, max_sequences: int | None = None) -> list[Sequence]:
    """GOT-10k layout (one subset, e.g. `val/`): `root/list.txt`,
    `root/<Name>/00000001.jpg …`, `groundtruth.txt`, and `absence.label` (1 = target
    absent); `cover.label` (0–8, visible eighths) goes to `metadata["cover_label"]`; a
    siamlab `attributes:` line in `meta_info.ini` sets attributes."""
    root = _folder(root)
    folders = _limit(_listed(root, _sequence_folders(root, 1)), max_sequences)
    if not folders:
        raise FileNotFoundError(
            f"no GOT-10k sequences (folders with groundtruth.txt) in {str(root)!r}"
        )
    sequences = []
    for folder in folders:
        boxes = read_boxes(folder / "groundtruth.txt")
        files = frame_files(folder)
        if len(boxes) == 1 and len(files) > 1:
            raise ValueError(
                f"{folder}: only the first frame is annotated (GOT-10k test set); "
                "use train or val"
            )
        absent = _read_flags(folder / "absence.label", len(boxes))
        cover = _read_flags(folder / "cover.label", len(boxes))
        sequences.append(
            _sequence(
                folder.name,
                boxes,
                files,
                None if absent is None else absent > 0,
                _got10k_attributes(folder / "meta_info.ini"),
                truth=folder / "groundtruth.txt",
                format="got10k",
                cover_label=cover,
            )
        )
    return sequences


def _got10k_attributes(path: Path) -> tuple[str, ...]:
    if not path.is_file():
        return ()
    for line in _read_text(path).splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "attributes":
            return tuple(t for t in re.split(r"[,\s]+", value.strip()) if t)
    return ()


def read_lasot(root: str | Path, max_sequences: int | None = None) -> list[Sequence]:
    """LaSOT layout: `root/<class>/<class>-<n>/img/00000001.jpg …`, `groundtruth.txt`,
    and `full_occlusion.txt` / `out_of_view.txt` (comma-separated 0/1 per frame); a
    frame is absent when either flag is set. `root` may also be one class folder or one
    sequence folder."""
    root = _folder(root)
    folders = _limit(_sequence_folders(root, 2), max_sequences)
    if not folders:
        raise FileNotFoundError(
            f"no LaSOT sequences (folders with groundtruth.txt) in {str(root)!r}"
        )
    sequences = []
    for folder in folders:
        boxes = read_boxes(folder / "groundtruth.txt")
        absent = np.zeros(len(boxes), dtype=bool)
        for flag_file in ("full_occlusion.txt", "out_of_view.txt"):
            flags = _read_flags(folder / flag_file, len(boxes))
            if flags is not None:
                absent |= flags > 0
        sequences.append(
            _sequence(
                folder.name,
                boxes,
                frame_files(folder / "img"),
                absent,
                truth=folder / "groundtruth.txt",
                format="lasot",
            )
        )
    return sequences


def read_vot(
    root: str | Path, max_sequences: int | None = None, box_rule: str = "bounds"
) -> list[Sequence]:
    """VOT layout: `root/list.txt`, `root/<name>/groundtruth.txt` (boxes or 8-value
    polygons), frames in `root/<name>/color/` (VOT2019 on) or in the sequence folder
    itself (earlier editions); per-frame tag files (`occlusion.tag`, …) set the matching
    OTB attributes.

    Polygons become axis-aligned boxes by `box_rule` (see `polygon_box`): `"bounds"`
    (default, the polygon's bounding rectangle, as the VOT toolkit converts them) or
    `"area"` (the area-preserving box centred on the polygon that SiamFC, DaSiamRPN and
    pysot initialise with; `load_dataset("vot-area:DIR")`). The sequences are scored
    one-pass, like OTB.
    """
    if box_rule not in BOX_RULES:
        raise ValueError(f"box_rule must be one of {BOX_RULES}, got {box_rule!r}")
    root = _folder(root)
    folders = _limit(_listed(root, _sequence_folders(root, 1)), max_sequences)
    if not folders:
        raise FileNotFoundError(
            f"no VOT sequences (folders with groundtruth.txt) in {str(root)!r}"
        )
    sequences = []
    for folder in folders:
        boxes = read_boxes(folder / "groundtruth.txt", box_rule=box_rule)
        images = folder / "color" if (folder / "color").is_dir() else folder
        attributes = []
        for tag, attribute in VOT_TAGS.items():
            flags = _read_flags(folder / f"{tag}.tag", len(boxes))
            if flags is None:
                flags = _read_flags(folder / f"{tag}.label", len(boxes))
            if flags is not None and flags.any():
                attributes.append(attribute)
        sequences.append(
            _sequence(
                folder.name,
                boxes,
                frame_files(images),
                attributes=attributes,
                format="vot",
                box_rule=box_rule,
            )
        )
    return sequences


# --------------------------------------------------------------------------------------
# Writers


def _save_frames(sequence: Sequence, folder: Path, digits: int, suffix: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index, frame in enumerate(sequence.frames(), start=1):
        Image.fromarray(frame).save(folder / f"{index:0{digits}d}{suffix}", quality=95)


def _check_suffix(image_format: str) -> str:
    if image_format not in ("jpg", "png"):
        raise ValueError(f"image_format must be 'jpg' or 'png', got {image_format!r}")
    return "." + image_format


def write_otb(
    sequences: Iterable[Sequence], root: str | Path, image_format: str = "jpg"
) -> Path:
    """Write sequences in the OTB layout (`root/<name>/img/0001.jpg`,
    `groundtruth_rect.txt` with 1-based rows, absent frames as `0,0,0,0`) plus
    `attributes.txt` with the OTB tags; returns `root`."""
    suffix, root = _check_suffix(image_format), Path(root)
    for sequence in sequences:
        folder = root / sequence.name
        _save_frames(sequence, folder / "img", 4, suffix)
        write_boxes(
            folder / "groundtruth_rect.txt", sequence.boxes, absent=sequence.absent
        )
        (folder / "attributes.txt").write_text(",".join(sequence.attributes) + "\n")
    return root


def write_got10k(
    sequences: Iterable[Sequence], root: str | Path, image_format: str = "jpg"
) -> Path:
    """Write sequences in the GOT-10k layout (`root/list.txt`,
    `root/<name>/00000001.jpg`, `groundtruth.txt`, `absence.label`, `cover.label` in
    visible eighths when the sequence's `metadata["cover"]` gives the occluded fraction,
    `meta_info.ini` with the attributes); returns `root`."""
    suffix, root = _check_suffix(image_format), Path(root)
    names = []
    for sequence in sequences:
        folder = root / sequence.name
        _save_frames(sequence, folder, 8, suffix)
        write_boxes(folder / "groundtruth.txt", sequence.boxes, absent=sequence.absent)
        (folder / "absence.label").write_text(
            "\n".join(str(int(a)) for a in sequence.absent) + "\n"
        )
        cover = sequence.metadata.get("cover")
        if cover is not None:
            eighths = np.where(
                sequence.absent, 0, np.round(8 * (1 - np.asarray(cover))).astype(int)
            )
            (folder / "cover.label").write_text(
                "\n".join(str(int(c)) for c in eighths) + "\n"
            )
        info = {
            "object_class": "synthetic object",
            "attributes": ",".join(sequence.attributes),
            "frames": str(len(sequence)),
        }
        (folder / "meta_info.ini").write_text(
            "[METAINFO]\n" + "".join(f"{k}: {v}\n" for k, v in info.items())
        )
        names.append(sequence.name)
    (root / "list.txt").write_text("".join(f"{name}\n" for name in names))
    return root


WRITERS: dict[str, Callable[..., Path]] = {"otb": write_otb, "got10k": write_got10k}


READERS: dict[str, Callable[..., list[Sequence]]] = {
    "otb": read_otb,
    "got10k": read_got10k,
    "lasot": read_lasot,
    "vot": read_vot,
    "vot-area": functools.partial(read_vot, box_rule="area"),
}


def load_dataset(spec: str, max_sequences: int | None = None) -> list[Sequence]:
    """The sequences named by `spec`: `synth-test`, `synth-train`, or `FORMAT:DIR` with
    FORMAT one of `otb`, `got10k`, `lasot`, `vot`, `vot-area` (VOT with the
    area-preserving polygon rule, see `read_vot`); at most `max_sequences` of them (the
    first, in name or list order). Each sequence carries the scoring protocol of its
    format (`Sequence.protocol`)."""
    if max_sequences is not None and (
        not isinstance(max_sequences, (int, np.integer)) or max_sequences < 1
    ):
        raise ValueError(
            f"max_sequences must be a positive integer or None, got {max_sequences!r}"
        )
    if spec in ("synth-test", "synth-train"):
        from siamlab.datasets import synth

        return (synth.synth_test if spec == "synth-test" else synth.synth_train)(
            max_sequences
        )
    kind, sep, folder = str(spec).partition(":")
    if not sep or kind not in READERS or not folder:
        raise ValueError(
            f"dataset spec must be one of {', '.join(DATASET_SPECS)}, got {spec!r}"
        )
    return READERS[kind](folder, max_sequences)
