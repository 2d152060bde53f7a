"""The sign-in throttle holds under parallel guessing, on PostgreSQL too."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import service as accounts
from accounts.roles import Role
from accounts.sign_in_throttle import TooManyAttempts
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.factories import make_staff

POLICY = accounts.SignInPolicy(max_failures=5, window=timedelta(minutes=15))


async def test_parallel_wrong_passwords_are_throttled(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")

    async def guess(n: int) -> str:
        try:
            async with transaction(sessions) as session:
                result = await accounts.sign_in(
                    session=session,
                    clock=clock,
                    policy=POLICY,
                    username="audit",
                    password=f"guess-{n}",
                    address=f"10.0.0.{n}",
                )
        except TooManyAttempts:
            return "throttled"
        return "refused" if result is None else "signed in"

    outcomes = await asyncio.gather(*(guess(n) for n in range(12)))
    # Each guess comes from its own address: the account's untrusted clients together have ten failures free.
    assert outcomes.count("refused") == 10
    assert outcomes.count("throttled") == 2
