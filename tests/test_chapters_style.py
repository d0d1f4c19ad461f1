"""How the chapters are written: short code lines, captioned figures, hidden checks.

The HTML book shows code cells without wrapping, so a line over 88 characters scrolls
sideways; a figure without a numbered caption cannot be referred to; and a `remove-cell`
check, hidden in the book, should be collapsed in JupyterLab too
(`jupyter.source_hidden`).
"""

import re
from pathlib import Path

import jupytext
import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
# The chapters written to this standard; a new chapter joins the list once it meets it.
CHAPTERS = [
    BOOK / name
    for name in (
        "00_tracking.md",
        "01_siamese.md",
        "02_siamfc.md",
        "03_rpn_anchors.md",
        "04_siamrpn.md",
        "05_dasiamrpn.md",
        "06_siamrpnpp.md",
        "07_benchmark.md",
    )
]
MAX_LINE = 88
# A cell draws a static figure when it assigns `fig` or calls a plotting function.
DRAWS = re.compile(r"^(fig\b.*=|\w+\.plot_\w+\(|explorer\.(figure|update\(\))$)", re.M)


def _code_cells(path: Path) -> list:
    notebook = jupytext.read(path)
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_code_lines_fit_88_columns(path):
    long = [
        line
        for cell in _code_cells(path)
        for line in cell.source.splitlines()
        if len(line) > MAX_LINE
    ]
    assert not long, long


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_hidden_checks_are_collapsed_in_jupyterlab(path):
    for cell in _code_cells(path):
        if "remove-cell" in cell.metadata.get("tags", []):
            assert cell.metadata.get("jupyter", {}).get("source_hidden"), cell.source


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_figure_has_a_numbered_caption(path):
    for cell in _code_cells(path):
        if DRAWS.search(cell.source):
            figure = cell.metadata.get("mystnb", {}).get("figure", {})
            assert figure.get("caption") and figure.get("name"), cell.source


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_has_a_label_and_a_summary(path):
    text = path.read_text(encoding="utf-8")
    assert re.search(r"^\(chap-[a-z-]+\)=\n# ", text, re.MULTILINE)
    assert "\n## Summary\n" in text
