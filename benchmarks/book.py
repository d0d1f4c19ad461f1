"""The book's execution time, chapter by chapter, against its budget.

Reads what `make test` recorded when nbval executed the chapters
(`_build/executed/stamp.json`, written by `_ext/record_executed.py`): each chapter's
execution time, summed over its cells. Prints one line per chapter, the total and its
share of the budget (15 minutes for all chapters on 2 cores), and whether those
executions are of the sources as they are now, i.e. whether `make book` will reuse
them. Run `make chapters` (or `make test`) first.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))

from _common import machine  # noqa: E402
from book_cache import EXECUTED, fingerprint, read_stamp  # noqa: E402

BUDGET_SECONDS = 15 * 60


def budget_table(seconds: dict[str, float], budget: float = BUDGET_SECONDS) -> str:
    """One line per chapter (seconds, share of `budget`), then the total."""
    if budget <= 0:
        raise ValueError(f"budget must be a positive number of seconds, got {budget!r}")
    lines = [f"{'chapter':<20s}{'seconds':>9s}{'of budget':>11s}"]
    for name in sorted(seconds):
        lines.append(f"{name:<20s}{seconds[name]:>9.1f}{seconds[name] / budget:>11.1%}")
    total = sum(seconds.values())
    lines.append(f"{'all chapters':<20s}{total:>9.1f}{total / budget:>11.1%}")
    lines.append(f"budget: {budget:.0f} s; {'within' if total <= budget else 'OVER'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--budget", type=float, default=BUDGET_SECONDS, help="seconds for all chapters"
    )
    parser.add_argument(
        "--executed",
        type=Path,
        default=EXECUTED,
        help="the folder make chapters wrote (default: this checkout's)",
    )
    args = parser.parse_args(argv)
    stamp = read_stamp(args.executed)
    if stamp is None or not stamp.get("seconds"):
        print(f"no executed chapters in {args.executed}: run `make chapters` first")
        return 1
    print(machine())
    print(f"chapters as executed by nbval (`make chapters`), read from {args.executed}")
    print(budget_table(stamp["seconds"], args.budget))
    current = stamp.get("fingerprint") == fingerprint()
    print(
        "these executions are of the current sources: `make book` reuses them"
        if current
        else "the sources changed since: `make book` executes the chapters again"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
