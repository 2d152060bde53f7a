"""Two-factor sign-in: a TOTP authenticator (RFC 6238) enrolled by QR code, with one-time recovery codes.

After the password, a sign-in's session is created unverified (StaffSession.verified_at None): it opens no page
but the second step. `after_password` decides what is owed: nothing (the session is verified at once), the code of
an enrolled authenticator, or — for a role that must have one and has none yet — enrolment, which ends with the
first code and verifies the session. Each TOTP time step is accepted once per account (totp_last_step), so a code
seen over a shoulder or in a log cannot be used again; recovery codes are kept only as Argon2 hashes and each
works once. Wrong codes are counted per account: after MAX_WRONG_CODES in WRONG_CODE_WINDOW the waiting sign-in
is ended and no code is checked until the window passes, so six digits cannot be guessed.
"""

from __future__ import annotations

import enum
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from accounts import audit, sessions
from accounts.models import AuditEntry, RecoveryCode, StaffSession, StaffUser
from accounts.passwords import hash_password, verify_password
from accounts.roles import Role
from majlis.clock import Clock
from majlis.errors import N_, DomainError, FieldError, InvalidInput
from majlis.throttle import serialise

# The roles that decide, or see most of the applicants' personal data: a stolen password alone must not open them.
# The auditor, like the manager whose reports it reads, sees every placement and who made each change.
REQUIRED_ROLES = frozenset(
    {Role.ADMINISTRATOR, Role.OFFICIAL, Role.PROTOCOL, Role.AUDIT_DESK, Role.MANAGER, Role.AUDITOR}
)
ISSUER = "Majlis"
# The authenticator's clock may be one step (30 s) either side of ours.
DRIFT_STEPS = 1
# The password's half of a sign-in waits this long for the second step, then must be given again.
PENDING_LIFETIME = timedelta(minutes=10)
MAX_WRONG_CODES = 5
WRONG_CODE_WINDOW = timedelta(minutes=15)
RECOVERY_CODES = 10
# No 0/o, 1/l/i: recovery codes are read off paper. 10 of 31 symbols ≈ 50 bits, salted and hashed with Argon2id.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LETTERS = "abcdefghjkmnpqrstuvwxyz"
_WRONG_CODE = "staff.second_factor_refused"


class NextStep(enum.StrEnum):
    """What a sign-in still owes after the password."""

    NONE = "none"
    CODE = "code"
    ENROL = "enrol"


class TooManyWrongCodes(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "too_many_wrong_codes",
            N_("Too many wrong codes. Wait a few minutes, then sign in again with your password."),
        )


class AlreadyEnrolled(DomainError):
    def __init__(self) -> None:
        super().__init__("already_enrolled", N_("An authenticator is already set up for this account."))


class SignInEnded(DomainError):
    """The session the enrolment belongs to has just ended (revoked or lapsed): its secret went with it."""

    def __init__(self) -> None:
        super().__init__("sign_in_ended", N_("Your session has ended. Sign in again."))


class NotEnrolled(DomainError):
    def __init__(self) -> None:
        super().__init__("not_enrolled", N_("No authenticator is set up for this account yet."))


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the pending secret, as text and as the authenticator's URI (the QR code)."""

    secret: str
    uri: str


def required(role: Role, *, all_roles: bool) -> bool:
    """Whether this role must sign in with a second factor (every role when the setting says so)."""
    return all_roles or role in REQUIRED_ROLES


def next_step(user: StaffUser, *, all_roles: bool) -> NextStep:
    """An enrolled authenticator is always asked for, even where the role does not require one."""
    if user.totp_secret:
        return NextStep.CODE
    if required(user.role, all_roles=all_roles):
        return NextStep.ENROL
    return NextStep.NONE


async def after_password(
    *, session: AsyncSession, clock: Clock, user: StaffUser, token: str, all_roles: bool, max_sessions: int | None
) -> NextStep:
    """What the new session still owes; when nothing, it is verified now and signed in (max_sessions: the cap of
    signed-in sessions per account, sessions.SessionPolicy.max_per_user)."""
    step = next_step(user, all_roles=all_roles)
    if step is NextStep.NONE:
        await sessions.verify_session(session=session, clock=clock, token=token, max_per_user=max_sessions)
    return step


