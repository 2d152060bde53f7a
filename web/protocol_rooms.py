"""Protocol staff: rooms, their rosters and each room's day."""

from __future__ import annotations

from datetime import date, time

from aiohttp import web

from accounts import service as accounts
from accounts.roles import Role
from majlis.clock import riyadh
from majlis.dates import dual_date
from majlis.errors import N_, FieldError, InvalidInput
from rooms import service as rooms
from rooms.models import RoomKind
from scheduler import views
from scheduler.calendar import clock_time
from video import service as video
from web import labels, personal_data
from web.auth import requires, signed_in_user
from web.branch_names import branch_context
from web.feeds import room_feed_url
from web.intake_forms import errors_by_field
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE
from web.notices import done, notice
from web.pages import render

routes = web.RouteTableDef()
PROTOCOL = (Role.PROTOCOL,)
ROOM_FIELDS = ("branch", "name", "name_en", "capacity", "equipment")
RENAMED = notice(N_("The room's names are saved: {name}."))
ROOM_ADDED = notice(N_("The room {name} was added."))
ON_DUTY = notice(N_("The member of staff was put on duty in the room on {day}."))
ROOM_PUT_BACK = notice(N_("The room was put back in use."))
ROOM_STOPPED = notice(N_("The room was taken out of use: no new sessions are set in it."))


async def _rooms_page(
    request: web.Request,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    *,
    renaming: dict[str, object] | None = None,
) -> web.Response:
    """The rooms and the new-room form; `renaming` is a refused rename (room id, typed names, errors) shown open."""
    session = request[DB]
    context = {
        "rooms": await rooms.rooms(session=session),
        "branches": await rooms.branches(session=session),
        "values": values,
        "errors": errors,
        "renaming": renaming or {"room_id": None, "values": {}, "errors": {}},
        "labels": labels,
        **await branch_context(request),
    }
    return render(request, "protocol/rooms.html", context, status=status)


@routes.get("/protocol/rooms")
@requires(*PROTOCOL)
async def room_list(request: web.Request) -> web.Response:
    return await _rooms_page(request, {"capacity": "1"}, {})


@routes.post("/protocol/rooms")
@requires(*PROTOCOL)
async def add_room(request: web.Request) -> web.Response:
    form = await request.post()
    values = {name: str(form.get(name, "")) for name in ROOM_FIELDS}
    try:
        room = await rooms.add_room(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            kind=str(form.get("room_kind", "")),
            wheelchair_access=form.get("wheelchair_access") == "1",
            **values,
        )
    except InvalidInput as exc:
        return await _rooms_page(
            request, values, errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors), 422
        )
    return done(request, f"/protocol/rooms/{room.id}", ROOM_ADDED, name=room.name_in(request[LANGUAGE]))


@routes.post("/protocol/rooms/{room_id:\\d+}/name")
@requires(*PROTOCOL)
async def rename_room(request: web.Request) -> web.Response:
    """New Arabic and English names for a room; a refusal shows the rooms again with the form open, its errors
    beside the fields, and nothing changed."""
    form = await request.post()
    room_id = int(request.match_info["room_id"])
    values = {"name": str(form.get("name", "")), "name_en": str(form.get("name_en", ""))}
    session = request[DB]
    if await rooms.get_room(session=session, room_id=room_id) is None:
        raise web.HTTPNotFound()
    try:
        room = await rooms.rename_room(
            session=session,
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            room_id=room_id,
            **values,
        )
    except InvalidInput as exc:
        errors = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)
        renaming = {"room_id": room_id, "values": values, "errors": errors}
        return await _rooms_page(request, {"capacity": "1"}, {}, 422, renaming=renaming)
    return done(request, "/protocol/rooms", RENAMED, name=room.name_in(request[LANGUAGE]))


def _day(request: web.Request) -> date:
    try:
        return date.fromisoformat(request.query.get("day", ""))
    except ValueError:
        return riyadh(request.app[CLOCK].now()).date()


async def _room_day(request: web.Request, errors: dict[str, str] | None = None, status: int = 200) -> web.Response:
    session = request[DB]
    room = await rooms.get_room(session=session, room_id=int(request.match_info["room_id"]))
    if room is None:
        raise web.HTTPNotFound()
    if signed_in_user(request).role is Role.WOMEN_SECTION and room.kind is not RoomKind.WOMEN_VIDEO:
        raise web.HTTPForbidden()  # the women's section runs the women's rooms only
    day = _day(request)
    roster = [r for r in await rooms.roster_for_day(session=session, day=day) if r.room_id == room.id]
    staff = await accounts.names_by_id(session=session, ids={r.staff_id for r in roster})
    eligible = [
        member
        for member in await accounts.users_with_role(
            session=session, role=Role.WOMEN_SECTION if room.kind.value == "women_video" else Role.PROTOCOL
        )
        if rooms.may_run(room, role=member.role, gender=member.gender)
    ]
    user = signed_in_user(request)
    sessions = await views.sessions_with_slots(
        session=session, start=day, end=date.fromordinal(day.toordinal() + 1), room_id=room.id
    )
    context = {
        "room": room,
        "day": day,
        "roster": roster,
        "staff": staff,
        "eligible": eligible,
        "labels": labels,
        "sessions": sessions,
        # Whose each seat is, for requests within the reader's need to know (each view logged); others show as taken.
        "visible": await personal_data.seen_in_list(
            request, [case.id for s in sessions for slot in s.slots for _, case in slot.appointments]
        ),
        "errors": errors or {},
        "values": {},
        "feed_url": room_feed_url(request, room.id),
        # A link to the room's console for who may hold it today (women's rooms: the section; men's: protocol).
        "holds_console": await video.may_hold_room(
            session=session, clock=request.app[CLOCK], staff_id=user.id, role=user.role, room_id=room.id
        ),
    }
    return render(request, "protocol/room_day.html", context, status=status)


@routes.get("/protocol/rooms/{room_id:\\d+}")
@requires(*PROTOCOL, Role.WOMEN_SECTION)
async def room_day(request: web.Request) -> web.Response:
    return await _room_day(request)


@routes.post("/protocol/rooms/{room_id:\\d+}/roster")
@requires(*PROTOCOL)
async def put_on_duty(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        staff = str(form.get("staff", ""))
        starts, ends = _time(str(form.get("starts", "")), "starts"), _time(str(form.get("ends", "")), "ends")
        await rooms.put_on_duty(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            room_id=int(request.match_info["room_id"]),
            staff_id=int(staff) if staff.isascii() and staff.isdigit() else -1,
            day=_day(request),
            starts=starts,
            ends=ends,
        )
    except InvalidInput as exc:
        await request[DB].rollback()
        return await _room_day(request, errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors), 422)
    day = _day(request)
    # The day as the page names days, in both calendars (in the language of the one who pressed).
    told = dual_date(day, request[LANGUAGE])
    return done(request, f"/protocol/rooms/{request.match_info['room_id']}?day={day.isoformat()}", ON_DUTY, day=told)


def _time(value: str, field: str) -> time:
    parsed = clock_time(value)
    if parsed is None:
        raise InvalidInput([FieldError(field, "invalid_time", N_("{field} must be a time such as 10:00."))])
    return parsed


@routes.post("/protocol/rooms/{room_id:\\d+}/active")
@requires(*PROTOCOL)
async def set_room_active(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        await rooms.set_room_active(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            room_id=int(request.match_info["room_id"]),
            active=form.get("active") == "1",
        )
    except InvalidInput:
        raise web.HTTPNotFound() from None
    return done(request, "/protocol/rooms", ROOM_PUT_BACK if form.get("active") == "1" else ROOM_STOPPED)
