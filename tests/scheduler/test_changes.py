"""Cancelled sessions, moves by hand and urgent arrivals, on both databases."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry
from accounts.roles import Role
from cases import service as cases
from cases.identity import luhn_check_digit
from cases.models import CaseStatus
from majlis.clock import RIYADH, FrozenClock, riyadh
from majlis.dates import dual_datetime, short_dual_datetime
from majlis.db import transaction
from majlis.errors import DomainError, InvalidInput
from notify.models import OutboxMessage
from priority.models import ChangedField, ChangeReason, ManualChange
from scheduler import by_hand as manual
from scheduler import calendar, changes, confirmations, urgent
from scheduler import service as scheduling
from scheduler.allocation import SeatRule
from scheduler.models import Appointment, AppointmentState, AudienceSession, Confirmation, SessionState, Slot
from tests.conftest import RecordingChannel
from tests.factories import make_staff
from tests.priority.test_triage import new_case, ready
from tests.rooms.test_rooms import add_room
from tests.scheduler.test_calendar import add, template
from tests.scheduler.test_confirmations import dispatcher
from tests.scheduler.test_runs import IDS, URL, appointments, run, sunday_hall

Sessions = async_sessionmaker[AsyncSession]


async def move(
    sessions: Sessions,
    clock: FrozenClock,
    actor: int,
    appointment_id: int,
    slot_id: int,
    *,
    reason: str | None = "new_information",
    text: str | None = "x",
    directive: bool = False,
) -> Appointment:
    """Moves the appointment by hand to a seat of the slot, in a transaction of its own."""
    by_hand = manual.ByHand(
        to_slot_id=slot_id, actor_id=actor, change_reason=reason, change_text=text, status_url=URL, directive=directive
    )
    async with transaction(sessions) as session:
        return await manual.move_appointment(
            session=session, clock=clock, appointment_id=appointment_id, by_hand=by_hand
        )


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
            await session.scalars(
                select(OutboxMessage.purpose).where(
                    OutboxMessage.purpose.like("cancelled:%") | OutboxMessage.purpose.like("moved:%")
                )
            )
        )
    assert all(slot.session_id != first.id for slot in slots.values())
    assert slots[critical].starts_at < slots[normal].starts_at  # priority kept
    # Each applicant told once that the audience moved, never a cancellation then a new date.
    assert sorted(p.split(":")[0] for p in told) == ["moved", "moved"]
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
        await move(sessions, clock, actor, current.id, later.id, reason=None, text=None)
    moved = await move(sessions, clock, actor, current.id, later.id, text="طلب المستفيد موعدًا لاحقًا")
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
        placed = await urgent.place_urgent_arrival(
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

    async def move_by_hand() -> str:
        try:
            await move(sessions, clock, protocol, placed.id, free.id, text="طلب المستفيد")
        except DomainError as exc:
            return exc.code
        return "moved"

    outcomes = await asyncio.gather(move_by_hand(), run(sessions, clock), return_exceptions=True)
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
        told = await session.scalar(select(OutboxMessage).where(OutboxMessage.purpose.like("moved:%")))
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
    assert sum(p.startswith("cancelled:") for p in purposes) == 0
    assert sum(p.startswith("scheduled:") for p in purposes) == 1  # the first date
    assert sum(p.startswith("moved:") for p in purposes) == 1  # then, once, the new one
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
        await move(sessions, clock, protocol, current.id, later.id)
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
        await move(sessions, clock, protocol, current.id, mens.id)
    assert caught.value.code == "women_section_needed"


# --- by hand, and on the official's directive --------------------------------------------------------------
# The fixture's clock is Tuesday 24 November 2026, 09:30 in Riyadh: today's sessions are inside the three days.

TODAY = "1"  # Tuesday
DIRECTIVE = "وجّه معالي الوزير بمقابلته اليوم لأمر عاجل"


def national_id(n: int) -> str:
    body = f"1{n:08d}"
    return body + luhn_check_digit(body)


async def todays_rooms(sessions: Sessions, clock: FrozenClock) -> dict[str, int]:
    """One short session today per kind of room, each one slot of one seat; gives back today's slot ids."""
    kinds: list[tuple[str, dict[str, object], str, str]] = [
        ("hall", {"kind": "audience_hall", "wheelchair_access": False}, "11:00", "in_person"),
        ("accessible", {"kind": "audience_hall"}, "11:10", "in_person"),
        ("jeddah", {"kind": "audience_hall", "branch": "jeddah"}, "11:20", "in_person"),
        ("women", {"kind": "women_video"}, "11:30", "video"),
        ("men", {"kind": "men_video"}, "11:40", "video"),
        ("later", {"kind": "audience_hall"}, "13:00", "in_person"),
    ]
    room_of: dict[int, str] = {}
    for name, room, starts, mode in kinds:
        made = await add_room(sessions, clock, None, name=name, capacity="1", **room)
        room_of[made.id] = name
        ends = (datetime.strptime(starts, "%H:%M") + timedelta(minutes=10)).strftime("%H:%M")
        await add(
            sessions,
            clock,
            template((made.id,), name=name, weekday=TODAY, starts=starts, ends=ends, slot_minutes="10", mode=mode),
        )
    async with transaction(sessions) as session:
        await calendar.generate_sessions(session=session, clock=clock, weeks=1)
    async with sessions() as session:
        slots = list(await session.scalars(select(Slot)))
    today = riyadh(clock.now()).date()
    return {room_of[s.room_id]: s.id for s in slots if riyadh(s.starts_at).date() == today}


