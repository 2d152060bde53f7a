"""The sign-in throttle (OWASP device cookies): strangers' failures never stop the right user on a trusted device;
untrusted clients meet progressive delays per account and address, per account and per address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import service as accounts
from accounts.models import LoginAttempt
from accounts.roles import Role
from accounts.sign_in_throttle import DEVICES_PER_BROWSER, DeviceCookies, ThrottlePolicy, TooManyAttempts, prune
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.throttle import address_group, retry_after_seconds, wait_after, wait_left
from tests.factories import PASSWORD, make_staff

Sessions = async_sessionmaker[AsyncSession]
WINDOW = timedelta(minutes=15)
# Two failures free per client, four per account's untrusted clients, eight per address over all accounts.
POLICY = accounts.SignInPolicy(max_failures=2, window=WINDOW)
COOKIES = DeviceCookies("a test secret of sufficient length")


async def attempt(
    sessions: Sessions, clock: FrozenClock, username: str, password: str, address: str, device: str | None = None
) -> str:
    """What one try at signing in came to: "signed in", "refused" (wrong password) or "throttled"."""
    try:
        async with transaction(sessions) as session:
            user = await accounts.sign_in(
                session=session,
                clock=clock,
                policy=POLICY,
                username=username,
                password=password,
                address=address,
                device=device,
            )
    except TooManyAttempts:
        return "throttled"
    return "refused" if user is None else "signed in"


async def test_strangers_cannot_lock_the_right_user_out_of_a_trusted_device(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    cookie = COOKIES.remember(None, "audit")
    device = COOKIES.device_for("audit", cookie)
    assert device is not None
    assert await attempt(sessions, clock, "audit", PASSWORD, "10.0.0.1", device) == "signed in"
    # Strangers from many addresses, some with a forged or someone else's device cookie, guess all day.
    forged = COOKIES.device_for("audit", device + ".forged-signature")
    assert forged is None
    someone_else = COOKIES.device_for("audit", COOKIES.remember(None, "protocol"))
    assert someone_else is None
    outcomes = [await attempt(sessions, clock, "audit", f"guess-{n}", f"203.0.113.{n}") for n in range(12)]
    assert outcomes.count("refused") == 4 and outcomes.count("throttled") == 8
    # An untrusted client, even with the right password and from the user's own address, must wait...
    assert await attempt(sessions, clock, "audit", PASSWORD, "10.0.0.1") == "throttled"
    # ...while the user's trusted device signs in at once, and its own slip costs it nothing.
    assert await attempt(sessions, clock, "audit", "a slip", "10.0.0.1", device) == "refused"
    assert await attempt(sessions, clock, "audit", PASSWORD, "10.0.0.1", device) == "signed in"
    async with sessions() as session:
        trusted = await session.scalars(select(LoginAttempt.device).where(LoginAttempt.device != ""))
        assert set(trusted) == {device}


async def test_a_trusted_device_that_keeps_failing_is_delayed_too(sessions: Sessions, clock: FrozenClock) -> None:
    """A stolen device cookie is no licence to guess: the device has its own count and delays."""
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    device = COOKIES.device_for("audit", COOKIES.remember(None, "audit"))
    assert [await attempt(sessions, clock, "audit", "wrong", "10.0.0.1", device) for _ in range(3)] == [
        "refused",
        "refused",
        "throttled",
    ]
    assert await attempt(sessions, clock, "audit", PASSWORD, "10.0.0.1", device) == "throttled"
    # Another device of the same user is not held back by this one.
    other = COOKIES.device_for("audit", COOKIES.remember(None, "audit"))
    assert await attempt(sessions, clock, "audit", PASSWORD, "10.0.0.9", other) == "signed in"
    clock.advance(timedelta(seconds=1))
    assert await attempt(sessions, clock, "audit", PASSWORD, "10.0.0.1", device) == "signed in"


async def test_untrusted_delays_grow_and_pass(sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    for _ in range(2):
        assert await attempt(sessions, clock, "audit", "wrong", "10.0.0.1") == "refused"
    # Two failures: one second to wait, then a third failure doubles it to two.
    assert await attempt(sessions, clock, "audit", PASSWORD, "10.0.0.1") == "throttled"
    clock.advance(timedelta(seconds=1))
    assert await attempt(sessions, clock, "audit", "wrong", "10.0.0.1") == "refused"
    clock.advance(timedelta(seconds=1))
    assert await attempt(sessions, clock, "audit", PASSWORD, "10.0.0.1") == "throttled"
    # Another address is not held back by this one's failures (until the account's own untrusted count is reached).
    assert await attempt(sessions, clock, "audit", PASSWORD, "10.0.0.2") == "signed in"
    clock.advance(timedelta(seconds=1))
    assert await attempt(sessions, clock, "audit", PASSWORD, "10.0.0.1") == "signed in"


async def test_one_address_trying_many_accounts_is_delayed(sessions: Sessions, clock: FrozenClock) -> None:
    """Password spraying: one guess at each of many accounts from one address."""
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    outcomes = [await attempt(sessions, clock, f"user{n}", "Password123", "198.51.100.7") for n in range(8)]
    assert outcomes == ["refused"] * 8
    assert await attempt(sessions, clock, "audit", PASSWORD, "198.51.100.7") == "throttled"
    assert await attempt(sessions, clock, "audit", PASSWORD, "198.51.100.8") == "signed in"


def test_delays_double_from_one_second_up_to_the_window() -> None:
    assert [wait_after(failures=n, free=5, window=WINDOW).total_seconds() for n in (0, 4, 5, 6, 7, 14, 15, 40)] == [
        0,
        0,
        1,
        2,
        4,
        512,
        900,
        900,
    ]
    assert ThrottlePolicy.scaled(max_failures=5, window=WINDOW) == ThrottlePolicy(
        window=WINDOW, per_client=5, per_account=10, per_address=20
    )


async def test_a_throttled_attempt_says_how_long_is_left_to_wait(sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    for _ in range(2):
        assert await attempt(sessions, clock, "audit", "wrong", "10.0.0.1") == "refused"
    clock.advance(timedelta(seconds=1))
    assert await attempt(sessions, clock, "audit", "wrong", "10.0.0.1") == "refused"
    # Three failures, two free: two seconds after the latest; half a second has passed, 1.5 s left: 2.
    clock.advance(timedelta(milliseconds=500))
    with pytest.raises(TooManyAttempts) as refused:
        async with transaction(sessions) as session:
            await accounts.sign_in(
                session=session, clock=clock, policy=POLICY, username="audit", password=PASSWORD, address="10.0.0.1"
            )
    assert refused.value.retry_after == 2


def test_the_wait_left_is_rounded_up_to_whole_seconds() -> None:
    latest = datetime(2026, 1, 1, 8, tzinfo=UTC)
    left = [
        wait_left(now=latest + timedelta(seconds=s), failures=7, latest=latest, free=5, window=WINDOW).total_seconds()
        for s in (0, 1.5, 4, 9)
    ]
    assert left == [4, 2.5, 0, 0]
    assert wait_left(now=latest, failures=1, latest=None, free=0, window=WINDOW) == timedelta(0)
    assert [retry_after_seconds(timedelta(seconds=s)) for s in (0.2, 1, 2.5, 900)] == [1, 1, 3, 900]


def test_a_device_cookie_is_good_for_its_own_username_only() -> None:
    cookie = COOKIES.remember(None, "audit")
    device = COOKIES.device_for("audit", cookie)
    assert device is not None and COOKIES.device_for(" Audit ", cookie) == device
    assert COOKIES.device_for("protocol", cookie) is None
    assert DeviceCookies("another secret").device_for("audit", cookie) is None
    nonce, _, signature = cookie.partition(".")
    assert COOKIES.device_for("audit", f"{nonce}x.{signature}") is None
    # A shared desk computer keeps one entry per user, the most recent first, and a fresh one at each sign-in.
    shared = COOKIES.remember(cookie, "protocol")
    assert COOKIES.device_for("audit", shared) == device and COOKIES.device_for("protocol", shared) is not None
    renewed = COOKIES.remember(shared, "audit")
    assert COOKIES.device_for("audit", renewed) not in (None, device)
    assert len(renewed.split(":")) == 2
    crowded = renewed
    for n in range(10):
        crowded = COOKIES.remember(crowded, f"clerk{n}")
    assert len(crowded.split(":")) == DEVICES_PER_BROWSER
    assert COOKIES.device_for("clerk9", crowded) is not None and COOKIES.device_for("audit", crowded) is None


def test_an_ipv6_address_counts_as_its_64_and_others_as_they_are() -> None:
    assert address_group("2001:db8:1:2:aaaa::1") == address_group("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_group("2001:db8:1:3::1") != address_group("2001:db8:1:2::1")
    assert address_group("203.0.113.7") == "203.0.113.7"
    assert address_group("unknown") == "unknown"


async def test_a_guesser_moving_within_one_ipv6_64_is_one_client(sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    # A new address of the same /64 for every guess: still the same client, with its two failures free.
    outcomes = [await attempt(sessions, clock, "audit", "wrong", f"2001:db8:7:7::{n + 1:x}") for n in range(3)]
    assert outcomes == ["refused", "refused", "throttled"]
    # Another /64 is another client (the account's untrusted clients together have four free).
    assert await attempt(sessions, clock, "audit", "wrong", "2001:db8:7:8::1") == "refused"


async def test_attempts_older_than_the_window_are_pruned(sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await attempt(sessions, clock, "audit", "wrong", "10.0.0.1")
    clock.advance(WINDOW + timedelta(seconds=1))
    await attempt(sessions, clock, "audit", "wrong", "10.0.0.2")
    async with transaction(sessions) as session:
        assert await prune(session=session, clock=clock, window=WINDOW) == 1
    async with sessions() as session:
        assert list(await session.scalars(select(LoginAttempt.address))) == ["10.0.0.2"]
