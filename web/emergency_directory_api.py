"""The missions directory over JSON: /api/v1/missions (list, create), /api/v1/missions/{code} (get, change, the
rollout flag), its coverage and its duty roster's shifts.

Consular supervisors and administrators keep missions and coverage; a mission's staff read their own
mission and keep its roster (another mission's: 403). Shift times are sent in the mission's local time
("2026-10-03T20:00") or with an offset, and come back in UTC, in the mission's time and in Riyadh's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, Field

from emergency import coverage, directory, roster, roster_gaps
from emergency.coverage import CoverageInput
from emergency.directory import MissionInput, MissionView
from emergency.models import DutyShift, Mission, MissionCoverage
from emergency.roster import ShiftInput
from majlis.clock import RIYADH
from majlis.errors import N_, DomainError, InvalidInput
from majlis.numbers import whole_number
from web.api import invalid_input
from web.auth import requires, signed_in_user
from web.emergency_directory import MANAGERS, ROSTER_DAYS, ROSTER_KEEPERS, MissionRefused, allowed_mission
from web.errors import bilingual, refusal
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, SETTINGS
from web.triage_api import parsed

routes = web.RouteTableDef()
BASE = "/api/v1/missions"


class MissionIn(BaseModel):
    code: str = Field(max_length=40)
    kind: str = Field(max_length=20, description="embassy, consulate or central_desk")
    name_ar: str = Field(max_length=400)
    name_en: str = Field(max_length=400)
    country: str = Field(max_length=8, description="ISO 3166-1 alpha-2, e.g. AU")
    time_zone: str = Field(max_length=64, description="IANA zone, e.g. Australia/Sydney")
    email: str = Field(max_length=300)
    head_name: str = Field(max_length=400)
    head_email: str = Field(max_length=300)
    head_phone: str = Field(max_length=40, description="E.164, any country")
    hours: str = Field(default="", max_length=400, description="e.g. Sun-Thu 08:00-15:00; or name a calendar")
    calendar: str = Field(default="", max_length=40, description="an existing working calendar's code, same zone")
    live: bool = False


class MissionPatch(BaseModel):
    kind: str | None = Field(default=None, max_length=20)
    name_ar: str | None = Field(default=None, max_length=400)
    name_en: str | None = Field(default=None, max_length=400)
    country: str | None = Field(default=None, max_length=8)
    time_zone: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=300)
    head_name: str | None = Field(default=None, max_length=400)
    head_email: str | None = Field(default=None, max_length=300)
    head_phone: str | None = Field(default=None, max_length=40)
    hours: str | None = Field(default=None, max_length=400)
    calendar: str | None = Field(default=None, max_length=40)
    live: bool | None = None
    active: bool | None = None


class CoverageIn(BaseModel):
    country: str = Field(max_length=8)
    city_ar: str = Field(default="", max_length=200)
    city_en: str = Field(default="", max_length=200)


class CoverageOut(BaseModel):
    id: int
    country: str
    city_key: str
    city_ar: str
    city_en: str


class ShiftIn(BaseModel):
    starts: str = Field(max_length=40, description="the mission's local time, e.g. 2026-10-03T20:00")
    ends: str = Field(max_length=40)
    officer_name: str = Field(max_length=400)
    phone: str = Field(max_length=40, description="E.164, any country, takes SMS")
    email: str = Field(max_length=300)
    languages: list[str] = Field(max_length=12)


class ShiftOut(BaseModel):
    id: int
    starts_at: datetime
    ends_at: datetime
    starts_local: str
    ends_local: str
    starts_riyadh: str
    ends_riyadh: str
    officer_name: str
    phone: str
    email: str
    languages: list[str]


class GapOut(BaseModel):
    starts_at: datetime
    ends_at: datetime


class RosterOut(BaseModel):
    shifts: list[ShiftOut]
    gaps: list[GapOut]


class MissionOut(BaseModel):
    code: str
    kind: str
    name_ar: str
    name_en: str
    country: str
    time_zone: str
    calendar: str
    hours: str
    email: str
    head_name: str
    head_email: str
    head_phone: str
    live: bool
    active: bool
    coverage: list[CoverageOut]
    on_duty: ShiftOut | None


MISSION_INPUTS: tuple[type[BaseModel], ...] = (MissionIn, MissionPatch, CoverageIn, ShiftIn)
MISSION_OUTPUTS: tuple[type[BaseModel], ...] = (MissionOut, CoverageOut, ShiftOut, RosterOut, GapOut)


async def _answer(request: web.Request, work: Callable[[], Awaitable[Any]], status: int = 200) -> web.Response:
    """InvalidInput: 422 naming the fields; a missing record 404; another's mission 403; another refusal 409."""
    try:
        body = await work()
    except InvalidInput as exc:
        return invalid_input(request, exc.errors)
    except MissionRefused:
        return _refusal(
            request,
            "not_your_mission",
            N_("This mission is not yours: you may see and keep your own mission's roster only."),
            403,
        )
    except DomainError as exc:
        return refusal(request, exc)
    if body is None:
        return web.Response(status=204)
    if isinstance(body, BaseModel):
        return web.json_response(body.model_dump(mode="json"), status=status)
    return web.json_response([item.model_dump(mode="json") for item in body], status=status)