async def waiting_request(
    sessions: Sessions, clock: FrozenClock, desk: int, n: int, route: str = "audience_in_person", **applicant: object
) -> str:
    number = await new_case(
        sessions, clock, applicant_national_id=national_id(n), **{f"applicant_{k}": v for k, v in applicant.items()}
    )
    await ready(sessions, clock, desk, number, route=route)
    return number


async def waiting_today(sessions: Sessions, clock: FrozenClock, n: int) -> tuple[dict[str, int], str]:
    """Today's rooms (`todays_rooms`), and the n-th applicant's request, in person, waiting for an audience."""
    slots = await todays_rooms(sessions, clock)
    desk = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    return slots, await waiting_request(sessions, clock, desk, n)


async def place(
    sessions: Sessions,
    clock: FrozenClock,
    actor: int,
    number: str,
    slot_id: int,
    *,
    directive: bool = True,
    reason: str | None = None,
    text: str = DIRECTIVE,
    policy: confirmations.ConfirmationPolicy | None = None,
) -> Appointment:
    by_hand = manual.ByHand(
        to_slot_id=slot_id,
        actor_id=actor,
        change_reason=reason,
        change_text=text,
        status_url=URL,
        directive=directive,
        policy=policy or confirmations.ConfirmationPolicy(),
    )
    async with transaction(sessions) as session:
        return await manual.place_by_hand(session=session, clock=clock, tracking_number=number, by_hand=by_hand)


async def written(sessions: Sessions) -> tuple[int, int, int]:
    async with sessions() as session:
        return (
            len(list(await session.scalars(select(OutboxMessage.id)))),
            len(list(await session.scalars(select(ManualChange.id)))),
            len(list(await session.scalars(select(Appointment.id)))),
        )


async def refused(
    sessions: Sessions,
    clock: FrozenClock,
    actor: int,
    number: str,
    slot_id: int,
    *,
    directive: bool = True,
    reason: str | None = None,
) -> DomainError:
    """The refusal to place the request there; nothing is written."""
    before = await written(sessions)
    with pytest.raises(DomainError) as caught:
        await place(sessions, clock, actor, number, slot_id, directive=directive, reason=reason)
    assert await written(sessions) == before
    return caught.value


