"""Where applicants rate who served them, with no account: the page behind a signed link (/rate/{token}), and the
desk tablet's screen (/rate-tablet), bound to its desk by a device cookie as a kiosk is (web/kiosk.py).

Both show five faces and an optional comment, Arabic first. A link is usable once: used, expired or not ours, it
opens a page saying so in both languages (whoever holds it may read either) and changes nothing. The tablet's
screen asks /rate-tablet/pending every few seconds (web/static/rate_tablet.js) and shows the visit waiting there,
naming the staff member facing the applicant and nothing about the applicant.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from majlis.errors import N_, InvalidInput
from notify.links import LinkRefused
from quality import ratings, tablets
from quality.models import DeskTablet, Visit
from quality.ratings import Rated, RatingRefused
from web import enrolled_device, labels
from web.errors import bilingual, field_message
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, LINKS
from web.middleware import see_other
from web.pages import render

routes = web.RouteTableDef()

TABLET_COOKIE = "majlis_rate_tablet"
# What each refusal is, in HTTP: a link not ours is not found; one past its time (or taken off the tablet) is
# gone; one rated already is a conflict with the state it is in.
STATUS = {"rating_link_not_found": 404, "rating_expired": 410, "rating_withdrawn": 410, "rating_used": 409}
# The faces by score, in words, as web/templates/rate/_faces.html lists them.
FACES = tuple(labels.FACES.items())
VISITS = {
    Visit.INTAKE: N_("Your request taken at the desk"),
    Visit.CHECK_IN: N_("Your check-in at the desk"),
    Visit.AUDIENCE: N_("Your audience"),
    Visit.COMPLETION: N_("The service on your request"),
}


def _private(response: web.Response) -> web.Response:
    """The token is in the address: no Referer to other sites, no search engine, no cache."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(request: web.Request, refusal: RatingRefused) -> web.Response:
    messages = bilingual(request.app[CATALOGS], refusal.message, **refusal.params)
    status = STATUS.get(refusal.code, 409)
    return _private(render(request, "rate/refused.html", {"messages": messages, "status": status}, status=status))


def _form_context(
    rated: Rated, *, values: dict[str, str] | None = None, errors: list[str] | None = None
) -> dict[str, Any]:
    return {"rated": rated, "faces": FACES, "visits": VISITS, "values": values or {}, "errors": errors or []}


def _errors(request: web.Request, invalid: InvalidInput) -> list[str]:
    return [field_message(request.app[CATALOGS], request[LANGUAGE], e) for e in invalid.errors]


# --- the signed link -----------------------------------------------------------------------------------


def invite_of_link(request: web.Request) -> int:
    """The invitation the signed link's {token} names, for the page and web/rating_api.py alike; RatingRefused when
    it is not ours or past its time."""
    try:
        return request.app[LINKS].check_rating_token(request.match_info["token"], now=request.app[CLOCK].now())
    except LinkRefused as refused:
        raise ratings.refused("rating_expired" if refused.reason == "expired" else "rating_link_not_found") from None


@routes.get("/rate/{token}")
async def rate_page(request: web.Request) -> web.Response:
    try:
        invite_id = invite_of_link(request)
        if request.query.get("done") == "1":
            return _private(render(request, "rate/thanks.html", {"tablet": False}))
        rated = await ratings.open_invite(session=request[DB], clock=request.app[CLOCK], invite_id=invite_id)
    except RatingRefused as refusal:
        return _refused(request, refusal)
    context = _form_context(rated) | {"action": request.path}
    return _private(render(request, "rate/link.html", context))


@routes.post("/rate/{token}")
async def rate_submit(request: web.Request) -> web.Response:
    form = await request.post()
    values = {"score": str(form.get("score", "")), "comment": str(form.get("comment", ""))}
    session, clock = request[DB], request.app[CLOCK]
    try:
        invite_id = invite_of_link(request)
        try:
            await ratings.rate(
                session=session, clock=clock, invite_id=invite_id, score=values["score"], comment=values["comment"]
            )
        except InvalidInput as invalid:
            await session.rollback()
            rated = await ratings.open_invite(session=session, clock=clock, invite_id=invite_id)
            errors = _errors(request, invalid)
            context = _form_context(rated, values=values, errors=errors) | {"action": request.path}
            return _private(render(request, "rate/link.html", context, status=422))
    except RatingRefused as refusal:
        await session.rollback()
        return _refused(request, refusal)
    return see_other(f"{request.path}?done=1")


# --- the desk's tablet ---------------------------------------------------------------------------------


@routes.get("/rate-tablet/enrol/{token}")
async def tablet_enrol_device(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    if await tablets.by_token(session=request[DB], token=token) is None:
        return render(request, "rate/tablet_refused.html", {}, status=403)
    return enrolled_device.enrolled(request, cookie=TABLET_COOKIE, token=token, then="/rate-tablet")


async def _this_tablet(request: web.Request) -> DeskTablet | None:
    return await tablets.by_token(session=request[DB], token=request.cookies.get(TABLET_COOKIE, ""))


async def _screen(
    request: web.Request, tablet: DeskTablet, *, context: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    rated = await ratings.pending_on_tablet(session=request[DB], clock=request.app[CLOCK], tablet_id=tablet.id)
    base: dict[str, Any] = _form_context(rated) if rated is not None else {"rated": None, "faces": FACES}
    base |= {"tablet": tablet, "thanks": request.query.get("thanks") == "1" and rated is None}
    base |= context or {}
    response = render(request, "rate/tablet.html", base, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get("/rate-tablet")
async def tablet_screen(request: web.Request) -> web.Response:
    tablet = await _this_tablet(request)
    if tablet is None:
        return render(request, "rate/tablet_refused.html", {}, status=403)
    return await _screen(request, tablet)


@routes.get("/rate-tablet/pending")
async def tablet_pending(request: web.Request) -> web.Response:
    """The visit waiting on this tablet (its invitation's id), or null; the screen reloads when it changes."""
    tablet = await _this_tablet(request)
    if tablet is None:
        return web.json_response({"error": "not_enrolled"}, status=403, headers={"Cache-Control": "no-store"})
    rated = await ratings.pending_on_tablet(session=request[DB], clock=request.app[CLOCK], tablet_id=tablet.id)
    body = {"invite": rated.invite_id if rated is not None else None}
    return web.json_response(body, headers={"Cache-Control": "no-store"})


@routes.post("/rate-tablet/{invite_id:\\d{1,12}}")
async def tablet_rate(request: web.Request) -> web.Response:
    tablet = await _this_tablet(request)
    if tablet is None:
        return render(request, "rate/tablet_refused.html", {}, status=403)
    tablet_id = tablet.id
    form = await request.post()
    values = {"score": str(form.get("score", "")), "comment": str(form.get("comment", ""))}
    session = request[DB]
    try:
        await ratings.rate(
            session=session,
            clock=request.app[CLOCK],
            invite_id=int(request.match_info["invite_id"]),
            score=values["score"],
            comment=values["comment"],
            tablet_id=tablet_id,
        )
    except RatingRefused:
        # Taken off the screen meanwhile (a newer visit, the end of the shift): back to what the tablet shows now.
        await session.rollback()
        return see_other("/rate-tablet")
    except InvalidInput as invalid:
        await session.rollback()
        tablet = await session.get(DeskTablet, tablet_id)
        assert tablet is not None
        context = {"values": values, "errors": _errors(request, invalid)}
        return await _screen(request, tablet, context=context, status=422)
    return see_other("/rate-tablet?thanks=1")
