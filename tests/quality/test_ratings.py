"""Ratings by signed link on SQLite and PostgreSQL: the link's token (forged, expired, another app's secret); an
audience's outcome invites by SMS, or by WhatsApp for a request that came by WhatsApp; an outcome that completes the
request invites once, in the completion SMS; a referral's closing completes with the department's invitation;
a rating is taken once, twice racing included, and bad input changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from audience_day.models import Outcome
from cases import service as cases
from cases.models import Channel
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from notify.links import LinkRefused, Links
from notify.models import OutboxMessage
from notify.outbox import RATING_LINK
from notify.texts import completed_sms, rate_audience_sms
from quality import invites, ratings
from quality.models import InviteChannel, Rating, RatingInvite, Visit
from tests.audience_day.arrange import at, booked_day, call, check_in, official, record
from tests.conftest import TEST_SECRET
from tests.factories import details, make_staff

Sessions = async_sessionmaker[AsyncSession]
URL = "https://majlis.example/status"
LINKS = Links(public_url="https://majlis.example", secret=TEST_SECRET)


def test_a_rating_token_is_refused_when_forged_expired_or_signed_with_another_secret(clock: FrozenClock) -> None:
    expires = clock.now() + timedelta(days=14)
    token = LINKS.rating_token(7, expires)
    assert LINKS.check_rating_token(token, now=clock.now()) == 7
    assert LINKS.rating_page(7, expires) == f"https://majlis.example/rate/{token}"
    number, stamp, mac = token.split(".")
    forged = [
        f"8.{stamp}.{mac}",  # another invitation
        f"{number}.{int(stamp) + 86400}.{mac}",  # a longer life
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "7",
        "",
        "٧." + stamp + "." + mac,
        Links(public_url="https://majlis.example", secret="another secret").rating_token(7, expires),
        # A referral's token of the same numbers is signed for another purpose.
        LINKS.referral_token(7, int(stamp)),
    ]
    for bad in forged:
        with pytest.raises(LinkRefused) as refused:
            LINKS.check_rating_token(bad, now=clock.now())
        assert refused.value.reason == "invalid", bad
    with pytest.raises(LinkRefused) as late:
        LINKS.check_rating_token(token, now=expires)
    assert late.value.reason == "expired"


async def _outbox(sessions: Sessions, like: str) -> list[OutboxMessage]:
    async with sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.purpose.like(like)).order_by(OutboxMessage.id)
        return list(await session.scalars(query))


async def _invites(sessions: Sessions) -> list[RatingInvite]:
    async with sessions() as session:
        return list(await session.scalars(select(RatingInvite).order_by(RatingInvite.id)))


async def test_an_audience_invites_by_sms_and_one_that_completes_the_request_by_its_completion_sms(
    sessions: Sessions, clock: FrozenClock
) -> None:
    rejected, answered = await booked_day(sessions, clock, 2)
    actor = await official(sessions, clock)
    clock.set(at(29, 9, 50))
    for booked in (rejected, answered):
        await check_in(sessions, clock, booked.appointment_id)
    clock.set(at(29, 10))
    called = await call(sessions, clock, rejected.session_id, None, actor)
    assert called.current is not None
    await record(sessions, clock, called.current.id, actor, Outcome.REJECTED)
    (invite,) = await _invites(sessions)
    assert (invite.visit, invite.channel, invite.case_id, invite.appointment_id, invite.staff_id) == (
        Visit.AUDIENCE, InviteChannel.SMS, rejected.case_id, rejected.appointment_id, actor
    )  # fmt: skip
    assert invite.expires_at == clock.now() + invites.LINK_LIFETIME and invite.branch_code == "riyadh"
    (sms,) = await _outbox(sessions, "rate:audience:%")
    assert sms.channel == "sms" and sms.case_id == rejected.case_id
    assert sms.body == rate_audience_sms(
        language=sms.language, tracking_number=rejected.tracking_number, rating_link=RATING_LINK
    )
    assert sms.payload["rating_link"] == {"invite_id": invite.id, "expires_at": invite.expires_at.isoformat()}

    # Answered: the request completes, and its completion SMS is the one invitation (no second one for the audience).
    clock.advance(timedelta(minutes=10))
    moved = await call(sessions, clock, rejected.session_id, None, actor)
    assert moved.current is not None
    await record(sessions, clock, moved.current.id, actor, Outcome.ANSWERED)
    _, completion = await _invites(sessions)
    assert (completion.visit, completion.channel, completion.case_id, completion.staff_id) == (
        Visit.COMPLETION, InviteChannel.SMS, answered.case_id, actor
    )  # fmt: skip
    (done,) = await _outbox(sessions, "stage:completed:%")
    assert done.body == completed_sms(
        language=done.language, tracking_number=answered.tracking_number, rating_link=RATING_LINK
    )
    assert done.payload["rating_link"]["invite_id"] == completion.id
    assert len(await _outbox(sessions, "rate:audience:%")) == 1


async def test_a_request_that_came_by_whatsapp_is_invited_on_whatsapp(sessions: Sessions, clock: FrozenClock) -> None:
    staff = await make_staff(sessions, clock, Role.OFFICIAL, "official")
    async with transaction(sessions) as session:
        case = (
            await cases.submit(session=session, clock=clock, details=details(channel="whatsapp"), status_url=URL)
        ).case
        assert case.channel is Channel.WHATSAPP
        invite = await invites.after_audience(
            session=session, clock=clock, case=case, appointment_id=5, staff_id=staff.id
        )
        assert invite is not None
        # The same audience again gives back the first invitation, and sends nothing more.
        again = await invites.after_audience(
            session=session, clock=clock, case=case, appointment_id=5, staff_id=staff.id
        )
        assert again is not None and again.id == invite.id
    (message,) = await _outbox(sessions, "rate:audience:%")
    assert message.channel == "whatsapp" and invite.channel is InviteChannel.WHATSAPP
    assert message.payload["template"] == invites.RATE_TEMPLATE
    assert message.payload["variables"] == {"1": message.body} and RATING_LINK in message.body


async def test_a_rating_is_taken_once_and_bad_input_changes_nothing(sessions: Sessions, clock: FrozenClock) -> None:
    staff = await make_staff(sessions, clock, Role.FOLLOW_UP, "followup")
    async with transaction(sessions) as session:
        case = (await cases.submit(session=session, clock=clock, details=details(), status_url=URL)).case
        await cases.complete(session=session, clock=clock, case=case, actor_id=staff.id, note="done", status_url=URL)
    (invite,) = await _invites(sessions)
    assert (invite.visit, invite.staff_id, invite.department_id) == (Visit.COMPLETION, staff.id, None)
    for score, comment, fields in (
        (0, "", {"score"}),
        (6, "x" * 501, {"score", "comment"}),
        (True, 3, {"score", "comment"}),
    ):
        with pytest.raises(InvalidInput) as bad:
            async with transaction(sessions) as session:
                await ratings.rate(session=session, clock=clock, invite_id=invite.id, score=score, comment=comment)
        assert {e.field for e in bad.value.errors} == fields

    async def attempt() -> str:
        try:
            async with transaction(sessions) as session:
                await ratings.rate(session=session, clock=clock, invite_id=invite.id, score=2, comment="slow")
        except ratings.RatingRefused as refused:
            return refused.code
        return "saved"

    # Two submissions at once: exactly one rating, the other told it is used.
    outcomes = await asyncio.gather(attempt(), attempt())
    assert sorted(outcomes) == ["rating_used", "saved"]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Rating)) == 1
        rating = await session.scalar(select(Rating))
        assert rating is not None and (rating.score, rating.comment, rating.visit, rating.staff_id) == (
            2, "slow", Visit.COMPLETION, staff.id
        )  # fmt: skip
        used = await session.get(RatingInvite, invite.id)
        assert used is not None and used.used_at == clock.now()
    # Past its time a link cannot be used, even unrated.
    async with transaction(sessions) as session:
        other = (
            await cases.submit(
                session=session, clock=clock, details=details(applicant_phone="+966501112233"), status_url=URL
            )
        ).case
        late = await invites.after_audience(
            session=session, clock=clock, case=other, appointment_id=9, staff_id=staff.id
        )
        assert late is not None
    clock.advance(invites.LINK_LIFETIME)
    with pytest.raises(ratings.RatingRefused) as expired:
        async with sessions() as session:
            await ratings.open_invite(session=session, clock=clock, invite_id=late.id)
    assert expired.value.code == "rating_expired"
