"""A mission's staff account belongs to one active mission, chosen when the account is made (page and CLI)."""

from __future__ import annotations

import re

import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import StaffUser
from accounts.roles import Role
from majlis.app import create_app
from majlis.clock import FrozenClock
from tests.conftest import make_settings
from tests.factories import Client, csrf_token, make_staff, sign_in

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def app(database_url: str, clock: FrozenClock) -> web.Application:
    return create_app(make_settings(database_url), clock=clock)


def field_error(page: str, field: str) -> str:
    found = re.search(rf'id="{field}-error"[^>]*>(.*?)</', page, re.S)
    assert found is not None, f"no error for {field}"
    return " ".join(found.group(1).split())


async def test_a_mission_staff_account_is_made_for_one_mission(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    # make_staff gives mission staff the tests' mission, through the same create_user the page calls.
    await make_staff(sessions, clock, Role.MISSION_STAFF, "first.staff")
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    await sign_in(client, "admin")
    token = await csrf_token(client, "/admin/users")
    account = {
        "csrf_token": token,
        "username": "mission.staff",
        "full_name": "سارة القحطاني",
        "role": "mission_staff",
        "gender": "female",
        "password": "a-long-password",
        "department": "",
        "mission": "",
    }
    missing = await client.post("/admin/users", data=account)
    assert missing.status == 422 and field_error(await missing.text(), "mission") == "حقل «البعثة» مطلوب."
    other_role = await client.post("/admin/users", data={**account, "role": "follow_up", "mission": "test-mission"})
    assert other_role.status == 422 and "موظف بعثة" in field_error(await other_role.text(), "mission")
    unknown = await client.post("/admin/users", data={**account, "mission": "nowhere"})
    assert unknown.status == 422 and "ليست من البعثات" in field_error(await unknown.text(), "mission")
    made = await client.post("/admin/users", data={**account, "mission": "test-mission"}, allow_redirects=False)
    assert made.status == 303
    listing = await (await client.get("/admin/users")).text()
    row = re.search(r'<tr id="user-mission.staff">.*?</tr>', listing, re.S)
    assert row is not None and "بعثة الاختبار" in row.group(0)
    async with sessions() as session:
        users = {u.username: u for u in await session.scalars(select(StaffUser))}
    assert users["mission.staff"].mission_id is not None
    assert users["mission.staff"].mission_id == users["first.staff"].mission_id
    assert users["admin"].mission_id is None
