"""Protocol's calendar over JSON: /api/v1/calendar/…, for protocol staff and administrators.

Signed in with the staff session cookie; every change carries the X-CSRF-Token
header (GET /api/v1/session gives it). Refusals are the API's usual bilingual
errors naming each field.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from accounts.roles import Role
from cases import service as cases
from majlis.clock import riyadh
from majlis.errors import N_, DomainError, FieldError, InvalidInput
from rooms import service as rooms
from scheduler import busy as busy_feed
from scheduler import by_hand as manual
from scheduler import calendar, changes, confirmations, target, views
from scheduler import service as scheduling
from web import personal_data
from web.api import invalid_input
from web.auth import requires, signed_in_user
from web.errors import refusal
from web.keys import CLOCK, DB, SETTINGS
from web.public import status_url
from web.triage_api import parsed

routes = web.RouteTableDef()
PROTOCOL = (Role.PROTOCOL,)


class RoomIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    branch: str = Field(max_length=16, description="The code of an open reception centre")
    name: str = Field(max_length=120, description="The Arabic name, as on the room's sign")
    name_en: str = Field(
        default="", max_length=120, description="English pages and messages use the Arabic name until given"
    )
    kind: str = Field(json_schema_extra={"enum": ["audience_hall", "women_video", "men_video", "official_office"]})
    capacity: int = Field(ge=1)
    wheelchair_access: bool = False
    equipment: str = Field(default="", max_length=2000)


class RoomOut(BaseModel):
    id: int
    branch: str
    name: str
    name_en: str
    kind: str
    capacity: int
    wheelchair_access: bool


class RoomNamesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=120, description="The Arabic name, unique in the room's centre")
    name_en: str = Field(default="", max_length=120, description="Empty: English pages use the Arabic name")


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=120)
    weekday: int = Field(description="0 Monday … 6 Sunday; Sunday to Thursday only")
    starts: str = Field(description="Riyadh time, HH:MM")
    ends: str = Field(description="Riyadh time, HH:MM")
    slot_minutes: int
    capacity: int = 1
    mode: str = Field(json_schema_extra={"enum": ["in_person", "video"]})
    rooms: list[int]
    outside_hours_confirmed: bool = Field(
        default=False,
        description="Protocol confirms hours outside the working hours (08:00-16:00 Riyadh); without it such "
        "hours are refused with 422 naming this field",
    )


class ExtraSessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    day: date
    starts: str
    ends: str
    slot_minutes: int
    capacity: int = 1
    mode: str = Field(json_schema_extra={"enum": ["in_person", "video"]})
    rooms: list[int]
    outside_hours_confirmed: bool = Field(
        default=False,
        description="Protocol confirms hours outside the working hours (08:00-16:00 Riyadh); without it such "
        "hours are refused with 422 naming this field",
    )


class HolidayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    day: date
    name: str = Field(max_length=120)


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=500, description="Told to every applicant of the session")


DIRECTIVE = (
    "On the official's directive: the three days' notice is waived (any slot not yet begun, today's included), "
    "the fairness record's reason is the directive (change_reason is not needed), and the applicant is asked "
    "to confirm at once, with a call. Every other rule of the allocation holds."
)


# What a move and a placement by hand both give (a comment, not a docstring: it would show in their schemas).
class _ByHandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_slot: int
    directive: bool = Field(default=False, description=DIRECTIVE)
    change_reason: str = Field(default="", description="One of the fairness record's reasons (unless directive)")
    change_text: str = Field(max_length=500)


class MoveIn(_ByHandIn):
    pass


class PlaceIn(_ByHandIn):
    tracking_number: str = Field(max_length=20, description="A request waiting for an audience, holding none")


class AppointmentOut(BaseModel):
    id: int
    tracking_number: str
    seat: int
    explanation: str


class SlotOut(BaseModel):
    id: int
    room_id: int
    starts_at: datetime
    ends_at: datetime
    capacity: int
    blocked_by: str | None
    appointments: list[AppointmentOut]


class AudienceSessionOut(BaseModel):
    id: int
    day: date
    starts_at: datetime
    ends_at: datetime
    mode: str
    state: str
    locked: bool
    slots: list[SlotOut]


class RunOut(BaseModel):
    new_sessions: int
    placed: int
    still_waiting: int
    lost_races: int


class BusyOut(BaseModel):
    busy_times: int
    blocked_slots: int


class AtRiskOut(BaseModel):
    tracking_number: str
    deadline: datetime
    projected: datetime | None


class TargetOut(BaseModel):
    extra_slots_per_week: int
    at_risk: list[AtRiskOut]


CALENDAR_INPUTS: tuple[type[BaseModel], ...] = (
    RoomIn,
    RoomNamesIn,
    TemplateIn,
    ExtraSessionIn,
    HolidayIn,
    CancelIn,
    MoveIn,
    PlaceIn,
)
CALENDAR_OUTPUTS: tuple[type[BaseModel], ...] = (
    RoomOut,
    AudienceSessionOut,
    RunOut,
    BusyOut,
    TargetOut,
    AppointmentOut,
)


def _run_out(report: scheduling.RunReport, new_sessions: int = 0) -> RunOut:
    return RunOut(
        new_sessions=new_sessions, placed=report.placed, still_waiting=report.unplaced, lost_races=report.lost_races
    )


async def _answer(request: web.Request, work: Callable[[], Awaitable[Any]], status: int = 200) -> web.Response:
    """Runs the work; InvalidInput is a 422 naming the fields, a DomainError a 409 with its reason."""
    try:
        body = await work()
    except InvalidInput as exc:
        return invalid_input(request, exc.errors)
    except DomainError as exc:
        return refusal(request, exc)
    if isinstance(body, BaseModel):
        return web.json_response(body.model_dump(mode="json"), status=status)
    return web.json_response([item.model_dump(mode="json") for item in body], status=status)


def _room_out(room: Any) -> RoomOut:
    return RoomOut(
        id=room.id,
        branch=room.branch_code,
        name=room.name,
        name_en=room.name_en,
        kind=room.kind.value,
        capacity=room.capacity,
        wheelchair_access=room.wheelchair_access,
    )


@routes.get("/api/v1/calendar/rooms")
@requires(*PROTOCOL)
async def list_rooms(request: web.Request) -> web.Response:
    async def work() -> list[RoomOut]:
        return [_room_out(r) for r in await rooms.rooms(session=request[DB])]

    return await _answer(request, work)


@routes.post("/api/v1/calendar/rooms")
@requires(*PROTOCOL)
async def add_room(request: web.Request) -> web.Response:
    async def work() -> RoomOut:
        body = await parsed(request, RoomIn)
        room = await rooms.add_room(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            branch=body.branch,
            name=body.name,
            kind=body.kind,
            capacity=str(body.capacity),
            wheelchair_access=body.wheelchair_access,
            equipment=body.equipment,
            name_en=body.name_en,
        )
        return _room_out(room)

    return await _answer(request, work, status=201)


@routes.post("/api/v1/calendar/rooms/{room_id:\\d+}/name")
@requires(*PROTOCOL)
async def rename_room(request: web.Request) -> web.Response:
    async def work() -> RoomOut:
        body = await parsed(request, RoomNamesIn)
        if await rooms.get_room(session=request[DB], room_id=int(request.match_info["room_id"])) is None:
            raise DomainError("room_not_found", N_("There is no such room."))
        room = await rooms.rename_room(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            room_id=int(request.match_info["room_id"]),
            name=body.name,
            name_en=body.name_en,
        )
        return _room_out(room)

    return await _answer(request, work)


@routes.post("/api/v1/calendar/templates")
@requires(*PROTOCOL)
async def add_template(request: web.Request) -> web.Response:
    async def work() -> RunOut:
        body = await parsed(request, TemplateIn)
        data = calendar.TemplateInput(
            name=body.name,
            weekday=str(body.weekday),
            starts=body.starts,
            ends=body.ends,
            slot_minutes=str(body.slot_minutes),
            capacity=str(body.capacity),
            mode=body.mode,
            room_ids=tuple(body.rooms),
            outside_hours_confirmed=body.outside_hours_confirmed,
        )
        await calendar.add_template(
            session=request[DB], clock=request.app[CLOCK], actor_id=signed_in_user(request).id, data=data
        )
        made = await calendar.generate_sessions(session=request[DB], clock=request.app[CLOCK])
        return RunOut(new_sessions=made, placed=0, still_waiting=0, lost_races=0)

    return await _answer(request, work, status=201)


@routes.post("/api/v1/calendar/sessions")
@requires(*PROTOCOL)
async def add_extra_session(request: web.Request) -> web.Response:
    async def work() -> RunOut:
        body = await parsed(request, ExtraSessionIn)
        data = calendar.TemplateInput(
            name="extra",
            weekday="",
            starts=body.starts,
            ends=body.ends,
            slot_minutes=str(body.slot_minutes),
            capacity=str(body.capacity),
            mode=body.mode,
            room_ids=tuple(body.rooms),
            outside_hours_confirmed=body.outside_hours_confirmed,
        )
        await calendar.add_extra_session(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            day=body.day.isoformat(),
            data=data,
        )
        return RunOut(new_sessions=1, placed=0, still_waiting=0, lost_races=0)

    return await _answer(request, work, status=201)


@routes.get("/api/v1/calendar/sessions")
@requires(*PROTOCOL)
async def list_sessions(request: web.Request) -> web.Response:
    async def work() -> list[AudienceSessionOut]:
        today = riyadh(request.app[CLOCK].now()).date()
        try:
            start = date.fromisoformat(request.query.get("from", today.isoformat()))
            end = date.fromisoformat(request.query.get("to", (start + timedelta(days=14)).isoformat()))
        except ValueError:
            raise InvalidInput(
                [FieldError("from", "invalid_date", N_("{field} must be a date such as 2026-12-06."))]
            ) from None
        found = await views.sessions_with_slots(
            session=request[DB], start=start, end=min(end, start + timedelta(days=120))
        )
        # Whose each seat is only within the reader's need to know (each view logged): others' are blank.
        visible = await personal_data.seen_in_list(
            request, [c.id for s in found for v in s.slots for _, c in v.appointments]
        )
        return [
            AudienceSessionOut(
                id=s.session.id,
                day=s.session.day,
                starts_at=s.session.starts_at,
                ends_at=s.session.ends_at,
                mode=s.session.mode.value,
                state=s.session.state.value,
                locked=s.session.locked,
                slots=[
                    SlotOut(
                        id=v.slot.id,
                        room_id=v.slot.room_id,
                        starts_at=v.slot.starts_at,
                        ends_at=v.slot.ends_at,
                        capacity=v.slot.capacity,
                        blocked_by=v.slot.blocked_by,
                        appointments=[
                            AppointmentOut(
                                id=a.id, tracking_number=c.tracking_number, seat=a.seat, explanation=a.explanation
                            )
                            if c.id in visible
                            else AppointmentOut(id=a.id, tracking_number="", seat=a.seat, explanation="")
                            for a, c in v.appointments
                        ],
                    )
                    for v in s.slots
                ],
            )
            for s in found
        ]

    return await _answer(request, work)


@routes.post("/api/v1/calendar/sessions/{session_id:\\d+}/cancel")
@requires(*PROTOCOL)
async def cancel_session(request: web.Request) -> web.Response:
    async def work() -> RunOut:
        body = await parsed(request, CancelIn)
        report = await changes.cancel_session(
            session=request[DB],
            clock=request.app[CLOCK],
            session_id=int(request.match_info["session_id"]),
            actor_id=signed_in_user(request).id,
            reason=body.reason,
            status_url=status_url(request),
            horizon=request.app[SETTINGS].allocation_horizon,
        )
        return _run_out(report)

    return await _answer(request, work)


@routes.post("/api/v1/calendar/holidays")
@requires(*PROTOCOL)
async def add_holiday(request: web.Request) -> web.Response:
    async def work() -> HolidayIn:
        body = await parsed(request, HolidayIn)
        await changes.declare_holiday(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            day=body.day,
            name=body.name,
            status_url=status_url(request),
            horizon=request.app[SETTINGS].allocation_horizon,
        )
        return body

    return await _answer(request, work, status=201)


@routes.post("/api/v1/calendar/busy")
@requires(*PROTOCOL)
async def import_busy(request: web.Request) -> web.Response:
    """The official's calendar as the body (text/calendar); every slot it makes busy is blocked."""

    async def work() -> BusyOut:
        data = await request.read()
        now = request.app[CLOCK].now()
        try:
            intervals = await asyncio.to_thread(
                busy_feed.busy_intervals,
                data,
                window_start=now,
                window_end=now + timedelta(weeks=calendar.WEEKS_AHEAD + 1),
            )
        except busy_feed.CalendarUnreadable as exc:
            raise InvalidInput(
                [FieldError("body", exc.reason, N_("{field} is not an iCalendar calendar that can be read."))]
            ) from None
        blocked, _moved = await changes.import_busy_times(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            busy=intervals,
            status_url=status_url(request),
            horizon=request.app[SETTINGS].allocation_horizon,
        )
        return BusyOut(busy_times=len(intervals), blocked_slots=blocked)

    return await _answer(request, work)