async def waiting_user(*, session: AsyncSession, clock: Clock, token: str) -> StaffUser | None:
    """The active account whose sign-in waits for its second step under this token, or None."""
    now = clock.now()
    row = await session.execute(
        select(StaffUser)
        .join(StaffSession, StaffSession.user_id == StaffUser.id)
        .where(
            StaffSession.token_hash == sessions.token_hash(token),
            StaffSession.verified_at.is_(None),
            StaffSession.expires_at > now,
            StaffSession.created_at > now - PENDING_LIFETIME,
            StaffUser.is_active.is_(True),
            StaffUser.deactivated_at.is_(None),
        )
    )
    return row.scalar_one_or_none()


async def _enrolling_session(session: AsyncSession, user: StaffUser, token: str) -> StaffSession:
    row = await session.get(StaffSession, sessions.token_hash(token))
    if row is None or row.user_id != user.id:
        raise SignInEnded()
    return row


async def begin_enrolment(*, session: AsyncSession, user: StaffUser, token: str) -> Enrolment:
    """The pending secret to show to the session behind `token` (made on its first call, the same on a reload).

    The secret belongs to that session, not to the account: another sign-in of the same account — a password
    thief's — is shown a secret of its own, so it never learns the one the right user's authenticator will hold.
    """
    if user.totp_secret:
        raise AlreadyEnrolled()
    row = await _enrolling_session(session, user, token)
    if not row.pending_totp_secret:
        row.pending_totp_secret = pyotp.random_base32()
        await session.flush()
    secret = row.pending_totp_secret
    return Enrolment(secret, pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER))


async def confirm_enrolment(
    *, session: AsyncSession, clock: Clock, user: StaffUser, code: str, token: str, max_sessions: int | None
) -> list[str]:
    """Turns on the pending secret of the session behind `token` once the authenticator shows a right code; gives
    the new recovery codes. That session, if still waiting, is verified too: the first code proves the second
    factor."""
    if user.totp_secret:
        raise AlreadyEnrolled()
    secret = (await begin_enrolment(session=session, user=user, token=token)).secret
    await _refuse_when_guessing(session, clock, user)
    step = _matching_step(secret, code, clock.now(), after=None)
    if step is None:
        await _record_wrong_code(session, clock, user)
        raise _wrong_code()
    user.totp_secret = secret
    await _forget_pending_secrets(session, user)
    user.totp_enabled_at = clock.now()
    user.totp_last_step = step
    codes = await _new_recovery_codes(session, clock, user)
    await audit.record(
        session=session,
        clock=clock,
        actor_id=user.id,
        action="staff.two_factor_enabled",
        target_type="staff_user",
        target_id=user.id,
    )
    await sessions.verify_session(session=session, clock=clock, token=token, max_per_user=max_sessions)
    return codes


async def _forget_pending_secrets(session: AsyncSession, user: StaffUser) -> None:
    await session.execute(update(StaffSession).where(StaffSession.user_id == user.id).values(pending_totp_secret=None))


async def check_code(*, session: AsyncSession, clock: Clock, user: StaffUser, code: str) -> str:
    """Accepts the authenticator's code or an unused recovery code (using it up); says which.

    A wrong code raises InvalidInput naming "code" (and is counted); too many raise TooManyWrongCodes.
    """
    await _refuse_when_guessing(session, clock, user)
    typed = "".join(code.split())
    how = ""
    # Six digits are the authenticator's; anything else (ten symbols, perhaps with a dash) a recovery code.
    if user.totp_secret and len(typed) == 6 and typed.isascii() and typed.isdigit():
        step = _matching_step(user.totp_secret, typed, clock.now(), after=user.totp_last_step)
        if step is not None and await _claim_step(session, user, step):
            how = "authenticator"
    elif await _use_recovery_code(session, clock, user, typed):
        how = "recovery_code"
    if not how:
        await _record_wrong_code(session, clock, user)
        raise _wrong_code()
    await session.flush()
    return how


