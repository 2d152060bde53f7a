"""A watch on PostgreSQL transactions for the fairness chain's lock order: the chain's turn first, then rows.

`fairness.chain.take_turn` takes a transaction-scoped advisory lock that every appender holds until it
commits. A transaction that locks rows (FOR UPDATE / FOR SHARE, or another advisory lock) and only then
waits for the turn can deadlock with one that holds the turn and waits for those rows. `LockOrder` listens
to every statement any engine sends (SQLAlchemy's before_cursor_execute, per connection, forgotten at each
transaction's end) and records a breach whenever the chain's lock is asked for after such a lock in the
same transaction. Locks that never wait (SKIP LOCKED, NOWAIT) cannot deadlock and are not counted.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Final

import greenlet  # type: ignore[import-untyped]
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from fairness.chain import CHAIN_LOCK

_ROOT: Final = str(Path(__file__).resolve().parents[2]) + "/"
_SELF: Final = "tests/fairness/lock_order.py"

_ROW_LOCK: Final = re.compile(
    r"\bFOR\s+(NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b(?!.*\b(SKIP\s+LOCKED|NOWAIT)\b)", re.S
)
_ADVISORY: Final = re.compile(r"\bpg_advisory(_xact)?_lock\b")
_STATE: Final = "fairness_lock_order"


def _where() -> str:
    """The project's frames (not the libraries', not this module's) that sent the statement, innermost last."""
    frames = [
        f"{frame.filename.removeprefix(_ROOT)}:{frame.lineno} {frame.name}"
        for frame in [*traceback.extract_stack(_caller()), *traceback.extract_stack()]
        if frame.filename.startswith(_ROOT) and "/.venv/" not in frame.filename and not frame.filename.endswith(_SELF)
    ]
    return " > ".join(frames[-4:])


def _caller() -> FrameType | None:
    # SQLAlchemy's asyncio runs the statement in a greenlet; the awaiting coroutines' frames are the parent's.
    parent = greenlet.getcurrent().parent
    return parent.gr_frame if parent is not None else None


def _table(statement: str) -> str:
    found = re.search(r"\bFROM\s+(\w+)", statement)
    return f"a lock on {found.group(1)}" if found else "an advisory lock"


@dataclass
class _Transaction:
    turn: bool = False
    first_lock: str | None = None


@dataclass
class LockOrder:
    """The breaches seen while installed: for each, where the first lock was taken, then where the turn was."""

    breaches: list[tuple[str, str]] = field(default_factory=list)

    def _state(self, conn: Connection) -> _Transaction:
        found = conn.info.get(_STATE)
        if found is None:
            found = conn.info[_STATE] = _Transaction()
        return found

    def _forget(self, conn: Connection) -> None:
        # A connection invalidated mid-statement (a task cancelled while it waited) still sees its rollback; asking
        # it for `info` then raises, and an exception from a listener replaces the one being handled — a
        # cancellation among them, which the cancelled task would never see. Such a connection keeps no state.
        if conn.invalidated:
            return
        conn.info.pop(_STATE, None)

    def _statement(
        self, conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        if conn.dialect.name != "postgresql":
            return
        state = self._state(conn)
        if _ADVISORY.search(statement):
            values = parameters.values() if isinstance(parameters, dict) else (parameters or ())
            if CHAIN_LOCK in values:
                if state.first_lock is not None and not state.turn:
                    self.breaches.append((state.first_lock, _where()))
                state.turn = True
                return
        elif not _ROW_LOCK.search(statement):
            return
        if not state.turn and state.first_lock is None:
            state.first_lock = f"{_table(statement)} at {_where()}"

    @contextmanager
    def installed(self) -> Iterator[LockOrder]:
        listeners: list[tuple[str, Callable[..., Any]]] = [
            ("before_cursor_execute", self._statement),
            ("begin", self._forget),
            ("commit", self._forget),
            ("rollback", self._forget),
        ]
        for name, listener in listeners:
            event.listen(Engine, name, listener)
        try:
            yield self
        finally:
            for name, listener in listeners:
                event.remove(Engine, name, listener)

    def assert_kept(self) -> None:
        assert not self.breaches, "the chain's turn was taken after a row lock (deadlock risk): " + "; ".join(
            f"{first}, then the turn at {turn}" for first, turn in self.breaches
        )