@routes.post("/api/v1/calendar/allocate")
@requires(*PROTOCOL)
async def allocate(request: web.Request) -> web.Response:
    async def work() -> RunOut:
        made = await calendar.generate_sessions(session=request[DB], clock=request.app[CLOCK])
        report = await scheduling.run_allocation(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            status_url=status_url(request),
            horizon=request.app[SETTINGS].allocation_horizon,
        )
        return _run_out(report, new_sessions=made)

    return await _answer(request, work)


def _by_hand(request: web.Request, body: _ByHandIn) -> manual.ByHand:
    """The slot, reason and directive of a move or placement, chosen by the member of protocol signed in."""
    return manual.ByHand(
        to_slot_id=body.to_slot,
        actor_id=signed_in_user(request).id,
        change_reason=body.change_reason,
        change_text=body.change_text,
        status_url=status_url(request),
        directive=body.directive,
        policy=confirmations.policy_from(request.app[SETTINGS]),
    )


@routes.post("/api/v1/calendar/appointments/{appointment_id:\\d+}/move")
@requires(*PROTOCOL)
async def move(request: web.Request) -> web.Response:
    async def work() -> AppointmentOut:
        body = await parsed(request, MoveIn)
        moved = await manual.move_appointment(
            session=request[DB],
            clock=request.app[CLOCK],
            appointment_id=int(request.match_info["appointment_id"]),
            by_hand=_by_hand(request, body),
        )
        return AppointmentOut(id=moved.id, tracking_number="", seat=moved.seat, explanation=moved.explanation)

    return await _answer(request, work)


