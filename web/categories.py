"""The managed list of categories: managers and administrators add categories or take them out."""

from __future__ import annotations

from aiohttp import web

from accounts.roles import Role
from majlis.errors import N_, InvalidInput
from priority import service as triage
from priority.score import MAX_CATEGORY_WEIGHT, Urgency
from web import labels
from web.auth import requires, signed_in_user
from web.intake_forms import errors_by_field
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE
from web.notices import done, notice
from web.pages import render

routes = web.RouteTableDef()
ADDED = notice(N_("The category is added."))
TAKEN_OUT = notice(N_("The category is taken out of use."))
PUT_BACK = notice(N_("The category is back in use."))
FIELDS = ("code", "name_ar", "name_en", "weight", "implied_urgency")


async def _page(
    request: web.Request, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> web.Response:
    context = {
        "categories": await triage.categories(session=request[DB], active_only=False),
        "values": values,
        "errors": errors,
        "labels": labels,
        "urgencies": list(Urgency),
        "max_weight": MAX_CATEGORY_WEIGHT,
    }
    return render(request, "manage/categories.html", context, status=status)


@routes.get("/manage/categories")
@requires(Role.MANAGER)
async def categories(request: web.Request) -> web.Response:
    return await _page(request, {"weight": "0", "implied_urgency": "normal"}, {})


@routes.post("/manage/categories")
@requires(Role.MANAGER)
async def add(request: web.Request) -> web.Response:
    form = await request.post()
    values = {name: str(form.get(name, "")) for name in FIELDS}
    try:
        await triage.add_category(
            session=request[DB], clock=request.app[CLOCK], actor_id=signed_in_user(request).id, **values
        )
    except InvalidInput as exc:
        return await _page(request, values, errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors), 422)
    return done(request, "/manage/categories", ADDED)


@routes.post("/manage/categories/{code}/active")
@requires(Role.MANAGER)
async def set_active(request: web.Request) -> web.Response:
    form = await request.post()
    active = form.get("active") == "1"
    try:
        await triage.set_category_active(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            code=request.match_info["code"],
            active=active,
        )
    except InvalidInput:
        raise web.HTTPNotFound() from None
    return done(request, "/manage/categories", PUT_BACK if active else TAKEN_OUT)
