"""Arrival on audience day: the kiosk at the entrance, protocol's kiosk list, and the desk's check-in.

The kiosk page is public but works only on a tablet enrolled by protocol: the
enrolment link sets the device cookie, and every check-in is taken at that
kiosk's branch. It shows the queue number and where to wait, never a name.

A check-in answers with a redirect to GET /kiosk/checked-in, the result, which names the arrival by a signed cookie
of a few minutes sent only to that path (never in the address): a refresh shows the number again and checks nobody
in twice; the kiosk's form (GET /kiosk) forgets it, so the next applicant cannot step back to it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from accounts.roles import Role
from audience_day import arrival, kiosks
from audience_day.models import ArrivalVia, Kiosk
from majlis.errors import N_, InvalidInput
from rooms import service as rooms
from scheduler.lifecycle import AppointmentRefused
from web import enrolled_device, personal_data
from web.auth import requires, signed_in_user
from web.errors import domain_message
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, LINKS, SETTINGS
from web.middleware import see_other
from web.notices import done, notice
from web.pages import render
from web.signed_cookie import set_signed, signed_subject, signed_value

routes = web.RouteTableDef()
KIOSK_COOKIE = "majlis_kiosk"
RESULT_COOKIE = "majlis_kiosk_result"
RESULT_PATH = "/kiosk/checked-in"
_RESULT_PURPOSE = b"majlis-kiosk-result-v1:"
# Long enough to read the number and refresh; the page itself returns to the form after 30 s idle (kiosk.js).
RESULT_MINUTES = 5
DESK_ROLES = (Role.INTAKE_DESK, Role.PROTOCOL)
KIOSK_REVOKED = notice(N_("The kiosk is out of use; it must be enrolled again before it can be used."))


def _text(request: web.Request, message: str, **params: str) -> str:
    return request.app[CATALOGS].gettext(request[LANGUAGE], message, **params)


# --- protocol's kiosks ---------------------------------------------------------------------------


async def _kiosks_page(
    request: web.Request, *, context: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    session = request[DB]
    base = {
        "kiosks": await kiosks.all_kiosks(session=session),
        "branches": await rooms.branches(session=session),
        "enrol_link": None,
        "errors": [],
    }
    base.update(context or {})
    return render(request, "hall/kiosks.html", base, status=status)


@routes.get("/protocol/kiosks")
@requires(Role.PROTOCOL)
async def kiosk_list(request: web.Request) -> web.Response:
    return await _kiosks_page(request)


@routes.post("/protocol/kiosks")
@requires(Role.PROTOCOL)
async def kiosk_enrol(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        kiosk, token = await kiosks.enrol(
            session=request[DB],
            clock=request.app[CLOCK],
            branch_code=str(form.get("branch", "")),
            name=str(form.get("name", "")),
            actor_id=signed_in_user(request).id,
        )
    except InvalidInput as invalid:
        await request[DB].rollback()
        errors = [_text(request, e.message, **e.params) for e in invalid.errors]
        return await _kiosks_page(request, context={"errors": errors}, status=422)
    # Shown once, on this answer and not after a redirect (a reload must not show it again): the tablet opens it,
    # and it becomes the kiosk's cookie.
    link = f"{request.app[SETTINGS].public_url.rstrip('/')}/kiosk/enrol/{token}"
    return await _kiosks_page(request, context={"enrol_link": link, "enrolled": kiosk})


@routes.post("/protocol/kiosks/{kiosk_id:\\d+}/revoke")
@requires(Role.PROTOCOL)
async def kiosk_revoke(request: web.Request) -> web.Response:
    try:
        await kiosks.revoke(
            session=request[DB],
            clock=request.app[CLOCK],
            kiosk_id=int(request.match_info["kiosk_id"]),
            actor_id=signed_in_user(request).id,
        )
    except kiosks.KioskRefused as refused:
        await request[DB].rollback()
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], refused)
        return await _kiosks_page(request, context={"errors": [message]}, status=409)
    return done(request, "/protocol/kiosks", KIOSK_REVOKED)


# --- the kiosk -----------------------------------------------------------------------------------


@routes.get("/kiosk/enrol/{token}")
async def kiosk_enrol_device(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    if await kiosks.by_token(session=request[DB], token=token) is None:
        return render(request, "hall/kiosk_refused.html", {}, status=403)
    return enrolled_device.enrolled(request, cookie=KIOSK_COOKIE, token=token, then="/kiosk")


async def _this_kiosk(request: web.Request) -> Kiosk | None:
    return await kiosks.by_token(session=request[DB], token=request.cookies.get(KIOSK_COOKIE, ""))


async def _kiosk_page(request: web.Request, kiosk: Kiosk, context: dict[str, Any], status: int = 200) -> web.Response:
    branch = next((b for b in await rooms.branches(session=request[DB]) if b.code == kiosk.branch_code), None)
    base: dict[str, Any] = {"kiosk": kiosk, "branch": branch, "result": None, "error": None, "values": {}}
    base.update(context)
    response = render(request, "hall/kiosk.html", base, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get("/kiosk")
async def kiosk_page(request: web.Request) -> web.Response:
    kiosk = await _this_kiosk(request)
    if kiosk is None:
        return render(request, "hall/kiosk_refused.html", {}, status=403)
    response = await _kiosk_page(request, kiosk, {})
    response.del_cookie(RESULT_COOKIE, path=RESULT_PATH)
    return response


@routes.get(RESULT_PATH)
async def kiosk_result(request: web.Request) -> web.Response:
    """The queue number and where to wait of the arrival this kiosk just checked in; changes nothing. Without its
    cookie (too late) or on another device, back to the form."""
    kiosk = await _this_kiosk(request)
    if kiosk is None:
        return render(request, "hall/kiosk_refused.html", {}, status=403)
    subject = signed_subject(request, _RESULT_PURPOSE, RESULT_COOKIE)
    session = request[DB]
    came = await arrival.arrival_of(session=session, appointment_id=int(subject)) if subject else None
    if came is None or came.kiosk_id != kiosk.id:
        return see_other("/kiosk")
    room = await arrival.room_of_appointment(session=session, appointment_id=came.appointment_id)
    return await _kiosk_page(request, kiosk, {"result": {"arrival": came, "room": room}})


@routes.post("/kiosk")
async def kiosk_check_in(request: web.Request) -> web.Response:
    kiosk = await _this_kiosk(request)
    if kiosk is None:
        return render(request, "hall/kiosk_refused.html", {}, status=403)
    form = await request.post()
    values = {key: str(form.get(key, ""))[:64] for key in ("code", "tracking_number", "phone_last4")}
    session, clock = request[DB], request.app[CLOCK]
    not_found = arrival.NO_APPOINTMENT
    try:
        appointment_id = await arrival.resolve(
            session=session,
            clock=clock,
            links=request.app[LINKS],
            code=values["code"],
            tracking_number=values["tracking_number"],
            phone_last4=values["phone_last4"],
        )
        if appointment_id is None:
            return await _kiosk_page(request, kiosk, {"error": _text(request, not_found), "values": values}, status=422)
        came = await arrival.check_in(
            session=session,
            clock=clock,
            policy=arrival.policy_from(request.app[SETTINGS]),
            appointment_id=appointment_id,
            via=ArrivalVia.KIOSK,
            branch_code=kiosk.branch_code,
            kiosk_id=kiosk.id,
        )
    except (arrival.ArrivalRefused, AppointmentRefused) as refused:
        await session.rollback()
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], refused)
        # The rollback let go of every row read; the kiosk is read again for the page.
        kiosk = await _this_kiosk(request)
        assert kiosk is not None
        return await _kiosk_page(request, kiosk, {"error": message, "values": values}, status=409)
    token, expires = signed_value(request, _RESULT_PURPOSE, str(came.appointment_id), RESULT_MINUTES)
    response = see_other(RESULT_PATH)
    set_signed(response, request, RESULT_COOKIE, token, expires, RESULT_PATH)
    return response


# --- the desk ------------------------------------------------------------------------------------


async def _desk_page(
    request: web.Request, *, notice: str | None = None, error: str | None = None, status: int = 200
) -> web.Response:
    session = request[DB]
    branches = await rooms.branches(session=session)
    clock = request.app[CLOCK]
    branch = request.query.get("branch", "")
    if branch not in {b.code for b in branches}:
        # None chosen: the first centre with audiences today, where the desk most likely is.
        branch = branches[0].code if branches else ""
        for candidate in branches:
            if await arrival.expected_today(session=session, clock=clock, branch_code=candidate.code):
                branch = candidate.code
                break
    query = request.query.get("q", "")[:100]
    found = await arrival.expected_today(session=session, clock=clock, branch_code=branch, query=query)
    # Names and ID numbers: only requests within the reader's need to know, each view logged.
    visible = await personal_data.seen_in_list(request, [item.case.id for item in found])
    found = [item for item in found if item.case.id in visible]
    context = {"branches": branches, "branch": branch, "q": query, "found": found, "notice": notice, "error": error}
    return render(request, "hall/desk.html", context, status=status)


@routes.get("/desk/arrivals")
@requires(*DESK_ROLES)
async def desk_arrivals(request: web.Request) -> web.Response:
    notice = None
    number = request.query.get("number", "")
    if number.isdigit() and len(number) < 6:
        notice = _text(request, N_("Checked in: queue number {number}."), number=number)
    return await _desk_page(request, notice=notice)


@routes.post("/desk/arrivals/{appointment_id:\\d+}")
@requires(*DESK_ROLES)
async def desk_check_in(request: web.Request) -> web.Response:
    form = await request.post()
    branch = str(form.get("branch", ""))[:16]
    try:
        came = await arrival.check_in(
            session=request[DB],
            clock=request.app[CLOCK],
            policy=arrival.policy_from(request.app[SETTINGS]),
            appointment_id=int(request.match_info["appointment_id"]),
            via=ArrivalVia.DESK,
            branch_code=branch,
            actor_id=signed_in_user(request).id,
        )
    except (arrival.ArrivalRefused, AppointmentRefused) as refused:
        await request[DB].rollback()
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], refused)
        return await _desk_page(request, error=message, status=409)
    query = {"branch": branch, "q": str(form.get("q", ""))[:100], "number": came.queue_number}
    return see_other("/desk/arrivals?" + urlencode(query))