async def test_a_same_day_placement_on_the_directive_is_recorded_messaged_and_called(
    sessions: Sessions, clock: FrozenClock, recorder: RecordingChannel
) -> None:
    slots, number = await waiting_today(sessions, clock, 1)
    protocol = (await make_staff(sessions, clock, Role.PROTOCOL, "protocol")).id
    # Without the directive the three days' notice holds, and the refusal names it.
    refusal = await refused(
        sessions, clock, protocol, number, slots["hall"], directive=False, reason="health_or_safety"
    )
    assert refusal.code == SeatRule.NOTICE and refusal.message == manual.SEAT_RULE_MESSAGES[SeatRule.NOTICE]
    # A directive needs its reason written out.
    with pytest.raises(InvalidInput) as missing:
        await place(sessions, clock, protocol, number, slots["hall"], text="  ")
    assert [e.field for e in missing.value.errors] == ["change_text"]

    # Confirmations configured without calls: the directive still calls.
    placed = await place(
        sessions, clock, protocol, number, slots["hall"], policy=confirmations.ConfirmationPolicy(channels=("sms",))
    )
    async with sessions() as session:
        slot = await session.get_one(Slot, slots["hall"])
        record = await session.scalar(select(ManualChange))
        messages = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == placed.case_id)))
        asked = await session.scalar(select(Confirmation).where(Confirmation.appointment_id == placed.id))
        case = await cases.get_case(session=session, case_id=placed.case_id)
        audited = list(await session.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == protocol)))
    assert riyadh(slot.starts_at) == datetime(2026, 11, 24, 11, 0, tzinfo=RIYADH)  # today, ninety minutes away
    assert placed.state is AppointmentState.SCHEDULED and "official's directive" in placed.explanation
    assert case is not None and case.status is CaseStatus.SCHEDULED
    assert record is not None
    assert (record.field, record.reason, record.reason_text) == (
        ChangedField.APPOINTMENT,
        ChangeReason.OFFICIAL_DIRECTIVE,
        DIRECTIVE,
    )
    assert (record.case_id, record.actor_id, record.before) == (placed.case_id, protocol, "")
    assert {"triage.manual_change.appointment", "calendar.place"} <= set(audited)
    sms = [m for m in messages if m.channel == "sms"]
    voice = [m for m in messages if m.channel == "voice"]
    when = dual_datetime(slot.starts_at, "ar")
    assert any(m.purpose == f"scheduled:{placed.id}" and when in m.body for m in sms)
    # The call says the date and time in the applicant's language, and the keypad answers it.
    assert len(voice) == 1 and when in voice[0].body and "اضغطوا 1" in voice[0].body
    assert voice[0].payload.get("gather") is True and voice[0].due_at <= clock.now()
    # Asked at once, at short notice: the sweep does not ask again.
    assert asked is not None and asked.short_notice
    async with transaction(sessions) as session:
        assert await confirmations.ask_due(session=session, clock=clock, policy=confirmations.ConfirmationPolicy()) == 0
    # The dispatcher rings now (a working Tuesday morning), with the keypad's answer address.
    await dispatcher(sessions, clock, recorder).run_once()
    calls = [o for o in recorder.sent if o.channel == "voice"]
    assert len(calls) == 1 and calls[0].gather_action


async def test_a_move_on_the_directive_may_be_today_and_is_called_in_english(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await sunday_hall(sessions, clock)
    slots = await todays_rooms(sessions, clock)
    desk = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    protocol = (await make_staff(sessions, clock, Role.PROTOCOL, "protocol")).id
    number = await new_case(sessions, clock, applicant_language="en", applicant_national_id=national_id(2))
    await ready(sessions, clock, desk, number)
    await run(sessions, clock)  # Sunday 29 November
    current = (await appointments(sessions))[number]

    async def move_later_today(directive: bool) -> Appointment:
        reason = "" if directive else "new_information"
        return await move(
            sessions, clock, protocol, current.id, slots["later"], reason=reason, text=DIRECTIVE, directive=directive
        )

    with pytest.raises(DomainError) as caught:
        await move_later_today(directive=False)
    assert caught.value.code == "notice"
    moved = await move_later_today(directive=True)
    async with sessions() as session:
        slot = await session.get_one(Slot, moved.slot_id)
        old = await session.get_one(Appointment, current.id)
        record = await session.scalar(select(ManualChange))
        messages = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == moved.case_id)))
    assert riyadh(slot.starts_at) == datetime(2026, 11, 24, 13, 0, tzinfo=RIYADH)
    assert old.state is AppointmentState.RELEASED and moved.sequence == 1
    assert record is not None and record.reason is ChangeReason.OFFICIAL_DIRECTIVE and record.before
    when = dual_datetime(slot.starts_at, "en")
    assert "1:00" in when
    assert any(
        m.purpose == f"moved:{moved.id}" and short_dual_datetime(slot.starts_at, "en") in m.body for m in messages
    )
    calls = [m for m in messages if m.channel == "voice" and m.purpose == f"confirm:{moved.id}:voice"]
    assert len(calls) == 1 and when in calls[0].body and "press 1" in calls[0].body


