"""The applicant's answer over the public JSON API: ask for a code, then send the answer with the code.

Like the status API, it takes no cookie as authority: the tracking number, the phone given with the
request and the code from the SMS come with each call, so the answer is one multipart call (the code is
checked and the answer recorded in one transaction; a refused answer leaves the code unused).
"""

from __future__ import annotations

import json
from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cases.models import Case
from followup import information
from majlis.errors import N_, DomainError, FieldError, InvalidInput
from web import labels
from web.api import invalid_input, pydantic_errors
from web.api_models import ID_LIMIT, ErrorOut
from web.applicant_answers import NOT_THIS_REQUEST, code_policy
from web.errors import bilingual
from web.keys import ATTACHMENTS, CATALOGS, CLOCK, DB, LANGUAGE
from web.middleware import error_response
from web.public import lookup_for_applicant
from web.uploads import FILES_FIELD, accepts_uploads, uploads_in

routes = web.RouteTableDef()

NO_MATCH = N_("No request matches this tracking number and phone.")
MULTIPART_ONLY = N_("Send the answer as multipart/form-data.")


class CodeIn(BaseModel):
    """Asks for a one-time code; it goes by SMS to the phone given with the request, never another."""

    model_config = ConfigDict(extra="forbid")

    phone: str = Field(max_length=30, description="The mobile number given with the request")


class QuestionOut(BaseModel):
    id: int = Field(description="Send it back as question_id with the answer")
    question: str
    asked_at: datetime


class CodeSent(BaseModel):
    expires_at: datetime
    questions: list[QuestionOut] = Field(description="The questions open on the request, oldest first")


class AnswerFields(BaseModel):
    """The text parts of an answer (multipart/form-data)."""

    model_config = ConfigDict(extra="forbid")

    phone: str = Field(max_length=30, description="The mobile number given with the request")
    code: str = Field(max_length=12, description="The code from the SMS; Arabic-Indic digits are read too")
    question_id: int = Field(ge=1, le=ID_LIMIT)
    answer: str = Field(default="", max_length=information.MAX_ANSWER, description="Required unless a file comes")


class AnswerForm(AnswerFields):
    """The whole multipart body: the text parts and up to the configured number of files."""

    files: list[bytes] = Field(
        default_factory=list,
        description="PDF, JPEG or PNG, one part each, checked by content; at most MAJLIS_ATTACHMENT_MAX_BYTES each",
        json_schema_extra={"items": {"type": "string", "format": "binary"}},
    )


class AttachmentOut(BaseModel):
    filename: str = Field(description="The name sent, cleaned; the extension says what the content is")
    content_type: str
    size: int
    sha256: str


class AnswerOut(BaseModel):
    question_id: int
    answered_at: datetime
    status: str = Field(description="The request's status after the answer")
    status_label: dict[str, str]
    attachments: list[AttachmentOut]


def domain_error(request: web.Request, exc: DomainError, status: int) -> web.Response:
    messages = bilingual(request.app[CATALOGS], exc.message, **exc.params)
    body = ErrorOut(error=exc.code, message=messages[request[LANGUAGE]], messages=messages)
    return web.json_response(body.model_dump(mode="json"), status=status)


async def _applicant_case(request: web.Request, phone: str) -> Case | web.Response:
    """The request for the path's tracking number and this phone; any miss is the same 404."""
    try:
        case = await lookup_for_applicant(request, request.match_info["tracking_number"], phone)
    except DomainError:
        return error_response(request, 429)
    if case is None:
        return error_response(request, 404, NO_MATCH)
    return case


@routes.post("/api/v1/requests/{tracking_number}/code")
async def request_code(request: web.Request) -> web.Response:
    try:
        payload = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return error_response(request, 400, N_("The request body is not valid JSON."))
    try:
        body = CodeIn.model_validate(payload)
    except ValidationError as exc:
        return invalid_input(request, pydantic_errors(exc))
    case = await _applicant_case(request, body.phone)
    if isinstance(case, web.Response):
        return case
    try:
        sent = await information.send_code(
            session=request[DB], clock=request.app[CLOCK], case=case, policy=code_policy(request)
        )
    except information.NothingToAnswer as exc:
        return domain_error(request, exc, 409)
    except information.TooManyCodes as exc:
        return domain_error(request, exc, 429)
    questions = await information.open_requests(session=request[DB], case=case)
    out = CodeSent(
        expires_at=sent.expires_at,
        questions=[QuestionOut(id=q.id, question=q.question, asked_at=q.asked_at) for q in questions],
    )
    return web.json_response(out.model_dump(mode="json"), status=202)


@routes.post("/api/v1/requests/{tracking_number}/answers")
@accepts_uploads
async def submit_answer(request: web.Request) -> web.Response:
    # A form without files may come urlencoded; JSON cannot carry the files.
    if request.content_type not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return error_response(request, 415, MULTIPART_ONLY)
    form = await request.post()
    try:
        fields = AnswerFields.model_validate({name: value for name, value in form.items() if name != FILES_FIELD})
    except ValidationError as exc:
        return invalid_input(request, pydantic_errors(exc))
    case = await _applicant_case(request, fields.phone)
    if isinstance(case, web.Response):
        return case
    session = request[DB]
    asked = await information.get_request(session=session, request_id=fields.question_id)
    if asked is None or asked.case_id != case.id:
        return invalid_input(request, [FieldError("question_id", "unknown", NOT_THIS_REQUEST)])
    try:
        await information.check_code(
            session=session, clock=request.app[CLOCK], case=case, code=fields.code, policy=code_policy(request)
        )
    except information.CodeRefused as exc:
        await session.commit()  # the wrong try counts
        return domain_error(request, exc, 403)
    except InvalidInput as exc:
        return invalid_input(request, exc.errors)
    try:
        await information.answer(
            session=session,
            clock=request.app[CLOCK],
            request=asked,
            text=fields.answer,
            uploads=uploads_in(form),
            store=request.app[ATTACHMENTS],
        )
    except InvalidInput as exc:
        return invalid_input(request, exc.errors)
    except (information.AlreadyAnswered, information.NoLongerOpen) as exc:
        return domain_error(request, exc, 409)
    exchange = next(
        e for e in await information.conversation(session=session, case_id=case.id) if e.request.id == asked.id
    )
    assert exchange.request.answered_at is not None
    out = AnswerOut(
        question_id=asked.id,
        answered_at=exchange.request.answered_at,
        status=case.status.value,
        status_label=bilingual(request.app[CATALOGS], labels.STATUSES[case.status]),
        attachments=[
            AttachmentOut(filename=a.filename, content_type=a.content_type, size=a.size, sha256=a.sha256)
            for a in exchange.attachments
        ],
    )
    return web.json_response(out.model_dump(mode="json"), status=201)
