"""A request completed more than once, on SQLite and PostgreSQL: while the first completion's invitation is open
the new SMS carries it again; once it was rated, or has expired, the new completion gets an invitation of its own
(the next number in appointment_id), so the link in the new SMS works."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases import service as cases
from cases.models import Case
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.models import OutboxMessage
from notify.outbox import RATING_LINK
from quality import invites, ratings
from quality.models import RatingInvite, Visit
from tests.factories import details

Sessions = async_sessionmaker[AsyncSession]


async def _complete(sessions: Sessions, clock: FrozenClock, case_id: int, n: int) -> RatingInvite:
    async with transaction(sessions) as session:
        case = await session.get(Case, case_id)
        assert case is not None
        return await invites.at_completion(
            session=session,
            clock=clock,
            case=case,
            staff_id=None,
            purpose=f"test:completed:{n}",
            compose=lambda language: f"done {RATING_LINK}",
        )


async def test_a_request_completed_again_gets_a_working_invitation(sessions: Sessions, clock: FrozenClock) -> None:
    async with transaction(sessions) as session:
        submitted = await cases.submit(session=session, clock=clock, details=details(), status_url="https://x/s")
        case_id = submitted.case.id

    first = await _complete(sessions, clock, case_id, 1)
    assert (first.visit, first.appointment_id) == (Visit.COMPLETION, 0)
    # Still open: completed again, the SMS carries the same invitation.
    assert (await _complete(sessions, clock, case_id, 2)).id == first.id

    async with transaction(sessions) as session:
        await ratings.rate(session=session, clock=clock, invite_id=first.id, score="4", comment="")
    second = await _complete(sessions, clock, case_id, 3)
    assert second.id != first.id and second.appointment_id == 1
    async with transaction(sessions) as session:  # its link rates: the invitation is open
        rated = await ratings.open_invite(session=session, clock=clock, invite_id=second.id)
        assert rated.invite_id == second.id

    clock.advance(invites.LINK_LIFETIME + timedelta(minutes=1))
    third = await _complete(sessions, clock, case_id, 4)
    assert third.appointment_id == 2 and third.expires_at == clock.now() + invites.LINK_LIFETIME

    async with sessions() as session:
        sent = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.purpose.like("test:completed:%"))))
    by_purpose = {m.purpose: m.payload["rating_link"]["invite_id"] for m in sent}
    assert by_purpose == {
        "test:completed:1": first.id,
        "test:completed:2": first.id,
        "test:completed:3": second.id,
        "test:completed:4": third.id,
    }
