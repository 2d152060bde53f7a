"""Adding a centre while another administrator adds the same code: the second gets the field error, not a 500."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import FrozenClock
from majlis.errors import InvalidInput
from rooms.branches import BranchInput, add_branch

DAMMAM = BranchInput(
    name_ar="الدمام",
    name_en="Dammam",
    address_ar="",
    address_en="",
    time_zone="Asia/Riyadh",
    official_calendar_url="",
)


async def test_two_administrators_adding_one_code_at_once(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    async with sessions() as first, sessions() as second:
        await first.begin()
        await add_branch(session=first, clock=clock, actor_id=None, code="dammam", data=DAMMAM)

        async def add_again() -> None:
            await second.begin()
            await add_branch(session=second, clock=clock, actor_id=None, code="dammam", data=DAMMAM)

        # The second passes the "already taken" read (the first has not committed) and waits at the insert.
        racing = asyncio.create_task(add_again())
        await asyncio.sleep(0.3)
        await first.commit()
        with pytest.raises(InvalidInput) as refused:
            await asyncio.wait_for(racing, 30)
        assert [(e.field, e.code) for e in refused.value.errors] == [("code", "taken")]
        await second.rollback()
