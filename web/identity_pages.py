"""The audit desk's identity forms on a request's triage page: settle a name flag, accept or decline a change.

A refusal shows the triage page again with the reason in place (422), nothing changed.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from accounts.roles import Role
from majlis.errors import N_, DomainError, InvalidInput
from priority.errors import CaseNotFound
from web.auth import requires
from web.errors import domain_message
from web.identity_actions import CHANGE_ACTIONS, FLAG_REVIEW, REVIEW, IdentityAction, change_id_of
from web.intake_forms import errors_by_field
from web.keys import CATALOGS, DB, LANGUAGE
from web.notices import done, notice
from web.triage import case_page

routes = web.RouteTableDef()
REVIEWED = notice(N_("The name check of request {number} was settled."))
ACCEPTED = notice(N_("The applicant's change to request {number} was accepted."))
DECLINED = notice(N_("The applicant's change to request {number} was declined."))


async def _act(request: web.Request, action: IdentityAction, message: str) -> web.Response:
    number = request.match_info["tracking_number"]
    form = await request.post()
    fields: Mapping[str, str] = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    try:
        await action(request, number, change_id_of(request), fields)
    except CaseNotFound:
        raise web.HTTPNotFound() from None
    except InvalidInput as exc:
        await request[DB].rollback()
        errors = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)
        return await case_page(request, number, errors=errors, values=dict(fields), status=422)
    except DomainError as exc:
        await request[DB].rollback()
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], exc)
        return await case_page(request, number, form_error=message, values=dict(fields), status=422)
    return done(request, f"/audit/cases/{number}#identity-review", message, number=number)


@routes.post(f"/audit/cases/{{tracking_number}}/{FLAG_REVIEW}")
@requires(Role.AUDIT_DESK)
async def review_flag(request: web.Request) -> web.Response:
    return await _act(request, REVIEW, REVIEWED)


@routes.post("/audit/cases/{tracking_number}/applicant-changes/{change_id}/accept")
@requires(Role.AUDIT_DESK)
async def accept_change(request: web.Request) -> web.Response:
    return await _act(request, CHANGE_ACTIONS["accept"], ACCEPTED)


@routes.post("/audit/cases/{tracking_number}/applicant-changes/{change_id}/decline")
@requires(Role.AUDIT_DESK)
async def decline_change(request: web.Request) -> web.Response:
    return await _act(request, CHANGE_ACTIONS["decline"], DECLINED)
