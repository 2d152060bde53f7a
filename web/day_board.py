"""Audience day for protocol: the day board with its care tasks, and the day's report."""

from __future__ import annotations

import re
from datetime import datetime

from aiohttp import web

from accounts import service as accounts
from accounts.roles import Role
from audience_day import board, care
from audience_day.models import CareKind
from audience_day.report import day_report
from majlis.clock import riyadh
from majlis.errors import N_, InvalidInput
from majlis.hijri import DAY_EXAMPLE, read_day
from rooms import service as rooms
from scheduler.models import AppointmentState
from web import labels, personal_data
from web.auth import requires, signed_in_user
from web.errors import domain_message
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE
from web.notices import done, notice
from web.pages import render

routes = web.RouteTableDef()
TASK_ASSIGNED = notice(N_("The task was assigned."))
TASK_DONE = notice(N_("The task was marked as done."))

APPOINTMENT_STATES = {
    AppointmentState.SCHEDULED: N_("Not confirmed"),
    AppointmentState.CONFIRMED: N_("Confirmed, expected"),
    AppointmentState.ARRIVED: N_("Arrived, waiting"),
    AppointmentState.IN_AUDIENCE: N_("With the official now"),
    AppointmentState.HELD: N_("Audience held"),
    AppointmentState.NO_SHOW: N_("Did not come"),
    AppointmentState.RELEASED: N_("Not reached"),
}
# What protocol does for each need.
CARE_TASKS = {
    CareKind.WHEELCHAIR: N_("Wheelchair escort"),
    CareKind.TRANSPORT: N_("Transport between halls"),
    CareKind.ELDERLY: N_("Escort for an elderly applicant"),
    CareKind.INTERPRETER: N_("Interpreter to accompany"),
}


def _hhmm(value: datetime | None) -> str:
    return riyadh(value).strftime("%H:%M") if value is not None else ""


def _board_path(branch: str) -> str:
    """The board's address, of one branch when chosen (a code of letters only; anything else shows them all)."""
    return f"/protocol/day?branch={branch}" if re.fullmatch(r"[a-z0-9_-]{1,16}", branch) else "/protocol/day"


async def _board_page(request: web.Request, *, form_error: str | None = None, status: int = 200) -> web.Response:
    session, clock = request[DB], request.app[CLOCK]
    day = riyadh(clock.now()).date()
    branches = await rooms.branches(session=session)
    branch = request.query.get("branch", "")
    if branch not in {b.code for b in branches}:
        branch = ""
    await care.ensure_tasks_for_day(session=session, clock=clock, day=day)
    rows = await board.day_board(session=session, clock=clock, day=day, branch_code=branch or None)
    # Names and care needs: only requests within the reader's need to know, each view logged.
    visible = await personal_data.seen_in_list(request, [row.item.case.id for row in rows])
    rows = [row for row in rows if row.item.case.id in visible]
    staff_ids = {i for row in rows for t in row.tasks for i in (t.assigned_to_id, t.done_by_id) if i is not None}
    context = {
        "day": day,
        "rows": rows,
        "branches": branches,
        "branch": branch,
        "board_path": _board_path(branch),
        "protocol_staff": await accounts.users_with_role(session=session, role=Role.PROTOCOL),
        "names": await accounts.names_by_id(session=session, ids=staff_ids),
        "states": APPOINTMENT_STATES,
        "care_tasks": CARE_TASKS,
        "labels": labels,
        "hhmm": _hhmm,
        "expected": sum(
            1 for r in rows if r.item.appointment.state in (AppointmentState.SCHEDULED, AppointmentState.CONFIRMED)
        ),
        "arrived": sum(1 for r in rows if r.item.arrived_at is not None),
        "waiting": sum(1 for r in rows if r.waiting),
        "open_tasks": sum(r.open_tasks for r in rows),
        "form_error": form_error,
    }
    return render(request, "protocol/day.html", context, status=status)


@routes.get("/protocol/day")
@requires(Role.PROTOCOL)
async def day_board(request: web.Request) -> web.Response:
    return await _board_page(request)


def _task_id(request: web.Request) -> int:
    return int(request.match_info["task_id"])


async def _after(request: web.Request, action: str) -> web.Response:
    """Runs the task action; back to the board, or the board with the refusal (404 for a task that is not there)."""
    form = await request.post()
    session, clock, actor = request[DB], request.app[CLOCK], signed_in_user(request)
    try:
        if action == "assign":
            staff = str(form.get("staff", ""))
            await care.assign(
                session=session,
                clock=clock,
                task_id=_task_id(request),
                staff_id=int(staff) if staff.isascii() and staff.isdigit() else -1,
                actor_id=actor.id,
            )
        else:
            await care.mark_done(session=session, clock=clock, task_id=_task_id(request), actor_id=actor.id)
    except care.CareRefused as exc:
        await session.rollback()
        if exc.code == "no_task":
            raise web.HTTPNotFound() from exc
        return await _board_page(
            request, form_error=domain_message(request.app[CATALOGS], request[LANGUAGE], exc), status=422
        )
    return done(
        request, _board_path(request.query.get("branch", "")), TASK_ASSIGNED if action == "assign" else TASK_DONE
    )


@routes.post("/protocol/day/tasks/{task_id:\\d+}/assign")
@requires(Role.PROTOCOL)
async def assign_task(request: web.Request) -> web.Response:
    return await _after(request, "assign")


@routes.post("/protocol/day/tasks/{task_id:\\d+}/done")
@requires(Role.PROTOCOL)
async def task_done(request: web.Request) -> web.Response:
    return await _after(request, "done")


@routes.get("/reports/day")
@requires(Role.PROTOCOL, Role.MANAGER, Role.OFFICIAL)
async def report_page(request: web.Request) -> web.Response:
    today = riyadh(request.app[CLOCK].now()).date()
    asked = request.query.get("day", "").strip()
    form_error = None
    day = today
    if asked:
        try:
            day = read_day(asked, field="day")
        except InvalidInput:
            form_error = request.app[CATALOGS].gettext(request[LANGUAGE], DAY_EXAMPLE)
    report = await day_report(session=request[DB], day=day)
    context = {"report": report, "form_error": form_error, "hhmm": _hhmm}
    return render(request, "reports/day.html", context, status=422 if form_error else 200)
