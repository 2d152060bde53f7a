"""`majlis …` run through its own entry point inside the test's process.

A fresh `python -m majlis.cli` spends about three seconds importing the application before it does anything; the
command-line tests ran some ninety commands that way. Here `majlis.cli.main` runs with the command's environment,
standard input, output and error of its own, and answers as `subprocess.run` would: the exit code (argparse's usage
errors are its `SystemExit`), what was printed, what was said on standard error. An exception the command does not
handle is not turned into an exit code: it fails the test with its own traceback.

tests/majlis/test_cli.py still runs the first command a newcomer types as a real process, so the module's
`__main__` and the exit code a shell sees stay tested.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from majlis.cli import main


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def _root_logger() -> Iterator[None]:
    """Each command sets up the root logger for itself (majlis.logs.configure); pytest's handlers come back after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    twilio_level = logging.getLogger("twilio").level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        logging.getLogger("twilio").setLevel(twilio_level)


def run_majlis(
    args: Sequence[str], env: Mapping[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`majlis *args` with `env` as its whole environment and `stdin` as its input."""
    out, err = io.StringIO(), io.StringIO()
    streams = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin or ""), out, err
    try:
        with _environment(env), _root_logger():
            try:
                code = main(list(args))
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
                if isinstance(exit_.code, str):
                    print(exit_.code, file=err)
    finally:
        sys.stdin, sys.stdout, sys.stderr = streams
    return subprocess.CompletedProcess(["majlis", *args], code, out.getvalue(), err.getvalue())
