"""The demo's two-factor sign-in: its accounts whose role needs a second factor share one published key.

Development only, like the demo's password: anyone reading the README can sign in with it. The key goes into any
authenticator app (or `majlis two-factor demo-code` prints the current code), so `make run` stays usable while
those roles still go through the real code step, replay refusal included.
"""

from __future__ import annotations

import pyotp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import two_factor
from accounts.models import StaffUser
from majlis.clock import Clock

# Base32, as authenticator apps take a key typed by hand.
DEMO_TOTP_SECRET = "MAJLISDEMOKEYFORDEVELOPMENTONLY2"  # noqa: S105 (demo data, development only)


async def enrol(*, session: AsyncSession, clock: Clock, usernames: list[str]) -> list[str]:
    """Enrols the demo's accounts of the roles that require a second factor; gives their usernames."""
    users = await session.scalars(
        select(StaffUser).where(
            StaffUser.username.in_(usernames), StaffUser.role.in_(sorted(two_factor.REQUIRED_ROLES))
        )
    )
    enrolled = []
    for user in users:
        if user.totp_secret is None:
            await two_factor.enrol_with_secret(session=session, clock=clock, user=user, secret=DEMO_TOTP_SECRET)
        enrolled.append(user.username)
    return sorted(enrolled)


def current_code(clock: Clock) -> str:
    """The demo key's code now, as an authenticator app would show it."""
    return pyotp.TOTP(DEMO_TOTP_SECRET).at(clock.now())
