"""The chapters are stored exactly as jupytext writes them from JupyterLab.

JupyterLab opens a chapter through jupytext's contents manager, starts the "Python 3
(ipykernel)" kernel (which sets the notebook's kernelspec) and saves on autosave. If the
stored file differed from what that save writes, merely opening a chapter would leave a
reader's clone dirty. These tests replay the open-and-save and compare byte for byte.
"""

import json
import shutil
import sys
from pathlib import Path

import jupytext
import pytest
from jupytext import TextFileContentsManager

BOOK = Path(__file__).resolve().parent.parent / "book"
CHAPTERS = sorted(BOOK.glob("[0-9][0-9]_*.md"))

# The kernelspec JupyterLab writes once the ipykernel kernel of this environment starts.
KERNELSPEC = {
    "display_name": "Python 3 (ipykernel)",
    "language": "python",
    "name": "python3",
}


def _installed_kernel_display_name() -> str:
    """The display name of the `python3` kernel that ipykernel installs in this env."""
    path = (
        Path(sys.prefix) / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    )
    if not path.exists():
        pytest.skip(f"no ipykernel kernelspec at {path}")
    return json.loads(path.read_text())["display_name"]


def _open_and_save_in_jupyterlab(path: Path, workdir: Path) -> str:
    """Open `path` with jupytext's contents manager, set the kernel, save it."""
    copy = workdir / path.name
    shutil.copyfile(path, copy)
    manager = TextFileContentsManager(root_dir=str(workdir))
    notebook = manager.get(path.name)["content"]
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    manager.save({"type": "notebook", "format": "json", "content": notebook}, path.name)
    return copy.read_text(encoding="utf-8")


def test_there_are_chapters():
    assert len(CHAPTERS) >= 4, CHAPTERS


def test_kernelspec_matches_the_installed_kernel():
    assert _installed_kernel_display_name() == KERNELSPEC["display_name"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_survives_open_and_save_in_jupyterlab(path, tmp_path):
    original = path.read_text(encoding="utf-8")
    assert _open_and_save_in_jupyterlab(path, tmp_path) == original


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_survives_jupytext_round_trip(path):
    original = path.read_text(encoding="utf-8")
    notebook = jupytext.reads(original, fmt="md:myst")
    assert jupytext.writes(notebook, fmt="md:myst") == original


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_header_names_jupytext_version_and_kernel(path):
    notebook = jupytext.reads(path.read_text(encoding="utf-8"), fmt="md:myst")
    representation = notebook.metadata["jupytext"]["text_representation"]
    assert representation["jupytext_version"] == jupytext.__version__
    assert notebook.metadata["kernelspec"] == KERNELSPEC
