"""`majlis quality …`: the command group of service quality (desk tablets, reviews, statistics, monthly mailings).

Each part lives in its own module (majlis/cli_quality_*.py) and registers its subcommands here when it is imported:

    cli_quality.register("tablets", add_tablets, run_tablets)

where `add_tablets(each)` adds its parser to the group's subparsers (`each.add_parser("tablets", …)`) and
`run_tablets(settings, args)` runs it and returns the exit code. majlis/cli.py imports every part before it builds
its parser, so the order of the imports there is the order of the subcommands in `majlis quality --help`.
A registry rather than a list in this module so that parts written side by side never edit the same lines.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from majlis.settings import Settings

COMMAND = "quality"

# A string: argparse._SubParsersAction cannot be subscripted at run time.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
AddParser = Callable[[Subparsers], None]
Run = Callable[[Settings, argparse.Namespace], int]


@dataclass(frozen=True, slots=True)
class Part:
    name: str
    add_parser: AddParser
    run: Run


_PARTS: dict[str, Part] = {}


def register(name: str, add_parser: AddParser, run: Run) -> None:
    """Adds a subcommand `majlis quality NAME`: `add_parser` must add a parser called NAME to the subparsers it is
    given; `run` is called with the settings and the parsed arguments when NAME is chosen."""
    if name in _PARTS and _PARTS[name] != Part(name, add_parser, run):
        raise ValueError(f"majlis quality {name} is registered twice")
    _PARTS[name] = Part(name, add_parser, run)


def add_parser(commands: Subparsers) -> None:
    quality = commands.add_parser(COMMAND, help="service quality: desk tablets, ratings' reviews, statistics")
    each = quality.add_subparsers(dest="quality_command", required=True)
    for part in _PARTS.values():
        part.add_parser(each)


def run(settings: Settings, args: argparse.Namespace) -> int:
    return _PARTS[args.quality_command].run(settings, args)
