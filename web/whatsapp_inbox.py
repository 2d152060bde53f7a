"""The WhatsApp desk's staff pages: the inbox (/whatsapp) and one conversation (/whatsapp/{id}) with its
messages, files and the staff's actions (reply, assign, hand back to the bot, link to a request, block).

Each action runs in the request's one transaction: a refusal rolls it back and shows the conversation again
with the reason in place, and a success returns to it with a line saying what was done.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from accounts import service as accounts
from accounts.roles import Role
from followup.attachments import isolated
from majlis.errors import N_, DomainError, FieldError, InvalidInput, required
from majlis.numbers import whole_number
from web import labels, pagination, personal_data
from web.attachments import stored_file_response
from web.auth import requires, signed_in_user
from web.errors import domain_message
from web.intake_forms import errors_by_field
from web.keys import CATALOGS, DB, LANGUAGE
from web.middleware import error_response, see_other
from web.pages import render
from web.whatsapp_actions import ACTIONS, DESK, Perform, conversation_id, inbox_for, transcript_for
from whatsapp_desk import inbox, inbox_lists
from whatsapp_desk.models import Conversation, DeskMessage, HandoverReason, Step

routes = web.RouteTableDef()

REASONS: Mapping[str | None, str] = {
    HandoverReason.ASKED.value: N_("Asked to talk to staff"),
    HandoverReason.UNREADABLE.value: N_("The automatic desk could not read the answers"),
    HandoverReason.MEDIA.value: N_("A file could not be received"),
    # Staff wrote into a conversation the bot was handling.
    None: N_("Taken over by staff"),
}
SENT_AS: Mapping[str, str] = {
    "reply": N_("Automatic reply"),
    "session": N_("WhatsApp message"),
    "template": N_("Approved template (outside the 24-hour window)"),
}
DELIVERY: Mapping[str, str] = {
    "pending": N_("Waiting to be sent"),
    "sending": N_("Being sent"),
    "sent": N_("Sent"),
    "failed": N_("Not sent"),
    "uncertain": N_("Not known whether it was sent"),
    "cancelled": N_("Cancelled"),
}
DONE: Mapping[str, str] = {
    "reply": N_("Your reply is on its way to the sender."),
    "assign": N_("The conversation is assigned."),
    "hand-back": N_("The conversation is back with the automatic desk; the sender's next message gets the menu."),
    "link": N_("The conversation is linked to the request: its exchange shows in the request's history."),
    "block": N_("The sender is blocked: their messages are kept and not answered."),
    "unblock": N_("The sender is unblocked: the automatic desk answers them again."),
}
BLOCK_UNCONFIRMED = N_("Tick the box to confirm that this sender is to be blocked.")


def reason_label(reason: HandoverReason | None) -> str:
    return REASONS[reason.value if reason is not None else None]


@routes.get("/whatsapp")
@requires(*DESK)
async def inbox_page(request: web.Request) -> web.Response:
    """Waiting conversations first (oldest first), then the reader's own, then the latest handled by the bot."""
    if pagination.asked_page(request) is None:
        return pagination.refused(request)
    found = await inbox_for(request)
    pager = pagination.pager(request, found, N_("Pages of the conversations waiting"))
    context = {"inbox": found, "reason_label": reason_label, "pager": pager}
    return render(request, "whatsapp/inbox.html", context)


async def conversation_page(
    request: web.Request,
    number: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    form_error: str | None = None,
    failed: str = "",
    status: int = 200,
) -> web.Response:
    session = request[DB]
    found = await transcript_for(request, number)
    done = request.query.get("done", "")
    notice = None
    if done in DONE and not failed:
        notice = DONE[done]
    desk_staff = [u for u in await accounts.users_with_role(session=session, role=Role.WHATSAPP_DESK) if u.is_active]
    context: dict[str, Any] = {
        "found": found,
        "conversation": found.conversation,
        "waiting": found.conversation.needs_staff_since is not None,
        "with_staff": found.conversation.step is Step.STAFF,
        "reason_label": reason_label,
        "sent_as": SENT_AS,
        "delivery": DELIVERY,
        "languages": labels.LANGUAGES,
        # A number inside a sentence keeps its place in Arabic between Unicode isolates.
        "isolated": lambda value: isolated(str(value)),
        "desk_staff": desk_staff,
        "me": signed_in_user(request).id,
        "notice": notice,
        "errors": errors or {},
        "values": values or {},
        "form_error": form_error,
        "failed": failed,
    }
    return render(request, "whatsapp/conversation.html", context, status=status)


