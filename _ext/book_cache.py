"""Let `make book` show the chapter executions of `make test` instead of repeating them.

`make test` executes every chapter once, under nbval; `make book` would execute them
all a second time, and the chapters are the slowest part of both. So nbval's run keeps
what it executed (the pytest plugin `record_executed`, beside this file): every chapter
that passed, with its outputs, in `_build/executed/`, stamped with a fingerprint of
everything a chapter's outputs depend on.

Before the book build, `python _ext/book_cache.py` empties MyST-NB's execution cache
and fills it with those notebooks, but only when their fingerprint is the fingerprint
of the sources as they are now. The book build (`execute_notebooks: cache`) then
executes only the chapters it does not find there: all of them on a fresh checkout,
none of them right after `make test`, and all of them again once the library, a
chapter, the data or an installed package has changed. Each number in the book comes
from an execution of exactly the sources it was built from.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import shutil
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = ROOT / "_build" / "executed"
CACHE = ROOT / "_build" / ".jupyter_cache"
STAMP = "stamp.json"
# What a chapter's outputs depend on, besides the installed packages.
SOURCES = ("siamlab", "book", "data", "pyproject.toml", "constraints.txt")
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}


def _files(root: Path) -> list[Path]:
    files = []
    for name in SOURCES:
        path = root / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(
                p
                for p in path.rglob("*")
                if p.is_file() and not SKIPPED_PARTS & set(p.relative_to(root).parts)
            )
    return sorted(files)


def fingerprint(root: Path = ROOT) -> str:
    """SHA-256 over the library, the chapters, the data, the pinned requirements, the
    Python version and every installed package's version."""
    digest = hashlib.sha256()
    for path in _files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(sys.version.encode())
    # A set, without the project: the same package can be found twice (an egg-info in
    # the working folder when it is on sys.path), and the project's sources are hashed.
    packages = sorted(
        {
            f"{dist.metadata['Name']}=={dist.version}"
            for dist in metadata.distributions()
            if dist.metadata["Name"] != "siamlab"
        }
    )
    digest.update("\n".join(packages).encode())
    return digest.hexdigest()


def read_stamp(executed: Path = EXECUTED) -> dict | None:
    """The stamp nbval's run wrote (fingerprint and seconds per chapter), or None."""
    path = executed / STAMP
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _merged(chapter: Path, executed_path: Path):
    """The chapter as MyST-NB reads it, with the code-cell outputs of its execution;
    None when the code of the two differs."""
    import nbformat
    from myst_nb.core.read import read_myst_markdown_notebook
    from myst_parser.config.main import MdParserConfig

    notebook = read_myst_markdown_notebook(
        chapter.read_text(encoding="utf-8"),
        config=MdParserConfig(),
        add_source_map=True,
        path=str(chapter),
    )
    executed = nbformat.read(executed_path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    ran = [cell for cell in executed.cells if cell.cell_type == "code"]
    if len(code) != len(ran) or any(a.source != b.source for a, b in zip(code, ran)):
        return None
    merged = copy.deepcopy(notebook)
    merged_code = [cell for cell in merged.cells if cell.cell_type == "code"]
    for cell, run in zip(merged_code, ran):
        cell.outputs = run.outputs
        cell.execution_count = run.execution_count
    return merged


def prime(
    root: Path = ROOT, executed: Path = EXECUTED, cache_dir: Path = CACHE
) -> list[str]:
    """Empty the cache at `cache_dir`, then add every executed chapter of `executed`
    whose fingerprint matches `root` now. Returns the chapters added."""
    shutil.rmtree(cache_dir, ignore_errors=True)
    stamp = read_stamp(executed)
    if stamp is None:
        print("book cache: no chapters executed by `make test`; the book executes all")
        return []
    if stamp.get("fingerprint") != fingerprint(root):
        print(
            "book cache: the chapters executed by `make test` ran on other sources or "
            "packages; the book executes all"
        )
        return []

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(cache_dir))
    added = []
    for executed_path in sorted(executed.glob("*.ipynb")):
        chapter = root / "book" / f"{executed_path.stem}.md"
        if not chapter.is_file():
            continue
        merged = _merged(chapter, executed_path)
        if merged is None:
            print(f"book cache: {chapter.name} changed since it ran; the book runs it")
            continue
        seconds = stamp.get("seconds", {}).get(executed_path.stem)
        cache.cache_notebook_bundle(
            CacheBundleIn(merged, str(chapter), data={"execution_seconds": seconds}),
            check_validity=False,
            overwrite=True,
        )
        added.append(chapter.name)
    print(
        f"book cache: {len(added)} chapters taken from `make test`'s execution: "
        + (", ".join(added) or "none")
    )
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    prime()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
