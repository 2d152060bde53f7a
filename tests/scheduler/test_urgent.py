"""The live rules for urgent and critical requests (issue 18), on both databases: the run at routing places only the
request and those ahead of it; a critical request displaces to be seen within 7 days though a later seat is free; an
urgent request sent back by its first no-show is placed again at once. Every placement stays explained (the chain)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from fairness import explain
from fairness.models import ChainEntry, EntryKind
from majlis.clock import RIYADH, FrozenClock
from majlis.dates import short_dual_datetime
from majlis.db import transaction
from notify.models import OutboxMessage
from notify.texts import audience_moved_sms
from scheduler import calendar, lifecycle, urgent
from scheduler.models import Appointment, AppointmentState, Slot
from tests.factories import make_staff
from tests.priority.test_triage import new_case, ready
from tests.rooms.test_rooms import add_room
from tests.scheduler.test_calendar import add, template
from tests.scheduler.test_runs import IDS, URL, appointments, run

Sessions = async_sessionmaker[AsyncSession]
# The clock is Tuesday 24 November 2026, 09:30 Riyadh: Sunday 29th is 5 days away, Sunday 6 December 12.
SUNDAY_29 = date(2026, 11, 29)
SUNDAY_6 = date(2026, 12, 6)


HALL = "قاعة صغيرة"


async def _sundays(sessions: Sessions, clock: FrozenClock, *, seats: int, weeks: int) -> None:
    """A hall with `seats` 8-minute slots of one seat each every Sunday from 10:00, for `weeks` weeks."""
    hall = await add_room(sessions, clock, name=HALL, kind="audience_hall")
    ends = (datetime(2026, 1, 1, 10, 0) + timedelta(minutes=8 * seats)).strftime("%H:%M")
    await add(sessions, clock, template((hall.id,), starts="10:00", ends=ends, slot_minutes="8"))
    async with transaction(sessions) as session:
        await calendar.generate_sessions(session=session, clock=clock, weeks=weeks)


async def _case_id(sessions: Sessions, number: str) -> int:
    async with sessions() as session:
        found = await cases.find_by_tracking_number(session=session, tracking_number=number)
    assert found is not None
    return found.id


async def _arrive(sessions: Sessions, clock: FrozenClock, actor: int, number: str, *, rule: str = "") -> bool:
    case_id = await _case_id(sessions, number)
    async with transaction(sessions) as session:
        return await urgent.place_urgent_arrival(
            session=session, clock=clock, case_id=case_id, actor_id=actor, may_displace=True, status_url=URL
        )


async def _days(sessions: Sessions) -> dict[str, date]:
    """The Riyadh day of each scheduled appointment, by tracking number."""
    placed = await appointments(sessions)
    async with sessions() as session:
        return {
            n: (await session.get_one(Slot, a.slot_id)).starts_at.astimezone(RIYADH).date() for n, a in placed.items()
        }


async def _no_unjustified_pass(sessions: Sessions) -> None:
    async with sessions() as session:
        assert await explain.unjustified(session=session) == []


async def test_the_run_at_routing_places_the_request_and_those_ahead_only(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await _sundays(sessions, clock, seats=2, weeks=1)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    normal = await new_case(sessions, clock, applicant_national_id=IDS[0])
    critical = await new_case(sessions, clock, applicant_national_id=IDS[1])
    await ready(sessions, clock, actor, normal)
    await ready(sessions, clock, actor, critical, category="qisas", urgency="critical")
    clock.advance(timedelta(minutes=5))
    first = await new_case(sessions, clock, applicant_national_id=IDS[2])
    await ready(sessions, clock, actor, first, category="detention_legal", urgency="urgent")
    assert await _arrive(sessions, clock, actor, first)
    # The critical request ahead of it is placed too; the normal one, behind it, is left to the weekly run.
    assert set(await _days(sessions)) == {critical, first}
    async with sessions() as session:
        rules = list(await session.scalars(select(ChainEntry.change).where(ChainEntry.kind == EntryKind.PLACEMENT)))
    assert len(rules) == 2 and all('"rule":"urgent_on_routing"' in change for change in rules)
    await _no_unjustified_pass(sessions)


async def test_a_critical_request_displaces_to_be_seen_within_7_days(sessions: Sessions, clock: FrozenClock) -> None:
    await _sundays(sessions, clock, seats=1, weeks=2)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    normal = await new_case(sessions, clock, applicant_national_id=IDS[0])
    await ready(sessions, clock, actor, normal)
    await run(sessions, clock)
    assert (await _days(sessions))[normal] == SUNDAY_29
    critical = await new_case(sessions, clock, applicant_national_id=IDS[1])
    await ready(sessions, clock, actor, critical, category="qisas", urgency="critical")
    # The run at routing gives it 6 December, 12 days away: beyond the target, so it takes the 29th.
    assert await _arrive(sessions, clock, actor, critical)
    assert await _days(sessions) == {critical: SUNDAY_29, normal: SUNDAY_6}
    async with sessions() as session:
        released = list(
            await session.scalars(select(Appointment).where(Appointment.state == AppointmentState.RELEASED))
        )
        kinds = list(await session.scalars(select(ChainEntry.kind).order_by(ChainEntry.seq)))
    assert sorted(a.release_reason for a in released) == ["displaced", "moved_earlier"]
    assert kinds.count(EntryKind.DISPLACEMENT) == 1
    await _no_unjustified_pass(sessions)


async def test_a_critical_request_moved_earlier_is_told_once_that_its_audience_moved(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await _sundays(sessions, clock, seats=1, weeks=2)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    normal = await new_case(sessions, clock, applicant_national_id=IDS[0])
    await ready(sessions, clock, actor, normal)
    await run(sessions, clock)
    critical = await new_case(sessions, clock, applicant_national_id=IDS[1])
    await ready(sessions, clock, actor, critical, category="qisas", urgency="critical")
    critical_id, normal_id = await _case_id(sessions, critical), await _case_id(sessions, normal)
    # Placed first without displacing (the setting off): it holds 6 December, 12 days away.
    async with transaction(sessions) as session:
        await urgent.place_urgent_arrival(
            session=session, clock=clock, case_id=critical_id, actor_id=actor, may_displace=False, status_url=URL
        )
    assert await _days(sessions) == {critical: SUNDAY_6, normal: SUNDAY_29}
    async with sessions() as session:
        before = await session.scalar(select(func.max(OutboxMessage.id))) or 0
        held = await session.scalar(select(Appointment).where(Appointment.case_id == critical_id))
    assert held is not None
    # Then the critical rule moves it to the 29th, displacing the normal request to the 6th.
    assert await _arrive(sessions, clock, actor, critical)
    assert await _days(sessions) == {critical: SUNDAY_29, normal: SUNDAY_6}
    async with sessions() as session:
        told = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.id > before).order_by(OutboxMessage.id))
        )
        moved = await session.scalar(
            select(Appointment).where(
                Appointment.case_id == critical_id, Appointment.state == AppointmentState.SCHEDULED
            )
        )
        slot = await session.get_one(Slot, moved.slot_id) if moved else None
    assert moved is not None and slot is not None
    sms = [m for m in told if m.case_id == critical_id and m.channel == "sms"]
    # One message, the move's, with the new date: not a cancellation and then a new audience.
    assert [m.purpose for m in sms] == [f"moved:{moved.id}"]
    assert short_dual_datetime(slot.starts_at, sms[0].language) in sms[0].body  # the short date of a move
    # The move's own text, in the applicant's language, word for word (the link at its end is the case's own).
    said = audience_moved_sms(
        language=sms[0].language,
        tracking_number=critical,
        when=short_dual_datetime(slot.starts_at, sms[0].language),
        place=HALL,
        status_url=sms[0].body.split()[-1],
    )
    assert sms[0].body == said
    assert not [m for m in told if m.case_id == critical_id and m.purpose.startswith(("cancelled:", "uninvite:"))]
    # The new row's sequence rises from the one it replaces, as a move by hand's does.
    assert moved.sequence == held.sequence + 1
    # The displaced applicant, placed again at once, is told once too: moved, not cancelled and then a new date.
    displaced = [m.purpose.split(":")[0] for m in told if m.case_id == normal_id and m.channel == "sms"]
    assert displaced == ["moved"]
    await _no_unjustified_pass(sessions)


async def test_another_critical_request_is_never_displaced(sessions: Sessions, clock: FrozenClock) -> None:
    await _sundays(sessions, clock, seats=1, weeks=2)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    earlier = await new_case(sessions, clock, applicant_national_id=IDS[0])
    await ready(sessions, clock, actor, earlier, category="security", urgency="critical")
    assert await _arrive(sessions, clock, actor, earlier)
    later = await new_case(sessions, clock, applicant_national_id=IDS[1])
    await ready(sessions, clock, actor, later, category="qisas", urgency="critical")
    assert await _arrive(sessions, clock, actor, later)
    assert await _days(sessions) == {earlier: SUNDAY_29, later: SUNDAY_6}
    async with sessions() as session:
        assert await session.scalar(select(ChainEntry).where(ChainEntry.kind == EntryKind.DISPLACEMENT)) is None


async def test_an_urgent_no_show_is_placed_again_at_once(sessions: Sessions, clock: FrozenClock) -> None:
    await _sundays(sessions, clock, seats=2, weeks=2)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    normal = await new_case(sessions, clock, applicant_national_id=IDS[0])
    late = await new_case(sessions, clock, applicant_national_id=IDS[1])
    await ready(sessions, clock, actor, normal)
    await ready(sessions, clock, actor, late, category="detention_legal", urgency="urgent")
    await run(sessions, clock)
    assert set((await _days(sessions)).values()) == {SUNDAY_29}
    # Neither comes on the 29th; the sweep after the session sends both back to wait.
    clock.advance(datetime(2026, 11, 29, 13, 0, tzinfo=RIYADH) - clock.now())
    async with transaction(sessions) as session:
        report = await lifecycle.end_past_sessions(
            session=session, clock=clock, policy=lifecycle.NoShowPolicy(), status_url=URL
        )
    assert (report.returned, report.urgent_placed_again) == (2, 1)
    # The urgent request has 6 December at once; the normal one waits for the weekly run.
    assert await _days(sessions) == {late: SUNDAY_6}
    async with sessions() as session:
        last = await session.scalar(select(ChainEntry).order_by(ChainEntry.seq.desc()))
    assert last is not None and '"rule":"urgent_after_no_show"' in last.change
    await _no_unjustified_pass(sessions)


async def test_with_the_setting_off_a_no_show_waits_for_the_weekly_run(sessions: Sessions, clock: FrozenClock) -> None:
    await _sundays(sessions, clock, seats=1, weeks=2)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    late = await new_case(sessions, clock, applicant_national_id=IDS[0])
    await ready(sessions, clock, actor, late, category="detention_legal", urgency="urgent")
    await run(sessions, clock)
    clock.advance(datetime(2026, 11, 29, 13, 0, tzinfo=RIYADH) - clock.now())
    async with transaction(sessions) as session:
        report = await lifecycle.end_past_sessions(
            session=session, clock=clock, policy=lifecycle.NoShowPolicy(urgent_at_once=False), status_url=URL
        )
    assert (report.returned, report.urgent_placed_again) == (1, 0)
    assert await _days(sessions) == {}
