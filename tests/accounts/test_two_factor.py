"""accounts.two_factor: an enrolment's secret belongs to one sign-in; one code is accepted once even in parallel;
recovery codes are never taken for the authenticator's."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import sessions as staff_sessions
from accounts import two_factor
from accounts.models import RecoveryCode, StaffSession, StaffUser
from accounts.passwords import hash_password
from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from tests.factories import make_staff

POLICY = staff_sessions.SessionPolicy(lifetime=timedelta(hours=10), idle=timedelta(minutes=30))


async def _waiting_sign_in(sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, user_id: int) -> str:
    async with transaction(sessions) as session:
        user = await session.get(StaffUser, user_id)
        assert user is not None
        return await staff_sessions.open_session(
            session=session, clock=clock, policy=POLICY, user=user, verified=False, address="", user_agent=""
        )


async def _secret(sessions: async_sessionmaker[AsyncSession], user_id: int, token: str) -> str:
    async with transaction(sessions) as session:
        user = await session.get(StaffUser, user_id)
        assert user is not None
        return (await two_factor.begin_enrolment(session=session, user=user, token=token)).secret


async def test_each_waiting_sign_in_enrols_with_a_secret_of_its_own(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    thief, owner = await _waiting_sign_in(sessions, clock, user.id), await _waiting_sign_in(sessions, clock, user.id)
    seen_by_thief = await _secret(sessions, user.id, thief)
    assert await _secret(sessions, user.id, thief) == seen_by_thief  # a reload shows the same key
    owners = await _secret(sessions, user.id, owner)
    assert owners != seen_by_thief

    async def confirm(secret: str) -> None:
        async with transaction(sessions) as session:
            staff = await session.get(StaffUser, user.id)
            assert staff is not None
            code = pyotp.TOTP(secret).at(clock.now())
            await two_factor.confirm_enrolment(
                session=session, clock=clock, user=staff, code=code, token=owner, max_sessions=None
            )

    # A code from the thief's secret does not confirm the owner's enrolment; the owner's own does.
    with pytest.raises(InvalidInput):
        await confirm(seen_by_thief)
    await confirm(owners)
    async with transaction(sessions) as session:
        staff = await session.get(StaffUser, user.id)
        assert staff is not None and staff.totp_secret == owners
        # The thief's pending secret is gone with the enrolment; the owner's session is signed in.
        pending = await session.scalars(select(StaffSession.pending_totp_secret).where(StaffSession.user_id == user.id))
        assert set(pending) == {None}
        assert await staff_sessions.user_for_token(session=session, clock=clock, policy=POLICY, token=owner) is not None
        # An administrator's reset of the authenticator forgets pending secrets too.
        await two_factor.reset(session=session, clock=clock, user=staff, actor_id=None)
    assert await _secret(sessions, user.id, thief) not in {seen_by_thief, owners}


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_one_code_given_by_two_sign_ins_at_once_is_accepted_once(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    # SQLite runs write transactions one at a time (BEGIN IMMEDIATE): the race exists only on PostgreSQL.
    made = await make_staff(sessions, clock, Role.OFFICIAL, "official")
    secret = pyotp.random_base32()
    async with transaction(sessions) as session:
        user = await session.get(StaffUser, made.id)
        assert user is not None
        await two_factor.enrol_with_secret(session=session, clock=clock, user=user, secret=secret)
    code = pyotp.TOTP(secret).at(clock.now())
    first, second = sessions(), sessions()
    try:
        # Both read the account before either waits its turn: the second's copy of totp_last_step is stale.
        users = [await first.get(StaffUser, made.id), await second.get(StaffUser, made.id)]

        async def give(session: AsyncSession, user: StaffUser | None) -> bool:
            assert user is not None
            try:
                await two_factor.check_code(session=session, clock=clock, user=user, code=code)
            except InvalidInput:
                await session.commit()
                return False
            await session.commit()
            return True

        outcomes = await asyncio.gather(give(first, users[0]), give(second, users[1]))
    finally:
        await first.close()
        await second.close()
    assert sorted(outcomes) == [False, True]


async def test_recovery_codes_always_have_a_letter_and_one_of_digits_alone_still_works(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first ten symbols drawn are digits: that draw is refused and the next, with a letter, kept.
    draws = iter("2345678923" + "a23456789b")
    monkeypatch.setattr(secrets, "choice", lambda _alphabet: next(draws))
    assert two_factor._new_recovery_code() == "a23456789b"
    monkeypatch.undo()

    made = await make_staff(sessions, clock, Role.OFFICIAL, "official")
    async with transaction(sessions) as session:
        user = await session.get(StaffUser, made.id)
        assert user is not None
        await two_factor.enrol_with_secret(session=session, clock=clock, user=user, secret=pyotp.random_base32())
        # A code of digits alone, as codes issued before the rule could be, typed without its dash.
        session.add(RecoveryCode(user_id=user.id, code_hash=hash_password("2345678923"), created_at=clock.now()))
    async with transaction(sessions) as session:
        user = await session.get(StaffUser, made.id)
        assert user is not None
        how = await two_factor.check_code(session=session, clock=clock, user=user, code="2345678923")
        assert how == "recovery_code"