def _refusal(request: web.Request, code: str, message: str, status: int, **params: str) -> web.Response:
    messages = bilingual(request.app[CATALOGS], message, **params)
    body = {"error": code, "message": messages[request[LANGUAGE]], "messages": messages, "fields": []}
    return web.json_response(body, status=status)


def _shift_out(shift: DutyShift, zone: ZoneInfo) -> ShiftOut:
    def local(value: datetime, where: ZoneInfo) -> str:
        return value.astimezone(where).isoformat(timespec="minutes")

    return ShiftOut(
        id=shift.id,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        starts_local=local(shift.starts_at, zone),
        ends_local=local(shift.ends_at, zone),
        starts_riyadh=local(shift.starts_at, RIYADH),
        ends_riyadh=local(shift.ends_at, RIYADH),
        officer_name=shift.officer_name,
        phone=shift.phone,
        email=shift.email,
        languages=list(shift.languages),
    )


def _coverage_out(row: MissionCoverage) -> CoverageOut:
    return CoverageOut(id=row.id, country=row.country, city_key=row.city_key, city_ar=row.city_ar, city_en=row.city_en)


async def _mission_out(request: web.Request, code: str) -> MissionOut:
    shown: MissionView = await directory.view(session=request[DB], code=code)
    m = shown.mission
    duty = await roster.on_duty(request[DB], m.id, request.app[CLOCK].now())
    return MissionOut(
        code=m.code,
        kind=m.kind.value,
        name_ar=m.name_ar,
        name_en=m.name_en,
        country=m.country,
        time_zone=m.time_zone,
        calendar=shown.calendar.code,
        hours=shown.hours,
        email=m.email,
        head_name=m.head_name,
        head_email=m.head_email,
        head_phone=m.head_phone,
        live=m.live,
        active=m.active,
        coverage=[_coverage_out(row) for row in shown.coverage],
        on_duty=_shift_out(duty, ZoneInfo(m.time_zone)) if duty else None,
    )


def _actor(request: web.Request) -> int:
    return signed_in_user(request).id


@routes.get(BASE)
@requires(*MANAGERS)
async def list_missions(request: web.Request) -> web.Response:
    async def work() -> list[MissionOut]:
        return [await _mission_out(request, m.code) for m in await directory.missions(session=request[DB])]

    return await _answer(request, work)


@routes.post(BASE)
@requires(*MANAGERS)
async def create_mission(request: web.Request) -> web.Response:
    async def work() -> MissionOut:
        body = await parsed(request, MissionIn)
        data = MissionInput(**body.model_dump(exclude={"live"}))
        made = await directory.add_mission(
            session=request[DB], clock=request.app[CLOCK], actor_id=_actor(request), data=data, live=body.live
        )
        return await _mission_out(request, made.code)

    return await _answer(request, work, status=201)


