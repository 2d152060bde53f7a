"""Verifying the fairness chain: one pass over every entry, in order, naming the first one that is wrong.

Each entry is checked three ways (see fairness.chain for what is hashed):
- its position: the entries are 1, 2, 3 … with no gap (a gap is a removal);
- its own hash, recomputed from what is stored (a mismatch is an edit, or a move to another position);
- its link: its previous hash is the hash of the entry before it (a break is a removal or a rewritten entry).

A chain rewritten from some entry on, every hash recomputed, passes all three: only an anchor held outside the
database (`Anchor`: an e-mailed or filed head, fairness.anchors) tells, as the entry at the anchor's position no
longer has the anchored hash. The fairness_anchors table is never read here: whoever can rewrite the chain can
rewrite it too.

The chain is read in batches by position (keyset pagination, plain rows, not ORM objects), so a long chain is
walked in bounded memory; the walk stops at the first fault. Each batch is hashed in a thread, so that the web
pages and API that run the check (web/audit_pages.py, web/audit_api.py) keep answering other requests meanwhile:
100,000 entries take 2 to 4 s, most of it reading the rows (bench/fairness.py, docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fairness.chain import GENESIS, canonical, entry_hash
from fairness.models import ChainEntry
from majlis.errors import N_

BATCH: Final = 2000


class Problem(enum.StrEnum):
    """What is wrong with the first bad entry."""

    # Its content no longer gives its hash.
    ALTERED = "altered"
    # It is gone: a gap in the positions, or the entry its successor was chained to no longer exists.
    REMOVED = "removed"
    # It stands at another position than the one it was written at.
    REORDERED = "reordered"
    # The chain does not hold the hash an anchor kept outside the database: it was rewritten with its head.
    REWRITTEN = "rewritten"


# What a person reads: Babel msgids with the fault's numbers as parameters (the CLI prints the English).
MESSAGES: Final[Mapping[Problem, str]] = {
    Problem.ALTERED: N_("Entry {seq} was altered: {detail}"),
    Problem.REMOVED: N_("Entry {seq} was removed: {detail}"),
    Problem.REORDERED: N_("Entry {seq} was reordered: {detail}"),
    Problem.REWRITTEN: N_("The chain was rewritten at or before entry {seq}: {detail}"),
}
DETAILS: Final[Mapping[str, str]] = {
    "content": N_("what it holds no longer gives its hash."),
    "unreadable": N_("a value in it is not of its column's kind (a time that is not a time)."),
    "gap": N_("the chain goes from entry {before} to entry {after}."),
    "start": N_("the chain starts at entry {after}."),
    "unlinked": N_("the entry after it names a previous entry that the chain no longer holds."),
    "first": N_("the first entry does not start the chain."),
    "rehashed": N_("its hash was recomputed; the entry after it still names the hash it had."),
    "moved": N_("it was written as entry {written_as}."),
    "follows": N_("it was chained to entry {chained_to}, not to entry {previous}."),
    "anchor_hash": N_("its hash is not the one anchored on {day}."),
    "anchor_missing": N_("the chain ends at entry {last}, but the anchor of {day} names entry {seq}."),
}


@dataclass(frozen=True)
class Anchor:
    """The chain's head as held outside the database: its position and hash, and the day it was sent (if known)."""

    seq: int
    hash: str
    day: date | None = None

    def label(self) -> str:
        return self.day.isoformat() if self.day is not None else f"{self.seq}:{self.hash[:12]}…"


@dataclass(frozen=True)
class Fault:
    """The first bad entry: its position, what is wrong, and the numbers the message names."""

    seq: int
    problem: Problem
    detail: str = "content"
    values: Mapping[str, Any] | None = None

    def describe(self, gettext: Any = None) -> str:
        """The fault in plain words; `gettext(msgid) -> str` translates (English as written without it)."""
        say = gettext or (lambda message: message)
        values = {**(self.values or {}), "seq": self.seq}
        detail = say(DETAILS[self.detail]).format(**values)
        return str(say(MESSAGES[self.problem]).format(detail=detail, **values))


