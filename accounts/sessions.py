"""Sign-in sessions: opening one, finding the live one behind a cookie, idle and absolute ends, revocation."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from accounts.models import StaffSession, StaffUser
from majlis.clock import Clock

# last_seen_at is written at most this often, so a busy page does not write on every request.
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionPolicy:
    # The absolute end after sign-in, and the end after this long without a request.
    lifetime: timedelta
    idle: timedelta
    # At most this many signed-in (verified) sessions per account (settings.max_sessions_per_user): one more ends
    # the oldest. None: no cap (the hourly sweep, which only deletes ended sessions, needs none).
    max_per_user: int | None = None


# At most this many sessions of an account may wait for their second factor at once; a new one ends the oldest
# waiting one. Waiting sessions are capped apart from signed-in ones, so that a password alone (a thief's) can
# push out only other waiting sign-ins, never the right user's signed-in sessions.
WAITING_PER_USER = 2


@dataclass(frozen=True)
class LiveSession:
    """A session that has neither expired nor idled out, of an active account; verified or still owing a code."""

    token_hash: str
    csrf_token: str
    verified: bool
    user: StaffUser


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(
    *,
    session: AsyncSession,
    clock: Clock,
    policy: SessionPolicy,
    user: StaffUser,
    verified: bool,
    address: str,
    user_agent: str,
) -> str:
    """A new session for the user and its cookie token; a new session carries a new CSRF token.

    verified=False leaves it owing the second factor: not signed in until verify_session().
    """
    now = clock.now()
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + policy.lifetime,
            last_seen_at=now,
            csrf_token=secrets.token_hex(32),
            verified_at=now if verified else None,
            address=address[:64],
            user_agent=user_agent[:200],
        )
    )
    await session.flush()
    details: dict[str, object] = {"address": address, "verified": verified}
    cap = policy.max_per_user if verified else WAITING_PER_USER
    if cap is not None and (
        ended := await _end_oldest(session, user.id, keep=token_hash(token), others=cap - 1, verified=verified)
    ):
        details["ended_oldest"] = ended
    await audit.record(
        session=session,
        clock=clock,
        actor_id=user.id,
        action="staff.sign_in",
        target_type="staff_user",
        target_id=user.id,
        details=details,
    )
    return token


async def _end_oldest(session: AsyncSession, user_id: int, *, keep: str, others: int, verified: bool) -> int:
    """Ends the account's verified (or, verified=False, waiting) sessions but `keep` (the one just opened or
    verified) and its `others` newest; how many went.

    A forgotten or stolen session cannot linger among many: enough new sign-ins push it out.
    """
    kind = StaffSession.verified_at.is_not(None) if verified else StaffSession.verified_at.is_(None)
    rows = list(
        await session.scalars(
            select(StaffSession.token_hash)
            .where(StaffSession.user_id == user_id, StaffSession.token_hash != keep, kind)
            .order_by(StaffSession.created_at.desc(), StaffSession.last_seen_at.desc())
        )
    )
    beyond = rows[max(others, 0) :]
    if beyond:
        await session.execute(delete(StaffSession).where(StaffSession.token_hash.in_(beyond)))
    return len(beyond)


def _idle_end(row: StaffSession, policy: SessionPolicy) -> datetime:
    return (row.last_seen_at or row.created_at) + policy.idle


async def _unexpired(session: AsyncSession, token: str, now: datetime) -> tuple[StaffSession, StaffUser] | None:
    """The session behind a token, not past its absolute end, with its user; None for no such session."""
    found = (
        await session.execute(
            select(StaffSession, StaffUser)
            .join(StaffUser, StaffSession.user_id == StaffUser.id)
            .where(StaffSession.token_hash == token_hash(token), StaffSession.expires_at > now)
        )
    ).one_or_none()
    return (found[0], found[1]) if found is not None else None


async def live_session(*, session: AsyncSession, clock: Clock, policy: SessionPolicy, token: str) -> LiveSession | None:
    """The live session behind a cookie's token, or None; notes that it was seen (at most once a minute).

    A session idle past policy.idle is deleted here, so coming back later cannot revive it.
    """
    now = clock.now()
    found = await _unexpired(session, token, now)
    if found is None:
        return None
    row, user = found
    # A session from before CSRF tokens were bound to sessions has none: its browser signs in again.
    if not user.is_active or not row.csrf_token:
        return None
    if _idle_end(row, policy) <= now:
        await session.delete(row)
        await session.flush()
        return None
    if row.last_seen_at is None or now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
        await session.flush()
    return LiveSession(row.token_hash, row.csrf_token, row.verified_at is not None, user)


async def signed_in_still(
    *, session: AsyncSession, clock: Clock, policy: SessionPolicy, token: str
) -> StaffUser | None:
    """The user a long-lived connection (a console's WebSocket) was opened for, if its session still signs them
    in: neither ended, revoked, expired nor idle, verified, of an active account. Reads only: the connection's
    being open is no visit, so it does not keep the session from idling out."""
    now = clock.now()
    found = await _unexpired(session, token, now)
    if found is None:
        return None
    row, user = found
    if not user.is_active or row.verified_at is None or _idle_end(row, policy) <= now:
        return None
    return user


async def user_for_token(*, session: AsyncSession, clock: Clock, policy: SessionPolicy, token: str) -> StaffUser | None:
    """The signed-in user behind a token: a live session whose second factor (if owed) has been given."""
    live = await live_session(session=session, clock=clock, policy=policy, token=token)
    return live.user if live is not None and live.verified else None


async def verify_session(*, session: AsyncSession, clock: Clock, token: str, max_per_user: int | None) -> None:
    """The second factor was given: the session now signs its user in, and counts against the cap of signed-in
    sessions (policy.max_per_user; None for none) — only now, so a password alone never pushes one out."""
    row = await session.get(StaffSession, token_hash(token))
    if row is not None and row.verified_at is None:
        row.verified_at = clock.now()
        await session.flush()
        if max_per_user is not None:
            await _end_oldest(session, row.user_id, keep=row.token_hash, others=max_per_user - 1, verified=True)


async def sign_out(*, session: AsyncSession, clock: Clock, token: str, user_id: int) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.token_hash == token_hash(token)))
    await audit.record(
        session=session,
        clock=clock,
        actor_id=user_id,
        action="staff.sign_out",
        target_type="staff_user",
        target_id=user_id,
    )


async def sessions_of(
    *, session: AsyncSession, clock: Clock, policy: SessionPolicy, user_id: int
) -> list[StaffSession]:
    """The user's live sessions, the most recently used first."""
    now = clock.now()
    rows = await session.scalars(
        select(StaffSession).where(StaffSession.user_id == user_id, StaffSession.expires_at > now)
    )
    live = [row for row in rows if _idle_end(row, policy) > now]
    return sorted(live, key=lambda row: row.last_seen_at or row.created_at, reverse=True)


async def revoke_session(*, session: AsyncSession, clock: Clock, user_id: int, session_key: str) -> bool:
    """Ends one of the user's own sessions (by its stored hash); False when it is not one of theirs."""
    result = await session.execute(
        delete(StaffSession).where(StaffSession.user_id == user_id, StaffSession.token_hash == session_key)
    )
    if not getattr(result, "rowcount", 0):
        return False
    await audit.record(
        session=session,
        clock=clock,
        actor_id=user_id,
        action="staff.session_revoke",
        target_type="staff_user",
        target_id=user_id,
    )
    return True


async def revoke_other_sessions(*, session: AsyncSession, clock: Clock, user_id: int, keep_token: str) -> None:
    """Signs the user out everywhere but the browser holding keep_token."""
    await session.execute(
        delete(StaffSession).where(StaffSession.user_id == user_id, StaffSession.token_hash != token_hash(keep_token))
    )
    await audit.record(
        session=session,
        clock=clock,
        actor_id=user_id,
        action="staff.sign_out_others",
        target_type="staff_user",
        target_id=user_id,
    )


async def revoke_all_sessions(*, session: AsyncSession, user_id: int) -> None:
    """Ends every session of the user at once: their next request finds none (the caller audits why)."""
    await session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))


async def delete_ended(*, session: AsyncSession, clock: Clock, policy: SessionPolicy) -> int:
    """Deletes the sessions past their absolute or idle end (already refused if used); how many went."""
    now = clock.now()
    idle_since = now - policy.idle
    result = await session.execute(
        delete(StaffSession).where(
            or_(
                StaffSession.expires_at <= now,
                and_(StaffSession.last_seen_at.is_not(None), StaffSession.last_seen_at <= idle_since),
                and_(StaffSession.last_seen_at.is_(None), StaffSession.created_at <= idle_since),
            )
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
