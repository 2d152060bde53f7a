"""Administrators: the reception centres (branches) and the rooms of each, as data rather than code."""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDictProxy

from accounts.roles import Role
from majlis.errors import N_, InvalidInput
from rooms import service as rooms
from rooms.branches import BranchInput, add_branch, edit_branch
from rooms.models import BranchSite
from web import labels
from web.auth import requires, signed_in_user
from web.branch_names import branch_context
from web.feeds import branch_feed_url
from web.intake_forms import errors_by_field
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE
from web.notices import done, notice
from web.pages import render

routes = web.RouteTableDef()

BRANCH_FIELDS = ("name_ar", "name_en", "address_ar", "address_en", "time_zone", "official_calendar_url")
ROOM_FIELDS = ("name", "capacity", "equipment")
NEW_BRANCH = {"time_zone": "Asia/Riyadh", "active": "1"}

BRANCH_ADDED = notice(N_("The centre {name} was added."))
BRANCH_SAVED = notice(N_("The centre's details were saved."))
ROOM_ADDED = notice(N_("The room {name} was added to the centre."))


def _input(values: dict[str, str]) -> BranchInput:
    return BranchInput(**{name: values.get(name, "") for name in BRANCH_FIELDS}, active=values.get("active") == "1")


def _values(form: MultiDictProxy[str | bytes | bytearray | web.FileField], *names: str) -> dict[str, str]:
    return {name: str(form.get(name, "")) for name in names}


async def _list_page(
    request: web.Request, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> web.Response:
    context = {
        "sites": await rooms.branches(session=request[DB]),
        "values": values,
        "errors": errors,
        "labels": labels,
        **await branch_context(request),
    }
    return render(request, "admin/branches.html", context, status=status)


async def _branch(request: web.Request) -> BranchSite:
    code = request.match_info["code"]
    site = await rooms.get_branch(session=request[DB], code=code[:16]) if len(code) <= 16 else None
    if site is None:
        raise web.HTTPNotFound()
    return site


async def _branch_page(
    request: web.Request,
    site: BranchSite,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    room_values: dict[str, str] | None = None,
) -> web.Response:
    context = {
        "site": site,
        "feed_url": branch_feed_url(request, site.code),
        "rooms": [r for r in await rooms.rooms(session=request[DB]) if r.branch_code == site.code],
        # The branch's form and the new room's share one page; their fields' names differ.
        "values": {**values, **(room_values or {"capacity": "1"})},
        "errors": errors,
        "labels": labels,
    }
    return render(request, "admin/branch.html", context, status=status)


def _site_values(site: BranchSite) -> dict[str, str]:
    return {**{name: str(getattr(site, name)) for name in BRANCH_FIELDS}, "active": "1" if site.active else ""}


@routes.get("/admin/branches")
@requires(Role.ADMINISTRATOR)
async def branch_list(request: web.Request) -> web.Response:
    return await _list_page(request, dict(NEW_BRANCH), {})


@routes.post("/admin/branches")
@requires(Role.ADMINISTRATOR)
async def create_branch(request: web.Request) -> web.Response:
    form = await request.post()
    values = {**_values(form, "code", *BRANCH_FIELDS), "active": "1"}
    try:
        site = await add_branch(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            code=values["code"],
            data=_input(values),
        )
    except InvalidInput as exc:
        errors = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)
        return await _list_page(request, values, errors, status=422)
    return done(request, f"/admin/branches/{site.code}", BRANCH_ADDED, name=site.name_in(request[LANGUAGE]))


@routes.get("/admin/branches/{code}")
@requires(Role.ADMINISTRATOR)
async def branch_page(request: web.Request) -> web.Response:
    site = await _branch(request)
    return await _branch_page(request, site, _site_values(site), {})


@routes.post("/admin/branches/{code}")
@requires(Role.ADMINISTRATOR)
async def update_branch(request: web.Request) -> web.Response:
    site = await _branch(request)
    form = await request.post()
    values = {**_values(form, *BRANCH_FIELDS), "active": "1" if form.get("active") == "1" else ""}
    try:
        await edit_branch(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            code=site.code,
            data=_input(values),
        )
    except InvalidInput as exc:
        errors = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)
        return await _branch_page(request, site, values, errors, status=422)
    return done(request, f"/admin/branches/{site.code}", BRANCH_SAVED)


@routes.post("/admin/branches/{code}/rooms")
@requires(Role.ADMINISTRATOR)
async def add_branch_room(request: web.Request) -> web.Response:
    site = await _branch(request)
    form = await request.post()
    values = {**_values(form, *ROOM_FIELDS), "room_kind": str(form.get("room_kind", ""))}
    try:
        room = await rooms.add_room(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            branch=site.code,
            kind=values["room_kind"],
            wheelchair_access=form.get("wheelchair_access") == "1",
            **{name: values[name] for name in ROOM_FIELDS},
        )
    except InvalidInput as exc:
        errors = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)
        return await _branch_page(request, site, _site_values(site), errors, status=422, room_values=values)
    return done(request, f"/admin/branches/{site.code}", ROOM_ADDED, name=room.name_in(request[LANGUAGE]))
