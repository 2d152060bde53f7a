"""The missions directory's pages: /emergency/missions (every mission, its time now, whether it is live, what
it covers, who is on duty) and /emergency/missions/{code} (its details, coverage and the next 14 days' roster
in its own time and Riyadh's, gaps marked).

Consular supervisors (and administrators) keep missions and coverage. A mission's staff open their own
mission's page only, and keep its roster; another mission's page is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from babel.dates import format_datetime

from accounts.models import StaffUser
from accounts.roles import Role
from emergency import checks, coverage, directory, roster, roster_gaps
from emergency.coverage import CoverageInput
from emergency.directory import MissionInput, MissionView
from emergency.models import DutyShift, Mission
from emergency.roster import ShiftInput
from majlis.clock import RIYADH
from majlis.errors import N_, DomainError, InvalidInput
from majlis.numbers import whole_number
from web import labels
from web.auth import requires, signed_in_user
from web.followup_directory import field_errors, form_values, not_found
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, SETTINGS
from web.middleware import error_response, see_other
from web.notices import done, notice
from web.pages import render
from worktime import editing

routes = web.RouteTableDef()
MANAGERS = (Role.CONSULAR_SUPERVISOR,)
ROSTER_KEEPERS = (Role.CONSULAR_SUPERVISOR, Role.MISSION_STAFF)
MISSION_FIELDS: tuple[str, ...] = (
    "code",
    "kind",
    "name_ar",
    "name_en",
    "country",
    "time_zone",
    "email",
    "head_name",
    "head_email",
    "head_phone",
    "hours",
    "calendar",
)
COVERAGE_FIELDS = ("country", "city_ar", "city_en")
SHIFT_FIELDS = ("starts", "ends", "officer_name", "phone", "email", "languages")
# The forms of the mission's page carry these prefixes, so each shows its own errors.
COVER, SHIFT = "cover.", "shift."
ROSTER_DAYS = 14

MISSION_ADDED = notice(N_("The mission {name} was added."))
MISSION_SAVED = notice(N_("The mission's details were saved."))
PUT_LIVE = notice(N_("The mission is live on the emergency line: its reports now come to it."))
TAKEN_OFF_LINE = notice(N_("The mission was taken off the emergency line."))
PUT_BACK = notice(N_("The mission was put back in service."))
DEACTIVATED = notice(N_("The mission was deactivated."))
FLAG_NOTICES = {("live", True): PUT_LIVE, ("live", False): TAKEN_OFF_LINE, ("active", True): PUT_BACK}
COVERAGE_ADDED = notice(N_("The place was added to the mission's coverage."))
COVERAGE_REMOVED = notice(N_("The place was removed from the mission's coverage."))
SHIFT_ADDED = notice(N_("The shift was added to the roster."))
SHIFT_REMOVED = notice(N_("The shift was removed from the roster."))


def manages(request: web.Request) -> bool:
    return signed_in_user(request).role in (Role.CONSULAR_SUPERVISOR, Role.ADMINISTRATOR)


async def own_mission_id(request: web.Request) -> int | None:
    """The signed-in member of a mission's staff's mission (None for anyone else)."""
    account = await request[DB].get(StaffUser, signed_in_user(request).id)
    return account.mission_id if account is not None else None


async def allowed_mission(request: web.Request, code: str) -> Mission:
    """The mission in the path, if the reader may see it: 404 when there is none, 403 for another's staff."""
    try:
        mission = await directory.mission_by_code(session=request[DB], code=code)
    except DomainError as exc:
        raise not_found(exc) from None
    if signed_in_user(request).role is Role.MISSION_STAFF and await own_mission_id(request) != mission.id:
        raise MissionRefused()
    return mission


class MissionRefused(Exception):
    """A mission's staff asked for another mission."""


def refused(request: web.Request) -> web.Response:
    return error_response(
        request, 403, N_("This mission is not yours: you may see and keep your own mission's roster only.")
    )


def moment(value: datetime, zone: ZoneInfo, language: str) -> str:
    return format_datetime(value.astimezone(zone), "EEE d MMM, HH:mm", tzinfo=zone, locale=language)


@dataclass(frozen=True)
class RosterLine:
    """A shift, or a stretch with nobody on duty, as the roster shows it."""

    starts_local: str
    ends_local: str
    starts_riyadh: str
    ends_riyadh: str
    shift: DutyShift | None


async def roster_lines(request: web.Request, mission: Mission) -> list[RosterLine]:
    now = request.app[CLOCK].now()
    end = now + timedelta(days=ROSTER_DAYS)
    language = request[LANGUAGE]
    zone = ZoneInfo(mission.time_zone)
    session = request[DB]
    stretches: list[tuple[datetime, datetime, DutyShift | None]] = [
        (s.starts_at, s.ends_at, s)
        for s in await roster.shifts(session=session, mission_id=mission.id, start=now, end=end)
    ]
    stretches += [(s, e, None) for s, e in await roster.gaps(session, mission.id, now, end)]
    stretches.sort(key=lambda line: (line[0], line[2] is not None))
    return [
        RosterLine(
            moment(s, zone, language),
            moment(e, zone, language),
            moment(s, RIYADH, language),
            moment(e, RIYADH, language),
            shift,
        )
        for s, e, shift in stretches
    ]