@dataclass(frozen=True)
class Verification:
    """The chain's check: how many entries were checked, the head, the anchors matched, and the first fault."""

    entries: int
    head_seq: int | None
    head_hash: str | None
    anchors_checked: int
    fault: Fault | None

    @property
    def intact(self) -> bool:
        return self.fault is None


class _Hasher:
    """Recomputes one entry's hash for any position cheaply: the position is the last key of its canonical form.

    Used only at a fault, to tell an entry moved to another position (its hash is right for some other
    position) from an entry edited (right for none). Built from the same body as `_stored_hash`.
    """

    def __init__(self, row: Any) -> None:
        # sort_keys puts "seq" last: the body is a fixed prefix, then the position and "}".
        self._prefix = hashlib.sha256(_body(row, "").removesuffix("}").encode("utf-8"))

    def at(self, seq: int) -> str:
        digest = self._prefix.copy()
        digest.update(f"{seq}}}".encode())
        return digest.hexdigest()


def _kind(kind: Any) -> str:
    return str(kind.value if isinstance(kind, enum.Enum) else kind)


def _recomputed(row: Any) -> str | None:
    """The hash the row's content gives, or None when the content cannot even be read (an edit).

    The change must be stored as its own canonical text, as chain.append wrote it: otherwise a text that reads
    back as the same object (a key given twice, the first copy forged, spaces) would pass while a database
    function reading the stored text (SQLite's json_extract takes the first copy) saw something else.
    """
    try:
        if not isinstance(row.change, str) or canonical(json.loads(row.change)) != row.change:
            return None
        return entry_hash(
            seq=row.seq,
            at=row.at,
            actor_id=row.actor_id,
            kind=_kind(row.kind),
            case_id=row.case_id,
            change=row.change,
            justification=row.justification,
            prev_hash=row.prev_hash,
        )
    except ValueError:
        return None


# `canonical`'s encoder made once: json.dumps with arguments builds a new one per call, a third of a hash's time.
_CANONICAL: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def _scalar(value: Any) -> str:
    """A column's value as `canonical` writes it: a whole number or null at once, anything else through it."""
    if value is None:
        return "null"
    if type(value) is int:
        return str(value)
    return _CANONICAL(value)


def _body(row: Any, seq: str) -> str:
    """The entry's canonical form (what `entry_hash` hashes) with the stored change spliced in as the text it is,
    and `seq` as its position's text.

    The same bytes `entry_hash` hashes for an entry as chain.append wrote it, without reading the change and
    writing it again: the change is stored as its canonical text, and the canonical form of the entry is its keys
    in sorted order. That round trip through JSON was most of a walk's time (two thirds of 100,000 entries' 7 s).
    """
    return str(
        '{"actor_id":'
        + _scalar(row.actor_id)
        + ',"at":"'
        + row.at.astimezone(UTC).isoformat(timespec="microseconds")
        + '","case_id":'
        + _scalar(row.case_id)
        + ',"change":'
        + row.change
        + ',"justification":'
        + _CANONICAL(row.justification)
        + ',"kind":'
        + _CANONICAL(_kind(row.kind))
        + ',"prev_hash":'
        + _CANONICAL(row.prev_hash)
        + ',"seq":'
        + seq
        + "}"
    )


def _stored_hash(row: Any) -> str:
    """The hash of the row as stored (`_body` at its own position)."""
    return hashlib.sha256(_body(row, _scalar(row.seq)).encode("utf-8")).hexdigest()


def _recomputed_fast(row: Any) -> str | None:
    """`_recomputed`, cheaply for an entry as chain.append wrote it; any other goes the long way, which judges."""
    try:
        if row.at.tzinfo is not None and isinstance(row.change, str) and _stored_hash(row) == row.hash:
            return str(row.hash)
    except (TypeError, ValueError, AttributeError):
        pass
    return _recomputed(row)


