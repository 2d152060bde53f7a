"""Changes to a staff account that end its sessions: a new password, an administrator's reset of the password or of
the authenticator, deactivation.

Each revokes every session of the account in the same transaction, so the change holds from the next request.
"""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit, sign_in_throttle, two_factor
from accounts.models import StaffUser
from accounts.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from accounts.sessions import revoke_all_sessions, sign_out
from majlis.clock import Clock
from majlis.errors import N_, DomainError, FieldError, InvalidInput

# A temporary password is read out or handed over once: letters and digits that cannot be confused (no 0/O, 1/l/I).
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TEMPORARY_PASSWORD_LENGTH = 14


class StaffNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("staff_not_found", N_("There is no such staff account."))


class SignedOutForWrongPasswords(DomainError):
    """Too many wrong current passwords from one session: whoever holds it may not be the account's owner."""

    def __init__(self) -> None:
        super().__init__(
            "signed_out_for_wrong_passwords",
            N_("The current password was wrong too many times, so you have been signed out. Sign in again."),
        )


class NotOnYourOwnAccount(DomainError):
    """An administrator cannot lock themselves out: their own password is changed, not reset, and never deactivated."""

    def __init__(self) -> None:
        super().__init__(
            "own_account",
            N_("You cannot do this to your own account. Change your own password from your account page."),
        )


def _new_password_errors(new_password: str, confirmation: str) -> list[FieldError]:
    if len(new_password) < MIN_PASSWORD_LENGTH:
        return [
            FieldError(
                "new_password",
                "too_short",
                N_("The new password must be at least {min} characters."),
                {"min": str(MIN_PASSWORD_LENGTH)},
            )
        ]
    if new_password != confirmation:
        return [FieldError("confirm_password", "mismatch", N_("The two new passwords are not the same."))]
    return []


async def change_password(
    *,
    session: AsyncSession,
    clock: Clock,
    user_id: int,
    current_password: str,
    new_password: str,
    confirmation: str,
    throttle: sign_in_throttle.ThrottlePolicy,
    address: str,
    device: str | None,
    token: str,
) -> StaffUser:
    """Sets the user's own new password (the current one asked first) and ends every session of the account.

    The current password is a guess like any at sign-in: a session taken over (left open, stolen) must not let its
    holder try passwords freely. Wrong ones go through the sign-in throttle, counted for this client (`address`,
    or the trusted `device`) and the account; TooManyAttempts while the client must wait; and once this client's
    wrong passwords reach the throttle's free number, the session (`token`) is ended (SignedOutForWrongPasswords).
    The caller must commit the recorded failure although it answers with an error.
    """
    user = await session.get(StaffUser, user_id)
    if user is None or not user.is_active:
        raise StaffNotFound()
    name = user.username
    await sign_in_throttle.check(
        session=session, clock=clock, policy=throttle, username=name, address=address, device=device
    )
    errors: list[FieldError] = []
    if not verify_password(user.password_hash, current_password):
        await sign_in_throttle.record(
            session=session, clock=clock, username=name, address=address, device=device, succeeded=False
        )
        wrong = await sign_in_throttle.client_failures(
            session=session, clock=clock, policy=throttle, username=name, address=address, device=device
        )
        if wrong >= throttle.per_client:
            await sign_out(session=session, clock=clock, token=token, user_id=user.id)
            raise SignedOutForWrongPasswords()
        errors.append(FieldError("current_password", "wrong", N_("The current password is not correct.")))
    errors += _new_password_errors(new_password, confirmation)
    if not errors and new_password == current_password:
        errors.append(FieldError("new_password", "unchanged", N_("Choose a password different from the current one.")))
    if errors:
        raise InvalidInput(errors)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = clock.now()
    user.must_change_password = False
    await revoke_all_sessions(session=session, user_id=user.id)
    await audit.record(
        session=session,
        clock=clock,
        actor_id=user.id,
        action="staff.password_change",
        target_type="staff_user",
        target_id=user.id,
    )
    return user


async def _other_account(session: AsyncSession, actor_id: int, user_id: int) -> StaffUser:
    if user_id == actor_id:
        raise NotOnYourOwnAccount()
    user = await session.get(StaffUser, user_id)
    if user is None:
        raise StaffNotFound()
    return user


async def reset_password(*, session: AsyncSession, clock: Clock, actor_id: int, user_id: int) -> tuple[StaffUser, str]:
    """An administrator gives an account a temporary password, returned to be handed over once.

    Its next sign-in must choose a new one before any other page; every session it had ends now.
    """
    user = await _other_account(session, actor_id, user_id)
    temporary = "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(TEMPORARY_PASSWORD_LENGTH))
    user.password_hash = hash_password(temporary)
    user.password_changed_at = clock.now()
    user.must_change_password = True
    await revoke_all_sessions(session=session, user_id=user.id)
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="staff.password_reset",
        target_type="staff_user",
        target_id=user.id,
        details={"username": user.username},
    )
    return user, temporary


async def set_active(*, session: AsyncSession, clock: Clock, actor_id: int, user_id: int, active: bool) -> StaffUser:
    """Deactivates an account (it can no longer sign in and its sessions end now) or brings it back."""
    user = await _other_account(session, actor_id, user_id)
    if user.is_active == active:
        return user
    user.is_active = active
    user.deactivated_at = None if active else clock.now()
    if not active:
        await revoke_all_sessions(session=session, user_id=user.id)
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="staff.reactivate" if active else "staff.deactivate",
        target_type="staff_user",
        target_id=user.id,
        details={"username": user.username},
    )
    return user


async def reset_two_factor(*, session: AsyncSession, clock: Clock, actor_id: int, user_id: int) -> StaffUser:
    """An administrator removes an account's authenticator and recovery codes (a lost or replaced phone).

    Every session of the account ends now: one signed in with the old authenticator must not outlive it. The next
    sign-in sets up a new authenticator if the role requires one (accounts.two_factor audits the reset).
    """
    user = await _other_account(session, actor_id, user_id)
    await two_factor.reset(session=session, clock=clock, user=user, actor_id=actor_id)
    await revoke_all_sessions(session=session, user_id=user.id)
    await session.flush()
    return user
