"""A rating given: the face and the optional comment, for one invitation, once.

The tablet's screen and the signed link's page (and the API behind the link) all come here. A rating copies the
invitation's staff member, branch, department and visit, so the review queue and the statistics read one table.
Used once: the invitation row is locked while it is checked, `used_at` is set in the rating's transaction, and
the unique invite_id settles two submissions that still raced (one rating, the other refused as used).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import StaffUser
from accounts.roles import Role
from majlis.clock import Clock
from majlis.errors import N_, DomainError, FieldError, InvalidInput
from quality.models import SCORES, Rating, RatingInvite, Visit

MAX_COMMENT = 500


class RatingRefused(DomainError):
    """The invitation cannot be rated: there is none, it was rated, withdrawn, or has expired."""


_WHY = {
    "rating_link_not_found": N_("This rating link is not valid. Check that it was copied whole."),
    "rating_used": N_("This visit has already been rated. Thank you."),
    "rating_expired": N_("This rating link has expired."),
    "rating_withdrawn": N_("This rating is no longer open."),
}


def refused(code: str) -> RatingRefused:
    """The refusal of that code, in the words every way in (page, tablet, API) gives it."""
    return RatingRefused(code, _WHY[code])


@dataclass(frozen=True)
class Rated:
    """What an invitation asks to rate, as the applicant may see it: the visit, who served, until when."""

    invite_id: int
    visit: Visit
    # The staff member's full name on the desk's tablet (the applicant is facing them); by link, the first name.
    staff_name: str
    staff_first_name: str
    staff_role: Role | None
    expires_at: datetime


def checked(score: Any, comment: Any) -> tuple[int, str]:
    """The face (1 … 5) and the comment, trimmed; InvalidInput naming each field that is wrong."""
    errors = []
    face = score if isinstance(score, int) and not isinstance(score, bool) else None
    if face is None and isinstance(score, str) and score.strip().isascii() and score.strip().isdigit():
        face = int(score.strip())
    if face not in SCORES:
        errors.append(FieldError("score", "invalid", N_("Choose one of the five faces.")))
    text = comment.strip() if isinstance(comment, str) else "" if comment is None else None
    if text is None:
        errors.append(FieldError("comment", "invalid", N_("The comment must be text.")))
    elif len(text) > MAX_COMMENT:
        errors.append(
            FieldError("comment", "too_long", N_("The comment may be at most {max} characters."), {"max": "500"})
        )
    if errors:
        raise InvalidInput(errors)
    assert face is not None and text is not None
    return face, text


def _open(invite: RatingInvite | None, now: datetime) -> RatingInvite:
    if invite is None:
        raise refused("rating_link_not_found")
    if invite.used_at is not None:
        raise refused("rating_used")
    if invite.withdrawn_at is not None:
        raise refused("rating_withdrawn")
    if now >= invite.expires_at:
        raise refused("rating_expired")
    return invite


async def _described(session: AsyncSession, invite: RatingInvite) -> Rated:
    staff = await session.get(StaffUser, invite.staff_id) if invite.staff_id is not None else None
    name = staff.full_name.strip() if staff is not None else ""
    return Rated(
        invite_id=invite.id,
        visit=invite.visit,
        staff_name=name,
        staff_first_name=name.split()[0] if name else "",
        staff_role=staff.role if staff is not None else None,
        expires_at=invite.expires_at,
    )


async def open_invite(*, session: AsyncSession, clock: Clock, invite_id: int) -> Rated:
    """What the invitation asks to rate; RatingRefused when it cannot be rated any more."""
    invite = _open(await session.get(RatingInvite, invite_id), clock.now())
    return await _described(session, invite)


async def pending_on_tablet(*, session: AsyncSession, clock: Clock, tablet_id: int) -> Rated | None:
    """The invitation the tablet shows now: its newest one neither rated, withdrawn nor expired."""
    invite = await session.scalar(
        select(RatingInvite)
        .where(
            RatingInvite.tablet_id == tablet_id,
            RatingInvite.used_at.is_(None),
            RatingInvite.withdrawn_at.is_(None),
            RatingInvite.expires_at > clock.now(),
        )
        .order_by(RatingInvite.id.desc())
        .limit(1)
    )
    return await _described(session, invite) if invite is not None else None


async def rate(
    *,
    session: AsyncSession,
    clock: Clock,
    invite_id: int,
    score: Any,
    comment: Any,
    tablet_id: int | None = None,
) -> Rating:
    """Saves the rating of the invitation; InvalidInput or RatingRefused change nothing.

    `tablet_id`: the tablet it comes from, which may rate only its own invitations (another's is "not found").
    """
    face, text = checked(score, comment)
    now = clock.now()
    invite = await session.get(RatingInvite, invite_id, with_for_update=True, populate_existing=True)
    if invite is not None and tablet_id is not None and invite.tablet_id != tablet_id:
        invite = None
    invite = _open(invite, now)
    rating = Rating(
        invite_id=invite.id,
        case_id=invite.case_id,
        visit=invite.visit,
        staff_id=invite.staff_id,
        branch_code=invite.branch_code,
        department_id=invite.department_id,
        score=face,
        comment=text,
        rated_at=now,
    )
    # No twin can get here first: the invitation's row is locked above on PostgreSQL (FOR UPDATE), and on SQLite
    # every transaction begins IMMEDIATE (majlis.db), so a second submission waits and then finds it used (_open).
    # The unique invite_id of ratings stays as the last guard; there is no IntegrityError branch to keep.
    session.add(rating)
    invite.used_at = now
    await session.flush()
    return rating
