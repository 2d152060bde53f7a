"""`majlis backup FILE` and `majlis restore FILE`: the whole database into one new file, and back into an empty
database (see majlis/backup.py and docs/operations.md). A refusal is printed and the command exits with 2."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from majlis.backup import BackupError, backup, restore
from majlis.settings import Settings

COMMANDS = ("backup", "restore")


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The two commands, on `majlis`'s parser."""
    made = commands.add_parser(
        "backup", help="copy the whole database into a new file (SQLite online backup, or pg_dump's custom format)"
    )
    made.add_argument("file", type=Path, help="the backup to write; it must not exist yet")
    back = commands.add_parser("restore", help="load a backup into the configured database, which must be empty")
    back.add_argument("file", type=Path, help="a file written by `majlis backup` on the same kind of database")


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        if args.command == "backup":
            backup(settings.database_url_value, args.file)
            print(f"backed up to {args.file}")
        else:
            restore(settings.database_url_value, args.file)
            print(f"restored from {args.file}; run `majlis db upgrade` if this Majlis is newer than the backup")
    except BackupError as exc:
        print(f"majlis: {exc}", file=sys.stderr)
        return 2
    return 0
