"""Messages needing attention: failed, of uncertain fate, or reported undelivered; sent again or marked sent.

Need to know (cases/need_to_know.py): protocol and the call centre send the applicants' messages again; a message
about a request outside the reader's reach is listed with its recipient, text, tracking number and error text not
shown. It can still be sent again: a resend puts the same message to the same recipient back in the queue, reads
nothing and decides nothing about the request, and the request's own desk (follow-up's department e-mails, say)
has no page to do it from; it is in the audit log. Marking it sent is withheld (not offered, and refused as an
unknown message): that says the recipient got it, which only someone who knows who the recipient is can say.
The emergency line's messages (to citizens, missions and their staff; no request) are the consular supervisor's
alone, as the emergency reports are (web/emergency_access.py), and the supervisor sees no other. Messages with no
request that are not the emergency line's: the follow-up team's monthly report to the departments, shown (no
applicant in it); a WhatsApp desk reply to a sender with no request, not shown (the sender's phone and the
desk's words are the desk's). Each message shown in full that names a request is logged as a view of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from accounts.roles import Role
from cases import service as cases
from followup import mailing as followup_mailing
from majlis.errors import N_
from notify import attention
from notify.attention import MessageActionRefused
from notify.links import AnswerLink
from notify.models import MessageStatus, OutboxMessage
from notify.outbox import LINK
from notify.texts import sms_segments
from web import personal_data
from web.auth import requires, signed_in_user
from web.errors import domain_message
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, LINKS
from web.middleware import see_other
from web.pages import render

routes = web.RouteTableDef()
MESSAGE_ROLES = (Role.PROTOCOL, Role.CALL_CENTRE, Role.CONSULAR_SUPERVISOR)
# Messages with no request that carry no one's personal data: shown in full to protocol and the call centre.
OPEN_PURPOSES = frozenset({followup_mailing.PURPOSE})
DONE = {
    "retry": N_("The message is queued to be sent again."),
    "mark-sent": N_("The message is recorded as sent."),
}

# The outbox's channels (notify), by the names people know them by.
CHANNEL_NAMES = {"sms": N_("SMS"), "whatsapp": N_("WhatsApp"), "email": N_("E-mail"), "voice": N_("Voice call")}


@dataclass(frozen=True)
class Row:
    message: OutboxMessage
    tracking_number: str
    # SMS only: the segments the applicant's text takes (each one is paid for).
    segments: int | None
    # Sent, but the provider reported it undelivered.
    undelivered: bool
    # Recipient, text (its segments), tracking number and error text shown; False outside the reader's reach.
    shown: bool

    @property
    def purpose(self) -> str:
        """The purpose as listed: its kind alone when the rest is not shown (it may name a recipient)."""
        return self.message.purpose if self.shown else self.message.purpose.split(":")[0]


def _emergency_reader(request: web.Request) -> bool:
    return signed_in_user(request).role is Role.CONSULAR_SUPERVISOR


async def _shown(request: web.Request, messages: list[OutboxMessage]) -> set[int]:
    """The ids of the messages the reader sees in full; those naming a request are logged as seen."""
    if _emergency_reader(request):
        return {m.id for m in messages}
    visible = await personal_data.seen_in_list(request, [m.case_id for m in messages if m.case_id is not None])
    return {m.id for m in messages if (m.case_id in visible if m.case_id is not None else m.purpose in OPEN_PURPOSES)}


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
    messages = await attention.needing_attention(session=session, emergency=_emergency_reader(request))
    shown = await _shown(request, messages)
    found = await cases.cases_by_id(
        session=session, case_ids={m.case_id for m in messages if m.case_id is not None and m.id in shown}
    )
    rows = [
        Row(
            message=m,
            tracking_number=found[m.case_id].tracking_number if m.case_id in found else "",
            segments=sms_segments(_as_sent(request, m)) if m.channel == "sms" and m.id in shown else None,
            undelivered=m.status is MessageStatus.SENT,
            shown=m.id in shown,
        )
        for m in messages
    ]
    context = {
        "rows": rows,
        "notice": notice,
        "form_error": form_error,
        "limit": attention.ATTENTION_LIMIT,
        "channel_names": CHANNEL_NAMES,
    }
    return render(request, "messages/list.html", context, status=status)


@routes.get("/messages")
@requires(*MESSAGE_ROLES)
async def messages(request: web.Request) -> web.Response:
    done = DONE.get(request.query.get("done", ""))
    notice = request.app[CATALOGS].gettext(request[LANGUAGE], done) if done else None
    return await _list_page(request, notice=notice)


async def _may_act(request: web.Request, message_id: int, action: str) -> None:
    """A message outside the reader's list, or marked sent by a reader who may not see it, is not there for them."""
    message = await request[DB].get(OutboxMessage, message_id)
    if message is None:
        return  # the action itself says so
    listed = attention.is_emergency(message) == _emergency_reader(request)
    if not listed or (action == "mark-sent" and not await _sees(request, message)):
        raise MessageActionRefused("message_not_found", attention.NOT_FOUND)


async def _sees(request: web.Request, message: OutboxMessage) -> bool:
    if _emergency_reader(request):
        return True
    if message.case_id is None:
        return message.purpose in OPEN_PURPOSES
    return await personal_data.may_see(request, message.case_id)


async def _act(request: web.Request, action: str) -> web.Response:
    session, clock = request[DB], request.app[CLOCK]
    act = attention.retry if action == "retry" else attention.mark_sent
    message_id = int(request.match_info["message_id"])
    try:
        await _may_act(request, message_id, action)
        await act(session=session, clock=clock, message_id=message_id, actor_id=signed_in_user(request).id)
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
