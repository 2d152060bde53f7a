"""The video record on both databases: the day's audiences, who may hold a room, check-in and outcomes."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from cases.models import CaseStatus
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.models import OutboxMessage
from rooms import service as rooms
from scheduler.models import Appointment, AppointmentState
from tests.factories import make_staff
from tests.followup.arrange import add_department
from tests.video.arrange import SUNDAY, video_audiences
from video import service as video
from video.models import VideoAudience, VideoOutcome, VideoState

Sessions = async_sessionmaker[AsyncSession]
URL = "https://majlis.example.sa/status"


async def test_the_days_audiences_come_in_order_with_their_summary(sessions: Sessions, clock: FrozenClock) -> None:
    ids = await video_audiences(sessions, clock, count=2)
    async with transaction(sessions) as session:
        items = await video.audiences_today(session=session, clock=clock)
        again = await video.video_audiences_today(session=session, clock=clock, room_id=items[0].room.id)
    assert [i.video.id for i in items if i.video] == ids and [i.video.id for i in again if i.video] == ids
    assert items[0].slot.starts_at < items[1].slot.starts_at
    summary = items[0].summary
    assert summary.tracking_number == items[0].case.tracking_number
    assert summary.category is not None and summary.category.code == "general" and summary.urgency == "normal"
    assert summary.text and summary.subject and [h.to_status for h in summary.history][-1] is CaseStatus.SCHEDULED
    async with sessions() as session:  # one record per appointment, however often the console opens
        assert len(list(await session.scalars(select(VideoAudience)))) == 2


async def test_who_may_hold_a_room(sessions: Sessions, clock: FrozenClock) -> None:
    await video_audiences(sessions, clock, count=1)
    first = await make_staff(sessions, clock, Role.WOMEN_SECTION, "noura")
    second = await make_staff(sessions, clock, Role.WOMEN_SECTION, "sara")
    protocol = await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    async with sessions() as session:
        room = (await rooms.rooms(session=session))[0]

    async def may(staff_id: int, role: Role) -> bool:
        async with sessions() as session:
            return await video.may_hold_room(
                session=session, clock=clock, staff_id=staff_id, role=role, room_id=room.id
            )

    # No roster today: any woman of the women's section; nobody else.
    assert await may(first.id, Role.WOMEN_SECTION) and await may(second.id, Role.WOMEN_SECTION)
    assert not await may(protocol.id, Role.PROTOCOL)
    async with transaction(sessions) as session:
        await rooms.put_on_duty(
            session=session,
            clock=clock,
            actor_id=None,
            room_id=room.id,
            staff_id=first.id,
            day=SUNDAY.date(),
            starts=time(8),
            ends=time(14),
        )
    assert await may(first.id, Role.WOMEN_SECTION) and not await may(second.id, Role.WOMEN_SECTION)


async def test_check_in_starts_the_waiting_time_once(sessions: Sessions, clock: FrozenClock) -> None:
    [audience_id] = await video_audiences(sessions, clock, count=1)
    staff = await make_staff(sessions, clock, Role.WOMEN_SECTION, "noura")
    async with transaction(sessions) as session:
        await video.check_in(session=session, clock=clock, audience_id=audience_id, actor_id=staff.id)
    first = clock.now()
    clock.set(SUNDAY.replace(minute=55))
    async with transaction(sessions) as session:
        audience = await video.check_in(session=session, clock=clock, audience_id=audience_id, actor_id=staff.id)
    assert audience.checked_in_at == first


@pytest.mark.parametrize(
    ("outcome", "status", "notice"),
    [
        (VideoOutcome.REFERRED, CaseStatus.REFERRED, "stage:referred:%"),
        (VideoOutcome.ANSWERED, CaseStatus.COMPLETED, "stage:completed:%"),
        (VideoOutcome.REJECTED, CaseStatus.REJECTED, "stage:rejected:%"),
        (VideoOutcome.NEEDS_STUDY, CaseStatus.UNDER_STUDY, "stage:under_study:%"),
    ],
)
async def test_the_outcome_goes_to_the_requests_history(
    sessions: Sessions, clock: FrozenClock, outcome: VideoOutcome, status: CaseStatus, notice: str | None
) -> None:
    [audience_id] = await video_audiences(sessions, clock, count=1)
    official = await make_staff(sessions, clock, Role.OFFICIAL, "official")
    await add_department(sessions, "hrsd", name_ar="وزارة الموارد البشرية والتنمية الاجتماعية")
    async with transaction(sessions) as session:
        await video.mark_started(session=session, clock=clock, audience_id=audience_id)
        await video.mark_ended(
            session=session, clock=clock, audience_id=audience_id, by="official", reason="done", connected_seconds=0
        )
    directive = "تحال إلى وزارة الموارد البشرية للنظر في طلبها خلال أسبوع."
    async with transaction(sessions) as session:
        await video.record_outcome(
            session=session,
            clock=clock,
            audience_id=audience_id,
            outcome=outcome,
            directive=directive,
            referred_to="hrsd",
            actor_id=official.id,
            status_url=URL,
        )
    async with sessions() as session:
        audience = await session.get_one(VideoAudience, audience_id)
        appointment = await session.get_one(Appointment, audience.appointment_id)
        case = await cases.get_case(session=session, case_id=audience.case_id)
        assert case is not None
        last = (await cases.history(session=session, case_id=case.id))[-1]
        told = await session.scalar(select(OutboxMessage).where(OutboxMessage.purpose.like(notice or "none")))
    assert audience.state is VideoState.ENDED and audience.outcome is outcome and audience.directive == directive
    assert case.status is status and last.note.startswith(directive) and last.actor_id == official.id
    assert (told is not None) == (notice is not None)
    # The outcome ends the appointment as held: it no longer holds its applicant back from another.
    assert appointment.state is AppointmentState.HELD and appointment.ended_at == clock.now()
    with pytest.raises(video.VideoRefused):  # once only
        async with transaction(sessions) as session:
            await video.record_outcome(
                session=session,
                clock=clock,
                audience_id=audience_id,
                outcome=outcome,
                directive=directive,
                referred_to="hrsd",
                actor_id=official.id,
                status_url=URL,
            )
