"""The end of every appointment after its session, on SQLite and PostgreSQL: no-shows wait again once, a second
no-show closes the request, those who came but were not reached are placed again at once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import StaffUser
from audience_day.models import Outcome
from cases.models import CaseStatus, StatusChange
from majlis.clock import FrozenClock
from scheduler.lifecycle import NoShowPolicy, SweepReport
from scheduler.models import AppointmentState
from tests.audience_day.arrange import (
    appointment,
    at,
    booked_day,
    call,
    check_in,
    live_of,
    official,
    phone,
    record,
    states,
    status,
    sweep,
    told,
)
from tests.priority.test_triage import new_case, ready
from tests.scheduler.test_changes import national_id
from tests.scheduler.test_runs import run

Sessions = async_sessionmaker[AsyncSession]


async def staff_id(sessions: Sessions, username: str) -> int:
    async with sessions() as session:
        found = await session.scalar(select(StaffUser.id).where(StaffUser.username == username))
    assert found is not None
    return found


async def test_a_second_no_show_closes_the_request_with_a_notice(sessions: Sessions, clock: FrozenClock) -> None:
    [first] = await booked_day(sessions, clock, 1, weeks=3)
    clock.set(at(29, 12))
    assert await sweep(sessions, clock) == SweepReport(no_shows=1, returned=1)
    assert await states(sessions, [first.appointment_id]) == [AppointmentState.NO_SHOW]
    assert await status(sessions, first.case_id) is CaseStatus.AWAITING_AUDIENCE
    # Waiting again with its priority: the next run gives it the next Sunday.
    assert (await run(sessions, clock)).placed == 1
    again = await live_of(sessions, first.case_id)
    assert again is not None and again[1].starts_at == at(6, 10, month=12)
    clock.set(at(6, 12, month=12))
    assert await sweep(sessions, clock) == SweepReport(no_shows=1, closed=1)
    assert await states(sessions, [again[0].id]) == [AppointmentState.NO_SHOW]
    assert await status(sessions, first.case_id) is CaseStatus.CLOSED_NO_SHOW
    returned, closed = await told(sessions, "no_show:%")
    assert returned.purpose == f"no_show:{first.appointment_id}" and closed.purpose == f"no_show:{again[0].id}"
    assert closed.recipient == phone(0) and first.tracking_number in closed.body and closed.body != returned.body
    # Closed: no run places it again.
    assert (await run(sessions, clock)).placed == 0
    assert await live_of(sessions, first.case_id) is None


async def test_without_a_second_chance_the_first_no_show_closes(sessions: Sessions, clock: FrozenClock) -> None:
    [first] = await booked_day(sessions, clock, 1)
    clock.set(at(29, 12, 1))
    assert await sweep(sessions, clock, NoShowPolicy(second_chance=False)) == SweepReport(no_shows=1, closed=1)
    assert await status(sessions, first.case_id) is CaseStatus.CLOSED_NO_SHOW
    assert len(await told(sessions, f"no_show:{first.appointment_id}")) == 1
    async with sessions() as session:
        change = await session.scalar(
            select(StatusChange).where(StatusChange.case_id == first.case_id).order_by(StatusChange.id.desc())
        )
    assert change is not None and change.to_status is CaseStatus.CLOSED_NO_SHOW and change.actor_id is None


async def test_an_audience_left_without_an_outcome_waits_for_the_official(
    sessions: Sessions, clock: FrozenClock
) -> None:
    heard, unreached, called = await booked_day(sessions, clock, 3)
    actor = await official(sessions, clock)
    clock.set(at(29, 9, 50))
    for booked in (heard, unreached, called):
        await check_in(sessions, clock, booked.appointment_id)
    clock.set(at(29, 10))
    first = await call(sessions, clock, heard.session_id, None, actor)
    assert first.current is not None and first.current.appointment_id == heard.appointment_id
    await record(sessions, clock, first.current.id, actor)
    # The official lets the second go without an outcome and calls the third; the day then stops.
    second = await call(sessions, clock, heard.session_id, None, actor)
    assert second.current is not None and second.current.appointment_id == unreached.appointment_id
    clock.advance(timedelta(minutes=5))
    third = await call(sessions, clock, heard.session_id, second.current.id, actor)
    assert third.moved and third.current is not None and third.current.appointment_id == called.appointment_id
    # The second, let go without an outcome, is in audience still: the outcome may come later.
    assert await states(sessions, [unreached.appointment_id]) == [AppointmentState.IN_AUDIENCE]

    clock.set(at(29, 12, 5))
    report = await sweep(sessions, clock)
    # Both left "in audience" await the official's outcome; nobody arrived and was left uncalled.
    assert report == SweepReport()
    assert await states(sessions, [heard.appointment_id, unreached.appointment_id, called.appointment_id]) == [
        AppointmentState.HELD,
        AppointmentState.IN_AUDIENCE,
        AppointmentState.IN_AUDIENCE,
    ]
    await record(sessions, clock, third.current.id, actor, outcome=Outcome.NEEDS_STUDY)
    assert await states(sessions, [called.appointment_id]) == [AppointmentState.HELD]
    assert await status(sessions, called.case_id) is CaseStatus.UNDER_STUDY


async def test_arrived_but_never_called_is_released_and_placed_again_at_once(
    sessions: Sessions, clock: FrozenClock
) -> None:
    heard, waiting = await booked_day(sessions, clock, 2)
    actor = await official(sessions, clock)
    clock.set(at(29, 9, 50))
    for booked in (heard, waiting):
        await check_in(sessions, clock, booked.appointment_id)
    clock.set(at(29, 10))
    first = await call(sessions, clock, heard.session_id, None, actor)
    assert first.current is not None
    await record(sessions, clock, first.current.id, actor)
    clock.set(at(29, 12))
    assert await sweep(sessions, clock) == SweepReport(not_reached=1, placed_again=1)
    old = await appointment(sessions, waiting.appointment_id)
    assert (old.state, old.release_reason, old.released_at) == (AppointmentState.RELEASED, "not_reached", clock.now())
    # Owed a date now: placed in the same sweep, in next Sunday's session.
    again = await live_of(sessions, waiting.case_id)
    assert again is not None and again[1].starts_at == at(6, 10, month=12)
    assert await status(sessions, waiting.case_id) is CaseStatus.SCHEDULED
    [sms] = await told(sessions, f"not_reached:{waiting.appointment_id}")
    assert sms.recipient == phone(1)
    assert len(await told(sessions, f"scheduled:{again[0].id}")) == 1
    assert await told(sessions, "no_show:%") == []
    assert await states(sessions, [heard.appointment_id]) == [AppointmentState.HELD]


async def test_a_past_appointment_no_longer_counts_as_live_even_before_the_sweep(
    sessions: Sessions, clock: FrozenClock
) -> None:
    # The regression: "majlis allocate answered placed 0 with 6 free seats".
    [past] = await booked_day(sessions, clock, 1)
    clock.set(at(29, 12, 30))
    number = await new_case(sessions, clock, applicant_national_id=national_id(0), applicant_phone=phone(0))
    auditor = await staff_id(sessions, "auditor")
    await ready(sessions, clock, auditor, number)
    # The first appointment is still "scheduled" (no sweep yet) but its session is over.
    assert await states(sessions, [past.appointment_id]) == [AppointmentState.SCHEDULED]
    report = await run(sessions, clock)
    assert (report.placed, report.unplaced) == (1, 0)


async def test_an_appointment_still_ahead_keeps_its_applicant_from_another(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await booked_day(sessions, clock, 1)
    auditor = await staff_id(sessions, "auditor")
    clock.set(at(29, 9, 59))
    number = await new_case(sessions, clock, applicant_national_id=national_id(0), applicant_phone=phone(0))
    await ready(sessions, clock, auditor, number)
    report = await run(sessions, clock)
    assert (report.placed, report.unplaced) == (0, 1)


async def test_an_applicant_waiting_in_the_hall_past_the_slot_keeps_the_appointment_live(
    sessions: Sessions, clock: FrozenClock
) -> None:
    # Slot 10:00–10:08, session to 12:00: at 10:30 the applicant is still in the hall, owed the audience.
    [first] = await booked_day(sessions, clock, 1)
    clock.set(at(29, 9, 50))
    await check_in(sessions, clock, first.appointment_id)
    auditor = await staff_id(sessions, "auditor")
    clock.set(at(29, 10, 30))
    number = await new_case(sessions, clock, applicant_national_id=national_id(0), applicant_phone=phone(0))
    await ready(sessions, clock, auditor, number)
    report = await run(sessions, clock)
    assert (report.placed, report.unplaced) == (0, 1)