@routes.get(BASE + "/{code}")
@requires(*ROSTER_KEEPERS)
async def get_mission(request: web.Request) -> web.Response:
    async def work() -> MissionOut:
        mission = await allowed_mission(request, request.match_info["code"])
        return await _mission_out(request, mission.code)

    return await _answer(request, work)


@routes.patch(BASE + "/{code}")
@requires(*MANAGERS)
async def change_mission(request: web.Request) -> web.Response:
    async def work() -> MissionOut:
        code = request.match_info["code"]
        body = await parsed(request, MissionPatch)
        session, clock, actor = request[DB], request.app[CLOCK], _actor(request)
        sent = body.model_fields_set - {"live", "active"}
        if sent:
            shown = await directory.view(session=session, code=code)
            m = shown.mission
            current = {
                "code": m.code,
                "kind": m.kind.value,
                "name_ar": m.name_ar,
                "name_en": m.name_en,
                "country": m.country,
                "time_zone": m.time_zone,
                "email": m.email,
                "head_name": m.head_name,
                "head_email": m.head_email,
                "head_phone": m.head_phone,
                "hours": "",
                "calendar": "",
            }
            given = {k: v for k, v in body.model_dump(include=sent).items() if v is not None}
            await directory.update_mission(
                session=session, clock=clock, actor_id=actor, code=code, data=MissionInput(**{**current, **given})
            )
        if body.active is not None:
            await directory.set_active(session=session, clock=clock, actor_id=actor, code=code, active=body.active)
        if body.live is not None:
            watch = roster_gaps.watch_from(request.app[SETTINGS])
            await directory.set_live_watched(
                session=session, clock=clock, actor_id=actor, code=code, live=body.live, watch=watch
            )
        return await _mission_out(request, code)

    return await _answer(request, work)


@routes.post(BASE + "/{code}/coverage")
@requires(*MANAGERS)
async def add_coverage(request: web.Request) -> web.Response:
    async def work() -> CoverageOut:
        body = await parsed(request, CoverageIn)
        made = await coverage.add_coverage(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=_actor(request),
            mission_code=request.match_info["code"],
            data=CoverageInput(body.country, body.city_ar, body.city_en),
        )
        return _coverage_out(made)

    return await _answer(request, work, status=201)


@routes.delete(BASE + "/{code}/coverage/{coverage_id}")
@requires(*MANAGERS)
async def remove_coverage(request: web.Request) -> web.Response:
    async def work() -> None:
        await coverage.remove_coverage(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=_actor(request),
            mission_code=request.match_info["code"],
            coverage_id=whole_number(request.match_info["coverage_id"]) or 0,
        )

    return await _answer(request, work)


@routes.get(BASE + "/{code}/shifts")
@requires(*ROSTER_KEEPERS)
async def list_shifts(request: web.Request) -> web.Response:
    async def work() -> RosterOut:
        mission: Mission = await allowed_mission(request, request.match_info["code"])
        now = request.app[CLOCK].now()
        end = now + timedelta(days=ROSTER_DAYS)
        zone = ZoneInfo(mission.time_zone)
        found = await roster.shifts(session=request[DB], mission_id=mission.id, start=now, end=end)
        holes = await roster.gaps(request[DB], mission.id, now, end)
        return RosterOut(
            shifts=[_shift_out(s, zone) for s in found], gaps=[GapOut(starts_at=s, ends_at=e) for s, e in holes]
        )

    return await _answer(request, work)


@routes.post(BASE + "/{code}/shifts")
@requires(*ROSTER_KEEPERS)
async def add_shift(request: web.Request) -> web.Response:
    async def work() -> ShiftOut:
        mission = await allowed_mission(request, request.match_info["code"])
        body = await parsed(request, ShiftIn)
        made = await roster.add_shift(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=_actor(request),
            mission_id=mission.id,
            data=ShiftInput(body.starts, body.ends, body.officer_name, body.phone, body.email, body.languages),
        )
        return _shift_out(made, ZoneInfo(mission.time_zone))

    return await _answer(request, work, status=201)


