"""The browser check finds each fault it promises to find, on a small site made here."""

import base64
import io
import sys
from pathlib import Path

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))

from check_book import CHROMIUM, check_book, pages  # noqa: E402

from siamlab.widgets.static import states_html  # noqa: E402

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).is_file(), reason="needs Debian's chromium (make browser)"
)


def jpeg(value: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (value, 0, 0)).save(buffer, format="JPEG")
    return buffer.getvalue()


def page(body: str) -> str:
    return f"<!doctype html><html><body><article>{body}</article></body></html>"


PNG = base64.b64encode(
    base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
    )
).decode()


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict[str, list[str]]:
    root = tmp_path_factory.mktemp("site")
    states = {"frame": [0, 1, 2]}
    working = states_html([jpeg(0), jpeg(120), jpeg(250)], [0, 1, 2], states)
    inert = states_html([jpeg(0)], [0, 0, 0], states)
    files = {
        "index.html": page(f"<p>An explorer.</p>{working}"),
        "good/image.html": page(f'<img src="data:image/png;base64,{PNG}">'),
        "outside.html": page(
            '<script src="https://cdn.example.org/require.js"></script>'
        ),
        "broken.html": page('<img src="missing.png">'),
        "traceback.html": page(
            '<div class="cell_output"><pre>Traceback (most recent call last):\n'
            "ValueError: no</pre></div>"
        ),
        "widget.html": page(
            '<div class="cell_output"><pre>VBox(children=(...))</pre></div>'
        ),
        "math.html": page('<p><span class="math">\\(x^2\\)</span></p>'),
        "inert.html": page(inert),
        "wide.html": page(
            '<div class="cell_input" style="width: 300px"><pre style="overflow: auto">'
            + "x = 1  # "
            + "a long comment " * 12
            + "</pre></div>"
        ),
        "script.html": page("<script>const a = 1; const a = 2;</script>"),
        "_static/skipped.html": page('<img src="missing.png">'),
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return check_book(root, tmp_path_factory.mktemp("shots"))


def test_pages_are_every_html_file_but_the_theme_s(tmp_path):
    with pytest.raises(FileNotFoundError, match="index.html"):
        pages(tmp_path)
    (tmp_path / "_static").mkdir()
    for name in ("index.html", "b.html", "_static/c.html"):
        (tmp_path / name).write_text("x")
    assert [p.as_posix() for p in pages(tmp_path)] == ["b.html", "index.html"]


def test_sound_pages_and_a_working_explorer_pass(report):
    assert report["index.html"] == []
    assert report["good/image.html"] == []
    assert "_static/skipped.html" not in report


@pytest.mark.parametrize(
    "name, expected",
    [
        ("outside.html", "outside request: https://cdn.example.org/require.js"),
        ("broken.html", "image does not load"),
        ("broken.html", "missing file (404)"),
        ("traceback.html", "a traceback"),
        ("widget.html", "a widget shown as text"),
        ("math.html", "not typeset"),
        ("inert.html", "moving the slider does not change the figure"),
        ("script.html", "JavaScript error"),
        ("wide.html", "1 code cell(s) scroll sideways"),
    ],
)
def test_each_fault_is_reported(report, name, expected):
    assert any(expected in problem for problem in report[name]), report[name]
