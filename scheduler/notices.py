"""What an appointment's changes tell the applicant beyond the SMS: the calendar invitation by e-mail,
and the withdrawal of confirmation requests that no longer apply.

One request keeps one invitation UID for its whole life; every invitation or
cancellation sent about it carries the request's revision (`scheduler.revisions`,
the SEQUENCE the feeds show too), which rises with every placement, move and
release, so the applicant's calendar replaces the entry instead of adding
another, even across a cancellation and a new date.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cases.models import Case
from majlis.clock import Clock
from majlis.dates import dual_datetime
from notify import outbox
from notify.texts import audience_summary, invitation_email
from rooms import service as rooms
from scheduler.models import Appointment, Slot
from scheduler.revisions import revision_of

CONFIRMATION_CHANNELS = ("whatsapp", "voice", "sms", "email")


def confirmation_purpose(appointment_id: int, channel: str) -> str:
    return f"confirm:{appointment_id}:{channel}"


async def invitation_payload(
    *,
    session: AsyncSession,
    case: Case,
    appointment: Appointment,
    slot: Slot,
    place: str,
    cancelled: bool,
    repeat: bool = False,
) -> dict[str, object]:
    """The e-mail payload of an invitation (or its cancellation): the dispatcher builds the iCalendar from it.

    The SEQUENCE is the request's revision as of this appointment: a new
    invitation follows a placement and a cancellation a release, each of which
    raised it, while `repeat` (the invitation sent again with the confirmation
    request, nothing having changed) finds it where the last one left it. So
    `repeat` needs no arithmetic of its own; it stays for the callers' sake.
    """
    sequence = (await revision_of(session=session, appointment=appointment)).sequence
    return {
        "invitation": {
            "tracking_number": case.tracking_number,
            "sequence": sequence,
            "method": "CANCEL" if cancelled else "REQUEST",
            "starts_at": slot.starts_at.isoformat(),
            "ends_at": slot.ends_at.isoformat(),
            "summary": audience_summary(language=case.language.value, tracking_number=case.tracking_number),
            "location": place,
            "attendee_name": case.applicant_name,
            "appointment_id": appointment.id,
        }
    }


async def email_invitation(
    *, session: AsyncSession, clock: Clock, case: Case, appointment: Appointment, cancelled: bool = False
) -> None:
    """An e-mail with the calendar invitation for the appointment (or its cancellation), if the applicant gave an
    address."""
    if not case.email:
        return
    slot = await session.get_one(Slot, appointment.slot_id)
    room = await rooms.get_room(session=session, room_id=slot.room_id)
    language = case.language.value
    place = room.name_in(language) if room is not None else ""
    subject, body = invitation_email(
        language=language,
        tracking_number=case.tracking_number,
        when=dual_datetime(slot.starts_at, language),
        place=place,
        cancelled=cancelled,
    )
    payload = await invitation_payload(
        session=session, case=case, appointment=appointment, slot=slot, place=place, cancelled=cancelled
    )
    await outbox.enqueue(
        session=session,
        clock=clock,
        purpose=f"{'uninvite' if cancelled else 'invite'}:{appointment.id}",
        channel="email",
        recipient=case.email,
        language=language,
        body=body,
        case_id=case.id,
        payload={"subject": subject, **payload},
    )


async def withdraw_confirmation(*, session: AsyncSession, clock: Clock, appointment: Appointment, why: str) -> None:
    """Cancels the appointment's confirmation requests that have not gone yet (a call not yet made)."""
    await outbox.withdraw(
        session=session,
        clock=clock,
        case_id=appointment.case_id,
        purposes=[confirmation_purpose(appointment.id, channel) for channel in CONFIRMATION_CHANNELS],
        why=why,
    )
