"""The managed list of causes for negative ratings (managers): add, rename, retire or put back, move up or down."""

from __future__ import annotations

from aiohttp import web

from accounts.roles import Role
from majlis.errors import N_, InvalidInput
from quality import causes
from web.auth import requires, signed_in_user
from web.intake_forms import errors_by_field
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE
from web.middleware import see_other
from web.pages import render

routes = web.RouteTableDef()
PAGE = "/quality/causes"
KEEPERS = (Role.MANAGER,)
DONE = {
    "added": N_("The cause is added to the list."),
    "renamed": N_("The cause is renamed."),
    "retired": N_("The cause is retired: old reviews keep it, new ones cannot choose it."),
    "reactivated": N_("The cause is back on the list."),
    "moved": N_("The list's order is changed."),
}


async def _page(
    request: web.Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    # The cause whose renaming was refused (its own form shows the errors), or None for the new cause's form.
    failed: str | None = None,
    status: int = 200,
) -> web.Response:
    done = DONE.get(request.query.get("done", "")) if request.method == "GET" else None
    context = {
        "causes": await causes.causes(session=request[DB]),
        # The new cause's form, or the form of the cause whose renaming or move was refused.
        "values": {} if failed else values or {},
        "errors": {} if failed else errors or {},
        "failed": failed,
        "failed_values": values or {} if failed else {},
        "failed_errors": errors or {} if failed else {},
        "notice": request.app[CATALOGS].gettext(request[LANGUAGE], done) if done else None,
    }
    return render(request, "quality/causes.html", context, status=status)


def _refused(request: web.Request, exc: InvalidInput) -> dict[str, str]:
    return errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)


@routes.get(PAGE)
@requires(*KEEPERS)
async def list_causes(request: web.Request) -> web.Response:
    return await _page(request)


@routes.post(PAGE)
@requires(*KEEPERS)
async def add(request: web.Request) -> web.Response:
    form = await request.post()
    values = {name: str(form.get(name, "")) for name in ("code", "name_ar", "name_en")}
    try:
        await causes.add_cause(
            session=request[DB], clock=request.app[CLOCK], actor_id=signed_in_user(request).id, **values
        )
    except InvalidInput as exc:
        return await _page(request, values=values, errors=_refused(request, exc), status=422)
    return see_other(f"{PAGE}?done=added")


@routes.post(PAGE + "/{code}")
@requires(*KEEPERS)
async def rename(request: web.Request) -> web.Response:
    form = await request.post()
    code = request.match_info["code"]
    values = {name: str(form.get(name, "")) for name in ("name_ar", "name_en")}
    try:
        await causes.rename_cause(
            session=request[DB], clock=request.app[CLOCK], actor_id=signed_in_user(request).id, code=code, **values
        )
    except causes.CauseNotFound:
        raise web.HTTPNotFound() from None
    except InvalidInput as exc:
        return await _page(request, values=values, errors=_refused(request, exc), failed=code, status=422)
    return see_other(f"{PAGE}?done=renamed#cause-{code}")


@routes.post(PAGE + "/{code}/active")
@requires(*KEEPERS)
async def set_active(request: web.Request) -> web.Response:
    form = await request.post()
    code = request.match_info["code"]
    active = form.get("active") == "1"
    try:
        await causes.set_cause_active(
            session=request[DB], clock=request.app[CLOCK], actor_id=signed_in_user(request).id, code=code, active=active
        )
    except causes.CauseNotFound:
        raise web.HTTPNotFound() from None
    return see_other(f"{PAGE}?done={'reactivated' if active else 'retired'}#cause-{code}")


@routes.post(PAGE + "/{code}/move")
@requires(*KEEPERS)
async def move(request: web.Request) -> web.Response:
    form = await request.post()
    code = request.match_info["code"]
    try:
        await causes.move_cause(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            code=code,
            direction=str(form.get("direction", "")),
        )
    except causes.CauseNotFound:
        raise web.HTTPNotFound() from None
    except InvalidInput as exc:
        return await _page(request, errors=_refused(request, exc), failed=code, status=422)
    return see_other(f"{PAGE}?done=moved#cause-{code}")
