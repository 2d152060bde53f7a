"""The sign-in throttle, after OWASP's "Slow Down Online Guessing Attacks with Device Cookies".

A browser that has signed in to an account before carries a device cookie for it (an HMAC-signed nonce bound to
the username). Failures are counted apart for each kind of client:

- a trusted device (a valid device cookie for the username typed): its own failures only, so strangers' wrong
  passwords never slow the right user down on the device they use every day;
- an untrusted client (no valid cookie for that username): its failures for the account from its address, all
  untrusted failures for the account together (a guesser spread over many addresses), and all untrusted failures
  from its address whatever the account (a guesser trying one password on many accounts).

Each count gives a progressive delay (majlis.throttle.wait_after) rather than a flat lockout. A client made to
wait is refused before the password is even checked, so guessing stops rather than slows; the answer is the
same whether the password would have matched or not.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import LoginAttempt
from majlis.clock import Clock
from majlis.errors import N_, DomainError
from majlis.throttle import address_group, retry_after_seconds, serialise, wait_left

# A shared desk computer is used by several clerks; each keeps their own device cookie, the most recent first.
DEVICES_PER_BROWSER = 5


class TooManyAttempts(DomainError):
    def __init__(self, retry_after: int) -> None:
        # Seconds until this client may try again (the answer's Retry-After).
        self.retry_after = retry_after
        super().__init__(
            "too_many_attempts",
            N_("Too many failed sign-in attempts. Wait a few minutes and try again."),
        )


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures in the window each kind of client has before its delays begin."""

    window: timedelta
    # One untrusted address for one account, and one trusted device for its account.
    per_client: int
    # Every untrusted client of one account together: the bound on a guesser with many addresses.
    per_account: int
    # One untrusted address over every account: the bound on trying one password on many accounts.
    per_address: int

    @classmethod
    def scaled(cls, *, max_failures: int, window: timedelta) -> ThrottlePolicy:
        """The policy from the one setting of failures allowed (login_max_failures): an account's untrusted
        clients together may fail twice that (OWASP's N = 10 for the default 5), an address over all accounts
        four times that."""
        return cls(window=window, per_client=max_failures, per_account=2 * max_failures, per_address=4 * max_failures)


class DeviceCookies:
    """Issues and reads device cookies: "nonce.signature" entries, each valid for one username only."""

    def __init__(self, secret: str) -> None:
        # A key of its own, so a device cookie's signature is never valid as any other signed value of Majlis.
        self._key = hmac.new(secret.encode(), b"majlis sign-in device cookie", hashlib.sha256).digest()

    def _signature(self, username: str, nonce: str) -> str:
        digest = hmac.new(self._key, f"{username},{nonce}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self, username: str) -> str:
        """A new device entry for this username (a 96-bit random nonce and its signature)."""
        nonce = secrets.token_urlsafe(12)
        return f"{nonce}.{self._signature(username, nonce)}"

    def device_for(self, username: str, cookie: str | None) -> str | None:
        """The trusted device (its nonce) the cookie holds for this username, or None."""
        username = username.strip().lower()
        for entry in (cookie or "").split(":")[:DEVICES_PER_BROWSER]:
            nonce, _, signature = entry.partition(".")
            if nonce and hmac.compare_digest(signature, self._signature(username, nonce)):
                return nonce
        return None

    def remember(self, cookie: str | None, username: str) -> str:
        """The cookie's new value after a sign-in: a fresh entry for this username first, its old entry dropped,
        other usernames' entries kept up to DEVICES_PER_BROWSER in all."""
        username = username.strip().lower()
        kept = [
            entry
            for entry in (cookie or "").split(":")
            if entry and self.device_for(username, entry) is None and len(entry) <= 80
        ]
        return ":".join([self.issue(username), *kept][:DEVICES_PER_BROWSER])


async def _failures(session: AsyncSession, since: datetime, *where: ColumnElement[bool]) -> tuple[int, datetime | None]:
    """How many failed attempts match since then, and when the latest was."""
    row = (
        await session.execute(
            select(func.count(), func.max(LoginAttempt.at)).where(
                LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False), *where
            )
        )
    ).one()
    return int(row[0] or 0), row[1]


async def check(
    *, session: AsyncSession, clock: Clock, policy: ThrottlePolicy, username: str, address: str, device: str | None
) -> None:
    """Raises TooManyAttempts when this client must still wait before its next try at this account.

    The caller must record the attempt (record) in the same transaction: the check and the record are
    serialised per account and per address, so parallel guesses cannot all pass on the same count. An IPv6 address
    counts as its /64 (majlis.throttle.address_group).
    """
    address = address_group(address)
    await serialise(session=session, keys=[f"sign-in:user:{username}", f"sign-in:address:{address}"])
    now = clock.now()
    since = now - policy.window
    if device is not None:
        counts = [
            (await _failures(session, since, LoginAttempt.username == username, LoginAttempt.device == device)),
        ]
        limits = [policy.per_client]
    else:
        untrusted = LoginAttempt.device == ""
        counts = [
            await _failures(
                session, since, LoginAttempt.username == username, LoginAttempt.address == address, untrusted
            ),
            await _failures(session, since, LoginAttempt.username == username, untrusted),
            await _failures(session, since, LoginAttempt.address == address, untrusted),
        ]
        limits = [policy.per_client, policy.per_account, policy.per_address]
    wait = max(
        wait_left(now=now, failures=failures, latest=latest, free=free, window=policy.window)
        for (failures, latest), free in zip(counts, limits, strict=True)
    )
    if wait > timedelta(0):
        raise TooManyAttempts(retry_after_seconds(wait))


async def client_failures(
    *, session: AsyncSession, clock: Clock, policy: ThrottlePolicy, username: str, address: str, device: str | None
) -> int:
    """This client's failures at this account in the window: a trusted device's own, or an untrusted address's."""
    address = address_group(address)
    since = clock.now() - policy.window
    if device is not None:
        where = [LoginAttempt.username == username, LoginAttempt.device == device]
    else:
        where = [LoginAttempt.username == username, LoginAttempt.address == address, LoginAttempt.device == ""]
    return (await _failures(session, since, *where))[0]


async def record(
    *, session: AsyncSession, clock: Clock, username: str, address: str, device: str | None, succeeded: bool
) -> None:
    """Keeps one attempt for the throttle, from a trusted device or an untrusted client."""
    session.add(
        LoginAttempt(
            username=username,
            address=address_group(address)[:64],
            device=device or "",
            at=clock.now(),
            succeeded=succeeded,
        )
    )
    await session.flush()


async def prune(*, session: AsyncSession, clock: Clock, window: timedelta) -> int:
    """Deletes the attempts older than the throttle's window (no count looks further back); how many went."""
    result = await session.execute(delete(LoginAttempt).where(LoginAttempt.at < clock.now() - window))
    return int(getattr(result, "rowcount", 0) or 0)