async def _claim_step(session: AsyncSession, user: StaffUser, step: int) -> bool:
    """Records `step` as the account's last accepted one, unless it (or a later one) was accepted meanwhile.

    The user row was read before this transaction waited its turn (_refuse_when_guessing): on PostgreSQL another
    transaction may have accepted the same code since. The condition is checked by the database on the row as
    committed, so of two sign-ins with one code exactly one wins.
    """
    result = await session.execute(
        update(StaffUser)
        .where(
            StaffUser.id == user.id,
            or_(StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


async def give_code(
    *, session: AsyncSession, clock: Clock, user: StaffUser, code: str, token: str, max_sessions: int | None
) -> str:
    """Verifies the waiting sign-in with a right code (check_code); says which kind it was."""
    how = await check_code(session=session, clock=clock, user=user, code=code)
    await sessions.verify_session(session=session, clock=clock, token=token, max_per_user=max_sessions)
    await audit.record(
        session=session,
        clock=clock,
        actor_id=user.id,
        action="staff.second_factor",
        target_type="staff_user",
        target_id=user.id,
        details={"by": how},
    )
    return how


async def renew_recovery_codes(*, session: AsyncSession, clock: Clock, user: StaffUser, code: str) -> list[str]:
    """A fresh set of recovery codes for an enrolled account that shows a right code; the old ones stop working."""
    if not user.totp_secret:
        raise NotEnrolled()
    await check_code(session=session, clock=clock, user=user, code=code)
    codes = await _new_recovery_codes(session, clock, user)
    await audit.record(
        session=session,
        clock=clock,
        actor_id=user.id,
        action="staff.recovery_codes_renewed",
        target_type="staff_user",
        target_id=user.id,
    )
    return codes


async def recovery_codes_left(*, session: AsyncSession, user_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    )
    return count or 0


async def reset(*, session: AsyncSession, clock: Clock, user: StaffUser, actor_id: int | None) -> None:
    """Removes the authenticator and recovery codes (a lost phone): the next sign-in enrols again if required."""
    user.totp_secret = None
    await _forget_pending_secrets(session, user)
    user.totp_enabled_at = None
    user.totp_last_step = None
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="staff.two_factor_reset",
        target_type="staff_user",
        target_id=user.id,
    )


async def enrol_with_secret(*, session: AsyncSession, clock: Clock, user: StaffUser, secret: str) -> None:
    """Enrols a known secret without a first code: for the demo's shared accounts only (majlis/demo.py)."""
    user.totp_secret = secret
    await _forget_pending_secrets(session, user)
    user.totp_enabled_at = clock.now()
    await session.flush()


def _matching_step(secret: str, code: str, now: datetime, *, after: int | None) -> int | None:
    """The time step whose code this is, within the drift allowed and later than `after`, else None."""
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _wrong_code() -> InvalidInput:
    return InvalidInput(
        [FieldError("code", "wrong", N_("The code is not correct or has already been used. Try the next one."))]
    )


async def _refuse_when_guessing(session: AsyncSession, clock: Clock, user: StaffUser) -> None:
    """Raises TooManyWrongCodes (and ends the waiting sign-ins) once the account's wrong codes reach the limit."""
    await serialise(session=session, keys=[f"second-factor:{user.id}"])
    wrong = await session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.target_type == "staff_user",
            AuditEntry.target_id == str(user.id),
            AuditEntry.action == _WRONG_CODE,
            AuditEntry.at > clock.now() - WRONG_CODE_WINDOW,
        )
    )
    if (wrong or 0) >= MAX_WRONG_CODES:
        await session.execute(
            delete(StaffSession).where(StaffSession.user_id == user.id, StaffSession.verified_at.is_(None))
        )
        raise TooManyWrongCodes()


async def _record_wrong_code(session: AsyncSession, clock: Clock, user: StaffUser) -> None:
    await audit.record(
        session=session, clock=clock, actor_id=user.id, action=_WRONG_CODE, target_type="staff_user", target_id=user.id
    )


def _normal_recovery_code(typed: str) -> str:
    return typed.replace("-", "").lower()


async def _use_recovery_code(session: AsyncSession, clock: Clock, user: StaffUser, typed: str) -> bool:
    code = _normal_recovery_code(typed)
    if len(code) != 10:
        return False
    unused = await session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    for row in unused:
        if verify_password(row.code_hash, code):
            row.used_at = clock.now()
            await session.flush()
            return True
    return False


def _new_recovery_code() -> str:
    """Ten symbols, at least one a letter: a code of digits alone would be read as the authenticator's (check_code
    routes by digits) and could never be used."""
    while True:
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        if any(symbol in _RECOVERY_LETTERS for symbol in raw):
            return raw


async def _new_recovery_codes(session: AsyncSession, clock: Clock, user: StaffUser) -> list[str]:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = _new_recovery_code()
        session.add(RecoveryCode(user_id=user.id, code_hash=hash_password(raw), created_at=clock.now()))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    await session.flush()
    return codes
