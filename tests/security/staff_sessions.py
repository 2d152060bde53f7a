"""Signed-in staff sessions for calling every guarded operation of the API with a role it admits."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from tests.factories import Client, make_staff, sign_in
from web.auth import ROLES_ATTRIBUTE
from web.security import SESSION_COOKIE

Sessions = async_sessionmaker[AsyncSession]
# Administrators manage accounts, not requests: a route's own working role reaches further into it.
ROLE_PREFERENCE = [r for r in Role if r is not Role.ADMINISTRATOR] + [Role.ADMINISTRATOR]


@dataclass(frozen=True)
class StaffCredentials:
    cookies: dict[str, str]
    csrf: str


def roles_by_operation(app: web.Application) -> dict[tuple[str, str], frozenset[Role]]:
    """(METHOD, path template) -> the roles the route's guard admits; public routes are absent."""
    found = {}
    for route in app.router.routes():
        roles = getattr(route.handler, ROLES_ATTRIBUTE, None)
        if roles is not None and route.resource is not None:
            found[(route.method, route.resource.canonical)] = roles
    return found


async def credentials_for(client: Client, sessions: Sessions, clock: FrozenClock, role: Role) -> StaffCredentials:
    """A fresh signed-in session of a new account with this role, and its CSRF token."""
    client.session.cookie_jar.clear()
    username = f"contract{role.value.replace('_', '')}"
    await make_staff(sessions, clock, role, username)
    await sign_in(client, username)
    # Every cookie of the signed-in browser: the session, and whatever the CSRF check binds its token to.
    jar = client.session.cookie_jar.filter_cookies(client.make_url("/"))
    assert SESSION_COOKIE in jar
    answer = await client.get("/api/v1/session")
    assert answer.status == 200, await answer.text()
    csrf = (await answer.json())["csrf_token"]
    client.session.cookie_jar.clear()
    return StaffCredentials(cookies={name: morsel.value for name, morsel in jar.items()}, csrf=csrf)


async def credentials_by_operation(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> dict[tuple[str, str], StaffCredentials]:
    """For every guarded (METHOD, path template): a session of the first preferred role it admits."""
    by_role: dict[Role, StaffCredentials] = {}
    staff = {}
    for operation, roles in roles_by_operation(client.app).items():
        role = next(r for r in ROLE_PREFERENCE if r in roles)
        if role not in by_role:
            by_role[role] = await credentials_for(client, sessions, clock, role)
        staff[operation] = by_role[role]
    return staff
