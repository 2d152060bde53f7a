"""The demo's audience day: loaded on one day, then again on the next, it moves there and duplicates nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import service as accounts
from accounts.roles import Role
from audience_day.models import Arrival, HallAudience, Kiosk
from cases import service as cases
from cases.models import CaseStatus
from followup import directory, information, referrals
from followup.models import Department, DepartmentContact, EventKind, Referral
from majlis import demo, demo_referrals
from majlis.clock import RIYADH, FrozenClock
from majlis.db import transaction
from scheduler.models import LIVE_STATES, Appointment, AudienceSession, Slot
from worktime import editing

URL = "http://127.0.0.1:8080/status"


async def load(sessions: async_sessionmaker[AsyncSession], clock: FrozenClock) -> demo.Loaded:
    async with transaction(sessions) as session:
        return await demo.load(session=session, clock=clock, status_url=URL)


async def hall_day(sessions: async_sessionmaker[AsyncSession], day: datetime) -> dict[str, object]:
    async with sessions() as session:
        [audience_session] = await session.scalars(
            select(AudienceSession).where(AudienceSession.note == demo.HALL_NOTE, AudienceSession.day == day.date())
        )
        states = sorted(
            a.state.value
            for a in await session.scalars(
                select(Appointment)
                .join(Slot, Slot.id == Appointment.slot_id)
                .where(Slot.session_id == audience_session.id)
            )
        )
        arrivals = list(
            await session.scalars(
                select(Arrival).where(Arrival.session_id == audience_session.id).order_by(Arrival.queue_number)
            )
        )
        heard = list(await session.scalars(select(HallAudience).where(HallAudience.session_id == audience_session.id)))
        live_kiosks = await session.scalar(select(func.count()).select_from(Kiosk).where(Kiosk.revoked_at.is_(None)))
    return {
        "states": states,
        "arrivals": [(a.queue_number, a.late) for a in arrivals],
        "heard": [(h.outcome.value if h.outcome else None, h.ended_at is not None) for h in heard],
        "live_kiosks": live_kiosks,
    }


async def test_the_demo_hall_moves_to_the_day_it_is_run_and_is_made_once(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    tuesday = datetime(2026, 11, 24, 9, 30, tzinfo=RIYADH)
    clock.set(tuesday)
    first = await load(sessions, clock)
    assert first.hall_day is not None and len(first.hall_day.expected) == 3
    expected_day = {
        "states": ["arrived", "arrived", "confirmed", "confirmed", "confirmed", "held"],
        "arrivals": [(1, False), (2, False), (3, True)],
        "heard": [("answered", True)],
        "live_kiosks": 1,
    }
    assert await hall_day(sessions, tuesday) == expected_day

    clock.set(tuesday.replace(hour=11))  # again the same day: nothing new but the kiosk's token
    again = await load(sessions, clock)
    assert again.hall_day is not None and again.hall_day.kiosk_token != first.hall_day.kiosk_token
    assert await hall_day(sessions, tuesday) == expected_day

    wednesday = datetime(2026, 11, 25, 14, 5, tzinfo=RIYADH)
    clock.set(wednesday)
    moved = await load(sessions, clock)
    assert moved.hall_day is not None
    assert [e.tracking_number for e in moved.hall_day.expected] == [e.tracking_number for e in first.hall_day.expected]
    assert await hall_day(sessions, wednesday) == expected_day
    async with sessions() as session:
        # Tuesday's session stays as it was left; the six applicants' seats of Tuesday still live were released.
        [tuesday_session] = await session.scalars(
            select(AudienceSession).where(AudienceSession.note == demo.HALL_NOTE, AudienceSession.day == tuesday.date())
        )
        left_live = await session.scalar(
            select(func.count())
            .select_from(Appointment)
            .join(Slot, Slot.id == Appointment.slot_id)
            .where(Slot.session_id == tuesday_session.id, Appointment.state.in_(LIVE_STATES))
        )
        starts = (
            await session.scalars(
                select(Slot.starts_at)
                .join(AudienceSession, AudienceSession.id == Slot.session_id)
                .where(AudienceSession.note == demo.HALL_NOTE, AudienceSession.day == wednesday.date())
                .order_by(Slot.starts_at)
            )
        ).first()
    assert left_live == 0
    # Half an hour before the clock's ten-minute mark.
    assert starts is not None and starts.astimezone(RIYADH).strftime("%H:%M") == "13:30"


async def test_the_demo_directory_is_made_once(sessions: async_sessionmaker[AsyncSession], clock: FrozenClock) -> None:
    clock.set(datetime(2026, 11, 24, 9, 30, tzinfo=RIYADH))
    loaded = await load(sessions, clock)
    assert ("liaison", Role.DEPARTMENT_LIAISON) in [(s.username, s.role) for s in loaded.staff]

    async def directory_now() -> dict[str, Any]:
        async with sessions() as session:
            rows = await directory.tree(session=session)
            people = await session.scalar(select(func.count()).select_from(DepartmentContact))
            holidays = (await editing.view(session=session, code="government")).holidays
            liaison = await accounts.user_by_username(session=session, username="liaison")
            assert liaison is not None
            hrsd = await directory.department_by_code(session=session, code="hrsd")
        return {
            "tree": [(r.department.code, r.depth, r.calendar_code) for r in rows],
            "people": people,
            "holidays": [(h.day.isoformat(), h.name) for h in holidays],
            "liaison": liaison.department_id == hrsd.id,
        }

    first = await directory_now()
    assert first["tree"][0] == ("office", 0, "government")
    assert {code for code, depth, _ in first["tree"] if depth == 1} == {"hrsd", "momah", "moh", "riyadh-municipality"}
    assert {code for code, depth, _ in first["tree"] if depth == 2} == {"hrsd-riyadh", "riyadh-health-1"}
    assert first["people"] == 3 * 7 and first["liaison"]
    # The next Founding Day and National Day after the demo's day.
    assert first["holidays"] == [("2027-02-22", "يوم التأسيس"), ("2027-09-23", "اليوم الوطني")]
    await load(sessions, clock)
    assert await directory_now() == first


async def test_the_demo_refers_requests_in_each_state_once(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 11, 24, 9, 30, tzinfo=RIYADH))  # a Tuesday

    async def referred_now() -> dict[str, tuple[str, int, bool]]:
        async with sessions() as session:
            rows = (
                await session.execute(
                    select(Department.code, Referral).join(Department, Department.id == Referral.department_id)
                )
            ).all()
        return {code: (r.state.value, r.escalation_level, referrals.is_overdue(r, now=clock.now())) for code, r in rows}

    first = await load(sessions, clock)
    assert first.followup is not None
    assert await referred_now() == {
        "momah": ("sent", 2, True),
        "riyadh-health-1": ("acknowledged", 0, False),
        "riyadh-municipality": ("answered", 0, False),
        "hrsd": ("awaiting_applicant", 0, False),
        "hrsd-riyadh": ("returned", 0, False),
    }
    async with sessions() as session:
        waiting = await cases.find_by_tracking_number(
            session=session, tracking_number=first.followup.waiting_tracking_number
        )
        assert waiting is not None and waiting.status is CaseStatus.NEEDS_INFORMATION
        # The question is open, so its code-based answer works from the status page.
        [question] = await information.open_requests(session=session, case=waiting)
        assert question.question == demo_referrals.QUESTION
        events = await referrals.events_of(session=session, referral_id=first.followup.overdue_referral_id)
    # Every step happened before the demo's moment, in the order it was taken.
    assert [e.kind for e in events] == [EventKind.SENT, EventKind.REMINDED, EventKind.ESCALATED, EventKind.ESCALATED]
    assert [e.at for e in events] == sorted(e.at for e in events) and events[-1].at < clock.now()
    assert first.followup.waiting_phone == "+966503330104"

    clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=RIYADH))  # run again the next day: nothing more is made
    again = await load(sessions, clock)
    assert again.followup == first.followup
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Referral)) == 5