def _recompute_batch(rows: list[Any]) -> list[str | None]:
    """Each row's recomputed hash (None for a row that could not be read or whose content cannot give one)."""
    return [None if isinstance(row, int) else _recomputed_fast(row) for row in rows]


async def _seq_of_hash(session: AsyncSession, value: str) -> int | None:
    found = await session.scalar(select(ChainEntry.seq).where(ChainEntry.hash == value))
    return int(found) if found is not None else None


async def _written_as(session: AsyncSession, row: Any) -> int | None:
    """The position a moved entry was written at: the one its own hash is right for (searched up to the end)."""
    try:
        hasher = _Hasher(row)
    except (ValueError, TypeError, AttributeError):
        return None
    last = int(await session.scalar(select(func.max(ChainEntry.seq))) or 0)
    for seq in range(1, max(last, row.seq) + 2):
        if seq != row.seq and hasher.at(seq) == row.hash:
            return seq
    return None


async def _judge_hash(session: AsyncSession, row: Any) -> Fault:
    """The fault of an entry whose hash is not what its content gives: moved, moved after a removal, or edited."""
    written_as = await _written_as(session, row)
    if written_as is None:
        return Fault(row.seq, Problem.ALTERED)
    if row.prev_hash != GENESIS and await _seq_of_hash(session, row.prev_hash) is None:
        # It moved because the entry before it was deleted and the rest renumbered.
        return Fault(written_as - 1, Problem.REMOVED, "unlinked")
    return Fault(row.seq, Problem.REORDERED, "moved", values={"written_as": written_as})


async def _judge_link(session: AsyncSession, row: Any, previous: int) -> Fault:
    """The fault of an entry right in itself whose previous hash is not the previous entry's hash."""
    if previous == 0:
        return Fault(row.seq, Problem.ALTERED, "first")
    chained_to = await _seq_of_hash(session, row.prev_hash)
    if chained_to is None:
        # The entry before it is not the one it was chained to: that one was rewritten (new hash) or replaced.
        return Fault(previous, Problem.ALTERED, "rehashed")
    return Fault(row.seq, Problem.REORDERED, "follows", values={"chained_to": chained_to, "previous": previous})


def _anchor_fault(anchor: Anchor, last: int) -> Fault:
    day = anchor.label()
    if anchor.seq > last:
        return Fault(anchor.seq, Problem.REWRITTEN, "anchor_missing", values={"day": day, "last": last})
    return Fault(anchor.seq, Problem.REWRITTEN, "anchor_hash", values={"day": day})


COLUMNS: Final = (
    ChainEntry.seq,
    ChainEntry.at,
    ChainEntry.actor_id,
    ChainEntry.kind,
    ChainEntry.case_id,
    ChainEntry.change,
    ChainEntry.justification,
    ChainEntry.prev_hash,
    ChainEntry.hash,
)
# What reading a value no column type accepts raises (a time that is not a time: SQLite stores anything).
UNREADABLE: Final = (ValueError, LookupError, TypeError)


async def _batch(session: AsyncSession, after: int) -> list[Any]:
    """The next entries after position `after`; one that cannot be read comes as its bare position."""
    query = select(*COLUMNS).where(ChainEntry.seq > after).order_by(ChainEntry.seq).limit(BATCH)
    try:
        return list((await session.execute(query)).all())
    except UNREADABLE:
        pass
    # Tampered with: the batch again, one entry at a time, to name the one that cannot be read.
    positions = await session.scalars(
        select(ChainEntry.seq).where(ChainEntry.seq > after).order_by(ChainEntry.seq).limit(BATCH)
    )
    rows: list[Any] = []
    for seq in list(positions):
        try:
            rows.append((await session.execute(select(*COLUMNS).where(ChainEntry.seq == seq))).one())
        except UNREADABLE:
            rows.append(int(seq))
    return rows


