"""A video audience's outcome invites the applicant to rate it, on SQLite and PostgreSQL: video.record_outcome makes
the audience's invitation (who recorded it, the appointment) and its SMS; an outcome that completes the request
invites once, in the completion SMS, as an in-person audience does."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.models import OutboxMessage
from quality.models import InviteChannel, RatingInvite, Visit
from tests.factories import make_staff
from tests.video.arrange import video_audiences
from video import service as video
from video.models import VideoAudience, VideoOutcome

Sessions = async_sessionmaker[AsyncSession]
URL = "https://majlis.example.sa/status"


@pytest.mark.parametrize(
    ("outcome", "visit"), [(VideoOutcome.REJECTED, Visit.AUDIENCE), (VideoOutcome.ANSWERED, Visit.COMPLETION)]
)
async def test_a_video_outcome_invites_to_rate_the_audience(
    sessions: Sessions, clock: FrozenClock, outcome: VideoOutcome, visit: Visit
) -> None:
    [audience_id] = await video_audiences(sessions, clock, count=1)
    official = await make_staff(sessions, clock, Role.OFFICIAL, "official")
    async with transaction(sessions) as session:
        await video.mark_started(session=session, clock=clock, audience_id=audience_id)
        await video.mark_ended(
            session=session, clock=clock, audience_id=audience_id, by="official", reason="done", connected_seconds=0
        )
    async with transaction(sessions) as session:
        await video.record_outcome(
            session=session,
            clock=clock,
            audience_id=audience_id,
            outcome=outcome,
            directive="يُبلَّغ المراجع بالقرار.",
            actor_id=official.id,
            status_url=URL,
        )
    async with sessions() as session:
        audience = await session.get_one(VideoAudience, audience_id)
        [invite] = list(await session.scalars(select(RatingInvite)))
        rate_sms = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.purpose.like("rate:%"))))
    assert (invite.case_id, invite.visit, invite.channel, invite.staff_id) == (
        audience.case_id, visit, InviteChannel.SMS, official.id
    )  # fmt: skip
    if visit is Visit.AUDIENCE:
        assert invite.appointment_id == audience.appointment_id
        [sms] = rate_sms
        assert sms.purpose == f"rate:audience:{invite.id}" and sms.payload["rating_link"]["invite_id"] == invite.id
    else:  # the completion SMS carries the link: no second message for the audience
        assert rate_sms == []