async def _list_page(
    request: web.Request, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> web.Response:
    session = request[DB]
    language = request[LANGUAGE]
    now = request.app[CLOCK].now()
    every = await directory.missions(session=session)
    places: dict[int, list[str]] = {}
    for row in await coverage.coverage(session=session):
        places.setdefault(row.mission.id, []).append(coverage.place_name(row.coverage, language))
    on_duty = await roster.on_duty_at_missions(session=session, mission_ids=[m.id for m in every], at=now)
    rows = [
        {
            "mission": m,
            "country": checks.country_name(m.country, language),
            "local_now": moment(now, ZoneInfo(m.time_zone), language),
            "places": places.get(m.id, []),
            "on_duty": on_duty.get(m.id),
        }
        for m in every
    ]
    context = {
        "rows": rows,
        "gaps": await roster.open_gaps(session=session),
        "names": {m.id: m.name_in(language) for m in every},
        "codes": {m.id: m.code for m in every},
        "zones": {m.id: m.time_zone for m in every},
        "riyadh_now": moment(now, RIYADH, language),
        "has_desk": await directory.central_desk(session=session) is not None,
        "values": values,
        "errors": errors,
        **await _choices(request),
    }
    return render(request, "missions/list.html", context, status=status)


async def _choices(request: web.Request) -> dict[str, Any]:
    language = request[LANGUAGE]
    catalogs = request.app[CATALOGS]
    return {
        "kinds": [(value, catalogs.gettext(language, text)) for value, text in labels.MISSION_KINDS.items()],
        "kind_name": lambda kind: catalogs.gettext(language, labels.MISSION_KINDS[kind]),
        "countries": checks.country_choices(language),
        "calendar_choices": [("", "—")]
        + [(c.code, c.name_in(language)) for c in await editing.calendars(session=request[DB])],
        "moment": lambda value, zone: moment(value, ZoneInfo(zone), language),
        "riyadh": lambda value: moment(value, RIYADH, language),
    }


@routes.get("/emergency/missions")
@requires(*ROSTER_KEEPERS)
async def missions_page(request: web.Request) -> web.Response:
    if signed_in_user(request).role is Role.MISSION_STAFF:
        own = await own_mission_id(request)
        mission = await request[DB].get(Mission, own) if own is not None else None
        if mission is None:
            raise web.HTTPNotFound()
        return see_other(f"/emergency/missions/{mission.code}")
    return await _list_page(request, {"kind": "embassy", "hours": "Sun-Thu 08:00-15:00"}, {})


def mission_input(values: dict[str, str]) -> MissionInput:
    return MissionInput(**{name: values.get(name, "") for name in MISSION_FIELDS})


@routes.post("/emergency/missions")
@requires(*MANAGERS)
async def add_mission(request: web.Request) -> web.Response:
    values = form_values(await request.post(), MISSION_FIELDS)
    try:
        made = await directory.add_mission(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            data=mission_input(values),
        )
    except InvalidInput as exc:
        return await _list_page(request, values, field_errors(request, exc), 422)
    return done(request, f"/emergency/missions/{made.code}", MISSION_ADDED, name=made.name_in(request[LANGUAGE]))


def _mission_values(shown: MissionView) -> dict[str, str]:
    m = shown.mission
    values = {name: str(getattr(m, name)) for name in MISSION_FIELDS if hasattr(m, name)}
    values["kind"] = m.kind.value
    own = shown.calendar.code == directory.own_calendar_code(m.code)
    values["hours"] = shown.hours if own else ""
    values["calendar"] = "" if own else shown.calendar.code
    return values


async def mission_page(
    request: web.Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    status: int = 200,
) -> web.Response:
    try:
        mission = await allowed_mission(request, request.match_info["code"])
    except MissionRefused:
        return refused(request)
    language = request[LANGUAGE]
    session = request[DB]
    shown = await directory.view(session=session, code=mission.code)
    now = request.app[CLOCK].now()
    found = errors or {}
    context = {
        "mission": mission,
        "view": shown,
        "country": checks.country_name(mission.country, language),
        "places": [(row, coverage.place_name(row, language)) for row in shown.coverage],
        "lines": await roster_lines(request, mission),
        "on_duty": await roster.on_duty(session, mission.id, now),
        "local_now": moment(now, ZoneInfo(mission.time_zone), language),
        "riyadh_now": moment(now, RIYADH, language),
        "language_name": lambda code: checks.language_name(code, language),
        "values": {**_mission_values(shown), SHIFT + "languages": "ar, en", **(values or {})},
        "errors": found,
        "mission_errors": {k: v for k, v in found.items() if not k.startswith((COVER, SHIFT))},
        "form_error": form_error,
        "manages": manages(request),
        "roster_days": ROSTER_DAYS,
        **await _choices(request),
    }
    return render(request, "missions/mission.html", context, status=status)


@routes.get("/emergency/missions/{code}")
@requires(*ROSTER_KEEPERS)
async def mission(request: web.Request) -> web.Response:
    return await mission_page(request)


@routes.post("/emergency/missions/{code}")
@requires(*MANAGERS)
async def update_mission(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    values = form_values(await request.post(), MISSION_FIELDS)
    values["code"] = code
    try:
        await directory.update_mission(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            code=code,
            data=mission_input(values),
        )
    except InvalidInput as exc:
        return await mission_page(request, values=values, errors=field_errors(request, exc), status=422)
    except DomainError as exc:
        raise not_found(exc) from None
    return done(request, f"/emergency/missions/{code}", MISSION_SAVED)


async def _flag(request: web.Request, name: str) -> web.Response:
    code = request.match_info["code"]
    on = (await request.post()).get(name) == "1"
    session, clock, actor_id = request[DB], request.app[CLOCK], signed_in_user(request).id
    try:
        if name == "live":
            # Put on the line, its roster is looked at at once: a gap from now is told before the hourly run.
            watch = roster_gaps.watch_from(request.app[SETTINGS])
            await directory.set_live_watched(
                session=session, clock=clock, actor_id=actor_id, code=code, live=on, watch=watch
            )
        else:
            await directory.set_active(session=session, clock=clock, actor_id=actor_id, code=code, active=on)
    except InvalidInput as exc:
        return await mission_page(request, form_error=" ".join(field_errors(request, exc).values()), status=422)
    except DomainError as exc:
        raise not_found(exc) from None
    return done(request, f"/emergency/missions/{code}", FLAG_NOTICES.get((name, on), DEACTIVATED))


@routes.post("/emergency/missions/{code}/live")
@requires(*MANAGERS)
async def set_live(request: web.Request) -> web.Response:
    return await _flag(request, "live")


@routes.post("/emergency/missions/{code}/active")
@requires(*MANAGERS)
async def set_active(request: web.Request) -> web.Response:
    return await _flag(request, "active")


@routes.post("/emergency/missions/{code}/coverage")
@requires(*MANAGERS)
async def add_coverage(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    values = form_values(await request.post(), COVERAGE_FIELDS, COVER)
    try:
        await coverage.add_coverage(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            mission_code=code,
            data=CoverageInput(**values),
        )
    except InvalidInput as exc:
        shown = {COVER + k: v for k, v in values.items()}
        return await mission_page(request, values=shown, errors=field_errors(request, exc, COVER), status=422)
    except DomainError as exc:
        raise not_found(exc) from None
    return done(request, f"/emergency/missions/{code}#coverage", COVERAGE_ADDED)


@routes.post("/emergency/missions/{code}/coverage/{coverage_id:\\d{1,9}}/remove")
@requires(*MANAGERS)
async def remove_coverage(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    try:
        await coverage.remove_coverage(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            mission_code=code,
            coverage_id=int(request.match_info["coverage_id"]),
        )
    except DomainError as exc:
        raise not_found(exc) from None
    return done(request, f"/emergency/missions/{code}#coverage", COVERAGE_REMOVED)


def shift_input(values: dict[str, str]) -> ShiftInput:
    return ShiftInput(
        values["starts"],
        values["ends"],
        values["officer_name"],
        values["phone"],
        values["email"],
        checks.split_languages(values["languages"]),
    )


@routes.post("/emergency/missions/{code}/shifts")
@requires(*ROSTER_KEEPERS)
async def add_shift(request: web.Request) -> web.Response:
    try:
        mission = await allowed_mission(request, request.match_info["code"])
    except MissionRefused:
        return refused(request)
    values = form_values(await request.post(), SHIFT_FIELDS, SHIFT)
    try:
        await roster.add_shift(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            mission_id=mission.id,
            data=shift_input(values),
        )
    except InvalidInput as exc:
        shown = {SHIFT + k: v for k, v in values.items()}
        return await mission_page(request, values=shown, errors=field_errors(request, exc, SHIFT), status=422)
    return done(request, f"/emergency/missions/{mission.code}#roster", SHIFT_ADDED)


@routes.post("/emergency/missions/{code}/shifts/{shift_id:\\d{1,9}}/remove")
@requires(*ROSTER_KEEPERS)
async def remove_shift(request: web.Request) -> web.Response:
    try:
        mission = await allowed_mission(request, request.match_info["code"])
    except MissionRefused:
        return refused(request)
    shift_id = whole_number(request.match_info["shift_id"])
    try:
        await roster.remove_shift(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            mission_id=mission.id,
            shift_id=shift_id or 0,
            watch=roster_gaps.watch_from(request.app[SETTINGS]),
        )
    except DomainError as exc:
        raise not_found(exc) from None
    return done(request, f"/emergency/missions/{mission.code}#roster", SHIFT_REMOVED)
