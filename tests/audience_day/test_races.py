"""Races on audience day, each press in its own transaction and connection, run at once (asyncio.gather):
on PostgreSQL the row locks decide; on SQLite the write lock taken at BEGIN serialises them.

Kiosks checking people in at once never hand out one queue number twice, an applicant checked in at two
kiosks at once arrives once, and two consoles pressing Call next at once never call two people.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audience_day.arrival import ArrivalRefused
from audience_day.models import Arrival, HallAudience
from majlis.clock import FrozenClock
from scheduler.models import AppointmentState
from tests.audience_day.arrange import at, booked_day, call, check_in, count, official, states

Sessions = async_sessionmaker[AsyncSession]


async def test_concurrent_check_ins_give_each_a_number_once(sessions: Sessions, clock: FrozenClock) -> None:
    day = await booked_day(sessions, clock, 10)
    clock.set(at(29, 9, 45))
    arrivals = await asyncio.gather(*(check_in(sessions, clock, b.appointment_id) for b in day))
    assert sorted(a.queue_number for a in arrivals) == list(range(1, 11))
    async with sessions() as session:
        stored = list(
            await session.scalars(select(Arrival.queue_number).where(Arrival.session_id == day[0].session_id))
        )
    assert sorted(stored) == list(range(1, 11))
    assert set(await states(sessions, [b.appointment_id for b in day])) == {AppointmentState.ARRIVED}


async def test_one_applicant_checked_in_twice_at_once_arrives_once(sessions: Sessions, clock: FrozenClock) -> None:
    first, other = await booked_day(sessions, clock, 2)
    clock.set(at(29, 9, 45))
    results = await asyncio.gather(
        *(check_in(sessions, clock, first.appointment_id) for _ in range(3)),
        check_in(sessions, clock, other.appointment_id),
        return_exceptions=True,
    )
    taken = [r for r in results[:3] if isinstance(r, Arrival)]
    refused = [r for r in results[:3] if isinstance(r, ArrivalRefused)]
    assert len(taken) == 1 and len(refused) == 2, results
    assert {r.code for r in refused} == {"already_arrived"}
    assert {r.params["number"] for r in refused} == {str(taken[0].queue_number)}
    assert isinstance(results[3], Arrival)
    assert {taken[0].queue_number, results[3].queue_number} == {1, 2}
    assert await count(sessions, Arrival) == 2


async def test_two_consoles_pressing_call_next_at_once_call_one_person(sessions: Sessions, clock: FrozenClock) -> None:
    day = await booked_day(sessions, clock, 3)
    actor = await official(sessions, clock)
    clock.set(at(29, 9, 45))
    for booked in day:
        await check_in(sessions, clock, booked.appointment_id)
    session_id = day[0].session_id
    clock.set(at(29, 10))
    current: int | None = None
    for turn, booked in enumerate(day, start=1):
        presses = await asyncio.gather(*(call(sessions, clock, session_id, current, actor) for _ in range(2)))
        moved = [p for p in presses if p.moved]
        assert len(moved) == 1, presses
        assert all(p.current is not None and p.current.appointment_id == booked.appointment_id for p in presses)
        assert await count(sessions, HallAudience) == turn
        assert moved[0].current is not None
        current = moved[0].current.id
    async with sessions() as session:
        audiences = list(await session.scalars(select(HallAudience).order_by(HallAudience.id)))
    assert [a.appointment_id for a in audiences] == [b.appointment_id for b in day]
    # Each earlier audience was ended by exactly the press that called the next one.
    assert [a.ended_at is None for a in audiences] == [False, False, True]
    assert await states(sessions, [b.appointment_id for b in day]) == [AppointmentState.IN_AUDIENCE] * 3
