"""Special care on audience day: escort and transport tasks for protocol staff.

An applicant whose request records a special-care need (wheelchair, transport
between halls, elderly, interpreter) gets one task per need for each of the
day's appointments that is still ahead or under way. Protocol assigns each task
to one of its staff and marks it done.

Tasks are made when the day board is looked at, any number of times and from
any number of tablets at once: the unique (appointment, kind) index and
`INSERT … ON CONFLICT DO NOTHING` make each task once, and a concurrent view
never fails on a task another view has just made.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from accounts import service as accounts
from accounts.roles import Role
from audience_day.models import CareKind, CareTask, TaskState
from cases.models import Case
from majlis.clock import Clock, riyadh
from majlis.errors import N_, DomainError
from scheduler.models import LIVE_STATES, Appointment, AudienceSession, SessionState, Slot


class CareRefused(DomainError):
    """A care-task action that cannot be done; nothing has changed."""


def care_needs(case: Case) -> tuple[CareKind, ...]:
    """The special-care needs recorded on the request, in a fixed order."""
    flags = {
        CareKind.WHEELCHAIR: case.care_wheelchair,
        CareKind.TRANSPORT: case.care_transport,
        CareKind.ELDERLY: case.care_elderly,
        CareKind.INTERPRETER: case.care_interpreter,
    }
    return tuple(kind for kind, needed in flags.items() if needed)


def _insert(session: AsyncSession) -> Any:
    """The INSERT construct of the session's dialect, which knows ON CONFLICT."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def ensure_tasks_for_day(*, session: AsyncSession, clock: Clock, day: date) -> int:
    """Makes the missing care tasks of the day's live appointments; gives how many were made."""
    rows = (
        await session.execute(
            select(Appointment.id, Appointment.case_id, Case)
            .join(Slot, Slot.id == Appointment.slot_id)
            .join(AudienceSession, AudienceSession.id == Slot.session_id)
            .join(Case, Case.id == Appointment.case_id)
            .where(
                AudienceSession.day == day,
                AudienceSession.state == SessionState.PLANNED,
                Appointment.state.in_(LIVE_STATES),
                or_(Case.care_wheelchair, Case.care_transport, Case.care_elderly, Case.care_interpreter),
            )
        )
    ).all()
    wanted = {(appointment_id, kind): case_id for appointment_id, case_id, case in rows for kind in care_needs(case)}
    if not wanted:
        return 0
    made_already = await session.execute(
        select(CareTask.appointment_id, CareTask.kind).where(
            CareTask.appointment_id.in_({appointment_id for appointment_id, _ in wanted})
        )
    )
    existing = {(appointment_id, kind) for appointment_id, kind in made_already}
    missing = [key for key in wanted if key not in existing]
    if not missing:
        return 0
    now = clock.now()
    result = await session.execute(
        _insert(session)(CareTask)
        .values(
            [
                {
                    "appointment_id": appointment_id,
                    "case_id": wanted[(appointment_id, kind)],
                    "day": day,
                    "kind": kind,
                    "state": TaskState.OPEN,
                    "created_at": now,
                }
                for appointment_id, kind in missing
            ]
        )
        .on_conflict_do_nothing(index_elements=[CareTask.appointment_id, CareTask.kind])
    )
    made: int = getattr(result, "rowcount", 0) or 0
    return made


async def tasks_for(*, session: AsyncSession, appointment_ids: set[int]) -> dict[int, list[CareTask]]:
    """The care tasks of these appointments, by appointment, in a fixed order of kinds."""
    if not appointment_ids:
        return {}
    order = list(CareKind)
    found: dict[int, list[CareTask]] = {}
    for task in await session.scalars(select(CareTask).where(CareTask.appointment_id.in_(appointment_ids))):
        found.setdefault(task.appointment_id, []).append(task)
    for tasks in found.values():
        tasks.sort(key=lambda t: order.index(t.kind))
    return found


async def _locked_task(session: AsyncSession, task_id: int) -> CareTask:
    task = await session.get(CareTask, task_id, with_for_update=True, populate_existing=True)
    if task is None:
        raise CareRefused("no_task", N_("There is no such care task."))
    return task


async def assign(*, session: AsyncSession, clock: Clock, task_id: int, staff_id: int, actor_id: int) -> CareTask:
    """Gives an open task to a member of protocol staff (again to another, while it is open)."""
    task = await _locked_task(session, task_id)
    if task.state is TaskState.DONE:
        raise CareRefused("task_done", N_("This task is already done; it cannot be assigned."))
    staff = await accounts.get_user(session=session, user_id=staff_id)
    if staff is None or not staff.is_active or staff.role is not Role.PROTOCOL:
        raise CareRefused("not_protocol", N_("Care tasks are assigned to active protocol staff only."))
    if task.assigned_to_id == staff.id:
        return task
    before = task.assigned_to_id
    task.assigned_to_id = staff.id
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="care_task.assign",
        target_type="care_task",
        target_id=task.id,
        details={"from": before, "to": staff.id, "kind": task.kind.value},
    )
    await session.flush()
    return task


async def mark_done(*, session: AsyncSession, clock: Clock, task_id: int, actor_id: int) -> CareTask:
    """Marks an open task done; a task done already is refused, naming when, and keeps its record."""
    task = await _locked_task(session, task_id)
    if task.state is TaskState.DONE:
        done_at = riyadh(task.done_at).strftime("%H:%M") if task.done_at else ""
        raise CareRefused("already_done", N_("This task was already marked done at {time}."), time=done_at)
    task.state = TaskState.DONE
    task.done_at = clock.now()
    task.done_by_id = actor_id
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="care_task.done",
        target_type="care_task",
        target_id=task.id,
        details={"kind": task.kind.value, "assigned_to": task.assigned_to_id},
    )
    await session.flush()
    return task
