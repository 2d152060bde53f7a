"""fairness.chain on SQLite and PostgreSQL: appends numbered 1, 2, 3 …, each linked to the one before by its
hash; the hash is recomputed from what is stored; the canonical JSON keeps Arabic as itself."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fairness import chain
from fairness.models import ChainEntry, EntryKind
from majlis.clock import RIYADH, FrozenClock
from majlis.db import create_engine, session_factory, transaction

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def chain_sessions(database_url: str) -> AsyncIterator[Sessions]:
    """Sessions on a fresh database of the test's backend (no app: the chain needs none)."""
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


async def appended(sessions: Sessions, clock: FrozenClock, count: int, *, case_id: int = 7) -> list[ChainEntry]:
    """`count` entries of every kind in turn, one transaction each, a minute apart."""
    entries = []
    kinds = list(EntryKind)
    for n in range(count):
        async with transaction(sessions) as session:
            entries.append(
                await chain.append(
                    session=session,
                    clock=clock,
                    kind=kinds[n % len(kinds)],
                    actor_id=None if n % 2 else 3,
                    case_id=case_id + n % 3,
                    change={"tracking_number": f"MJ-2026-{n:05d}", "score": 40 + n, "urgency": "urgent"},
                    justification="" if n % 2 else "توجيه المسؤول",
                )
            )
        clock.advance(timedelta(minutes=1))
    return entries


async def test_appends_are_numbered_and_linked(chain_sessions: Sessions, clock: FrozenClock) -> None:
    async with chain_sessions() as session:
        assert await chain.head(session=session) is None
    entries = await appended(chain_sessions, clock, 4)
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert entries[0].prev_hash == chain.GENESIS
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    async with chain_sessions() as session:
        last = await chain.head(session=session)
        assert last is not None and (last.seq, last.hash) == (4, entries[-1].hash)
        stored = await chain.entries_for_case(session=session, case_id=7)
    assert [e.seq for e in stored] == [1, 4]
    assert chain.change_of(stored[1]) == {"score": 43, "tracking_number": "MJ-2026-00003", "urgency": "urgent"}


async def test_the_hash_is_recomputed_from_what_is_stored(chain_sessions: Sessions, clock: FrozenClock) -> None:
    entries = await appended(chain_sessions, clock, 3)
    async with chain_sessions() as session:
        stored = await session.get(ChainEntry, 2)
    assert stored is not None and stored.at == entries[1].at
    assert chain.hash_of(stored) == stored.hash == entries[1].hash
    # The hash is SHA-256 over the canonical form of every field, the position and the previous hash included.
    body = chain.canonical(
        {
            "seq": 2,
            "at": stored.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_id": stored.actor_id,
            "kind": stored.kind.value,
            "case_id": stored.case_id,
            "change": json.loads(stored.change),
            "justification": stored.justification,
            "prev_hash": entries[0].hash,
        }
    )
    assert hashlib.sha256(body.encode()).hexdigest() == stored.hash
    for field, value in (("seq", 3), ("justification", "x"), ("prev_hash", chain.GENESIS), ("actor_id", 9)):
        changed: dict[str, Any] = {
            "seq": stored.seq,
            "at": stored.at,
            "actor_id": stored.actor_id,
            "kind": stored.kind.value,
            "case_id": stored.case_id,
            "change": stored.change,
            "justification": stored.justification,
            "prev_hash": stored.prev_hash,
        } | {field: value}
        assert chain.entry_hash(**changed) != stored.hash, field


async def test_a_second_link_after_one_entry_is_refused(chain_sessions: Sessions, clock: FrozenClock) -> None:
    entries = await appended(chain_sessions, clock, 2)
    with pytest.raises(IntegrityError):
        async with transaction(chain_sessions) as session:
            session.add(
                ChainEntry(
                    seq=3,
                    at=clock.now(),
                    actor_id=None,
                    kind=EntryKind.SCORE,
                    case_id=1,
                    change="{}",
                    justification="",
                    prev_hash=entries[0].hash,
                    hash="f" * 64,
                )
            )


def test_canonical_json_keeps_arabic_and_sorts_keys() -> None:
    value = {"reason": "توجيه المسؤول", "b": [1, 2.5, None], "a": {"z": True, "y": "é"}}
    text = chain.canonical(value)
    assert text == '{"a":{"y":"é","z":true},"b":[1,2.5,null],"reason":"توجيه المسؤول"}'
    assert chain.canonical(json.loads(text)) == text
    with pytest.raises(ValueError, match="JSON compliant"):
        chain.canonical({"score": float("nan")})


def test_times_are_hashed_in_utc_and_must_be_aware() -> None:
    fields: dict[str, Any] = {
        "seq": 1,
        "actor_id": None,
        "kind": "score",
        "case_id": 1,
        "change": "{}",
        "justification": "",
    }
    same = chain.entry_hash(at=datetime(2026, 11, 24, 12, 0, tzinfo=UTC), prev_hash=chain.GENESIS, **fields)
    riyadh = datetime(2026, 11, 24, 15, 0, tzinfo=RIYADH)
    assert chain.entry_hash(at=riyadh, prev_hash=chain.GENESIS, **fields) == same
    with pytest.raises(ValueError, match="aware"):
        chain.entry_hash(at=datetime(2026, 11, 24, 12, 0), prev_hash=chain.GENESIS, **fields)
