"""What the provider reports after a message left: queued, sent, delivered, read, or undelivered.

Twilio posts each change of a message's or call's status to the status
callback. Callbacks may arrive late and out of order (a "sent" after its
"delivered"), and more than once, so a status only ever moves forward; a
final one (undelivered, failed, a call's busy or no-answer …) stays. A
failure to deliver keeps its error code and a readable line for the staff
page of messages needing attention.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from majlis.clock import Clock
from notify.models import InboundMessage, OutboxMessage

# Forward order of the statuses that are not final. Twilio's "accepted" and
# "scheduled" come before "queued" for messages sent through a messaging service.
MESSAGE_ORDER = ("accepted", "scheduled", "queued", "sending", "sent", "delivered", "read")
CALL_ORDER = ("queued", "initiated", "ringing", "in-progress")
MESSAGE_FINAL = frozenset({"failed", "undelivered", "canceled"})
CALL_FINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
# Final statuses that mean the applicant did not get the message: shown to staff with their error.
NOT_DELIVERED = frozenset({"failed", "undelivered"})
# Twilio's most frequent delivery errors, in words staff can act on.
ERROR_TEXTS = {
    "30003": "the handset is unreachable (switched off or out of coverage)",
    "30004": "the message was blocked (the recipient or the carrier blocks it)",
    "30005": "the number is unknown or no longer exists",
    "30006": "a landline or a carrier that cannot receive it",
    "30007": "filtered by the carrier as spam",
    "30008": "an unknown error at the carrier",
    "63016": "a free-form WhatsApp message outside the 24-hour window; a template is needed",
    "63024": "not a WhatsApp number, or the recipient cannot receive WhatsApp messages",
}


def _rank(channel: str, status: str) -> int:
    """Where a status stands in its channel's order: final statuses last, unknown ones first."""
    order, final = (CALL_ORDER, CALL_FINAL) if channel == "voice" else (MESSAGE_ORDER, MESSAGE_FINAL)
    if status in final:
        return len(order)
    return order.index(status) if status in order else -1


def moves_forward(channel: str, current: str | None, new: str) -> bool:
    """Whether `new` may replace `current`: later in the order, and never after a final status."""
    if current is None:
        return True
    current_rank, new_rank = _rank(channel, current), _rank(channel, new)
    final_rank = len(CALL_ORDER if channel == "voice" else MESSAGE_ORDER)
    if current_rank == final_rank:
        return False
    return new_rank > current_rank


def error_text(status: str, error_code: str | None) -> str:
    """The line staff read for a message that was not delivered."""
    described = ERROR_TEXTS.get(error_code or "")
    text = f"The provider reported the message {status}"
    if error_code:
        text += f" (error {error_code}" + (f": {described})" if described else ")")
    return text


async def record_delivery(
    *, session: AsyncSession, clock: Clock, provider_id: str, status: str, error_code: str | None
) -> bool:
    """Records a status the provider reported for the message (or call) it knows by `provider_id`.

    Gives back False when no message has that id yet. Twilio does not call a
    status callback twice, and it may call it before the dispatcher has
    recorded the id it was given, so such a report is kept and applied when the
    id is recorded (`apply_early_reports`).
    """
    status = status.strip().lower()[:32]
    if not provider_id or not status:
        return False
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.provider_id == provider_id)
        .order_by(OutboxMessage.id)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Two callbacks for one message at once: the second waits and compares with the first's status.
        query = query.with_for_update()
    rows = list(await session.scalars(query))
    now = clock.now()
    if not rows:
        await _keep_for_later(
            session=session, clock=clock, provider_id=provider_id, status=status, error_code=error_code
        )
    for row in rows:
        if not moves_forward(row.channel, row.delivery_status, status):
            continue
        row.delivery_status = status
        row.delivery_updated_at = now
        if status in NOT_DELIVERED:
            row.error_code = (error_code or "")[:32] or None
            row.last_error = error_text(status, error_code)
    await session.flush()
    return bool(rows)


EARLY = "delivery"
AWAITING = "awaiting_message"


async def _keep_for_later(
    *, session: AsyncSession, clock: Clock, provider_id: str, status: str, error_code: str | None
) -> None:
    """Keeps a report about an id no message has yet, once per (id, status)."""
    try:
        async with session.begin_nested():
            session.add(
                InboundMessage(
                    channel=EARLY,
                    provider_id=f"{provider_id}:{status}"[:64],
                    sender=provider_id[:254],
                    body=json.dumps({"status": status, "error_code": error_code}),
                    received_at=clock.now(),
                    understood_as=AWAITING,
                )
            )
            await session.flush()
    except IntegrityError:
        pass  # the same report again


async def apply_early_reports(*, session: AsyncSession, clock: Clock, provider_id: str) -> int:
    """Applies the reports that came before the message's provider id was recorded; gives back how many."""
    kept = list(
        await session.scalars(
            select(InboundMessage)
            .where(
                InboundMessage.channel == EARLY,
                InboundMessage.sender == provider_id,
                InboundMessage.understood_as == AWAITING,
            )
            .order_by(InboundMessage.id)
        )
    )
    for report in kept:
        fields = json.loads(report.body)
        await record_delivery(
            session=session,
            clock=clock,
            provider_id=provider_id,
            status=str(fields["status"]),
            error_code=fields.get("error_code"),
        )
        report.understood_as = "applied"
    await session.flush()
    return len(kept)
