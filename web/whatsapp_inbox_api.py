"""The WhatsApp desk's inbox over JSON: the conversations waiting for staff, one conversation with its messages,
and the staff's actions on it (/api/v1/whatsapp/conversations…).

Signed in with the staff session cookie; every change carries the X-CSRF-Token header (GET /api/v1/session
gives it). Only the desk's staff read conversations: administrators, whom the role guard lets through, find
an empty inbox and no conversation (404). Each view of a conversation linked to a request is in the access log.
404 for a conversation that is not
there, 409 for a step its state refuses (a blocked sender, an opted-out number, the window closed with no
template), 422 for input to correct, each field named in Arabic and English.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from cases import service as cases
from majlis.errors import DomainError, InvalidInput
from web.api import invalid_input
from web.auth import requires
from web.errors import refusal
from web.keys import DB
from web.triage_api import parsed
from web.whatsapp_actions import ACTIONS, DESK, Perform, conversation_id, inbox_for, transcript_for
from web.whatsapp_inbox_models import (
    WHATSAPP_INPUTS,
    WHATSAPP_OUTPUTS,
    AssignIn,
    BlockIn,
    ConversationLineOut,
    ConversationOut,
    EmptyIn,
    InboxOut,
    LinkIn,
    MediaOut,
    MessageOut,
    ReplyIn,
)
from whatsapp_desk import inbox_lists
from whatsapp_desk.models import Conversation, DeskMessage

routes = web.RouteTableDef()
# The shapes web/openapi.py lists in the document's schemas.
__all__ = ["WHATSAPP_INPUTS", "WHATSAPP_OUTPUTS", "openapi_paths", "routes"]
BASE = "/api/v1/whatsapp/conversations"


async def _answer(request: web.Request, work: Callable[[], Awaitable[BaseModel]]) -> web.Response:
    try:
        body = await work()
    except InvalidInput as exc:
        return invalid_input(request, exc.errors)
    except DomainError as exc:
        return refusal(request, exc)
    return web.json_response(body.model_dump(mode="json"))


def _line(
    conversation: Conversation, *, assignee: str, last: DeskMessage | None, tracking_number: str | None
) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "phone": conversation.phone,
        "language": conversation.language,
        "step": conversation.step.value,
        "needs_staff_since": conversation.needs_staff_since,
        "handover_reason": conversation.handover_reason.value if conversation.handover_reason else None,
        "assigned_to_id": conversation.assigned_to_id,
        "assigned_to": assignee,
        "blocked": conversation.blocked_at is not None,
        "tracking_number": tracking_number,
        "last_message_at": last.at if last is not None else None,
        "last_message": last.body if last is not None else None,
    }


async def _tracking_numbers(request: web.Request, case_ids: set[int]) -> dict[int, str]:
    found = {}
    for case_id in case_ids:
        case = await cases.get_case(session=request[DB], case_id=case_id)
        if case is not None:
            found[case_id] = case.tracking_number
    return found


@routes.get(BASE)
@requires(*DESK)
async def list_conversations(request: web.Request) -> web.Response:
    async def work() -> InboxOut:
        found = await inbox_for(request)
        every = [*found.waiting, *found.mine, *found.recent]
        numbers = await _tracking_numbers(request, {i for i in (x.conversation.case_id for x in every) if i})

        def out(lines: list[inbox_lists.InboxLine]) -> list[ConversationLineOut]:
            return [
                ConversationLineOut(
                    **_line(
                        x.conversation,
                        assignee=x.assignee,
                        last=x.last_message,
                        tracking_number=numbers.get(x.conversation.case_id or 0),
                    )
                )
                for x in lines
            ]

        return InboxOut(
            waiting=out(found.waiting),
            assigned_to_me=out(found.mine),
            recent=out(found.recent),
            waiting_total=found.total,
            page=found.page,
            pages=found.pages,
            per_page=found.per_page,
        )

    return await _answer(request, work)


async def conversation_out(request: web.Request, number: int) -> ConversationOut:
    found = await transcript_for(request, number)
    conversation = found.conversation
    last = found.messages[-1] if found.messages else None
    messages = []
    for m in found.messages:
        row = found.deliveries.get(m.outbox_id) if m.outbox_id is not None else None
        messages.append(
            MessageOut(
                id=m.id,
                direction=m.direction.value,
                body=m.body,
                at=m.at,
                # The dispatcher's choice when it sent (the window may have closed since it was written).
                sent_as=str((row.payload or {}).get("sent_as", m.sent_as)) if row is not None else m.sent_as,
                staff_id=m.staff_id,
                staff=found.names.get(m.staff_id, "") if m.staff_id is not None else "",
                delivery=row.status.value if row is not None else None,
                delivery_status=row.delivery_status if row is not None else None,
                case_id=m.case_id,
                media=[
                    MediaOut(
                        id=item.id,
                        filename=item.filename,
                        content_type=item.content_type,
                        size=item.size,
                        url=f"/whatsapp/{conversation.id}/media/{item.id}",
                        attachment_id=item.attachment_id,
                    )
                    for item in found.media.get(m.id, [])
                ],
            )
        )
    assignee = found.names.get(conversation.assigned_to_id, "") if conversation.assigned_to_id is not None else ""
    return ConversationOut(
        **_line(
            conversation,
            assignee=assignee,
            last=last,
            tracking_number=found.case.tracking_number if found.case is not None else None,
        ),
        block_reason=conversation.block_reason,
        blocked_at=conversation.blocked_at,
        window_open=found.window_open,
        opted_out=found.opted_out,
        earlier_messages=found.earlier,
        messages=messages,
    )


@routes.get(BASE + "/{conversation_id:\\d+}")
@requires(*DESK)
async def show_conversation(request: web.Request) -> web.Response:
    async def work() -> ConversationOut:
        return await conversation_out(request, conversation_id(request))

    return await _answer(request, work)


# The body each action takes; its fields go to the action as text, as a form's would.
BODIES: Mapping[str, type[BaseModel]] = {
    "reply": ReplyIn,
    "assign": AssignIn,
    "hand-back": EmptyIn,
    "link": LinkIn,
    "block": BlockIn,
    "unblock": EmptyIn,
}


def _fields(body: BaseModel) -> dict[str, str]:
    return {key: "" if value is None else str(value) for key, value in body.model_dump().items()}


def _api_action(perform: Perform, model: type[BaseModel]) -> Callable[[web.Request], Awaitable[web.Response]]:
    @requires(*DESK)
    async def handler(request: web.Request) -> web.Response:
        async def work() -> ConversationOut:
            number = conversation_id(request)
            # Hand back and unblock may come with no body at all.
            body = model() if model is EmptyIn and not request.can_read_body else await parsed(request, model)
            await perform(request, number, _fields(body))
            return await conversation_out(request, number)

        return await _answer(request, work)

    return handler


for _name, _perform in ACTIONS.items():
    routes.post(f"{BASE}/{{conversation_id:\\d+}}/{_name}")(_api_action(_perform, BODIES[_name]))


# --- the OpenAPI document ------------------------------------------------------------------------

ROLES_NOTE = (
    "The staff session cookie, and X-CSRF-Token on changes (from GET /api/v1/session). "
    "Role: whatsapp_desk (administrators pass the guard but find no conversation: an empty inbox, 404)."
)
# (operationId, action, body model, summary)
CONVERSATION_ACTIONS = (
    (
        "whatsappReply",
        "reply",
        "ReplyIn",
        "Reply to the sender: a WhatsApp message inside the 24-hour window, the approved template outside it",
    ),
    ("whatsappAssign", "assign", "AssignIn", "Assign to a member of the WhatsApp desk (none named: oneself)"),
    ("whatsappHandBack", "hand-back", "EmptyIn", "Hand back to the automatic desk"),
    ("whatsappLink", "link", "LinkIn", "Link to a request: the exchange is documented in its history"),
    ("whatsappBlock", "block", "BlockIn", "Block the sender, with the reason: kept, never answered"),
    ("whatsappUnblock", "unblock", "EmptyIn", "Unblock the sender"),
)


def openapi_paths(ref: Any, json: Any) -> dict[str, Any]:
    """The inbox's paths in the OpenAPI document (ref and json: the document's own helpers)."""
    number = {"name": "conversation_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    csrf = {"name": "X-CSRF-Token", "in": "header", "required": True, "schema": {"type": "string"}}
    guard = {"401": json("ErrorOut", "Not signed in"), "403": json("ErrorOut", "Not a role of this path")}
    refusals = {
        **guard,
        "404": json("ErrorOut", "No such conversation (conversation_not_found)"),
        "409": json(
            "ErrorOut", "Refused by its state: sender_blocked, opted_out, window_closed, already_blocked, not_blocked"
        ),
        "422": json("ErrorOut", "Invalid fields, each listed"),
    }
    paths: dict[str, Any] = {
        BASE: {
            "get": {
                "operationId": "whatsappInbox",
                "summary": "The WhatsApp inbox: waiting for staff, assigned to the reader, recent",
                "description": ROLES_NOTE
                + " The conversations waiting for staff come fifty a page (?page=, from 1; past the last, the last);"
                " those assigned to the reader all, the recent ones the latest fifty.",
                "parameters": [
                    {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}}
                ],
                "responses": {
                    "200": json("InboxOut", "The inbox"),
                    "422": json("ErrorOut", "The page is not a whole number from 1"),
                    **guard,
                },
            }
        },
        BASE + "/{conversation_id}": {
            "get": {
                "operationId": "whatsappConversation",
                "summary": "A conversation with its messages and files",
                "description": ROLES_NOTE,
                "parameters": [number],
                "responses": {"200": json("ConversationOut", "The conversation"), **refusals},
            }
        },
    }
    for operation_id, action, body, summary in CONVERSATION_ACTIONS:
        paths[f"{BASE}/{{conversation_id}}/{action}"] = {
            "post": {
                "operationId": operation_id,
                "summary": summary,
                "description": ROLES_NOTE,
                "parameters": [number, csrf],
                "requestBody": {
                    "required": body != "EmptyIn",
                    "content": {"application/json": {"schema": ref(body)}},
                },
                "responses": {"200": json("ConversationOut", "The conversation after the step"), **refusals},
            }
        }
    return paths
