"""The directory over JSON: /api/v1/departments (and their contacts), /api/v1/calendars, /api/v1/policies.

Follow-up and administrators read; only administrators change. Signed in with
the staff session cookie; every change carries the X-CSRF-Token header (GET
/api/v1/session gives it). Refusals are the API's usual bilingual errors naming
each field (422), 404 for what does not exist, 409 for a refused change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from accounts.roles import Role
from followup import contacts, directory, policies
from followup.contacts import ContactInput
from followup.directory import DepartmentInput, TreeRow
from followup.models import DepartmentContact
from followup.policies import Duration, LevelInput, PolicyInput, PolicyView, as_duration
from majlis.errors import DomainError, InvalidInput
from web.api import invalid_input
from web.auth import requires, signed_in_user
from web.errors import refusal
from web.followup_directory_models import (
    CalendarIn,
    CalendarOut,
    CalendarPatch,
    ContactIn,
    ContactOut,
    ContactPatch,
    DirectoryDepartmentIn,
    DirectoryDepartmentOut,
    DirectoryDepartmentPatch,
    HoursIn,
    HoursOut,
    LevelIn,
    LevelOut,
    PolicyIn,
    PolicyOut,
    PolicyPatch,
    WorkingHolidayIn,
    WorkingHolidayOut,
)
from web.keys import CLOCK, DB
from web.triage_api import parsed
from worktime import editing
from worktime.editing import CalendarInput, CalendarView, HoursInput

routes = web.RouteTableDef()
READERS = (Role.FOLLOW_UP,)


async def _answer(request: web.Request, work: Callable[[], Awaitable[Any]], status: int = 200) -> web.Response:
    """Runs the work: InvalidInput is a 422 naming the fields, a missing record 404, another refusal 409."""
    try:
        body = await work()
    except InvalidInput as exc:
        return invalid_input(request, exc.errors)
    except DomainError as exc:
        return refusal(request, exc)
    if body is None:
        return web.Response(status=204)
    if isinstance(body, BaseModel):
        return web.json_response(body.model_dump(mode="json"), status=status)
    return web.json_response([item.model_dump(mode="json") for item in body], status=status)


def _actor(request: web.Request) -> int:
    return signed_in_user(request).id


def _department_out(row: TreeRow) -> DirectoryDepartmentOut:
    d = row.department
    return DirectoryDepartmentOut(
        code=d.code,
        name_ar=d.name_ar,
        name_en=d.name_en,
        parent=row.parent_code,
        calendar=row.calendar_code,
        email=d.email,
        active=d.active,
        depth=row.depth,
    )


async def _department_row(request: web.Request, code: str) -> TreeRow:
    department = await directory.department_by_code(session=request[DB], code=code)
    return next(r for r in await directory.tree(session=request[DB]) if r.department.id == department.id)


@routes.get("/api/v1/departments")
@requires(*READERS)
async def list_departments(request: web.Request) -> web.Response:
    async def work() -> list[DirectoryDepartmentOut]:
        return [_department_out(row) for row in await directory.tree(session=request[DB])]

    return await _answer(request, work)


@routes.post("/api/v1/departments")
@requires()
async def add_department(request: web.Request) -> web.Response:
    async def work() -> DirectoryDepartmentOut:
        body = await parsed(request, DirectoryDepartmentIn)
        data = DepartmentInput(body.code, body.name_ar, body.name_en, body.parent or "", body.calendar, body.email)
        made = await directory.add_department(
            session=request[DB], clock=request.app[CLOCK], actor_id=_actor(request), data=data
        )
        return _department_out(await _department_row(request, made.code))

    return await _answer(request, work, status=201)


@routes.patch("/api/v1/departments/{code}")
@requires()
async def update_department(request: web.Request) -> web.Response:
    async def work() -> DirectoryDepartmentOut:
        code = request.match_info["code"]
        body = await parsed(request, DirectoryDepartmentPatch)
        row = await _department_row(request, code)
        sent = body.model_fields_set - {"active"}
        if sent:
            d = row.department
            data = DepartmentInput(
                d.code,
                body.name_ar if "name_ar" in sent and body.name_ar is not None else d.name_ar,
                body.name_en if "name_en" in sent and body.name_en is not None else d.name_en,
                (body.parent or "") if "parent" in sent else (row.parent_code or ""),
                body.calendar if "calendar" in sent and body.calendar is not None else row.calendar_code,
                body.email if "email" in sent and body.email is not None else d.email,
            )
            await directory.update_department(
                session=request[DB], clock=request.app[CLOCK], actor_id=_actor(request), code=code, data=data
            )
        if body.active is not None:
            await directory.set_department_active(
                session=request[DB], clock=request.app[CLOCK], actor_id=_actor(request), code=code, active=body.active
            )
        return _department_out(await _department_row(request, code))

    return await _answer(request, work)


def _contact_out(contact: DepartmentContact) -> ContactOut:
    return ContactOut(
        id=contact.id,
        role=contact.role.value,
        name=contact.name,
        email=contact.email,
        phone=contact.phone,
        language=contact.language,
        active=contact.active,
    )


@routes.get("/api/v1/departments/{code}/contacts")
@requires(*READERS)
async def list_contacts(request: web.Request) -> web.Response:
    async def work() -> list[ContactOut]:
        department = await directory.department_by_code(session=request[DB], code=request.match_info["code"])
        return [_contact_out(c) for c in await contacts.contacts(session=request[DB], department_id=department.id)]

    return await _answer(request, work)


@routes.post("/api/v1/departments/{code}/contacts")
@requires()
async def add_contact(request: web.Request) -> web.Response:
    async def work() -> ContactOut:
        body = await parsed(request, ContactIn)
        made = await contacts.add_contact(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=_actor(request),
            department_code=request.match_info["code"],
            data=ContactInput(body.role, body.name, body.email, body.phone, body.language),
        )
        return _contact_out(made)

    return await _answer(request, work, status=201)


@routes.patch("/api/v1/departments/{code}/contacts/{contact_id:\\d{1,9}}")
@requires()
async def update_contact(request: web.Request) -> web.Response:
    async def work() -> ContactOut:
        code, contact_id = request.match_info["code"], int(request.match_info["contact_id"])
        body = await parsed(request, ContactPatch)
        department = await directory.department_by_code(session=request[DB], code=code)
        found = await contacts.contacts(session=request[DB], department_id=department.id)
        contact = next((c for c in found if c.id == contact_id), None)
        if contact is None:
            raise contacts.ContactNotFound()
        sent = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None and k != "active"}
        session, clock, actor_id = request[DB], request.app[CLOCK], _actor(request)
        if sent:
            current = {name: str(getattr(contact, name)) for name in ("role", "name", "email", "phone", "language")}
            contact = await contacts.update_contact(
                session=session,
                clock=clock,
                actor_id=actor_id,
                department_code=code,
                contact_id=contact_id,
                data=ContactInput(**{**current, **sent}),
            )
        if body.active is not None:
            contact = await contacts.set_contact_active(
                session=session,
                clock=clock,
                actor_id=actor_id,
                department_code=code,
                contact_id=contact_id,
                active=body.active,
            )
        return _contact_out(contact)

    return await _answer(request, work)


def _calendar_out(view: CalendarView) -> CalendarOut:
    c = view.calendar
    return CalendarOut(
        code=c.code,
        name_ar=c.name_ar,
        name_en=c.name_en,
        time_zone=c.time_zone,
        always_open=c.always_open,
        hours=[HoursOut(weekday=h.weekday, opens=f"{h.opens:%H:%M}", closes=f"{h.closes:%H:%M}") for h in view.hours],
        holidays=[WorkingHolidayOut(day=h.day, name=h.name) for h in view.holidays],
    )


def _hours(typed: list[HoursIn]) -> list[HoursInput]:
    return [HoursInput(str(h.weekday), h.opens, h.closes) for h in typed]


@routes.get("/api/v1/calendars")
@requires(*READERS)
async def list_calendars(request: web.Request) -> web.Response:
    async def work() -> list[CalendarOut]:
        every = await editing.calendars(session=request[DB])
        return [_calendar_out(await editing.view(session=request[DB], code=c.code)) for c in every]

    return await _answer(request, work)


@routes.post("/api/v1/calendars")
@requires()
async def add_calendar(request: web.Request) -> web.Response:
    async def work() -> CalendarOut:
        body = await parsed(request, CalendarIn)
        data = CalendarInput(body.code, body.name_ar, body.name_en, body.time_zone, body.always_open)
        made = await editing.add_calendar(
            session=request[DB], clock=request.app[CLOCK], actor_id=_actor(request), data=data, hours=_hours(body.hours)
        )
        return _calendar_out(await editing.view(session=request[DB], code=made.code))

    return await _answer(request, work, status=201)


@routes.patch("/api/v1/calendars/{code}")
@requires()
async def update_calendar(request: web.Request) -> web.Response:
    async def work() -> CalendarOut:
        body = await parsed(request, CalendarPatch)
        c = await editing.calendar_by_code(session=request[DB], code=request.match_info["code"])
        data = CalendarInput(
            c.code,
            body.name_ar if body.name_ar is not None else c.name_ar,
            body.name_en if body.name_en is not None else c.name_en,
            body.time_zone if body.time_zone is not None else c.time_zone,
            body.always_open if body.always_open is not None else c.always_open,
        )
        await editing.update_calendar(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=_actor(request),
            code=c.code,
            data=data,
            hours=_hours(body.hours) if body.hours is not None else None,
        )
        return _calendar_out(await editing.view(session=request[DB], code=c.code))

    return await _answer(request, work)


@routes.post("/api/v1/calendars/{code}/holidays")
@requires()
async def add_holiday(request: web.Request) -> web.Response:
    async def work() -> WorkingHolidayOut:
        body = await parsed(request, WorkingHolidayIn)
        added = await editing.add_holiday(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=_actor(request),
            code=request.match_info["code"],
            day=body.day,
            name=body.name,
        )
        return WorkingHolidayOut(day=added.day, name=added.name)

    return await _answer(request, work, status=201)


@routes.delete("/api/v1/calendars/{code}/holidays/{day}")
@requires()
async def remove_holiday(request: web.Request) -> web.Response:
    async def work() -> None:
        await editing.remove_holiday(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=_actor(request),
            code=request.match_info["code"],
            day=request.match_info["day"],
        )

    return await _answer(request, work)


def _policy_out(view: PolicyView) -> PolicyOut:
    p = view.policy
    return PolicyOut(
        id=p.id,
        name=p.name,
        category_code=p.category_code,
        urgency=p.urgency.value if p.urgency else None,
        first_response_minutes=p.first_response_minutes,
        update_minutes=p.update_minutes,
        solution_minutes=p.solution_minutes,
        round_the_clock=p.round_the_clock,
        active=p.active,
        levels=[
            LevelOut(
                level=lv.level,
                percent_of_solution=lv.percent_of_solution,
                extra_minutes=lv.extra_minutes,
                rank=lv.rank,
                contact_role=lv.contact_role.value,
            )
            for lv in view.levels
        ],
    )


def _ladder(levels: list[LevelIn]) -> list[LevelInput]:
    return [
        LevelInput(
            str(lv.percent_of_solution),
            Duration(str(lv.extra_amount), lv.extra_unit),
            str(lv.rank),
            lv.contact_role,
        )
        for lv in levels
    ]


def _amount(value: int | None) -> str:
    return "" if value is None else str(value)


@routes.get("/api/v1/policies")
@requires(*READERS)
async def list_policies(request: web.Request) -> web.Response:
    async def work() -> list[PolicyOut]:
        return [_policy_out(view) for view in await policies.policies(session=request[DB])]

    return await _answer(request, work)


@routes.post("/api/v1/policies")
@requires()
async def add_policy(request: web.Request) -> web.Response:
    async def work() -> PolicyOut:
        body = await parsed(request, PolicyIn)
        data = PolicyInput(
            name=body.name,
            category_code=body.category_code or "",
            urgency=body.urgency or "",
            first_response=Duration(_amount(body.first_response_amount), body.first_response_unit),
            update=Duration(_amount(body.update_amount), body.update_unit),
            solution=Duration(_amount(body.solution_amount), body.solution_unit),
            round_the_clock=body.round_the_clock,
        )
        made = await policies.add_policy(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=_actor(request),
            data=data,
            ladder=_ladder(body.levels),
        )
        return _policy_out(await policies.policy_view(session=request[DB], policy_id=made.id))

    return await _answer(request, work, status=201)


def _kept(minutes: int | None) -> tuple[str, str]:
    if minutes is None:
        return "", "working_days"
    amount, unit = as_duration(minutes)
    return str(amount), unit.value


@routes.patch("/api/v1/policies/{policy_id:\\d{1,9}}")
@requires()
async def update_policy(request: web.Request) -> web.Response:
    async def work() -> PolicyOut:
        policy_id = int(request.match_info["policy_id"])
        body = await parsed(request, PolicyPatch)
        p = (await policies.policy_view(session=request[DB], policy_id=policy_id)).policy
        sent = body.model_fields_set - {"active"}
        session, clock, actor_id = request[DB], request.app[CLOCK], _actor(request)
        if sent:

            def duration(name: str, minutes: int | None) -> Duration:
                amount, unit = _kept(minutes)
                if f"{name}_amount" in sent:
                    amount = _amount(getattr(body, f"{name}_amount"))
                return Duration(amount, getattr(body, f"{name}_unit") or unit)

            data = PolicyInput(
                name=body.name if body.name is not None else p.name,
                category_code=(body.category_code or "") if "category_code" in sent else (p.category_code or ""),
                urgency=(body.urgency or "") if "urgency" in sent else (p.urgency.value if p.urgency else ""),
                first_response=duration("first_response", p.first_response_minutes),
                update=duration("update", p.update_minutes),
                solution=duration("solution", p.solution_minutes),
                round_the_clock=body.round_the_clock if body.round_the_clock is not None else p.round_the_clock,
            )
            ladder = _ladder(body.levels) if body.levels is not None else None
            await policies.update_policy(
                session=session, clock=clock, actor_id=actor_id, policy_id=policy_id, data=data, ladder=ladder
            )
        if body.active is not None:
            await policies.set_policy_active(
                session=session, clock=clock, actor_id=actor_id, policy_id=policy_id, active=body.active
            )
        return _policy_out(await policies.policy_view(session=request[DB], policy_id=policy_id))

    return await _answer(request, work)
