"""fairness.verify on SQLite and PostgreSQL: every kind of tampering done in SQL behind the application's back
(an edit of any field, a removal, a reorder, a chain rewritten with its head) is caught and the first bad entry
named; the rewrite only against an anchor held outside the database."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Table, delete, insert, select, text, update

from fairness import chain
from fairness.models import ChainEntry
from fairness.verify import COLUMNS, Anchor, Problem, _stored_hash, verify_chain
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.i18n import shipped_catalogs
from tests.fairness.test_chain import Sessions, appended, chain_sessions

__all__ = ["chain_sessions"]

TABLE = cast(Table, ChainEntry.__table__)


async def sql(sessions: Sessions, *statements: Any) -> None:
    """Statements run as someone with database access would: straight SQL, committed."""
    async with transaction(sessions) as session:
        for statement in statements:
            await session.execute(statement)


async def verified(sessions: Sessions, *anchors: Anchor) -> Any:
    async with sessions() as session:
        return await verify_chain(session=session, anchors=anchors)


async def test_an_untouched_chain_is_intact(chain_sessions: Sessions, clock: FrozenClock) -> None:
    assert (await verified(chain_sessions)).head_seq is None
    entries = await appended(chain_sessions, clock, 6)
    result = await verified(chain_sessions, Anchor(3, entries[2].hash), Anchor(6, entries[5].hash))
    assert result.intact and result.fault is None
    assert (result.entries, result.head_seq, result.head_hash, result.anchors_checked) == (6, 6, entries[5].hash, 2)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("at", "later"),
        ("actor_id", 99),
        ("kind", "merge"),
        ("case_id", 1234),
        ("change", '{"score":99,"tracking_number":"MJ-2026-00002","urgency":"urgent"}'),
        ("change", "not json"),
        ("justification", "another reason"),
        ("prev_hash", "a" * 64),
        ("hash", "b" * 64),
    ],
)
async def test_an_edit_of_any_field_names_the_entry(
    chain_sessions: Sessions, clock: FrozenClock, column: str, value: Any
) -> None:
    entries = await appended(chain_sessions, clock, 6)
    if value == "later":
        value = entries[2].at + timedelta(seconds=1)
    await sql(chain_sessions, update(TABLE).where(TABLE.c.seq == 3).values({column: value}))
    fault = (await verified(chain_sessions)).fault
    assert fault is not None and (fault.seq, fault.problem) == (3, Problem.ALTERED), column
    assert fault.describe() == "Entry 3 was altered: what it holds no longer gives its hash."


async def test_a_change_rewritten_to_read_the_same_in_python_but_not_in_sql_is_named(
    chain_sessions: Sessions, clock: FrozenClock
) -> None:
    """A key given twice (the first copy forged: SQLite's json_extract reads it), or spaces, is not the text hashed."""
    entries = await appended(chain_sessions, clock, 4)
    stored = entries[1].change
    for forged in ('{"tracking_number":"FORGED-0001",' + stored[1:], stored.replace(",", ", ")):
        assert forged != stored
        await sql(chain_sessions, update(TABLE).where(TABLE.c.seq == 2).values(change=forged))
        fault = (await verified(chain_sessions)).fault
        assert fault is not None and (fault.seq, fault.problem) == (2, Problem.ALTERED), forged
    await sql(chain_sessions, update(TABLE).where(TABLE.c.seq == 2).values(change=stored))
    assert (await verified(chain_sessions)).intact


async def test_a_value_that_cannot_be_read_names_the_entry(
    chain_sessions: Sessions, clock: FrozenClock, backend: str
) -> None:
    """SQLite keeps any text in a time column (PostgreSQL refuses it): the entry is named, the walk does not fail."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL's column types refuse such a value")
    await appended(chain_sessions, clock, 4)
    await sql(chain_sessions, text("UPDATE fairness_chain SET at = 'yesterday' WHERE seq = 3"))
    result = await verified(chain_sessions)
    assert result.fault is not None and result.entries == 2
    assert result.fault.describe() == (
        "Entry 3 was altered: a value in it is not of its column's kind (a time that is not a time)."
    )


async def test_an_edit_with_its_hash_recomputed_names_the_entry(chain_sessions: Sessions, clock: FrozenClock) -> None:
    entries = await appended(chain_sessions, clock, 5)
    third = entries[2]
    forged = chain.entry_hash(
        seq=3,
        at=third.at,
        actor_id=third.actor_id,
        kind=third.kind.value,
        case_id=third.case_id,
        change='{"score":1}',
        justification=third.justification,
        prev_hash=third.prev_hash,
    )
    await sql(chain_sessions, update(TABLE).where(TABLE.c.seq == 3).values(change='{"score":1}', hash=forged))
    fault = (await verified(chain_sessions)).fault
    assert fault is not None and (fault.seq, fault.problem) == (3, Problem.ALTERED)
    assert fault.describe() == (
        "Entry 3 was altered: its hash was recomputed; the entry after it still names the hash it had."
    )


async def test_a_removal_is_named(chain_sessions: Sessions, clock: FrozenClock) -> None:
    await appended(chain_sessions, clock, 6)
    await sql(chain_sessions, delete(TABLE).where(TABLE.c.seq == 4))
    fault = (await verified(chain_sessions)).fault
    assert fault is not None and (fault.seq, fault.problem) == (4, Problem.REMOVED)
    assert fault.describe() == "Entry 4 was removed: the chain goes from entry 3 to entry 5."

    await sql(chain_sessions, delete(TABLE).where(TABLE.c.seq == 1))
    fault = (await verified(chain_sessions)).fault
    assert fault is not None and fault.describe() == "Entry 1 was removed: the chain starts at entry 2."


async def test_a_removal_with_the_rest_renumbered_is_named(chain_sessions: Sessions, clock: FrozenClock) -> None:
    await appended(chain_sessions, clock, 6)
    # One row at a time, upwards: the positions stay unique at every step.
    await sql(
        chain_sessions,
        delete(TABLE).where(TABLE.c.seq == 2),
        *(update(TABLE).where(TABLE.c.seq == seq).values(seq=seq - 1) for seq in range(3, 7)),
    )
    fault = (await verified(chain_sessions)).fault
    assert fault is not None and (fault.seq, fault.problem) == (2, Problem.REMOVED)
    assert fault.describe() == (
        "Entry 2 was removed: the entry after it names a previous entry that the chain no longer holds."
    )


async def test_a_swap_of_two_entries_is_named(chain_sessions: Sessions, clock: FrozenClock) -> None:
    await appended(chain_sessions, clock, 6)
    await sql(
        chain_sessions,
        update(TABLE).where(TABLE.c.seq == 4).values(seq=1000),
        update(TABLE).where(TABLE.c.seq == 5).values(seq=4),
        update(TABLE).where(TABLE.c.seq == 1000).values(seq=5),
    )
    fault = (await verified(chain_sessions)).fault
    assert fault is not None and (fault.seq, fault.problem) == (4, Problem.REORDERED)
    assert fault.describe() == "Entry 4 was reordered: it was written as entry 5."
    catalogs = shipped_catalogs()
    assert fault.describe(lambda message: catalogs.gettext("ar", message)) == (
        "نُقل القيد 4 من موضعه: كُتب في الأصل بوصفه القيد 5."
    )


async def test_a_rewrite_with_its_head_is_caught_only_against_an_anchor(
    chain_sessions: Sessions, clock: FrozenClock
) -> None:
    entries = await appended(chain_sessions, clock, 6)
    before, head = Anchor(2, entries[1].hash), Anchor(6, entries[5].hash)
    # Entry 3's score lowered, and every hash from it on recomputed: a chain consistent with itself.
    statements = []
    prev_hash = entries[1].hash
    for entry in entries[2:]:
        change = '{"score":1}' if entry.seq == 3 else entry.change
        new_hash = chain.entry_hash(
            seq=entry.seq,
            at=entry.at,
            actor_id=entry.actor_id,
            kind=entry.kind.value,
            case_id=entry.case_id,
            change=change,
            justification=entry.justification,
            prev_hash=prev_hash,
        )
        statements.append(
            update(TABLE).where(TABLE.c.seq == entry.seq).values(change=change, prev_hash=prev_hash, hash=new_hash)
        )
        prev_hash = new_hash
    await sql(chain_sessions, *statements)

    assert (await verified(chain_sessions)).intact
    assert (await verified(chain_sessions, before)).intact
    result = await verified(chain_sessions, before, Anchor(head.seq, head.hash, day=clock.now().date()))
    assert result.fault is not None and (result.fault.seq, result.fault.problem) == (6, Problem.REWRITTEN)
    assert result.fault.describe() == (
        f"The chain was rewritten at or before entry 6: its hash is not the one anchored on {clock.now().date()}."
    )
    assert result.anchors_checked == 1


async def test_a_head_removed_is_caught_against_an_anchor(chain_sessions: Sessions, clock: FrozenClock) -> None:
    entries = await appended(chain_sessions, clock, 4)
    await sql(chain_sessions, delete(TABLE).where(TABLE.c.seq == 4))
    assert (await verified(chain_sessions)).intact
    fault = (await verified(chain_sessions, Anchor(4, entries[3].hash))).fault
    assert fault is not None and fault.describe() == (
        f"The chain was rewritten at or before entry 4: the chain ends at entry 3, but the anchor of "
        f"4:{entries[3].hash[:12]}… names entry 4."
    )


async def test_the_first_fault_is_named(chain_sessions: Sessions, clock: FrozenClock) -> None:
    entries = await appended(chain_sessions, clock, 6)
    await sql(
        chain_sessions,
        delete(TABLE).where(TABLE.c.seq == 5),
        update(TABLE).where(TABLE.c.seq == 2).values(justification="x"),
    )
    fault = (await verified(chain_sessions, Anchor(4, "c" * 64), Anchor(6, entries[5].hash))).fault
    assert fault is not None and (fault.seq, fault.problem) == (2, Problem.ALTERED)


async def test_a_long_chain_is_walked_in_batches(chain_sessions: Sessions, clock: FrozenClock, backend: str) -> None:
    """100 000 entries (20 000 on PostgreSQL, whose inserts are slower) walked in batches; an edit near the end."""
    count = 100_000 if backend == "sqlite" else 20_000
    rows: list[dict[str, Any]] = []
    prev_hash = chain.GENESIS
    for seq in range(1, count + 1):
        at = clock.now() + timedelta(seconds=seq)
        change = chain.canonical({"tracking_number": f"MJ-2026-{seq:06d}", "score": seq % 97})
        digest = chain.entry_hash(
            seq=seq,
            at=at,
            actor_id=None,
            kind="placement",
            case_id=seq,
            change=change,
            justification="",
            prev_hash=prev_hash,
        )
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor_id": None,
                "kind": "placement",
                "case_id": seq,
                "change": change,
                "justification": "",
                "prev_hash": prev_hash,
                "hash": digest,
            }
        )
        prev_hash = digest
    async with transaction(chain_sessions) as session:
        for start in range(0, count, 10_000):
            await session.execute(insert(TABLE), rows[start : start + 10_000])
    # One walk (the hashes are what costs): every entry up to the edit near the end checked, and an anchor on the way.
    await sql(chain_sessions, update(TABLE).where(TABLE.c.seq == count - 10).values(case_id=1))
    started = time.monotonic()
    result = await verified(chain_sessions, Anchor(count - 20, rows[count - 21]["hash"]))
    assert time.monotonic() - started < 30
    assert result.fault is not None and (result.fault.seq, result.fault.problem) == (count - 10, Problem.ALTERED)
    assert result.entries == count - 11 and result.anchors_checked == 1


async def test_the_walks_cheap_hash_is_the_entry_hash(chain_sessions: Sessions, clock: FrozenClock) -> None:
    """The walk splices each stored change into the entry's canonical form instead of reading and writing it again:
    for every kind, actor or none, Arabic justification or none, the same hash as chain.entry_hash."""
    entries = await appended(chain_sessions, clock, 12)
    async with chain_sessions() as session:
        rows = list((await session.execute(select(*COLUMNS).order_by(ChainEntry.seq))).all())
    assert [_stored_hash(row) for row in rows] == [chain.hash_of(entry) for entry in entries]
    assert [row.hash for row in rows] == [entry.hash for entry in entries]
