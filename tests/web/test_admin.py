"""Administrators create staff accounts; every such action lands in the audit log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry, StaffUser
from accounts.roles import Role
from majlis.clock import FrozenClock
from tests.factories import Client, csrf_token, make_staff, sign_in

Sessions = async_sessionmaker[AsyncSession]


async def test_admin_creates_an_account_and_it_is_audited(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    admin = await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    await sign_in(client, "admin")
    token = await csrf_token(client, "/admin/users")
    response = await client.post(
        "/admin/users",
        data={
            "username": "Huda.W",
            "full_name": "هدى",
            "role": "women_section",
            "gender": "female",
            "password": "a-long-password",
            "csrf_token": token,
        },
        allow_redirects=False,
    )
    assert response.status == 303
    async with sessions() as session:
        user = await session.scalar(select(StaffUser).where(StaffUser.username == "huda.w"))
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "staff.create", AuditEntry.actor_id == admin.id)
        )
    assert user is not None and user.role is Role.WOMEN_SECTION
    assert entry is not None and entry.details == {"username": "huda.w", "role": "women_section"}
    log = await (await client.get("/admin/audit")).text()
    assert "staff.create" in log


async def test_bad_account_details_are_each_named(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    await sign_in(client, "admin")
    token = await csrf_token(client, "/admin/users")
    response = await client.post(
        "/admin/users",
        data={
            "username": "admin",
            "full_name": "",
            "role": "king",
            "gender": "x",
            "password": "short",
            "csrf_token": token,
        },
    )
    assert response.status == 422
    html = await response.text()
    for field in ("username", "full_name", "role", "gender", "password"):
        assert f'id="{field}-error"' in html
    async with sessions() as session:
        assert len(list(await session.scalars(select(StaffUser)))) == 1
