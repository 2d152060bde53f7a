"""A whole audience day on a FrozenClock, on SQLite and PostgreSQL (the issue's main figure).

15 in-person appointments in one Sunday session: 12 arrive (one late), 2 never come, 1 cancels. The official
holds 12. After the session: 12 held, 2 no-shows (told, and waiting again), 1 released; and the next
allocation places a new request from any of these applicants (the regression: "placed 0 with 6 free seats").
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from audience_day import hall
from audience_day.models import Arrival, HallAudience, Outcome
from cases import service as cases
from cases.models import CaseStatus
from majlis.clock import FrozenClock
from scheduler.lifecycle import SweepReport
from scheduler.models import Answer, AppointmentState
from tests.audience_day.arrange import (
    at,
    booked_day,
    call,
    cancel,
    check_in,
    count,
    live_of,
    official,
    phone,
    record,
    states,
    status,
    sweep,
    told,
)
from tests.factories import make_staff
from tests.followup.arrange import add_department
from tests.priority.test_triage import new_case, ready
from tests.scheduler.test_changes import national_id
from tests.scheduler.test_runs import run

Sessions = async_sessionmaker[AsyncSession]

CANCELLED = 14
NO_SHOWS = (5, 9)
LATE = 2
# Arriving early, in an order unlike the slots': queue numbers 1…10.
EARLY = (12, 11, 10, 8, 7, 6, 4, 3, 1, 0)
# Arriving while the official is sitting, at the moment of a call: the late one, and one on time.
DURING = {at(29, 10, 36): (LATE,), at(29, 11, 0): (13,)}
OUTCOMES = {
    1: (Outcome.REFERRED, "hrsd", CaseStatus.REFERRED),
    3: (Outcome.REJECTED, "", CaseStatus.REJECTED),
    4: (Outcome.NEEDS_STUDY, "", CaseStatus.UNDER_STUDY),
}


async def test_a_whole_day_ends_every_appointment_and_the_next_allocation_places_again(
    sessions: Sessions, clock: FrozenClock
) -> None:
    day = await booked_day(sessions, clock, 15)
    await add_department(sessions, "hrsd")
    session_id = day[0].session_id
    assert {b.session_id for b in day} == {session_id}
    actor = await official(sessions, clock)

    # Thursday: one applicant answers "cancelled"; nobody waits, so the seat stays free.
    clock.set(at(26, 10))
    cancelled = await cancel(sessions, clock, day[CANCELLED].appointment_id)
    assert cancelled.answer is Answer.CANCELLED and cancelled.backfilled_case_id is None

    # Sunday morning: ten arrive before the session, at the kiosk.
    clock.set(at(29, 9, 40))
    numbers: dict[int, int] = {}
    for i in EARLY:
        arrived = await check_in(sessions, clock, day[i].appointment_id)
        numbers[i] = arrived.queue_number
        assert not arrived.late
        clock.advance(timedelta(minutes=1))
    assert [numbers[i] for i in EARLY] == list(range(1, 11))

    # The official sits from 10:00; each audience takes six minutes and ends with its outcome.
    clock.set(at(29, 10))
    heard: list[int] = []
    by_appointment = {b.appointment_id: b.index for b in day}
    for turn in range(12):
        for i in DURING.get(clock.now(), ()):
            arrived = await check_in(sessions, clock, day[i].appointment_id)
            numbers[i] = arrived.queue_number
            assert arrived.late is (i == LATE)
        result = await call(sessions, clock, session_id, None, actor)
        assert result.moved and result.current is not None
        i = by_appointment[result.current.appointment_id]
        heard.append(i)
        if turn == 0:
            async with sessions() as session:
                screen = await hall.now_serving(session=session, session_id=session_id)
            assert screen.serving == numbers[0]
            # Those who came in time, by their slot; the screen shows numbers only.
            assert screen.waiting == [numbers[j] for j in (1, 3, 4, 6, 7, 8, 10, 11, 12)]
        assert (await states(sessions, [day[i].appointment_id])) == [AppointmentState.IN_AUDIENCE]
        clock.advance(timedelta(minutes=6))
        outcome, departments, _ = OUTCOMES.get(i, (Outcome.ANSWERED, "", CaseStatus.COMPLETED))
        done = await record(sessions, clock, result.current.id, actor, outcome=outcome, referred_to=departments)
        assert done.outcome is outcome and done.ended_at == clock.now()
    # The late arrival is heard after everyone who came in time, though her slot was third.
    assert heard == [0, 1, 3, 4, 6, 7, 8, 10, 11, 12, 13, LATE]
    assert numbers[LATE] == 11 and numbers[13] == 12
    # Nobody is left to call: a press changes nothing.
    last = await call(sessions, clock, session_id, None, actor)
    assert (last.current, last.moved) == (None, False)
    async with sessions() as session:
        audiences = list(await session.scalars(select(HallAudience).order_by(HallAudience.called_at)))
        arrivals = list(await session.scalars(select(Arrival)))
    assert len(audiences) == 12 and all(a.outcome is not None and a.called_by_id == actor for a in audiences)
    assert all(a.ended_at is not None and a.ended_at - a.called_at == timedelta(minutes=6) for a in audiences)
    assert [a.late for a in arrivals].count(True) == 1
    for i in heard:
        expected = OUTCOMES.get(i, (Outcome.ANSWERED, "", CaseStatus.COMPLETED))[2]
        assert await status(sessions, day[i].case_id) is expected, i

    # Before the session ends the sweep ends nothing.
    clock.set(at(29, 11, 59))
    assert await sweep(sessions, clock) == SweepReport()

    # After the session: 12 held, 2 no-shows (told by SMS, waiting again), 1 released.
    clock.set(at(29, 12, 30))
    assert await sweep(sessions, clock) == SweepReport(no_shows=2, returned=2)
    ids = [b.appointment_id for b in day]
    ended = await states(sessions, ids)
    assert ended.count(AppointmentState.HELD) == 12
    assert [i for i, s in enumerate(ended) if s is AppointmentState.NO_SHOW] == list(NO_SHOWS)
    assert [i for i, s in enumerate(ended) if s is AppointmentState.RELEASED] == [CANCELLED]
    assert await status(sessions, day[CANCELLED].case_id) is CaseStatus.REFERRED
    for i in NO_SHOWS:
        assert await status(sessions, day[i].case_id) is CaseStatus.AWAITING_AUDIENCE
        [sms] = await told(sessions, f"no_show:{day[i].appointment_id}")
        assert (sms.channel, sms.recipient, sms.case_id) == ("sms", phone(i), day[i].case_id)
        assert day[i].tracking_number in sms.body
    assert len(await told(sessions, "no_show:%")) == 2
    # A second sweep finds nothing left to end.
    assert await sweep(sessions, clock) == SweepReport()

    # New requests from a held applicant and from the one who cancelled; the no-shows' own requests wait.
    desk = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor2")).id
    fresh = {}
    for i in (0, CANCELLED):
        fresh[i] = await new_case(sessions, clock, applicant_national_id=national_id(i), applicant_phone=phone(i))
        await ready(sessions, clock, desk, fresh[i])
    report = await run(sessions, clock)
    assert (report.placed, report.unplaced, report.lost_races) == (4, 0, 0)
    async with sessions() as session:
        new_ids = [
            found.id
            for number in fresh.values()
            if (found := await cases.find_by_tracking_number(session=session, tracking_number=number)) is not None
        ]
    assert len(new_ids) == 2
    for case_id in [*new_ids, *(day[i].case_id for i in NO_SHOWS)]:
        placed = await live_of(sessions, case_id)
        assert placed is not None, case_id
        assert placed[1].starts_at.date() == at(6, 10, month=12).date()
        assert await status(sessions, case_id) is CaseStatus.SCHEDULED
    assert await count(sessions, HallAudience) == 12
