"""The fairness chain's lock order on PostgreSQL: the watch (tests/fairness/lock_order.py) fails a transaction
that locks a row before taking the chain's turn, and two changes that both lock the same rows and append to
the chain, run at once, both end without a deadlock and leave the chain intact."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from fairness import chain
from fairness.models import ChainEntry, EntryKind
from fairness.verify import verify_chain
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import DomainError
from scheduler import changes
from scheduler import service as scheduling
from scheduler.models import Answer, AudienceSession, Slot
from tests.factories import make_staff
from tests.fairness.lock_order import LockOrder
from tests.fairness.test_record import case_id
from tests.priority.test_triage import new_case
from tests.scheduler.test_changes import move
from tests.scheduler.test_confirmations import answer, ask, at, placed_case
from tests.scheduler.test_runs import URL, appointments, run, sunday_hall

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def backend() -> str:
    # Row locks and the advisory turn are PostgreSQL's; SQLite takes one write lock at BEGIN IMMEDIATE.
    return "postgresql"


@pytest.fixture(autouse=True)
def fairness_lock_order() -> None:
    # The suite's own watch (tests/conftest.py) is off here: this module plants breaches and watches them itself.
    return


@pytest.fixture
def watch() -> Iterator[LockOrder]:
    found = LockOrder()
    with found.installed():
        yield found


async def append_for(session: AsyncSession, clock: FrozenClock, case: int) -> None:
    await chain.append(
        session=session,
        clock=clock,
        kind=EntryKind.OVERRIDE,
        actor_id=None,
        case_id=case,
        change={"field": "queue_position", "before": "0", "after": "10", "reason": "corrected_error"},
    )


async def test_the_watch_fails_a_row_locked_before_the_turn(
    sessions: Sessions, clock: FrozenClock, watch: LockOrder
) -> None:
    number = await new_case(sessions, clock)
    case = await case_id(sessions, number)
    async with transaction(sessions) as session:
        await cases.lock_cases(session=session, case_ids=[case])
        await append_for(session, clock, case)
    assert len(watch.breaches) == 1
    assert "a lock on cases" in watch.breaches[0][0] and "lock_cases" in watch.breaches[0][0]
    with pytest.raises(AssertionError, match="deadlock risk"):
        watch.assert_kept()
    watch.breaches.clear()
    # The order every path keeps: the turn, then the rows. A new transaction starts with nothing held.
    async with transaction(sessions) as session:
        await chain.take_turn(session=session)
        await cases.lock_cases(session=session, case_ids=[case])
        await append_for(session, clock, case)
    async with transaction(sessions) as session:
        await append_for(session, clock, case)
    watch.assert_kept()


async def both_end(*changes_at_once: Awaitable[object]) -> list[object]:
    """Runs the changes at once; each ends with its result or a refusal (the other came first), never a
    database error such as a detected deadlock."""
    ended = await asyncio.wait_for(asyncio.gather(*changes_at_once, return_exceptions=True), timeout=30)
    for result in ended:
        if isinstance(result, BaseException) and not isinstance(result, DomainError):
            raise result
    return ended


async def intact(sessions: Sessions) -> None:
    async with sessions() as session:
        assert (await verify_chain(session=session)).intact


async def test_an_answer_and_a_move_of_the_same_appointment_at_once(
    sessions: Sessions, clock: FrozenClock, watch: LockOrder
) -> None:
    await sunday_hall(sessions, clock, weeks=3)
    protocol = (await make_staff(sessions, clock, Role.PROTOCOL, "protocol")).id
    first = await placed_case(sessions, clock, 0)
    await run(sessions, clock)
    held = (await appointments(sessions))[first]
    clock.set(at(26, 10))
    await ask(sessions, clock)
    await placed_case(sessions, clock, 1)  # waiting: the freed seat is offered to it
    async with sessions() as session:
        later = await session.scalar(select(Slot).where(Slot.starts_at > clock.now() + timedelta(days=7)))
    assert later is not None
    # One of the two comes first; the other then finds the appointment released or moved and is refused.
    ended = await both_end(
        answer(sessions, clock, held.id, Answer.RESCHEDULED),
        move(sessions, clock, protocol, held.id, later.id, text="طلب المستفيد"),
    )
    assert sum(isinstance(result, DomainError) for result in ended) <= 1
    await intact(sessions)
    watch.assert_kept()


async def test_a_cancelled_session_and_a_run_at_once(sessions: Sessions, clock: FrozenClock, watch: LockOrder) -> None:
    await sunday_hall(sessions, clock, weeks=3)
    protocol = (await make_staff(sessions, clock, Role.PROTOCOL, "protocol")).id
    first = await placed_case(sessions, clock, 0)
    await run(sessions, clock)
    await placed_case(sessions, clock, 1)
    await placed_case(sessions, clock, 2)
    held = (await appointments(sessions))[first]
    async with sessions() as session:
        dated = await session.scalar(
            select(AudienceSession).join(Slot, Slot.session_id == AudienceSession.id).where(Slot.id == held.slot_id)
        )
    assert dated is not None

    async def cancel() -> object:
        async with transaction(sessions) as session:
            return await changes.cancel_session(
                session=session, clock=clock, session_id=dated.id, actor_id=protocol, reason="ظرف طارئ", status_url=URL
            )

    await both_end(cancel(), run(sessions, clock))
    placed = await appointments(sessions)
    assert first in placed and placed[first].slot_id != held.slot_id
    await intact(sessions)
    watch.assert_kept()


async def test_two_placements_committed_at_once_keep_the_chain_one_line(
    sessions: Sessions, clock: FrozenClock, watch: LockOrder
) -> None:
    """Two runs, each placing its own request, in two transactions at once: both placed, the chain one line."""
    await sunday_hall(sessions, clock, weeks=2)
    numbers = [await placed_case(sessions, clock, index) for index in (0, 1)]
    ids = [await case_id(sessions, number) for number in numbers]
    started = asyncio.Event()

    async def place_only(case: int) -> object:
        async with transaction(sessions) as session:
            await chain.head(session=session)  # begun and read before the other commits
            started.set()
            report = await scheduling.run_allocation(
                session=session, clock=clock, actor_id=None, status_url=URL, only={case}
            )
            await asyncio.sleep(0.02)  # held until the commit: the other must wait for this head
            return report

    reports = await both_end(place_only(ids[0]), place_only(ids[1]))
    assert [getattr(report, "placed", None) for report in reports] == [1, 1]
    assert set(await appointments(sessions)) == set(numbers)
    async with sessions() as session:
        entries = list(await session.scalars(select(ChainEntry).order_by(ChainEntry.seq)))
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(entries))
    placed = [e.case_id for e in entries if e.kind is EntryKind.PLACEMENT and e.case_id is not None]
    assert sorted(placed) == sorted(ids)
    await intact(sessions)
    watch.assert_kept()


async def test_a_transaction_cancelled_mid_statement_under_the_watch_ends_cancelled(
    sessions: Sessions, watch: LockOrder
) -> None:
    """The watch's rollback listener on a connection the cancellation invalidated: the task still ends cancelled
    (a bridge worker's close() once waited forever for a heartbeat whose cancellation the listener had replaced)."""
    started = asyncio.Event()

    async def slow() -> None:
        async with transaction(sessions) as session:
            started.set()
            await session.execute(text("SELECT pg_sleep(5)"))

    for _ in range(3):
        started.clear()
        task = asyncio.create_task(slow())
        await started.wait()
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    async with transaction(sessions) as session:  # the engine still serves
        assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