@routes.get("/whatsapp/{conversation_id:\\d+}")
@requires(*DESK)
async def show_conversation(request: web.Request) -> web.Response:
    try:
        return await conversation_page(request, conversation_id(request))
    except inbox.ConversationNotFound as exc:
        raise web.HTTPNotFound() from exc


@routes.get("/whatsapp/{conversation_id:\\d+}/media/{media_id}")
@requires(*DESK)
async def media_file(request: web.Request) -> web.StreamResponse:
    """A file the sender sent, as a download (the same stored file as the request's attachment, once attached)."""
    media_id = whole_number(request.match_info["media_id"])
    try:
        number = conversation_id(request)
    except inbox.ConversationNotFound:
        return error_response(request, 404)
    item = (
        await inbox_lists.media_item(session=request[DB], conversation_id=number, media_id=media_id)
        if media_id
        else None
    )
    if item is None:
        return error_response(request, 404)
    message = await request[DB].get(DeskMessage, item.message_id)
    conversation = await request[DB].get(Conversation, number)
    linked = [x.case_id for x in (message, conversation) if x is not None]
    await personal_data.record_all(request, [case_id for case_id in linked if case_id is not None])
    return await stored_file_response(
        request, storage_key=item.storage_key, content_type=item.content_type, filename=item.filename
    )


def _fields(form: Mapping[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in form.items() if key != "csrf_token"}


async def _act(request: web.Request, name: str, perform: Perform) -> web.Response:
    """Runs one action; a refusal shows the conversation again with the reason in place, nothing changed."""
    try:
        number = conversation_id(request)
    except inbox.ConversationNotFound as exc:
        raise web.HTTPNotFound() from exc
    fields = _fields(await request.post())
    session, catalogs, language = request[DB], request.app[CATALOGS], request[LANGUAGE]
    try:
        if name == "block" and fields.get("confirm") != "yes":
            # A blocked sender is no longer answered at all: the form asks to confirm.
            missing = [FieldError("confirm", "unconfirmed", BLOCK_UNCONFIRMED)]
            if not fields.get("reason", "").strip():
                missing.insert(0, required("reason"))
            raise InvalidInput(missing)
        await perform(request, number, fields)
    except InvalidInput as exc:
        await session.rollback()
        errors = {f"{name}.{f}": m for f, m in errors_by_field(catalogs, language, exc.errors).items()}
        values = {f"{name}.{key}": value for key, value in fields.items()}
        return await _again(request, number, errors=errors, values=values, failed=name, status=422)
    except inbox.ConversationNotFound as exc:
        await session.rollback()
        raise web.HTTPNotFound() from exc
    except DomainError as exc:
        await session.rollback()
        message = domain_message(catalogs, language, exc)
        return await _again(request, number, form_error=message, failed=name, status=409)
    return see_other(f"/whatsapp/{number}?done={name}#result")


async def _again(request: web.Request, number: int, **kwargs: Any) -> web.Response:
    try:
        return await conversation_page(request, number, **kwargs)
    except inbox.ConversationNotFound as exc:
        raise web.HTTPNotFound() from exc


def _page_action(name: str, perform: Perform) -> Callable[[web.Request], Awaitable[web.Response]]:
    @requires(*DESK)
    async def handler(request: web.Request) -> web.Response:
        return await _act(request, name, perform)

    handler.__name__ = f"whatsapp_{name.replace('-', '_')}"
    return handler


for _name, _perform in ACTIONS.items():
    routes.post(f"/whatsapp/{{conversation_id:\\d+}}/{_name}")(_page_action(_name, _perform))
