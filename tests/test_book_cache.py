"""The book reuses nbval's executions only of exactly the sources it is built from.

`_ext/record_executed.py` keeps what nbval executed; `_ext/book_cache.py` hands it to
MyST-NB's cache when the fingerprint of the sources still matches.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

EXT = Path(__file__).resolve().parents[1] / "_ext"
sys.path.insert(0, str(EXT))

import book_cache  # noqa: E402

CHAPTER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A chapter

```{code-cell} ipython3
x = 6 * 7
print(x)
```

Prose.

```{code-cell} ipython3
x + 1
```
"""


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "book").mkdir(parents=True)
    (root / "siamlab").mkdir()
    (root / "siamlab" / "module.py").write_text("VALUE = 1\n")
    (root / "book" / "00_a.md").write_text(CHAPTER)
    return root


def _executed(root: Path, outputs=("42\n", "43")) -> Path:
    """An executed notebook of the chapter, as the nbval plugin writes it."""
    import jupytext

    folder = root / "_build" / "executed"
    folder.mkdir(parents=True)
    notebook = jupytext.read(root / "book" / "00_a.md")
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    code[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text=outputs[0])]
    code[1].outputs = [
        nbformat.v4.new_output(
            "execute_result", data={"text/plain": outputs[1]}, execution_count=2
        )
    ]
    for count, cell in enumerate(code, start=1):
        cell.execution_count = count
    nbformat.write(notebook, folder / "00_a.ipynb")
    stamp = {"fingerprint": book_cache.fingerprint(root), "seconds": {"00_a": 1.5}}
    (folder / "stamp.json").write_text(json.dumps(stamp))
    return folder


def _cached_outputs(root: Path, cache_dir: Path):
    """The outputs MyST-NB would take from the cache for the chapter, or None."""
    from jupyter_cache import get_cache
    from myst_nb.core.read import read_myst_markdown_notebook
    from myst_parser.config.main import MdParserConfig

    chapter = root / "book" / "00_a.md"
    notebook = read_myst_markdown_notebook(
        chapter.read_text(), config=MdParserConfig(), add_source_map=True
    )
    cache = get_cache(str(cache_dir))
    try:
        _, merged = cache.merge_match_into_notebook(notebook)
    except KeyError:
        return None
    return [cell.outputs for cell in merged.cells if cell.cell_type == "code"]


def test_fingerprint_changes_with_any_source_file(tmp_path):
    root = _project(tmp_path)
    before = book_cache.fingerprint(root)
    assert book_cache.fingerprint(root) == before
    (root / "siamlab" / "module.py").write_text("VALUE = 2\n")
    assert book_cache.fingerprint(root) != before
    changed = book_cache.fingerprint(root)
    (root / "siamlab" / "__pycache__").mkdir()
    (root / "siamlab" / "__pycache__" / "module.pyc").write_bytes(b"\0")
    assert book_cache.fingerprint(root) == changed  # bytecode is not a source


def test_prime_hands_matching_executions_to_the_book_cache(tmp_path):
    root = _project(tmp_path)
    executed = _executed(root)
    cache_dir = root / "_build" / ".jupyter_cache"
    assert book_cache.prime(root, executed, cache_dir) == ["00_a.md"]
    outputs = _cached_outputs(root, cache_dir)
    assert outputs[0][0]["text"] == "42\n"
    assert outputs[1][0]["data"]["text/plain"] == "43"


def test_prime_takes_nothing_once_the_library_changed(tmp_path):
    root = _project(tmp_path)
    executed = _executed(root)
    cache_dir = root / "_build" / ".jupyter_cache"
    book_cache.prime(root, executed, cache_dir)
    (root / "siamlab" / "module.py").write_text("VALUE = 2\n")
    assert book_cache.prime(root, executed, cache_dir) == []
    assert _cached_outputs(root, cache_dir) is None  # the old cache is gone too


def test_prime_skips_a_chapter_whose_code_differs_from_what_ran(tmp_path):
    root = _project(tmp_path)
    executed = _executed(root)
    chapter = root / "book" / "00_a.md"
    chapter.write_text(CHAPTER.replace("x + 1", "x + 2"))
    stamp = json.loads((executed / "stamp.json").read_text())
    stamp["fingerprint"] = book_cache.fingerprint(root)  # only the code differs
    (executed / "stamp.json").write_text(json.dumps(stamp))
    assert book_cache.prime(root, executed, root / "cache") == []


def test_prime_without_executions_takes_nothing(tmp_path):
    root = _project(tmp_path)
    assert book_cache.prime(root, root / "_build" / "executed", root / "c") == []


@pytest.mark.timeout(120)
def test_nbval_plugin_writes_the_executed_chapter_with_its_outputs(tmp_path):
    import jupytext

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    chapter = tmp_path / "00_a.md"
    chapter.write_text(CHAPTER)
    jupytext.write(jupytext.read(chapter), notebooks / "00_a.ipynb")
    executed = tmp_path / "executed"
    environment = dict(
        os.environ, PYTHONPATH=str(EXT), BOOK_EXECUTED=str(executed), TQDM_DISABLE="1"
    )
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider"]
    command += ["-p", "record_executed", "--rootdir=.", "-o", "addopts=", "-q"]
    result = subprocess.run(
        [*command, "00_a.ipynb"],
        cwd=notebooks,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    notebook = nbformat.read(executed / "00_a.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == [1, 2]
    assert code[0].outputs[0]["text"] == "42\n"
    assert code[1].outputs[0]["data"]["text/plain"] == "43"
    stamp = json.loads((executed / "stamp.json").read_text())
    assert set(stamp["seconds"]) == {"00_a"}
    assert len(stamp["fingerprint"]) == 64  # a SHA-256 of the sources at the start
