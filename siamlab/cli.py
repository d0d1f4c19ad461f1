"""The command line: `python -m siamlab <command> …` (or `siamlab <command> …` once installed).

Each command is a function `_add_<name>(subparsers)` that declares its arguments and sets
`handler`, a function of the parsed arguments that returns the exit status. Heavy imports happen
inside the handlers so that `--help` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from siamlab import __version__

CommandAdder = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _add_info(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser("info", help="show the version, the device and the library's modules")

    def handler(args: argparse.Namespace) -> int:
        import torch

        from siamlab.device import get_device

        print(f"siamlab {__version__}, torch {torch.__version__}, device {get_device()}")
        return 0

    parser.set_defaults(handler=handler)


# Commands in the order `--help` lists them; each issue's command adds itself here.
COMMANDS: list[CommandAdder] = [_add_info]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered command."""
    parser = argparse.ArgumentParser(
        prog="siamlab",
        description="Siamese trackers from the book: generate data, train, track and evaluate.",
    )
    parser.add_argument("--version", action="version", version=f"siamlab {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for add in COMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (default: `sys.argv[1:]`) and run the command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except (ValueError, FileNotFoundError) as error:
        print(f"siamlab: error: {error}", file=sys.stderr)
        return 2