async def test_a_seat_already_begun_is_refused_even_on_the_directive(sessions: Sessions, clock: FrozenClock) -> None:
    slots, number = await waiting_today(sessions, clock, 3)
    protocol = (await make_staff(sessions, clock, Role.PROTOCOL, "protocol")).id
    clock.set(datetime(2026, 11, 24, 11, 0, tzinfo=RIYADH))  # the 11:00 slot begins
    assert (await refused(sessions, clock, protocol, number, slots["hall"])).code == "slot_started"
    clock.set(datetime(2026, 11, 24, 10, 59, tzinfo=RIYADH))
    assert (await place(sessions, clock, protocol, number, slots["hall"])).slot_id == slots["hall"]


async def test_every_refusal_names_the_rule_that_failed(sessions: Sessions, clock: FrozenClock) -> None:
    slots = await todays_rooms(sessions, clock)
    desk = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    protocol = (await make_staff(sessions, clock, Role.PROTOCOL, "protocol")).id
    woman = await waiting_request(sessions, clock, desk, 10)  # in person, Riyadh
    womans_video = await waiting_request(sessions, clock, desk, 11, route="audience_video")
    mans_video = await waiting_request(sessions, clock, desk, 12, route="audience_video", gender="male")
    wheelchair = await waiting_request(sessions, clock, desk, 13, special_care=["wheelchair"])

    async def code(number: str, slot: str) -> str:
        return (await refused(sessions, clock, protocol, number, slots[slot])).code

    # Each with the directive: it waives the notice, nothing else.
    assert await code(woman, "women") == SeatRule.MODE
    assert await code(woman, "jeddah") == SeatRule.BRANCH
    assert await code(mans_video, "women") == SeatRule.WOMEN_SECTION_ONLY
    assert await code(womans_video, "men") == SeatRule.WOMEN_SECTION_NEEDED
    assert await code(wheelchair, "hall") == SeatRule.ACCESSIBLE_HALL_NEEDED

    async with transaction(sessions) as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=woman)
        assert case is not None
        await scheduling.set_unavailable_days(
            session=session, clock=clock, case_id=case.id, actor_id=desk, days=riyadh(clock.now()).date().isoformat()
        )
    assert await code(woman, "accessible") == SeatRule.UNAVAILABLE_DAY

    async def change_slot(
        name: str, *, locked: bool = False, blocked: str | None = None, cancelled: bool = False
    ) -> None:
        async with transaction(sessions) as session:
            slot = await session.get_one(Slot, slots[name])
            dated = await session.get_one(AudienceSession, slot.session_id)
            slot.blocked_by = blocked
            dated.locked = locked
            if cancelled:
                dated.state = SessionState.CANCELLED

    await change_slot("later", locked=True)
    assert await code(wheelchair, "later") == SeatRule.SESSION_LOCKED
    await change_slot("later", blocked="busy:x")
    assert await code(wheelchair, "later") == "slot_blocked"
    await change_slot("later", cancelled=True)
    assert await code(wheelchair, "later") == "session_cancelled"

    # The seat taken, then the applicant holding an appointment, then a request that holds one itself.
    await place(sessions, clock, protocol, wheelchair, slots["accessible"])
    assert await code(womans_video, "accessible") == "slot_full"
    second = await new_case(
        sessions, clock, applicant_national_id=national_id(13), subject="شكوى أخرى", text="موضوع آخر مختلف تمامًا"
    )
    await ready(sessions, clock, desk, second)
    assert await code(second, "hall") == SeatRule.HAS_APPOINTMENT
    assert await code(wheelchair, "hall") == "not_waiting"
    # Every code above comes with its own sentence.
    assert len(set(manual.SEAT_RULE_MESSAGES.values())) == len(manual.SEAT_RULE_MESSAGES)
