"""The WhatsApp desk's staff actions on a conversation by name, shared by its pages and its API: fields in, one
call. The domain (whatsapp_desk/inbox.py) checks their meaning and refuses with InvalidInput or a DomainError,
which each caller turns into its own kind of answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from accounts.roles import Role
from majlis.errors import N_, FieldError, InvalidInput
from majlis.numbers import whole_number
from majlis.settings import Settings
from web import pagination, personal_data
from web.api_models import ID_LIMIT
from web.auth import signed_in_user
from web.keys import CLOCK, DB, SETTINGS
from whatsapp_desk import inbox, inbox_lists

# Only the desk's own staff read conversations: what a sender writes is theirs and the desk's. Administrators pass
# every role guard (web/auth.py), so the guard alone would let them in: `reads_conversations` shuts them out
# (need to know, cases/need_to_know.py: they manage accounts, not what applicants write).
DESK = (Role.WHATSAPP_DESK,)
# The conversations waiting for staff, a page at a time (the reader's own and the recent ones are not paged).
INBOX_PER_PAGE = 50
Perform = Callable[[web.Request, int, Mapping[str, str]], Awaitable[None]]


def template_available(settings: Settings) -> bool:
    """Whether a reply outside the 24-hour window can go: the approved template is configured for Twilio (the
    console and null channels of development and tests send anything)."""
    return settings.notify_backend != "providers" or bool(settings.whatsapp_templates.get(inbox.DESK_REPLY_TEMPLATE))


def reads_conversations(request: web.Request) -> bool:
    """Whether the signed-in member of staff reads the desk's conversations: its own staff only."""
    return signed_in_user(request).role in DESK


def conversation_id(request: web.Request) -> int:
    """The conversation in the path; one past any id (thousands of digits too) is not there, and none is there for
    a reader outside the desk (an administrator): 404, as for a number that does not exist."""
    if not reads_conversations(request):
        raise inbox.ConversationNotFound()
    value = whole_number(request.match_info["conversation_id"])
    if value is None or value > ID_LIMIT:
        raise inbox.ConversationNotFound()
    return value


async def inbox_for(request: web.Request) -> inbox_lists.Inbox:
    """The inbox as the signed-in reader sees it: empty outside the desk; each line linked to a request logged as
    a view of that request's personal data (the sender's phone and last words). The page of waiting conversations
    is ?page= (InvalidInput naming it when it is not a page number)."""
    if not reads_conversations(request):
        return inbox_lists.Inbox(waiting=[], mine=[], recent=[])
    found = await inbox_lists.inbox(
        session=request[DB],
        reader_id=signed_in_user(request).id,
        page=pagination.page_or_invalid(request),
        per_page=INBOX_PER_PAGE,
    )
    linked = [x.conversation.case_id for x in (*found.waiting, *found.mine, *found.recent)]
    await personal_data.record_all(request, [case_id for case_id in linked if case_id is not None])
    return found


async def transcript_for(request: web.Request, number: int) -> inbox_lists.Transcript:
    """One conversation as the desk reads it, logged as a view of every request it is linked to (the
    conversation's, and those its messages document). A conversation linked to none names no request to log:
    the access log's rows are views of requests."""
    found = await inbox_lists.transcript(session=request[DB], conversation_id=number, now=request.app[CLOCK].now())
    linked = [found.conversation.case_id, *(m.case_id for m in found.messages)]
    await personal_data.record_all(request, [case_id for case_id in linked if case_id is not None])
    return found


def _staff_id(request: web.Request, raw: str) -> int:
    """The member of staff named by id, or the one acting when none is named (taking it themselves)."""
    raw = raw.strip()
    if not raw:
        return signed_in_user(request).id
    value = whole_number(raw)
    if value is None or value > ID_LIMIT:
        raise InvalidInput(
            [FieldError("staff_id", "invalid", N_("{field} must be an active member of the WhatsApp desk."))]
        )
    return value


async def _reply(request: web.Request, conversation: int, fields: Mapping[str, str]) -> None:
    await inbox.reply(
        session=request[DB],
        clock=request.app[CLOCK],
        conversation_id=conversation,
        actor_id=signed_in_user(request).id,
        text=fields.get("message", ""),
        template_available=template_available(request.app[SETTINGS]),
    )


async def _assign(request: web.Request, conversation: int, fields: Mapping[str, str]) -> None:
    await inbox.assign(
        session=request[DB],
        clock=request.app[CLOCK],
        conversation_id=conversation,
        staff_id=_staff_id(request, fields.get("staff_id", "")),
        actor_id=signed_in_user(request).id,
    )


async def _hand_back(request: web.Request, conversation: int, fields: Mapping[str, str]) -> None:
    await inbox.hand_back(
        session=request[DB], clock=request.app[CLOCK], conversation_id=conversation, actor_id=signed_in_user(request).id
    )


async def _link(request: web.Request, conversation: int, fields: Mapping[str, str]) -> None:
    await inbox.link_case(
        session=request[DB],
        clock=request.app[CLOCK],
        conversation_id=conversation,
        tracking_number=fields.get("tracking_number", ""),
        actor_id=signed_in_user(request).id,
    )


async def _block(request: web.Request, conversation: int, fields: Mapping[str, str]) -> None:
    await inbox.block(
        session=request[DB],
        clock=request.app[CLOCK],
        conversation_id=conversation,
        reason=fields.get("reason", ""),
        actor_id=signed_in_user(request).id,
    )


async def _unblock(request: web.Request, conversation: int, fields: Mapping[str, str]) -> None:
    await inbox.unblock(
        session=request[DB], clock=request.app[CLOCK], conversation_id=conversation, actor_id=signed_in_user(request).id
    )


# The last part of each action's path, on the pages and in the API.
ACTIONS: Mapping[str, Perform] = {
    "reply": _reply,
    "assign": _assign,
    "hand-back": _hand_back,
    "link": _link,
    "block": _block,
    "unblock": _unblock,
}
