"""The README's animation: a GIF under docs/ that exists, animates and stays small, and
that docs/README.md says how to make again with `siamlab track`."""

import re
import shlex
from pathlib import Path

import pytest
from PIL import Image

from siamlab.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MAX_BYTES = 2 * 1024 * 1024
MIN_FRAMES = 11
COMMAND = "python -m siamlab track"
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+\.gif)\)")


def _readme_gifs() -> list[Path]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [ROOT / link for link in IMAGE.findall(text)]


def _track_commands() -> list[list[str]]:
    """Every `python -m siamlab track ...` line of docs/README.md, split as a shell
    would."""
    text = (DOCS / "README.md").read_text(encoding="utf-8")
    return [
        shlex.split(line[line.index(COMMAND) :])
        for line in text.splitlines()
        if COMMAND in line and "--output" in line
    ]


@pytest.fixture(scope="module")
def gif() -> Path:
    gifs = _readme_gifs()
    assert len(gifs) == 1, f"the README should show one GIF, found {gifs}"
    return gifs[0]


def test_readme_shows_a_gif_under_docs(gif):
    assert gif.resolve().parent == DOCS.resolve(), f"{gif} is not in docs/"
    assert gif.is_file(), f"{gif} does not exist"


def test_gif_is_animated_and_small(gif):
    size = gif.stat().st_size
    assert size < MAX_BYTES, f"{gif.name} is {size} bytes, over {MAX_BYTES}"
    with Image.open(gif) as image:
        assert image.format == "GIF"
        assert image.n_frames >= MIN_FRAMES, f"{image.n_frames} frames"
        image.seek(image.n_frames - 1)
        image.convert("RGB")  # the last frame decodes: the file is whole


def test_docs_readme_gives_the_command_that_made_it(gif):
    commands = _track_commands()
    assert commands, f"docs/README.md has no `{COMMAND} ... --output FILE` line"
    outputs = []
    for words in commands:
        assert words[:3] == ["python", "-m", "siamlab"]
        args = build_parser().parse_args(words[3:])  # a valid command, as typed
        outputs.append((ROOT / args.output).resolve())
    assert gif.resolve() in outputs, f"no command in docs/README.md writes {gif}"
