"""Serialising checks of a throttle across app instances."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def serialise(*, session: AsyncSession, keys: list[str]) -> None:
    """Makes concurrent transactions about the same keys take turns until they commit.

    A throttle counts failures and then records one more; without this, many
    parallel tries on PostgreSQL (READ COMMITTED) would all count the same
    committed failures and all be let through. Locks are taken in the order
    given, always the same order for one kind of check, so two checks cannot
    deadlock. SQLite needs nothing: its write transactions (BEGIN IMMEDIATE)
    already run one at a time.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in keys:
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