@routes.delete(BASE + "/{code}/shifts/{shift_id}")
@requires(*ROSTER_KEEPERS)
async def remove_shift(request: web.Request) -> web.Response:
    async def work() -> None:
        mission = await allowed_mission(request, request.match_info["code"])
        await roster.remove_shift(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=_actor(request),
            mission_id=mission.id,
            shift_id=whole_number(request.match_info["shift_id"]) or 0,
            watch=roster_gaps.watch_from(request.app[SETTINGS]),
        )

    return await _answer(request, work)


def openapi_paths(ref: Any, json: Any) -> dict[str, Any]:
    """The directory's paths in the OpenAPI document (ref and json: the document's own helpers)."""
    code = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
    csrf = {"name": "X-CSRF-Token", "in": "header", "required": True, "schema": {"type": "string"}}
    guard = {
        "401": json("ErrorOut", "Not signed in"),
        "403": json("ErrorOut", "Not a role of this path, or not your mission"),
    }
    refusals = {
        **guard,
        "404": json("ErrorOut", "No such mission, place or shift"),
        "409": json("ErrorOut", "Refused by the directory's rules"),
        "422": json("ErrorOut", "Invalid fields, each listed (unknown country, zone, phone, a place covered …)"),
    }

    def body(name: str) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": ref(name)}}}

    def many(name: str, text: str) -> dict[str, Any]:
        return {"description": text, "content": {"application/json": {"schema": {"type": "array", "items": ref(name)}}}}

    item = {"name": "coverage_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    shift = {"name": "shift_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    return {
        BASE: {
            "get": {
                "operationId": "listMissions",
                "summary": "Every mission, its coverage and who is on duty",
                "responses": {"200": many("MissionOut", "The missions"), **guard},
            },
            "post": {
                "operationId": "createMission",
                "summary": "Add a mission (its own calendar from its hours)",
                "parameters": [csrf],
                "requestBody": body("MissionIn"),
                "responses": {"201": json("MissionOut", "Added"), **refusals},
            },
        },
        BASE + "/{code}": {
            "get": {
                "operationId": "getMission",
                "summary": "A mission (its own staff may read theirs)",
                "parameters": [code],
                "responses": {"200": json("MissionOut", "The mission"), **refusals},
            },
            "patch": {
                "operationId": "changeMission",
                "summary": "Change a mission, its rollout flag (live) or active",
                "parameters": [code, csrf],
                "requestBody": body("MissionPatch"),
                "responses": {"200": json("MissionOut", "Changed"), **refusals},
            },
        },
        BASE + "/{code}/coverage": {
            "post": {
                "operationId": "addCoverage",
                "summary": "Cover a country, or a city of it (one mission per place)",
                "parameters": [code, csrf],
                "requestBody": body("CoverageIn"),
                "responses": {"201": json("CoverageOut", "Covered"), **refusals},
            },
        },
        BASE + "/{code}/coverage/{coverage_id}": {
            "delete": {
                "operationId": "removeCoverage",
                "summary": "Stop covering a place",
                "parameters": [code, item, csrf],
                "responses": {"204": {"description": "Removed"}, **refusals},
            },
        },
        BASE + "/{code}/shifts": {
            "get": {
                "operationId": "listShifts",
                "summary": "The next 14 days' shifts and gaps",
                "parameters": [code],
                "responses": {"200": json("RosterOut", "The roster"), **refusals},
            },
            "post": {
                "operationId": "addShift",
                "summary": "Add a shift (times in the mission's local time)",
                "parameters": [code, csrf],
                "requestBody": body("ShiftIn"),
                "responses": {"201": json("ShiftOut", "Added"), **refusals},
            },
        },
        BASE + "/{code}/shifts/{shift_id}": {
            "delete": {
                "operationId": "removeShift",
                "summary": "Remove a shift",
                "parameters": [code, shift, csrf],
                "responses": {"204": {"description": "Removed"}, **refusals},
            },
        },
    }
