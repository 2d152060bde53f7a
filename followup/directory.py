"""The managed directory of departments: the tree that gives escalation its ranks.

A department's parent is the next rank up; the top of the tree has none. Codes
are lower-case slugs that stay as they were made (links, reports and the
command line name departments by them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from cases.intake import MAX_EMAIL
from followup.models import Department
from majlis.clock import Clock
from majlis.errors import N_, DomainError, FieldError, InvalidInput, required, too_long
from worktime import editing as calendars

_CODE = re.compile(r"[a-z][a-z0-9_-]{1,39}")
# As intake checks an applicant's e-mail: one @, a dot after it, no spaces.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
NAME_LIMIT = 200


class DepartmentNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("department_not_found", N_("There is no department with this code."))


@dataclass(frozen=True)
class DepartmentInput:
    """A department as typed: the parent and calendar by their codes (no parent: the top of the tree)."""

    code: str
    name_ar: str
    name_en: str
    parent: str
    calendar: str
    email: str


@dataclass(frozen=True)
class TreeRow:
    department: Department
    depth: int
    parent_code: str | None
    calendar_code: str


def clean_name(field: str, value: str, errors: list[FieldError], limit: int = NAME_LIMIT) -> str:
    value = " ".join(value.split())
    if not value:
        errors.append(required(field))
    elif len(value) > limit:
        errors.append(too_long(field, limit))
    return value


def clean_email(field: str, value: str, errors: list[FieldError]) -> str:
    value = value.strip().lower()
    if not value:
        errors.append(required(field))
    elif len(value) > MAX_EMAIL or not _EMAIL.fullmatch(value):
        errors.append(FieldError(field, "invalid_email", N_("{field} is not a valid e-mail address.")))
    return value


async def departments(*, session: AsyncSession, active_only: bool = False) -> list[Department]:
    query = select(Department).order_by(Department.code)
    if active_only:
        query = query.where(Department.active.is_(True))
    return list(await session.scalars(query))


async def department_by_code(*, session: AsyncSession, code: str) -> Department:
    found = await session.scalar(select(Department).where(Department.code == code.strip().lower()))
    if found is None:
        raise DepartmentNotFound()
    return found


async def tree(*, session: AsyncSession, active_only: bool = False) -> list[TreeRow]:
    """Every department, each under its parent, siblings by Arabic name (depth 0 at the top)."""
    every = await departments(session=session)
    codes = {d.id: d.code for d in every}
    calendar_codes = {c.id: c.code for c in await calendars.calendars(session=session)}
    children: dict[int | None, list[Department]] = {}
    for department in every:
        children.setdefault(department.parent_id, []).append(department)
    rows: list[TreeRow] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for department in sorted(children.get(parent_id, []), key=lambda d: (d.name_ar, d.code)):
            if active_only and not department.active:
                continue
            parent_code = codes.get(department.parent_id) if department.parent_id is not None else None
            rows.append(TreeRow(department, depth, parent_code, calendar_codes.get(department.calendar_id, "")))
            walk(department.id, depth + 1)

    walk(None, 0)
    return rows


async def _parents(session: AsyncSession) -> dict[int, int | None]:
    # Departments are a few hundred at most: one query for the whole tree beats one per rank.
    return {i: p for i, p in (await session.execute(select(Department.id, Department.parent_id))).all()}


def _chain(parents: dict[int, int | None], department_id: int) -> list[int]:
    """The department's id, then its parent's, up to the top (a cycle, which edits refuse, would stop it)."""
    chain = [department_id]
    while (parent := parents.get(chain[-1])) is not None and parent not in chain:
        chain.append(parent)
    return chain


async def ancestors(*, session: AsyncSession, department_id: int) -> list[Department]:
    """The departments above this one, its parent first, the top of the tree last."""
    ids = _chain(await _parents(session), department_id)[1:]
    found = {d.id: d for d in await session.scalars(select(Department).where(Department.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids]


async def department_at_rank(*, session: AsyncSession, department_id: int, rank: int) -> Department:
    """The department `rank` steps up from this one (0 is itself), stopping at the top of the tree."""
    chain = _chain(await _parents(session), department_id)
    found = await session.get(Department, chain[min(max(rank, 0), len(chain) - 1)])
    if found is None:
        raise DepartmentNotFound()
    return found


async def _checked(
    session: AsyncSession, data: DepartmentInput, errors: list[FieldError], editing: Department | None
) -> tuple[str, str, int | None, int, str]:
    """The names, parent id, calendar id and e-mail typed, errors added for each bad field."""
    name_ar = clean_name("name_ar", data.name_ar, errors)
    name_en = clean_name("name_en", data.name_en, errors)
    email = clean_email("email", data.email, errors)
    parent_id: int | None = None
    if data.parent.strip():
        parent = await session.scalar(select(Department).where(Department.code == data.parent.strip().lower()))
        if parent is None:
            errors.append(FieldError("parent", "unknown", N_("{field} is not one of the departments.")))
        elif editing is not None and editing.id in _chain(await _parents(session), parent.id):
            errors.append(
                FieldError(
                    "parent", "cycle", N_("A department cannot be placed under itself or one of its sub-departments.")
                )
            )
        elif not parent.active:
            errors.append(FieldError("parent", "inactive", N_("{field} has been deactivated.")))
        else:
            parent_id = parent.id
    calendar_id = 0
    try:
        calendar = await calendars.calendar_by_code(session=session, code=data.calendar)
    except calendars.CalendarNotFound:
        errors.append(
            required("calendar")
            if not data.calendar.strip()
            else FieldError("calendar", "unknown", N_("{field} is not one of the working calendars."))
        )
    else:
        calendar_id = calendar.id
        if not await calendars.has_working_time(session=session, calendar_id=calendar.id):
            errors.append(
                FieldError(
                    "calendar",
                    "no_hours",
                    N_("This calendar has no working hours yet, so no deadline could ever fall due."),
                )
            )
    return name_ar, name_en, parent_id, calendar_id, email


async def add_department(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, data: DepartmentInput
) -> Department:
    """A new active department; InvalidInput names every bad field and nothing is saved."""
    errors: list[FieldError] = []
    code = data.code.strip().lower()
    if not _CODE.fullmatch(code):
        errors.append(FieldError("code", "invalid", N_("{field} must be 2 to 40 small Latin letters, digits, - or _.")))
    elif await session.scalar(select(Department.id).where(Department.code == code)) is not None:
        errors.append(FieldError("code", "taken", N_("This code is already taken.")))
    name_ar, name_en, parent_id, calendar_id, email = await _checked(session, data, errors, None)
    if errors:
        raise InvalidInput(errors)
    department = Department(
        code=code,
        name_ar=name_ar,
        name_en=name_en,
        parent_id=parent_id,
        calendar_id=calendar_id,
        email=email,
        active=True,
    )
    session.add(department)
    await session.flush()
    await record(session, clock, actor_id, "department.add", "department", code, {"parent": data.parent.strip()})
    return department


async def update_department(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, code: str, data: DepartmentInput
) -> Department:
    """New names, parent, calendar or e-mail for a department (its code stays)."""
    department = await department_by_code(session=session, code=code)
    errors: list[FieldError] = []
    name_ar, name_en, parent_id, calendar_id, email = await _checked(session, data, errors, department)
    if errors:
        raise InvalidInput(errors)
    before = _described(department)
    department.name_ar, department.name_en, department.email = name_ar, name_en, email
    department.parent_id, department.calendar_id = parent_id, calendar_id
    await session.flush()
    after = _described(department)
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    await record(session, clock, actor_id, "department.update", "department", department.code, changed)
    return department


def _described(department: Department) -> dict[str, object]:
    return {
        "name_ar": department.name_ar,
        "name_en": department.name_en,
        "parent_id": department.parent_id,
        "calendar_id": department.calendar_id,
        "email": department.email,
    }


async def set_department_active(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, code: str, active: bool
) -> Department:
    """Takes a department out of the directory or puts it back; the tree of active departments stays whole."""
    department = await department_by_code(session=session, code=code)
    if not active:
        child = await session.scalar(
            select(Department.code).where(Department.parent_id == department.id, Department.active.is_(True)).limit(1)
        )
        if child is not None:
            raise InvalidInput(
                [
                    FieldError(
                        "active",
                        "has_children",
                        N_("Deactivate or move its sub-departments first (for example {code})."),
                        {"code": child},
                    )
                ]
            )
    elif department.parent_id is not None:
        parent = await session.get(Department, department.parent_id)
        if parent is not None and not parent.active:
            raise InvalidInput([FieldError("parent", "inactive", N_("{field} has been deactivated."))])
    if department.active != active:
        department.active = active
        await session.flush()
        action = "department.activate" if active else "department.deactivate"
        await record(session, clock, actor_id, action, "department", department.code, {})
    return department


async def names(*, session: AsyncSession, ids: Iterable[int]) -> dict[int, Department]:
    """Departments by id, for pages that show whose a referral or an account is."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {d.id: d for d in await session.scalars(select(Department).where(Department.id.in_(wanted)))}


async def record(
    session: AsyncSession,
    clock: Clock,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: str | int,
    details: Mapping[str, object],
) -> None:
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=dict(details),
    )
