"""Progress bars that a caller can switch off and the environment can silence.

`TQDM_DISABLE=1` in the environment silences every bar: the HTML book is built with it
and keeps its pages free of bars, while a reader running a chapter sees them. The
variable is read here rather than left to tqdm, because tqdm's notebook bar always
passes `disable` on to tqdm itself, which then ignores the environment.
"""

from __future__ import annotations

import os
from typing import Any

from tqdm.auto import tqdm


def progress_bar(iterable: Any = None, *, enabled: bool = True, **kwargs: Any) -> tqdm:
    """`tqdm.auto.tqdm(iterable, **kwargs)`, hidden when `enabled` is false or the
    environment sets `TQDM_DISABLE`."""
    if not enabled or silenced():
        kwargs["disable"] = True
    return tqdm(iterable, **kwargs)


def silenced() -> bool:
    """Whether the environment asks for no progress bars (`TQDM_DISABLE` set, not 0)."""
    value = os.environ.get("TQDM_DISABLE", "").strip().lower()
    return value not in ("", "0", "false", "no")
