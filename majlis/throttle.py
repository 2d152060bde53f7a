"""Throttles' shared parts: serialising their checks across app instances, and progressive delays."""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime, timedelta

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


def address_group(address: str) -> str:
    """The address as throttles count it: an IPv6 address by its /64 network, which one subscriber is usually given
    whole (counted address by address, one client would have 2^64 fresh counters); anything else unchanged."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return address


def wait_after(*, failures: int, free: int, window: timedelta) -> timedelta:
    """How long after the latest failure the next try must wait: nothing for the first `free` failures, then
    one second doubling with each further failure, never longer than the window (failures older than it are
    forgotten anyway). A progressive delay rather than a flat lockout, so that a slip or two costs a legitimate
    user seconds while a guesser's rate falls off quickly."""
    if failures < free:
        return timedelta(0)
    return min(window, timedelta(seconds=2 ** min(failures - free, 30)))


def wait_left(*, now: datetime, failures: int, latest: datetime | None, free: int, window: timedelta) -> timedelta:
    """How long a client with these failures in the window (the latest at `latest`) must still wait; zero if not."""
    if latest is None:
        return timedelta(0)
    return max(timedelta(0), latest + wait_after(failures=failures, free=free, window=window) - now)


def must_wait(*, now: datetime, failures: int, latest: datetime | None, free: int, window: timedelta) -> bool:
    """Whether a client with these failures in the window (the latest at `latest`) must still wait."""
    return wait_left(now=now, failures=failures, latest=latest, free=free, window=window) > timedelta(0)


def retry_after_seconds(wait: timedelta) -> int:
    """A wait as an HTTP Retry-After: whole seconds, rounded up, at least one."""
    return max(1, math.ceil(wait.total_seconds()))
