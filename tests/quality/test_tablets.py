"""Desk tablets on SQLite and PostgreSQL: enrolment (the token kept only as its hash), pairing for a shift (one tablet
per staff member, taken from whoever had it), unpairing, revoking; and the invitations a tablet shows: after a
walk-in intake or a desk check-in only when the staff member has a paired tablet, one at a time, its own only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry
from accounts.roles import Role
from audience_day.models import ArrivalVia
from cases import service as cases
from cases.models import Channel
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from quality import invites, ratings, tablets
from quality.models import DeskTablet, InviteChannel, RatingInvite, Visit
from tests.audience_day.arrange import at, booked_day, check_in
from tests.factories import details, make_staff

Sessions = async_sessionmaker[AsyncSession]
URL = "https://majlis.example/status"


async def enrol(sessions: Sessions, clock: FrozenClock, name: str = "Desk 1") -> tuple[int, str]:
    async with transaction(sessions) as session:
        tablet, token = await tablets.enrol(
            session=session, clock=clock, branch_code="riyadh", name=name, actor_id=None
        )
        return tablet.id, token


async def pair(sessions: Sessions, clock: FrozenClock, tablet_id: int, staff_id: int) -> None:
    async with transaction(sessions) as session:
        await tablets.pair(session=session, clock=clock, tablet_id=tablet_id, staff_id=staff_id)


async def walk_in(sessions: Sessions, clock: FrozenClock, staff_id: int, channel: Channel = Channel.WALK_IN) -> int:
    async with transaction(sessions) as session:
        submitted = await cases.submit(
            session=session, clock=clock, details=details(channel=channel.value), status_url=URL, entered_by_id=staff_id
        )
        return submitted.case.id


async def invites_of(sessions: Sessions) -> list[RatingInvite]:
    async with sessions() as session:
        return list(await session.scalars(select(RatingInvite).order_by(RatingInvite.id)))


async def test_a_tablet_is_enrolled_paired_taken_over_unpaired_and_revoked(
    sessions: Sessions, clock: FrozenClock
) -> None:
    desk = (await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")).id
    other = (await make_staff(sessions, clock, Role.PROTOCOL, "protocol")).id
    first, token = await enrol(sessions, clock)
    second, _ = await enrol(sessions, clock, "Desk 2")
    async with sessions() as session:
        found = await tablets.by_token(session=session, token=token)
        assert found is not None and found.id == first
        assert found.token_hash != token and await tablets.by_token(session=session, token=token + "x") is None
    with pytest.raises(InvalidInput) as bad:
        async with transaction(sessions) as session:
            await tablets.enrol(session=session, clock=clock, branch_code="nowhere", name=" ", actor_id=None)
    assert {e.field for e in bad.value.errors} == {"name", "branch"}

    await pair(sessions, clock, first, desk)
    # The same staff member on another tablet: the first is freed (one tablet each).
    await pair(sessions, clock, second, desk)
    # Another staff member takes the second tablet: it leaves the first staff member.
    await pair(sessions, clock, second, other)
    async with sessions() as session:
        assert await tablets.paired_with(session=session, staff_id=desk) is None
        mine = await tablets.paired_with(session=session, staff_id=other)
        assert mine is not None and mine.id == second
        assert (await session.get(DeskTablet, first)).staff_id is None  # type: ignore[union-attr]
    async with transaction(sessions) as session:
        assert (await tablets.unpair(session=session, clock=clock, staff_id=other)) is not None
        assert await tablets.unpair(session=session, clock=clock, staff_id=other) is None
    await pair(sessions, clock, second, other)
    async with transaction(sessions) as session:
        await tablets.revoke(session=session, clock=clock, tablet_id=second, actor_id=None)
    async with sessions() as session:
        assert await tablets.by_token(session=session, token=token) is not None
        assert await tablets.paired_with(session=session, staff_id=other) is None
        actions = list(await session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("desk_tablet.%"))))
    assert actions.count("desk_tablet.pair") == 4 and "desk_tablet.revoke" in actions
    for refused_id, code in ((second, "tablet_revoked"), (9999, "no_tablet")):
        with pytest.raises(tablets.TabletRefused) as refused:
            async with transaction(sessions) as session:
                await tablets.pair(session=session, clock=clock, tablet_id=refused_id, staff_id=desk)
        assert refused.value.code == code


async def test_a_walk_in_intake_is_offered_on_the_paired_tablet_only(sessions: Sessions, clock: FrozenClock) -> None:
    desk = await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    caller = await make_staff(sessions, clock, Role.CALL_CENTRE, "caller")
    # Not paired yet: no invitation.
    await walk_in(sessions, clock, desk.id)
    assert await invites_of(sessions) == []
    tablet_id, _ = await enrol(sessions, clock)
    other_tablet, _ = await enrol(sessions, clock, "Desk 2")
    await pair(sessions, clock, tablet_id, desk.id)
    await pair(sessions, clock, other_tablet, caller.id)
    # A call taken on the phone is not a visit at the desk.
    await walk_in(sessions, clock, caller.id, Channel.CALL_CENTRE)
    assert await invites_of(sessions) == []
    first_case = await walk_in(sessions, clock, desk.id)
    clock.advance(timedelta(minutes=5))
    second_case = await walk_in(sessions, clock, desk.id)
    first, second = await invites_of(sessions)
    assert (first.case_id, first.visit, first.channel, first.staff_id, first.tablet_id) == (
        first_case, Visit.INTAKE, InviteChannel.TABLET, desk.id, tablet_id
    )  # fmt: skip
    # The newer visit withdrew the older one, not rated; it expires at the end of the Riyadh day.
    assert first.withdrawn_at == clock.now() and second.withdrawn_at is None and second.case_id == second_case
    assert second.expires_at == at(25, 0) and second.branch_code == "riyadh"
    async with sessions() as session:
        shown = await ratings.pending_on_tablet(session=session, clock=clock, tablet_id=tablet_id)
        assert shown is not None and shown.invite_id == second.id and shown.staff_name == desk.full_name
        # The other tablet shows nothing of this desk's.
        assert await ratings.pending_on_tablet(session=session, clock=clock, tablet_id=other_tablet) is None
    # Another tablet cannot rate it; the withdrawn one cannot be rated; the right one can, once.
    for tablet, invite_id, code in (
        (other_tablet, second.id, "rating_link_not_found"),
        (tablet_id, first.id, "rating_withdrawn"),
    ):
        with pytest.raises(ratings.RatingRefused) as refused:
            async with transaction(sessions) as session:
                await ratings.rate(
                    session=session, clock=clock, invite_id=invite_id, score=5, comment="", tablet_id=tablet
                )
        assert refused.value.code == code
    async with transaction(sessions) as session:
        rating = await ratings.rate(
            session=session, clock=clock, invite_id=second.id, score="4", comment="  Quick  ", tablet_id=tablet_id
        )
    assert (rating.score, rating.comment, rating.staff_id, rating.visit, rating.branch_code) == (
        4, "Quick", desk.id, Visit.INTAKE, "riyadh"
    )  # fmt: skip
    async with sessions() as session:
        assert await ratings.pending_on_tablet(session=session, clock=clock, tablet_id=tablet_id) is None
    # The end of the day: a visit left unrated is no longer shown.
    await walk_in(sessions, clock, desk.id)
    clock.set(at(25, 0))
    async with sessions() as session:
        assert await ratings.pending_on_tablet(session=session, clock=clock, tablet_id=tablet_id) is None


async def test_a_desk_check_in_is_offered_on_the_tablet_and_a_kiosk_one_is_not(
    sessions: Sessions, clock: FrozenClock
) -> None:
    by_kiosk, at_desk = await booked_day(sessions, clock, 2)
    desk = await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    tablet_id, _ = await enrol(sessions, clock)
    await pair(sessions, clock, tablet_id, desk.id)
    clock.set(at(29, 9, 50))
    await check_in(sessions, clock, by_kiosk.appointment_id)
    await check_in(sessions, clock, at_desk.appointment_id, via=ArrivalVia.DESK, actor_id=desk.id)
    (invite,) = await invites_of(sessions)
    assert (invite.visit, invite.case_id, invite.appointment_id, invite.staff_id, invite.tablet_id) == (
        Visit.CHECK_IN, at_desk.case_id, at_desk.appointment_id, desk.id, tablet_id
    )  # fmt: skip
    async with sessions() as session:
        rows = await session.scalar(select(func.count()).select_from(RatingInvite))
        assert rows == 1
    # Another staff member's invitation helper: an unpaired staff member gets none.
    async with transaction(sessions) as session:
        none = await invites.offer_on_tablet(
            session=session, clock=clock, staff_id=desk.id + 100, case_id=at_desk.case_id, visit=Visit.CHECK_IN,
            branch_code="riyadh", appointment_id=at_desk.appointment_id,
        )  # fmt: skip
    assert none is None
