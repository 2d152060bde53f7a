"""Cancelled sessions, moves by hand and urgent arrivals, on both databases."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock, riyadh
from majlis.db import transaction
from majlis.errors import DomainError, InvalidInput
from notify.models import OutboxMessage
from priority.models import ChangedField, ManualChange
from scheduler import calendar, changes
from scheduler.models import Appointment, AppointmentState, AudienceSession, Slot
from tests.factories import make_staff
from tests.priority.test_triage import new_case, ready
from tests.rooms.test_rooms import add_room
from tests.scheduler.test_calendar import add, template
from tests.scheduler.test_runs import IDS, URL, appointments, run, sunday_hall

Sessions = async_sessionmaker[AsyncSession]


async def test_a_cancelled_session_is_replaced_in_priority_order(sessions: Sessions, clock: FrozenClock) -> None:
    await sunday_hall(sessions, clock, weeks=3)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    normal = await new_case(sessions, clock, applicant_national_id=IDS[0])
    critical = await new_case(sessions, clock, applicant_national_id=IDS[1])
    await ready(sessions, clock, actor, normal)
    await ready(sessions, clock, actor, critical, category="qisas", urgency="critical")
    await run(sessions, clock)
    async with sessions() as session:
        first = await session.scalar(select(AudienceSession).order_by(AudienceSession.starts_at))
    assert first is not None
    async with transaction(sessions) as session:
        report = await changes.cancel_session(
            session=session, clock=clock, session_id=first.id, actor_id=actor, reason="ارتباط رسمي طارئ", status_url=URL
        )
    assert report.placed == 2
    placed = await appointments(sessions)
    async with sessions() as session:
        slots = {number: await session.get_one(Slot, a.slot_id) for number, a in placed.items()}
        told = list(
            await session.scalars(select(OutboxMessage.purpose).where(OutboxMessage.purpose.like("cancelled:%")))
        )
    assert all(slot.session_id != first.id for slot in slots.values())
    assert slots[critical].starts_at < slots[normal].starts_at  # priority kept
    assert len(told) == 2
    with pytest.raises(DomainError):
        async with transaction(sessions) as session:
            await changes.cancel_session(
                session=session, clock=clock, session_id=first.id, actor_id=actor, reason="مرة أخرى", status_url=URL
            )


async def test_a_move_by_hand_needs_a_reason_and_is_in_the_fairness_record(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await sunday_hall(sessions, clock)
    actor = (await make_staff(sessions, clock, Role.PROTOCOL, "protocol")).id
    desk = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    number = await new_case(sessions, clock)
    await ready(sessions, clock, desk, number)
    await run(sessions, clock)
    current = (await appointments(sessions))[number]
    async with sessions() as session:
        later = await session.scalar(select(Slot).where(Slot.id != current.slot_id).order_by(Slot.starts_at.desc()))
    assert later is not None
    with pytest.raises(InvalidInput):
        async with transaction(sessions) as session:
            await changes.move_appointment(
                session=session,
                clock=clock,
                appointment_id=current.id,
                to_slot_id=later.id,
                actor_id=actor,
                change_reason=None,
                change_text=None,
                status_url=URL,
            )
    async with transaction(sessions) as session:
        moved = await changes.move_appointment(
            session=session,
            clock=clock,
            appointment_id=current.id,
            to_slot_id=later.id,
            actor_id=actor,
            change_reason="new_information",
            change_text="طلب المستفيد موعدًا لاحقًا",
            status_url=URL,
        )
    assert moved.sequence == 1
    async with sessions() as session:
        old = await session.get_one(Appointment, current.id)
        record = await session.scalar(select(ManualChange).where(ManualChange.field == ChangedField.APPOINTMENT))
    assert old.state is AppointmentState.RELEASED and old.release_reason == "moved"
    assert record is not None and record.actor_id == actor


async def test_a_critical_arrival_displaces_the_latest_unconfirmed(sessions: Sessions, clock: FrozenClock) -> None:
    # One Sunday, one slot, one seat: room for a single audience.
    hall = await add_room(sessions, clock, name="قاعة صغيرة", kind="audience_hall")
    await add(sessions, clock, template((hall.id,), starts="10:00", ends="10:10", slot_minutes="10"))
    async with transaction(sessions) as session:
        await calendar.generate_sessions(session=session, clock=clock, weeks=1)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    normal = await new_case(sessions, clock, applicant_national_id=IDS[0])
    await ready(sessions, clock, actor, normal)
    await run(sessions, clock)
    critical = await new_case(sessions, clock, applicant_national_id=IDS[1])
    await ready(sessions, clock, actor, critical, category="qisas", urgency="critical")
    async with sessions() as session:
        from cases import service as cases

        found = await cases.find_by_tracking_number(session=session, tracking_number=critical)
    assert found is not None
    async with transaction(sessions) as session:
        placed = await changes.place_urgent_arrival(
            session=session, clock=clock, case_id=found.id, actor_id=actor, may_displace=True, status_url=URL
        )
    assert placed
    assert set(await appointments(sessions)) == {critical}


async def test_a_run_racing_a_manual_move_never_double_books(sessions: Sessions, clock: FrozenClock) -> None:
    # One slot with one seat left: a run wants it for a waiting request, protocol moves someone into it.
    hall = await add_room(sessions, clock, name="قاعة صغيرة", kind="audience_hall")
    await add(sessions, clock, template((hall.id,), starts="10:00", ends="10:20", slot_minutes="10"))
    async with transaction(sessions) as session:
        await calendar.generate_sessions(session=session, clock=clock, weeks=1)
    desk = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    protocol = (await make_staff(sessions, clock, Role.PROTOCOL, "protocol")).id
    first = await new_case(sessions, clock, applicant_national_id=IDS[0])
    await ready(sessions, clock, desk, first)
    await run(sessions, clock)  # takes 10:00
    placed = (await appointments(sessions))[first]
    async with sessions() as session:
        free = await session.scalar(select(Slot).where(Slot.id != placed.slot_id))
    assert free is not None
    second = await new_case(sessions, clock, applicant_national_id=IDS[1])
    await ready(sessions, clock, desk, second)

    async def move() -> str:
        try:
            async with transaction(sessions) as session:
                await changes.move_appointment(
                    session=session,
                    clock=clock,
                    appointment_id=placed.id,
                    to_slot_id=free.id,
                    actor_id=protocol,
                    change_reason="new_information",
                    change_text="طلب المستفيد",
                    status_url=URL,
                )
        except DomainError as exc:
            return exc.code
        return "moved"

    outcomes = await asyncio.gather(move(), run(sessions, clock), return_exceptions=True)
    # Neither side may fail with anything but a clear refusal.
    assert not [o for o in outcomes if isinstance(o, BaseException)]
    assert outcomes[0] in ("moved", "slot_full")
    async with sessions() as session:
        live = list(await session.scalars(select(Appointment).where(Appointment.state == AppointmentState.SCHEDULED)))
    seats = [(a.slot_id, a.seat) for a in live]
    assert len(seats) == len(set(seats))
    assert len({a.case_id for a in live}) == len(live)


async def test_a_holiday_declared_late_cancels_that_days_sessions(sessions: Sessions, clock: FrozenClock) -> None:
    await sunday_hall(sessions, clock, weeks=3)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    number = await new_case(sessions, clock)
    await ready(sessions, clock, actor, number)
    await run(sessions, clock)  # placed on Sunday 29 November
    async with transaction(sessions) as session:
        cancelled = await changes.declare_holiday(
            session=session, clock=clock, actor_id=None, day=date(2026, 11, 29), name="يوم التأسيس", status_url=URL
        )
    assert cancelled == 1
    async with sessions() as session:
        slot = await session.get_one(Slot, (await appointments(sessions))[number].slot_id)
        told = await session.scalar(select(OutboxMessage).where(OutboxMessage.purpose.like("cancelled:%")))
    assert riyadh(slot.starts_at).date() == date(2026, 12, 6)
    assert told is not None


async def test_taking_a_late_holiday_back_restores_its_sessions(sessions: Sessions, clock: FrozenClock) -> None:
    await sunday_hall(sessions, clock, weeks=3)
    async with transaction(sessions) as session:
        await changes.declare_holiday(
            session=session, clock=clock, actor_id=None, day=date(2026, 11, 29), name="عيد", status_url=URL
        )
        await calendar.remove_holiday(session=session, clock=clock, actor_id=None, day=date(2026, 11, 29))
    async with sessions() as session:
        states = [
            s.state.value
            for s in await calendar.sessions_between(session=session, start=date(2026, 11, 29), end=date(2026, 11, 30))
        ]
    assert states == ["planned"]


async def test_a_holiday_with_two_sessions_tells_each_applicant_once(sessions: Sessions, clock: FrozenClock) -> None:
    hall = await add_room(sessions, clock, name="قاعة المجلس", kind="audience_hall", capacity="40")
    await add(sessions, clock, template((hall.id,), starts="10:00", ends="10:10", slot_minutes="10"))
    await add(
        sessions, clock, template((hall.id,), name="جلسة المساء", starts="13:00", ends="13:10", slot_minutes="10")
    )
    async with transaction(sessions) as session:
        await calendar.generate_sessions(session=session, clock=clock, weeks=2)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    number = await new_case(sessions, clock)
    await ready(sessions, clock, actor, number)
    await run(sessions, clock)
    async with transaction(sessions) as session:
        assert (
            await changes.declare_holiday(
                session=session, clock=clock, actor_id=None, day=date(2026, 11, 29), name="عيد", status_url=URL
            )
            == 2
        )
    placed = (await appointments(sessions))[number]  # read first: one SQLite session at a time
    async with sessions() as session:
        purposes = list(await session.scalars(select(OutboxMessage.purpose).where(OutboxMessage.case_id.is_not(None))))
        slot = await session.get_one(Slot, placed.slot_id)
    assert sum(p.startswith("cancelled:") for p in purposes) == 1
    assert sum(p.startswith("scheduled:") for p in purposes) == 2  # the first date, then the new one
    assert riyadh(slot.starts_at).date() == date(2026, 12, 6)


async def test_busy_times_move_the_appointments_they_cover(sessions: Sessions, clock: FrozenClock) -> None:
    from datetime import datetime

    from majlis.clock import RIYADH
    from scheduler.busy import BusyInterval

    await sunday_hall(sessions, clock, weeks=3)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    number = await new_case(sessions, clock)
    await ready(sessions, clock, actor, number)
    await run(sessions, clock)  # Sunday 29 November 10:00
    meeting = BusyInterval(
        datetime(2026, 11, 29, 9, tzinfo=RIYADH), datetime(2026, 11, 29, 13, tzinfo=RIYADH), "x", "u"
    )
    async with transaction(sessions) as session:
        blocked, moved = await changes.import_busy_times(
            session=session, clock=clock, actor_id=None, busy=[meeting], status_url=URL
        )
    assert (blocked, moved) == (15, 1)
    async with sessions() as session:
        slot = await session.get_one(Slot, (await appointments(sessions))[number].slot_id)
    assert riyadh(slot.starts_at).date() == date(2026, 12, 6)


async def test_moves_in_a_locked_session_are_refused(sessions: Sessions, clock: FrozenClock) -> None:
    await sunday_hall(sessions, clock)
    desk = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    protocol = (await make_staff(sessions, clock, Role.PROTOCOL, "protocol")).id
    number = await new_case(sessions, clock)
    await ready(sessions, clock, desk, number)
    await run(sessions, clock)
    current = (await appointments(sessions))[number]
    async with transaction(sessions) as session:
        slot = await session.get_one(Slot, current.slot_id)
        (await session.get_one(AudienceSession, slot.session_id)).locked = True
        later = await session.scalar(select(Slot).where(Slot.id != current.slot_id).order_by(Slot.starts_at.desc()))
        assert later is not None
    with pytest.raises(DomainError) as caught:
        async with transaction(sessions) as session:
            await changes.move_appointment(
                session=session,
                clock=clock,
                appointment_id=current.id,
                to_slot_id=later.id,
                actor_id=protocol,
                change_reason="new_information",
                change_text="x",
                status_url=URL,
            )
    assert caught.value.code == "session_locked"


async def test_a_move_by_hand_follows_the_seat_rules(sessions: Sessions, clock: FrozenClock) -> None:
    # A woman's video audience cannot be moved into a men's video room.
    women = await add_room(sessions, clock, name="نسائي")
    men = await add_room(sessions, clock, name="رجالي", kind="men_video")
    await add(
        sessions,
        clock,
        template((women.id,), weekday="1", starts="11:00", ends="11:10", slot_minutes="10", mode="video"),
    )
    await add(
        sessions, clock, template((men.id,), weekday="2", starts="11:00", ends="11:10", slot_minutes="10", mode="video")
    )
    async with transaction(sessions) as session:
        await calendar.generate_sessions(session=session, clock=clock, weeks=2)
    desk = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    protocol = (await make_staff(sessions, clock, Role.PROTOCOL, "protocol")).id
    number = await new_case(sessions, clock)  # a woman, audience by video
    await ready(sessions, clock, desk, number, route="audience_video")
    await run(sessions, clock)
    current = (await appointments(sessions))[number]
    async with sessions() as session:
        mens = await session.scalar(select(Slot).where(Slot.room_id == men.id).order_by(Slot.starts_at))
    assert mens is not None
    with pytest.raises(DomainError) as caught:
        async with transaction(sessions) as session:
            await changes.move_appointment(
                session=session,
                clock=clock,
                appointment_id=current.id,
                to_slot_id=mens.id,
                actor_id=protocol,
                change_reason="new_information",
                change_text="x",
                status_url=URL,
            )
    assert caught.value.code == "slot_unsuitable"
