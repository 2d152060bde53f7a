"""Messages needing attention: failed, of uncertain fate, or reported undelivered; sent again or marked sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from accounts.roles import Role
from cases import service as cases
from majlis.errors import N_
from notify import attention
from notify.attention import MessageActionRefused
from notify.links import AnswerLink
from notify.models import MessageStatus, OutboxMessage
from notify.outbox import LINK
from notify.texts import sms_segments
from web.auth import requires, signed_in_user
from web.errors import domain_message
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, LINKS
from web.middleware import see_other
from web.pages import render

routes = web.RouteTableDef()
MESSAGE_ROLES = (Role.PROTOCOL, Role.CALL_CENTRE)
DONE = {
    "retry": N_("The message is queued to be sent again."),
    "mark-sent": N_("The message is recorded as sent."),
}


@dataclass(frozen=True)
class Row:
    message: OutboxMessage
    tracking_number: str
    # SMS only: the segments the applicant's text takes (each one is paid for).
    segments: int | None
    # Sent, but the provider reported it undelivered.
    undelivered: bool


def _as_sent(request: web.Request, message: OutboxMessage) -> str:
    """The body as the applicant gets it: with the signed answer link in place of its marker."""
    fields = (message.payload or {}).get("answer_link")
    if LINK not in message.body or not isinstance(fields, dict):
        return message.body
    link = AnswerLink(
        appointment_id=int(fields["appointment_id"]), expires_at=datetime.fromisoformat(str(fields["expires_at"]))
    )
    return message.body.replace(LINK, request.app[LINKS].answer_page(link))


async def _list_page(
    request: web.Request, *, notice: str | None = None, form_error: str | None = None, status: int = 200
) -> web.Response:
    session = request[DB]
    messages = await attention.needing_attention(session=session)
    found = await cases.cases_by_id(session=session, case_ids={m.case_id for m in messages if m.case_id is not None})
    rows = [
        Row(
            message=m,
            tracking_number=found[m.case_id].tracking_number if m.case_id in found else "",
            segments=sms_segments(_as_sent(request, m)) if m.channel == "sms" else None,
            undelivered=m.status is MessageStatus.SENT,
        )
        for m in messages
    ]
    context = {"rows": rows, "notice": notice, "form_error": form_error, "limit": attention.ATTENTION_LIMIT}
    return render(request, "messages/list.html", context, status=status)


@routes.get("/messages")
@requires(*MESSAGE_ROLES)
async def messages(request: web.Request) -> web.Response:
    done = DONE.get(request.query.get("done", ""))
    notice = request.app[CATALOGS].gettext(request[LANGUAGE], done) if done else None
    return await _list_page(request, notice=notice)


async def _act(request: web.Request, action: str) -> web.Response:
    session, clock = request[DB], request.app[CLOCK]
    act = attention.retry if action == "retry" else attention.mark_sent
    try:
        await act(
            session=session,
            clock=clock,
            message_id=int(request.match_info["message_id"]),
            actor_id=signed_in_user(request).id,
        )
    except MessageActionRefused as refused:
        await session.rollback()
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], refused)
        return await _list_page(request, form_error=message, status=404 if refused.code == "message_not_found" else 409)
    return see_other(f"/messages?done={action}")


@routes.post("/messages/{message_id:\\d+}/retry")
@requires(*MESSAGE_ROLES)
async def retry(request: web.Request) -> web.Response:
    return await _act(request, "retry")


@routes.post("/messages/{message_id:\\d+}/mark-sent")
@requires(*MESSAGE_ROLES)
async def mark_sent(request: web.Request) -> web.Response:
    return await _act(request, "mark-sent")
