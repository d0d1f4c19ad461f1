"""Progress bars that a caller can switch off and the environment can silence.

`tqdm` reads `TQDM_DISABLE=1` from the environment only when `disable` is not passed, so
the library passes it only to switch a bar off; the HTML book is built with
`TQDM_DISABLE=1` and keeps its pages free of bars, while a reader running a chapter sees
them.
"""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm


def progress_bar(iterable: Any = None, *, enabled: bool = True, **kwargs: Any) -> tqdm:
    """`tqdm.auto.tqdm(iterable, **kwargs)`, hidden when `enabled` is false."""
    if not enabled:
        kwargs["disable"] = True
    return tqdm(iterable, **kwargs)