@routes.post("/api/v1/calendar/placements")
@requires(*PROTOCOL)
async def place(request: web.Request) -> web.Response:
    async def work() -> AppointmentOut:
        body = await parsed(request, PlaceIn)
        placed = await manual.place_by_hand(
            session=request[DB],
            clock=request.app[CLOCK],
            tracking_number=body.tracking_number,
            by_hand=_by_hand(request, body),
        )
        case = await cases.get_case(session=request[DB], case_id=placed.case_id)
        assert case is not None
        return AppointmentOut(
            id=placed.id, tracking_number=case.tracking_number, seat=placed.seat, explanation=placed.explanation
        )

    return await _answer(request, work, status=201)


@routes.get("/api/v1/calendar/target")
@requires(*PROTOCOL)
async def thirty_day_target(request: web.Request) -> web.Response:
    async def work() -> TargetOut:
        report = await target.target_report(session=request[DB], clock=request.app[CLOCK])
        visible = await personal_data.seen_in_list(request, [r.case.id for r in report.at_risk])
        return TargetOut(
            extra_slots_per_week=report.extra_slots_per_week,
            at_risk=[
                AtRiskOut(
                    tracking_number=r.case.tracking_number if r.case.id in visible else "",
                    deadline=r.deadline,
                    projected=r.projected,
                )
                for r in report.at_risk
            ],
        )

    return await _answer(request, work)
