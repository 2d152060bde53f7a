"""The demo stays usable by `make run`: its accounts that need a second factor sign in with the published key."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis import demo, demo_two_factor
from majlis.clock import FrozenClock
from tests.factories import Client
from tests.majlis.test_demo import load
from tests.web.test_two_factor import password_step, post_code


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_demo_accounts_of_roles_needing_a_code_sign_in_with_the_demo_key(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    await load(sessions, clock)
    assert await password_step(client, "admin", demo.DEMO_PASSWORD) == "/login/code?next=%2Fstaff"
    assert await post_code(client, "/login/code", demo_two_factor.current_code(clock)) == (303, "/audit")
    # Roles that need no second factor still sign in with the password alone.
    other = await password_step(client, "desk", demo.DEMO_PASSWORD)
    assert other == "/staff"