async def verify_chain(*, session: AsyncSession, anchors: Iterable[Anchor] = ()) -> Verification:
    """Walks the whole chain in order and gives the first entry altered, removed, reordered or unlike an anchor."""
    by_seq: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        by_seq.setdefault(anchor.seq, []).append(anchor)
    previous, previous_hash, checked, anchored = 0, GENESIS, 0, 0
    fault: Fault | None = None
    while fault is None:
        rows = await _batch(session, previous)
        # The hashing, most of a walk's Python work, off the event loop: the server answers other requests
        # meanwhile (between batches, and while a batch is hashed, every few milliseconds the interpreter switches).
        # Reading the next batch while hashing this one was tried: both need the interpreter, and it gained nothing.
        digests = await asyncio.to_thread(_recompute_batch, rows)
        for row, digest in zip(rows, digests, strict=True):
            fault = await _check(session, row, digest, previous, previous_hash)
            if fault is None:
                for anchor in by_seq.pop(row.seq, []):
                    if anchor.hash != row.hash:
                        fault = _anchor_fault(anchor, row.seq)
                        break
                    anchored += 1
            if fault is not None:
                break
            previous, previous_hash, checked = row.seq, row.hash, checked + 1
        if len(rows) < BATCH:
            break
    if fault is None and by_seq:
        fault = _anchor_fault(by_seq[min(by_seq)][0], previous)
    return Verification(
        entries=checked,
        head_seq=previous or None,
        head_hash=previous_hash if previous else None,
        anchors_checked=anchored,
        fault=fault,
    )


async def _check(
    session: AsyncSession, row: Any, digest: str | None, previous: int, previous_hash: str
) -> Fault | None:
    seq = row if isinstance(row, int) else row.seq
    if seq != previous + 1:
        if previous == 0:
            return Fault(1, Problem.REMOVED, "start", values={"after": seq})
        return Fault(previous + 1, Problem.REMOVED, "gap", values={"before": previous, "after": seq})
    if isinstance(row, int):
        return Fault(seq, Problem.ALTERED, "unreadable")
    if digest != row.hash:
        return await _judge_hash(session, row)
    if row.prev_hash != previous_hash:
        return await _judge_link(session, row, previous)
    return None


_DIRECTION_MARKS: Final = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def parse_anchor(text: str) -> Anchor:
    """An anchor as typed, SEQ:HASH (the hash's 64 hex digits); ValueError naming what is wrong."""
    # A head copied out of the Arabic e-mail may carry its invisible direction marks along.
    seq, _, value = text.translate(_DIRECTION_MARKS).strip().partition(":")
    value = value.strip().lower()
    if not seq.isascii() or not seq.isdigit() or int(seq) < 1:
        raise ValueError(f"an anchor is SEQ:HASH with SEQ a position from 1, not {text!r}")
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ValueError(f"an anchor's hash is 64 hexadecimal digits, not {value!r}")
    return Anchor(seq=int(seq), hash=value)


def anchor_from_json(line: str) -> Anchor:
    """One anchor file line, {"day", "seq", "hash", "at"}; ValueError naming what is wrong."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg}") from None
    if not isinstance(value, dict) or not isinstance(value.get("seq"), int) or "hash" not in value:
        raise ValueError('a line is {"day": …, "seq": …, "hash": …, "at": …}')
    anchor = parse_anchor(f"{value['seq']}:{value['hash']}")
    day = value.get("day")
    try:
        return Anchor(anchor.seq, anchor.hash, date.fromisoformat(day) if isinstance(day, str) else None)
    except ValueError:
        raise ValueError(f"the day is YYYY-MM-DD, not {day!r}") from None


def moment(value: datetime) -> str:
    """A time as the anchor file writes it."""
    return value.astimezone(UTC).isoformat(timespec="seconds")
