"""accounts.sessions: a session owing its second factor signs nobody in; visits are noted at most once a minute."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import sessions as staff_sessions
from accounts.models import StaffSession, StaffUser
from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.factories import make_staff

POLICY = staff_sessions.SessionPolicy(lifetime=timedelta(hours=10), idle=timedelta(minutes=30))


async def test_a_session_owing_its_second_factor_signs_nobody_in_until_verified(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_staff(sessions, clock, Role.OFFICIAL, "official")
    async with transaction(sessions) as session:
        staff = await session.get(StaffUser, user.id)
        assert staff is not None
        token = await staff_sessions.open_session(
            session=session, clock=clock, policy=POLICY, user=staff, verified=False, address="10.0.0.1", user_agent=""
        )
    async with transaction(sessions) as session:
        assert await staff_sessions.user_for_token(session=session, clock=clock, policy=POLICY, token=token) is None
        live = await staff_sessions.live_session(session=session, clock=clock, policy=POLICY, token=token)
        assert live is not None and not live.verified and len(live.csrf_token) == 64
        await staff_sessions.verify_session(session=session, clock=clock, token=token, max_per_user=None)
    async with transaction(sessions) as session:
        found = await staff_sessions.user_for_token(session=session, clock=clock, policy=POLICY, token=token)
        assert found is not None and found.id == user.id


async def test_a_visit_is_noted_at_most_once_a_minute(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    async with transaction(sessions) as session:
        staff = await session.get(StaffUser, user.id)
        assert staff is not None
        token = await staff_sessions.open_session(
            session=session, clock=clock, policy=POLICY, user=staff, verified=True, address="", user_agent=""
        )
    opened = clock.now()

    async def last_seen_after(delay: timedelta) -> object:
        clock.advance(delay)
        async with transaction(sessions) as session:
            assert await staff_sessions.live_session(session=session, clock=clock, policy=POLICY, token=token)
        async with sessions() as session:
            row = await session.get(StaffSession, staff_sessions.token_hash(token))
            assert row is not None
            return row.last_seen_at

    assert await last_seen_after(timedelta(seconds=59)) == opened
    assert await last_seen_after(timedelta(seconds=1)) == opened + timedelta(minutes=1)


async def test_ended_sessions_are_swept_and_live_ones_kept(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")

    async def opened() -> str:
        async with transaction(sessions) as session:
            staff = await session.get(StaffUser, user.id)
            assert staff is not None
            return await staff_sessions.open_session(
                session=session, clock=clock, policy=POLICY, user=staff, verified=True, address="", user_agent=""
            )

    idle = await opened()
    clock.advance(timedelta(minutes=20))
    used = await opened()
    clock.advance(timedelta(minutes=15))  # the first is idle for 35 minutes, the second for 15
    async with transaction(sessions) as session:
        assert await staff_sessions.delete_ended(session=session, clock=clock, policy=POLICY) == 1
    async with transaction(sessions) as session:
        assert await staff_sessions.live_session(session=session, clock=clock, policy=POLICY, token=used)
        assert await session.get(StaffSession, staff_sessions.token_hash(idle)) is None
    # Kept in use, it still goes at its absolute end.
    for _ in range(20):
        clock.advance(timedelta(minutes=29))
        async with transaction(sessions) as session:
            assert await staff_sessions.live_session(session=session, clock=clock, policy=POLICY, token=used)
    clock.advance(timedelta(minutes=29))  # 35 + 20 × 29 + 29 minutes after the first: past 10 hours from its start
    async with transaction(sessions) as session:
        assert await staff_sessions.delete_ended(session=session, clock=clock, policy=POLICY) == 1


async def test_one_session_more_than_the_cap_ends_the_oldest(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    capped = staff_sessions.SessionPolicy(lifetime=timedelta(hours=10), idle=timedelta(minutes=30), max_per_user=3)
    user = await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    other = await make_staff(sessions, clock, Role.INTAKE_DESK, "other")

    async def open_one(user_id: int) -> str:
        clock.advance(timedelta(seconds=1))
        async with transaction(sessions) as session:
            staff = await session.get(StaffUser, user_id)
            assert staff is not None
            return await staff_sessions.open_session(
                session=session, clock=clock, policy=capped, user=staff, verified=True, address="", user_agent=""
            )

    async def live(token: str) -> bool:
        async with transaction(sessions) as session:
            return (
                await staff_sessions.user_for_token(session=session, clock=clock, policy=capped, token=token)
                is not None
            )

    theirs = await open_one(other.id)
    tokens = [await open_one(user.id) for _ in range(3)]
    assert [await live(t) for t in tokens] == [True, True, True]
    tokens.append(await open_one(user.id))
    # The oldest went; the three newest and another account's session stay.
    assert [await live(t) for t in tokens] == [False, True, True, True] and await live(theirs)
    # One opened at the same instant as the newest before it: the one just opened is the one kept.
    same_instant = [await open_one(user.id) for _ in range(2)]
    async with transaction(sessions) as session:
        staff = await session.get(StaffUser, user.id)
        assert staff is not None
        newest = await staff_sessions.open_session(
            session=session, clock=clock, policy=capped, user=staff, verified=True, address="", user_agent=""
        )
    assert await live(newest) and [await live(t) for t in same_instant] == [True, True]
    assert [await live(t) for t in tokens] == [False, False, False, False]


async def test_a_password_alone_pushes_out_only_waiting_sign_ins_and_the_cap_counts_at_verification(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    capped = staff_sessions.SessionPolicy(lifetime=timedelta(hours=10), idle=timedelta(minutes=30), max_per_user=2)
    user = await make_staff(sessions, clock, Role.OFFICIAL, "official")

    async def open_one(*, verified: bool) -> str:
        clock.advance(timedelta(seconds=1))
        async with transaction(sessions) as session:
            staff = await session.get(StaffUser, user.id)
            assert staff is not None
            return await staff_sessions.open_session(
                session=session, clock=clock, policy=capped, user=staff, verified=verified, address="", user_agent=""
            )

    async def alive(token: str) -> bool:
        async with transaction(sessions) as session:
            found = await staff_sessions.live_session(session=session, clock=clock, policy=capped, token=token)
            return found is not None

    signed_in = [await open_one(verified=True) for _ in range(2)]
    # A thief with the password alone opens waiting sign-ins again and again: the signed-in sessions stay.
    waiting = [await open_one(verified=False) for _ in range(3)]
    assert [await alive(t) for t in signed_in] == [True, True]
    assert [await alive(t) for t in waiting] == [False, True, True]  # two may wait at once; the oldest went
    # The cap of signed-in sessions applies when a sign-in gives its second factor: the oldest signed-in one goes.
    async with transaction(sessions) as session:
        await staff_sessions.verify_session(session=session, clock=clock, token=waiting[2], max_per_user=2)
    assert [await alive(t) for t in [*signed_in, *waiting[1:]]] == [False, True, True, True]
