"""The intake desk and the call centre: entering a request for a walk-in or a caller.

The desk fills the form, then turns the screen: the applicant reads the request
back and the desk corrects it before anything is saved.
"""

from __future__ import annotations

import uuid

from aiohttp import web

from accounts.roles import Role
from cases import service as cases
from cases.intake import RequestDetails
from cases.models import Channel
from majlis.errors import DomainError, InvalidInput
from web import labels
from web.auth import requires, signed_in_user
from web.branch_names import branch_context
from web.errors import domain_message
from web.intake_forms import checked_request, errors_by_field, form_values, read_form
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE
from web.middleware import see_other
from web.pages import render
from web.public import after_intake, form_context, status_url

routes = web.RouteTableDef()

DESK_ROLES = (Role.INTAKE_DESK, Role.CALL_CENTRE)


def _default_channel(request: web.Request) -> str:
    role = signed_in_user(request).role
    return Channel.CALL_CENTRE.value if role is Role.CALL_CENTRE else Channel.WALK_IN.value


def _desk_channel(raw: object) -> Channel | None:
    try:
        channel = Channel(str(raw))
    except ValueError:
        return None
    return channel if channel in labels.DESK_CHANNELS else None


@routes.get("/desk")
@requires(*DESK_ROLES)
async def desk_form(request: web.Request) -> web.Response:
    values: dict[str, object] = {
        "channel": _default_channel(request),
        "applicant.language": "ar",
        "idempotency_key": str(uuid.uuid4()),
    }
    return render(request, "desk/request_form.html", form_context(values, {}, **await branch_context(request)))


async def _checked(request: web.Request) -> tuple[dict[str, object], RequestDetails | web.Response]:
    """The form's values, and either the checked request or the form again with its errors."""
    form = await request.post()
    applicant, fields = read_form(form)
    values = form_values(applicant, fields)
    values["idempotency_key"] = str(form.get("idempotency_key", "")) or str(uuid.uuid4())
    channel = _desk_channel(fields.get("channel"))
    try:
        # A channel that is not a desk's is checked with the others, so every problem shows at once.
        details = checked_request(applicant, fields, channel=channel or "not-a-desk-channel")
    except InvalidInput as exc:
        errors = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)
        return values, render(
            request, "desk/request_form.html", form_context(values, errors, **await branch_context(request)), status=422
        )
    return values, details


@routes.post("/desk/review")
@requires(*DESK_ROLES)
async def desk_review(request: web.Request) -> web.Response:
    """The read-back screen: the request as it will be saved, for the applicant to check."""
    values, outcome = await _checked(request)
    if isinstance(outcome, web.Response):
        return outcome
    return render(
        request,
        "desk/review.html",
        {"values": values, "details": outcome, "labels": labels, **await branch_context(request)},
    )


@routes.post("/desk/edit")
@requires(*DESK_ROLES)
async def desk_edit(request: web.Request) -> web.Response:
    """Back from the read-back screen to the form, with everything as typed."""
    form = await request.post()
    applicant, fields = read_form(form)
    values = form_values(applicant, fields)
    values["idempotency_key"] = str(form.get("idempotency_key", "")) or str(uuid.uuid4())
    return render(request, "desk/request_form.html", form_context(values, {}, **await branch_context(request)))


@routes.post("/desk/requests")
@requires(*DESK_ROLES)
async def desk_save(request: web.Request) -> web.Response:
    values, outcome = await _checked(request)
    if isinstance(outcome, web.Response):
        return outcome
    user = signed_in_user(request)
    try:
        submission = await cases.submit(
            session=request[DB],
            clock=request.app[CLOCK],
            details=outcome,
            status_url=status_url(request),
            entered_by_id=user.id,
            idempotency_key=f"desk:{user.id}:{values['idempotency_key']}",
        )
    except InvalidInput as exc:  # a branch closed since the form was shown (cases.branches), nothing saved
        errors = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)
        return render(
            request, "desk/request_form.html", form_context(values, errors, **await branch_context(request)), status=422
        )
    except DomainError as exc:
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], exc)
        return render(
            request,
            "desk/request_form.html",
            form_context(values, {}, form_error=message, **await branch_context(request)),
            status=422,
        )
    await after_intake(request, submission)
    # POST then redirect: a refresh of the receipt shows it again instead of sending the form again.
    return see_other(f"/desk/saved/{submission.case.tracking_number}")


@routes.get("/desk/saved/{tracking_number}")
@requires(*DESK_ROLES)
async def desk_saved(request: web.Request) -> web.Response:
    """The receipt of a request this member of staff entered (another's is not theirs to reopen here)."""
    case = await cases.find_by_tracking_number(
        session=request[DB], tracking_number=request.match_info["tracking_number"]
    )
    if case is None or case.entered_by_id != signed_in_user(request).id:
        raise web.HTTPNotFound
    return render(request, "desk/saved.html", {"case": case, "labels": labels})
