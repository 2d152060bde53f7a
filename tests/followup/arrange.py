"""Departments, contacts and referrals for follow-up tests, written straight to the tables."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from followup.models import ContactRole, Department, DepartmentContact
from majlis.db import transaction
from worktime.models import WorkingCalendar

Sessions = async_sessionmaker[AsyncSession]


async def add_department(
    sessions: Sessions,
    code: str,
    *,
    name_ar: str = "",
    name_en: str = "",
    parent: str | None = None,
    calendar: str = "government",
    liaison_phone: str = "",
) -> int:
    """A department on a calendar, under a parent, with a head, a deputy and a liaison officer."""
    async with transaction(sessions) as session:
        calendar_id = await session.scalar(select(WorkingCalendar.id).where(WorkingCalendar.code == calendar))
        parent_id = await session.scalar(select(Department.id).where(Department.code == parent)) if parent else None
        assert calendar_id is not None
        department = Department(
            code=code,
            name_ar=name_ar or f"إدارة {code}",
            name_en=name_en or f"{code.title()} Department",
            parent_id=parent_id,
            calendar_id=calendar_id,
            email=f"{code}@example.org",
            active=True,
        )
        session.add(department)
        await session.flush()
        for role, phone in ((ContactRole.HEAD, ""), (ContactRole.DEPUTY, ""), (ContactRole.LIAISON, liaison_phone)):
            session.add(
                DepartmentContact(
                    department_id=department.id,
                    role=role,
                    name=f"{role.value} of {code}",
                    email=f"{role.value}.{code}@example.org",
                    phone=phone,
                    language="ar",
                    active=True,
                )
            )
        return department.id
