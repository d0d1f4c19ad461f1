"""Show the library's own code inside the book, so that text and code never diverge."""

from __future__ import annotations

import inspect
from typing import Any


def show_source(obj: Any) -> Any:
    """Display the source of a library function, class or module, syntax-highlighted.

    In Jupyter this returns a Markdown object that renders as a Python code block (also
    in the HTML book); elsewhere it returns the plain source text. Argument checks live
    in small `_check_*` helpers next to the functions, so a listing shows the idea.
    """
    try:
        source = inspect.getsource(obj)
    except (TypeError, OSError) as error:
        raise ValueError(
            f"obj must be a Python function, class or module, got {obj!r}"
        ) from error
    try:
        from IPython.display import Markdown
    except ImportError:  # pragma: no cover - IPython is installed with the book extras
        return source
    return Markdown(f"```python\n{source}```")
