"""pytest plugin for `make chapters`: keep each chapter nbval executed, with outputs.

nbval runs every code cell of a chapter in one kernel and compares nothing in lax mode,
but it does collect each cell's outputs. This plugin writes them back into the
notebook; when all of a chapter's cells passed, the executed notebook goes to
`_build/executed/NAME.ipynb`, and `_build/executed/stamp.json` records the fingerprint
of the sources (`book_cache.fingerprint`) and each chapter's execution time. The book
build shows those outputs instead of executing the chapters again (`book_cache.py`).

Loaded with `-p record_executed` and `_ext` on `PYTHONPATH` (see the Makefile).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from book_cache import EXECUTED, STAMP, fingerprint

_runs: dict[Any, dict[str, Any]] = {}
# The folder can be moved (tests do) with the environment variable BOOK_EXECUTED.
_executed = Path(os.environ.get("BOOK_EXECUTED", EXECUTED))
_start: dict[str, str] = {}


def pytest_sessionstart(session: pytest.Session) -> None:
    shutil.rmtree(_executed, ignore_errors=True)
    _start["fingerprint"] = fingerprint()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    notebook = item.parent
    if not hasattr(item, "test_outputs") or not hasattr(notebook, "nb"):
        return
    run = _runs.setdefault(notebook, {"failed": False, "cells": 0, "seconds": 0.0})
    if report.failed or report.skipped:
        run["failed"] = True
    elif call.when == "call":
        item.cell.outputs = item.test_outputs or []
        item.cell.execution_count = item.cell_num + 1
        run["cells"] += 1
        run["seconds"] += report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _runs or fingerprint() != _start.get("fingerprint"):
        return  # the sources changed while the chapters ran: keep nothing
    _executed.mkdir(parents=True, exist_ok=True)
    seconds = {}
    for notebook, run in _runs.items():
        code_cells = sum(cell.cell_type == "code" for cell in notebook.nb.cells)
        if run["failed"] or run["cells"] != code_cells:
            continue
        name = notebook.path.stem
        nbformat.write(notebook.nb, _executed / f"{name}.ipynb")
        seconds[name] = round(run["seconds"], 1)
    stamp = {"fingerprint": _start["fingerprint"], "seconds": seconds}
    (_executed / STAMP).write_text(json.dumps(stamp, indent=1) + "\n", encoding="utf-8")
