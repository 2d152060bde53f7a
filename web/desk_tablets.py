"""Desk tablets for staff: protocol (or an administrator) enrols and revokes them (/manage/desk-tablets), and the
desk's staff member pairs one with themselves for their shift (/desk/tablet), as the kiosks are managed
(web/kiosk.py). The enrolment link is shown once; it becomes the tablet's device cookie (web/rating_pages.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from accounts.roles import Role
from majlis.errors import N_, InvalidInput
from majlis.numbers import whole_number
from quality import tablets
from web.auth import requires, signed_in_user
from web.branch_names import branch_context
from web.errors import domain_message, field_message
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, SETTINGS
from web.middleware import see_other
from web.pages import render

routes = web.RouteTableDef()

MANAGING_ROLES = (Role.PROTOCOL,)  # and administrators, as every guarded page
# Who serves applicants at a desk: the intake desk takes requests in person, protocol checks arrivals in.
PAIRING_ROLES = (Role.INTAKE_DESK, Role.PROTOCOL)
DONE = {
    "revoked": N_("The tablet was taken out of use."),
    "paired": N_("The tablet is paired with you: what you serve is offered for rating on it."),
    "unpaired": N_("The tablet is no longer paired with you."),
}


def _text(request: web.Request, message: str, **params: str) -> str:
    return request.app[CATALOGS].gettext(request[LANGUAGE], message, **params)


def _notice(request: web.Request) -> str | None:
    done = DONE.get(request.query.get("done", ""))
    return _text(request, done) if done else None


# --- protocol's enrolment ------------------------------------------------------------------------------


async def _manage_page(
    request: web.Request, *, context: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    session = request[DB]
    base: dict[str, Any] = {
        "tablets": await tablets.all_tablets(session=session),
        **await branch_context(request),
        "enrol_link": None,
        "errors": [],
        "notice": _notice(request),
    }
    base.update(context or {})
    return render(request, "manage/desk_tablets.html", base, status=status)


@routes.get("/manage/desk-tablets")
@requires(*MANAGING_ROLES)
async def tablet_list(request: web.Request) -> web.Response:
    return await _manage_page(request)


@routes.post("/manage/desk-tablets")
@requires(*MANAGING_ROLES)
async def tablet_enrol(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        _, token = await tablets.enrol(
            session=request[DB],
            clock=request.app[CLOCK],
            branch_code=str(form.get("branch", ""))[:16],
            name=str(form.get("name", ""))[:1000],
            actor_id=signed_in_user(request).id,
        )
    except InvalidInput as invalid:
        await request[DB].rollback()
        errors = [field_message(request.app[CATALOGS], request[LANGUAGE], e) for e in invalid.errors]
        return await _manage_page(request, context={"errors": errors}, status=422)
    # Shown once, never redirected to (a reload must not show it again): the tablet opens it to get its cookie.
    link = f"{request.app[SETTINGS].public_url.rstrip('/')}/rate-tablet/enrol/{token}"
    return await _manage_page(request, context={"enrol_link": link})


@routes.post("/manage/desk-tablets/{tablet_id:\\d{1,12}}/revoke")
@requires(*MANAGING_ROLES)
async def tablet_revoke(request: web.Request) -> web.Response:
    try:
        await tablets.revoke(
            session=request[DB],
            clock=request.app[CLOCK],
            tablet_id=int(request.match_info["tablet_id"]),  # web.hostile_input: a path id past ID_LIMIT is 404
            actor_id=signed_in_user(request).id,
        )
    except tablets.TabletRefused as refused:
        await request[DB].rollback()
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], refused)
        return await _manage_page(request, context={"errors": [message]}, status=409)
    return see_other("/manage/desk-tablets?" + urlencode({"done": "revoked"}))


# --- the desk's pairing --------------------------------------------------------------------------------


async def _pair_page(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    session = request[DB]
    me = signed_in_user(request)
    context = {
        "tablets": await tablets.all_tablets(session=session, live_only=True),
        **await branch_context(request),
        "mine": await tablets.paired_with(session=session, staff_id=me.id),
        "error": error,
        "notice": _notice(request),
    }
    return render(request, "manage/desk_tablets_pair.html", context, status=status)


@routes.get("/desk/tablet")
@requires(*PAIRING_ROLES)
async def pair_page(request: web.Request) -> web.Response:
    return await _pair_page(request)


@routes.post("/desk/tablet")
@requires(*PAIRING_ROLES)
async def pair(request: web.Request) -> web.Response:
    form = await request.post()
    tablet_id = whole_number(str(form.get("tablet", ""))[:20])  # nine digits at most: within the 32-bit keys
    if not tablet_id:
        return await _pair_page(request, error=_text(request, N_("Choose the tablet at your desk.")), status=422)
    try:
        await tablets.pair(
            session=request[DB], clock=request.app[CLOCK], tablet_id=tablet_id, staff_id=signed_in_user(request).id
        )
    except tablets.TabletRefused as refused:
        await request[DB].rollback()
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], refused)
        return await _pair_page(request, error=message, status=409)
    return see_other("/desk/tablet?" + urlencode({"done": "paired"}))


@routes.post("/desk/tablet/unpair")
@requires(*PAIRING_ROLES)
async def unpair(request: web.Request) -> web.Response:
    await tablets.unpair(session=request[DB], clock=request.app[CLOCK], staff_id=signed_in_user(request).id)
    return see_other("/desk/tablet?" + urlencode({"done": "unpaired"}))
