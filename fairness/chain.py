"""The fairness chain: an append-only log where each entry carries the hash of the one before.

**Why a hash chain (SHA-256, hashlib) and not a Merkle tree.** The question an
auditor asks is "has anything in the record been altered, removed or
reordered?", answered by checking the whole chain (`fairness.verify`), which
is a single pass: a year of placements is tens of thousands of entries,
hashed in well under a second (bench/fairness.py: 100,000 placement-shaped
entries hash in about 0.45 s, and are walked, read from the database too, in
2 to 4 s on SQLite or PostgreSQL on a shared 2-core machine; the hashing is
done off the event loop). A Merkle tree (RFC 6962) adds short proofs
that one entry is included, for readers who do not hold the whole log; nobody
here needs them, and the tree would cost a second structure to keep and to
explain. SHA-256 is in the standard library, so the scheme has no dependency.

**What is hashed.** The canonical JSON (`canonical`) of the entry's position,
time, actor, kind, case, change, justification and the previous entry's hash.
The position makes a swap of two entries show; the previous hash makes a
removal show; the rest makes an edit show. The first entry's previous hash is
`GENESIS`. A rewrite of the whole chain from some point on, with its head,
is consistent with itself: that is what the anchors held outside the
database catch (`fairness.anchors`).

**One line, never a fork.** Entries are appended in the transaction of the
change they record, and the append holds a transaction-scoped lock until that
transaction ends: PostgreSQL's advisory lock `CHAIN_LOCK`, and on SQLite the
write lock every transaction takes at its start (BEGIN IMMEDIATE, majlis.db).
So the next appender reads the head only once this one has committed or rolled
back. The unique index on `prev_hash` makes a fork impossible even so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from fairness.models import ChainEntry, EntryKind
from majlis.clock import Clock

GENESIS: Final = "0" * 64
# The advisory lock that makes appends take turns on PostgreSQL ("FAIRNESS" as a number).
CHAIN_LOCK: Final = int.from_bytes(b"FAIRNESS", "big") & 0x7FFF_FFFF_FFFF_FFFF


def canonical(value: Any) -> str:
    """One JSON text per value: keys sorted, no spaces, Arabic as itself; the bytes hashed are its UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _moment(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("the chain's times are aware")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    kind: str,
    case_id: int | None,
    change: str,
    justification: str,
    prev_hash: str,
) -> str:
    """The SHA-256 (hex) of the entry's canonical form; `change` is the stored canonical JSON text."""
    body = canonical(
        {
            "seq": seq,
            "at": _moment(at),
            "actor_id": actor_id,
            "kind": kind,
            "case_id": case_id,
            "change": json.loads(change),
            "justification": justification,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def hash_of(entry: ChainEntry) -> str:
    """What the entry's hash must be, from what is stored in it."""
    return entry_hash(
        seq=entry.seq,
        at=entry.at,
        actor_id=entry.actor_id,
        kind=entry.kind.value,
        case_id=entry.case_id,
        change=entry.change,
        justification=entry.justification,
        prev_hash=entry.prev_hash,
    )


async def take_turn(*, session: AsyncSession) -> None:
    """Waits for the appenders before this one to end their transactions (PostgreSQL; SQLite's write lock,
    taken at BEGIN IMMEDIATE, already serialises).

    `append` takes it, but a change that appends must take it at its START too, before it locks any row
    (FOR UPDATE / FOR SHARE) or writes one: a transaction holding the turn and waiting for such a row while
    the row's holder waits for the turn would deadlock. One order everywhere: the turn, then the rows.
    Taking it again in the same transaction is free (the lock is re-entrant and held to the end).
    tests/fairness/lock_order.py fails any test transaction that takes it after a row lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})


async def head(*, session: AsyncSession) -> ChainEntry | None:
    """The last entry of the chain; None while it is empty."""
    return await session.scalar(select(ChainEntry).order_by(ChainEntry.seq.desc()).limit(1))


async def append(
    *,
    session: AsyncSession,
    clock: Clock,
    kind: EntryKind,
    actor_id: int | None,
    case_id: int | None,
    change: Mapping[str, Any],
    justification: str = "",
) -> ChainEntry:
    """Appends one entry in the caller's transaction (flushed, not committed) and gives it back.

    `change` must hold no personal data (no name, national ID or phone): auditors read it.
    """
    await take_turn(session=session)
    last = await head(session=session)
    seq = 1 if last is None else last.seq + 1
    prev_hash = GENESIS if last is None else last.hash
    stored = canonical(dict(change))
    at = clock.now()
    entry = ChainEntry(
        seq=seq,
        at=at,
        actor_id=actor_id,
        kind=kind,
        case_id=case_id,
        change=stored,
        justification=justification,
        prev_hash=prev_hash,
        hash=entry_hash(
            seq=seq,
            at=at,
            actor_id=actor_id,
            kind=kind.value,
            case_id=case_id,
            change=stored,
            justification=justification,
            prev_hash=prev_hash,
        ),
    )
    session.add(entry)
    await session.flush()
    return entry


def change_of(entry: ChainEntry) -> dict[str, Any]:
    """The entry's change, read back from its canonical JSON."""
    value = json.loads(entry.change)
    if not isinstance(value, dict):
        raise ValueError(f"entry {entry.seq}'s change is not an object")
    return value


async def entries_for_case(*, session: AsyncSession, case_id: int) -> list[ChainEntry]:
    """Every entry about one request, oldest first."""
    rows = await session.scalars(select(ChainEntry).where(ChainEntry.case_id == case_id).order_by(ChainEntry.seq))
    return list(rows)
