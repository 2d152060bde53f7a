"""Desk tablets: the customer-facing screens at the desks of a reception centre, where applicants rate who served them.

Enrolled as kiosks are (audience_day/kiosks.py): the device token is shown once, as the enrolment link opened on
the tablet, and only its SHA-256 is kept; revoking ends it at once. A desk's staff member pairs a tablet with
themselves for their shift, so what they serve is offered for rating on the screen facing the applicant. One
tablet per staff member and one staff member per tablet: pairing takes the tablet from whoever had it and frees
the one the staff member had before.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from majlis import device_tokens
from majlis.clock import Clock
from majlis.errors import N_, DomainError
from quality.models import DeskTablet, RatingInvite


class TabletRefused(DomainError):
    """No such tablet, or it was taken out of use."""


async def enrol(
    *, session: AsyncSession, clock: Clock, branch_code: str, name: str, actor_id: int | None
) -> tuple[DeskTablet, str]:
    """A new tablet of the branch and its device token (shown once, never stored)."""
    name = await device_tokens.checked_enrolment(
        session=session,
        branch_code=branch_code,
        name=name,
        name_message=N_("Name the tablet (up to 120 characters), e.g. its desk."),
    )
    token, token_hash = device_tokens.new_token()
    tablet = DeskTablet(
        branch_code=branch_code, name=name, token_hash=token_hash, created_at=clock.now(), created_by_id=actor_id
    )
    session.add(tablet)
    await session.flush()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="desk_tablet.enrol",
        target_type="desk_tablet",
        target_id=str(tablet.id),
        details={"branch": branch_code, "name": name},
    )
    return tablet, token


async def by_token(*, session: AsyncSession, token: str) -> DeskTablet | None:
    """The live tablet a device token belongs to."""
    token_hash = device_tokens.hash_to_look_up(token)
    if token_hash is None:
        return None
    return await session.scalar(
        select(DeskTablet).where(DeskTablet.token_hash == token_hash, DeskTablet.revoked_at.is_(None))
    )


async def all_tablets(*, session: AsyncSession, live_only: bool = False) -> list[DeskTablet]:
    query = select(DeskTablet).order_by(DeskTablet.branch_code, DeskTablet.name, DeskTablet.id)
    if live_only:
        query = query.where(DeskTablet.revoked_at.is_(None))
    return list(await session.scalars(query))


async def paired_with(*, session: AsyncSession, staff_id: int) -> DeskTablet | None:
    """The live tablet this staff member is paired with now, if any."""
    return await session.scalar(
        select(DeskTablet).where(DeskTablet.staff_id == staff_id, DeskTablet.revoked_at.is_(None))
    )


async def _locked(session: AsyncSession, tablet_id: int) -> DeskTablet:
    tablet = await session.get(DeskTablet, tablet_id, with_for_update=True, populate_existing=True)
    if tablet is None:
        raise TabletRefused("no_tablet", N_("There is no such tablet."))
    if tablet.revoked_at is not None:
        raise TabletRefused("tablet_revoked", N_("This tablet was taken out of use."))
    return tablet


async def withdraw_pending(*, session: AsyncSession, clock: Clock, tablet_id: int) -> None:
    """The tablet's unrated invitations leave its screen: whoever served them is no longer at this desk."""
    await session.execute(
        update(RatingInvite)
        .where(RatingInvite.tablet_id == tablet_id, RatingInvite.used_at.is_(None), RatingInvite.withdrawn_at.is_(None))
        .values(withdrawn_at=clock.now())
        .execution_options(synchronize_session=False)
    )


async def pair(*, session: AsyncSession, clock: Clock, tablet_id: int, staff_id: int) -> DeskTablet:
    """Pairs the tablet with the staff member for their shift, taking it from whoever had it."""
    tablet = await _locked(session, tablet_id)
    if tablet.staff_id == staff_id:
        return tablet
    # Free the staff member's other tablet first: staff_id is unique, and the flush order must not trip it.
    earlier = await paired_with(session=session, staff_id=staff_id)
    if earlier is not None:
        earlier.staff_id = None
        earlier.paired_at = None
        await withdraw_pending(session=session, clock=clock, tablet_id=earlier.id)
        await session.flush()
    previous = tablet.staff_id
    await withdraw_pending(session=session, clock=clock, tablet_id=tablet.id)
    tablet.staff_id = staff_id
    tablet.paired_at = clock.now()
    await session.flush()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=staff_id,
        action="desk_tablet.pair",
        target_type="desk_tablet",
        target_id=str(tablet.id),
        details={"taken_from": previous} if previous is not None else {},
    )
    return tablet


async def unpair(*, session: AsyncSession, clock: Clock, staff_id: int) -> DeskTablet | None:
    """Ends the staff member's pairing (the end of their shift); gives back the tablet they had, if any."""
    tablet = await paired_with(session=session, staff_id=staff_id)
    if tablet is None:
        return None
    tablet = await _locked(session, tablet.id)
    tablet.staff_id = None
    tablet.paired_at = None
    await withdraw_pending(session=session, clock=clock, tablet_id=tablet.id)
    await session.flush()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=staff_id,
        action="desk_tablet.unpair",
        target_type="desk_tablet",
        target_id=str(tablet.id),
        details={},
    )
    return tablet


async def revoke(*, session: AsyncSession, clock: Clock, tablet_id: int, actor_id: int | None) -> DeskTablet:
    """Takes the tablet out of use: its token stops working, its pairing ends, its pending invitation goes."""
    tablet = await _locked(session, tablet_id)
    tablet.revoked_at = clock.now()
    tablet.staff_id = None
    tablet.paired_at = None
    await withdraw_pending(session=session, clock=clock, tablet_id=tablet.id)
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="desk_tablet.revoke",
        target_type="desk_tablet",
        target_id=str(tablet.id),
        details={},
    )
    await session.flush()
    return tablet
