"""Invitations to rate a visit: on the desk's tablet after an intake or a check-in, by a signed link after an
audience and at completion.

Each is made in the transaction of the visit it rates (the intake, the check-in, the outcome, the completion),
so a visit that did not happen leaves no invitation. One invitation per visit (the table's unique key); a second
call for the same visit gives back the first. A completion's appointment_id counts the request's completions: a
request completed again after its invitation was used or expired gets a new one (_completion_number). A link's
invitation carries no secret: the outbox writes `{rating_link}` and the dispatcher signs the link when it sends
(notify/outbox.py), as it does referral links.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cases.models import Case, CaseStatus, Channel
from followup.models import Referral
from majlis.clock import Clock, riyadh
from notify import outbox
from notify.texts import rate_audience_sms
from quality import tablets
from quality.models import InviteChannel, RatingInvite, Visit

# A link stays usable two weeks: long enough for an applicant who reads messages late, short enough to be about
# the visit they remember.
LINK_LIFETIME = timedelta(days=14)
# The WhatsApp template (approved by Meta, named in settings.whatsapp_templates) that carries the link outside the
# 24-hour session window; its one variable is the whole message.
RATE_TEMPLATE = "rate_visit"


def end_of_riyadh_day(moment: datetime) -> datetime:
    """Midnight after the moment in Riyadh: a tablet's invitation is for the applicant still at the desk today."""
    local = riyadh(moment)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start + timedelta(days=1)


async def _existing(session: AsyncSession, case_id: int, visit: Visit, appointment_id: int) -> RatingInvite | None:
    return await session.scalar(
        select(RatingInvite).where(
            RatingInvite.case_id == case_id,
            RatingInvite.visit == visit,
            RatingInvite.appointment_id == appointment_id,
        )
    )


async def offer_on_tablet(
    *,
    session: AsyncSession,
    clock: Clock,
    staff_id: int,
    case_id: int,
    visit: Visit,
    branch_code: str | None,
    appointment_id: int = 0,
) -> RatingInvite | None:
    """Puts the visit on the screen of the tablet the staff member is paired with; None when they have none.

    A newer visit on the same tablet withdraws an older one not rated yet: the applicant before has left the desk.
    """
    tablet = await tablets.paired_with(session=session, staff_id=staff_id)
    if tablet is None:
        return None
    existing = await _existing(session, case_id, visit, appointment_id)
    if existing is not None:
        return existing
    await tablets.withdraw_pending(session=session, clock=clock, tablet_id=tablet.id)
    now = clock.now()
    invite = RatingInvite(
        case_id=case_id,
        appointment_id=appointment_id,
        visit=visit,
        channel=InviteChannel.TABLET,
        staff_id=staff_id,
        branch_code=branch_code or tablet.branch_code,
        tablet_id=tablet.id,
        created_at=now,
        expires_at=end_of_riyadh_day(now),
    )
    session.add(invite)
    await session.flush()
    return invite


async def _by_link(
    session: AsyncSession,
    clock: Clock,
    *,
    case: Case,
    visit: Visit,
    channel: InviteChannel,
    staff_id: int | None,
    appointment_id: int = 0,
    department_id: int | None = None,
) -> tuple[RatingInvite, bool]:
    """The visit's invitation by link, and whether it is new (an old one has been sent already)."""
    existing = await _existing(session, case.id, visit, appointment_id)
    if existing is not None:
        return existing, False
    now = clock.now()
    invite = RatingInvite(
        case_id=case.id,
        appointment_id=appointment_id,
        visit=visit,
        channel=channel,
        staff_id=staff_id,
        branch_code=case.branch,
        department_id=department_id,
        created_at=now,
        expires_at=now + LINK_LIFETIME,
    )
    session.add(invite)
    await session.flush()
    return invite, True


async def after_audience(
    *, session: AsyncSession, clock: Clock, case: Case, appointment_id: int, staff_id: int
) -> RatingInvite | None:
    """Invites the applicant to rate the audience whose outcome `staff_id` recorded: SMS, or WhatsApp for a
    request that came by WhatsApp. None when the outcome completed the request: its completion message carries
    a link already, and one visit should not bring two requests to rate it."""
    if case.status is CaseStatus.COMPLETED:
        return None
    whatsapp = case.channel is Channel.WHATSAPP
    invite, new = await _by_link(
        session,
        clock,
        case=case,
        visit=Visit.AUDIENCE,
        channel=InviteChannel.WHATSAPP if whatsapp else InviteChannel.SMS,
        staff_id=staff_id,
        appointment_id=appointment_id,
    )
    if not new:
        return invite
    language = case.language.value
    body = rate_audience_sms(language=language, tracking_number=case.tracking_number, rating_link=outbox.RATING_LINK)
    payload = outbox.rating_link_payload(invite_id=invite.id, expires_at=invite.expires_at)
    if whatsapp:
        # Outside the session window WhatsApp delivers only an approved template: the message as its variable.
        payload |= {"template": RATE_TEMPLATE, "variables": {"1": body}}
    await outbox.enqueue(
        session=session,
        clock=clock,
        purpose=f"rate:audience:{invite.id}",
        channel="whatsapp" if whatsapp else "sms",
        recipient=case.phone,
        language=language,
        body=body,
        case_id=case.id,
        payload=payload,
    )
    return invite


async def _completion_number(session: AsyncSession, case_id: int, now: datetime) -> int:
    """Which completion of the request this is, kept in a completion invitation's appointment_id (0, 1, 2 …).

    A request reopened and completed again is a new service to rate: when the last completion's invitation was
    rated, withdrawn or has expired, the next number makes a new one (the unique key counts it as another visit),
    so the new SMS's link works. One still open is used again: its link rates either completion, once.
    """
    last = await session.scalar(
        select(RatingInvite)
        .where(RatingInvite.case_id == case_id, RatingInvite.visit == Visit.COMPLETION)
        .order_by(RatingInvite.appointment_id.desc())
        .limit(1)
    )
    if last is None:
        return 0
    still_open = last.used_at is None and last.withdrawn_at is None and last.expires_at > now
    return last.appointment_id if still_open else last.appointment_id + 1


async def at_completion(
    *,
    session: AsyncSession,
    clock: Clock,
    case: Case,
    staff_id: int | None,
    purpose: str,
    compose: Callable[[str], str],
) -> RatingInvite:
    """Invites the applicant to rate the request's service as it completes, in the completion SMS itself.

    `compose(language)` writes the message with `{rating_link}` where the link goes. The department is the one
    the request was last referred to, for the per-department monthly report.
    """
    department_id = await session.scalar(
        select(Referral.department_id).where(Referral.case_id == case.id).order_by(Referral.id.desc()).limit(1)
    )
    invite, _ = await _by_link(
        session,
        clock,
        case=case,
        visit=Visit.COMPLETION,
        channel=InviteChannel.SMS,
        staff_id=staff_id,
        appointment_id=await _completion_number(session, case.id, clock.now()),
        department_id=department_id,
    )
    language = case.language.value
    await outbox.enqueue(
        session=session,
        clock=clock,
        purpose=purpose,
        channel="sms",
        recipient=case.phone,
        language=language,
        body=compose(language),
        case_id=case.id,
        payload=outbox.rating_link_payload(invite_id=invite.id, expires_at=invite.expires_at),
    )
    return invite
