"""Sphinx extension of the book: page scripts without repeats and without widget state.

- sphinx-thebe registers its configuration script (`const THEBE_JS_URL = …`) a second
  time during a Jupyter Book build, and a `const` declared twice is a JavaScript
  error on every page; the first of identical scripts is kept. Thebe itself is never
  loaded: the book has no launch button, so the URL in that script is never requested.
- myst-nb embeds the state of every ipywidget of an executed chapter (the live image of
  each explorer as PNG) for a widget manager that the offline book does not load: the
  book shows each explorer's static view instead (`siamlab.widgets.static`), so the
  state is dropped.

The browser check (tests/browser/check_book.py) fails on JavaScript errors.
"""

from __future__ import annotations

from typing import Any

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _clean_scripts(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    """Keep the first of identical scripts (same file, same attributes), drop widget
    state."""
    seen, kept = set(), []
    for script in context.get("script_files", []):
        attributes = dict(getattr(script, "attributes", {}))
        if attributes.get("type") == WIDGET_STATE:
            continue
        filename = str(getattr(script, "filename", script) or "")
        key = (filename, tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", _clean_scripts, priority=999)  # after the others
    return {"parallel_read_safe": True, "parallel_write_safe": True}
