"""Staff accounts: creating users, checking a password at sign-in behind a throttle (sessions: accounts.sessions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit, sign_in_throttle
from accounts.account_changes import StaffNotFound
from accounts.models import StaffUser
from accounts.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from accounts.roles import Role
from accounts.sign_in_throttle import TooManyAttempts as TooManyAttempts
from cases.intake_fields import EMAIL, EMAIL_MESSAGE, MAX_EMAIL
from emergency import directory as missions
from followup import directory
from majlis import paging
from majlis.clock import Clock
from majlis.errors import N_, FieldError, InvalidInput


@dataclass(frozen=True)
class SignInPolicy:
    max_failures: int
    window: timedelta


async def create_user(
    *,
    session: AsyncSession,
    clock: Clock,
    username: str,
    full_name: str,
    role: Role | str,
    gender: str,
    password: str,
    actor_id: int | None = None,
    department_code: str = "",
    mission_code: str = "",
    email: str = "",
) -> StaffUser:
    """A new active staff account; InvalidInput names each bad field.

    `email` is optional: where a manager's monthly service-quality report is sent (none when empty).

    A department liaison's account belongs to one active department (by its code), which confines it to that
    department's referrals; a mission's staff account belongs to one active mission, which confines it to that
    mission's emergency reports; no other role has either.
    """
    errors: list[FieldError] = []
    username = username.strip().lower()
    if not username or not username.replace("_", "").replace(".", "").isalnum() or len(username) > 64:
        errors.append(FieldError("username", "invalid", N_("Username must be letters, digits, dots or underscores.")))
    elif await session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
        errors.append(FieldError("username", "taken", N_("This username is already taken.")))
    if not full_name.strip():
        errors.append(FieldError("full_name", "missing", N_("{field} is required.")))
    try:
        role = Role(role)
    except ValueError:
        errors.append(FieldError("role", "invalid", N_("{field} is not one of the allowed values.")))
    if gender not in ("male", "female"):
        errors.append(FieldError("gender", "invalid", N_("{field} is not one of the allowed values.")))
    department_id = await _department_id(session, role, department_code, errors)
    mission_id = await _mission_id(session, role, mission_code, errors)
    address: str | None = None
    try:
        address = checked_email(email)
    except InvalidInput as bad:
        errors.extend(bad.errors)
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.append(
            FieldError(
                "password",
                "too_short",
                N_("Password must be at least {min} characters."),
                {"min": str(MIN_PASSWORD_LENGTH)},
            )
        )
    if errors:
        raise InvalidInput(errors)
    user = StaffUser(
        username=username,
        full_name=full_name.strip(),
        role=Role(role),
        gender=gender,
        password_hash=hash_password(password),
        is_active=True,
        department_id=department_id,
        mission_id=mission_id,
        email=address,
        created_at=clock.now(),
    )
    session.add(user)
    await session.flush()
    details = {"username": user.username, "role": user.role.value}
    if department_code.strip():
        details["department"] = department_code.strip().lower()
    if mission_code.strip():
        details["mission"] = mission_code.strip().lower()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="staff.create",
        target_type="staff_user",
        target_id=user.id,
        details=details,
    )
    return user


def checked_email(email: str) -> str | None:
    """The address to store (lower-cased), None for an empty one; InvalidInput naming `email` when malformed."""
    email = email.strip()
    if email and (len(email) > MAX_EMAIL or not EMAIL.match(email)):
        raise InvalidInput([FieldError("email", "invalid_email", EMAIL_MESSAGE)])
    return email.lower() or None


async def set_email(*, session: AsyncSession, clock: Clock, actor_id: int, user_id: int, email: str) -> StaffUser:
    """An administrator sets, changes or clears (an empty address) an account's e-mail address; audited with what
    it was. None of the account's sessions end: the address signs nobody in, it only receives reports."""
    address = checked_email(email)
    user = await session.get(StaffUser, user_id, with_for_update=True)
    if user is None:
        raise StaffNotFound()
    if user.email == address:
        return user
    before, user.email = user.email, address
    await session.flush()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="staff.email_change",
        target_type="staff_user",
        target_id=user.id,
        details={"username": user.username, "before": before, "after": address},
    )
    return user


async def _department_id(
    session: AsyncSession, role: Role | str, department_code: str, errors: list[FieldError]
) -> int | None:
    """The liaison's department (required for that role, refused for the others); errors name "department"."""
    if not department_code.strip():
        if role == Role.DEPARTMENT_LIAISON:
            errors.append(FieldError("department", "missing", N_("{field} is required.")))
        return None
    if role != Role.DEPARTMENT_LIAISON:
        errors.append(
            FieldError("department", "not_liaison", N_("Only a department liaison's account belongs to a department."))
        )
        return None
    try:
        department = await directory.department_by_code(session=session, code=department_code)
    except directory.DepartmentNotFound:
        errors.append(FieldError("department", "unknown", N_("{field} is not one of the departments.")))
        return None
    if not department.active:
        errors.append(FieldError("department", "inactive", N_("{field} has been deactivated.")))
        return None
    return department.id


async def _mission_id(
    session: AsyncSession, role: Role | str, mission_code: str, errors: list[FieldError]
) -> int | None:
    """A mission staff account's mission (required for that role, refused for the others); errors name "mission"."""
    if not mission_code.strip():
        if role == Role.MISSION_STAFF:
            errors.append(FieldError("mission", "missing", N_("{field} is required.")))
        return None
    if role != Role.MISSION_STAFF:
        errors.append(
            FieldError("mission", "not_mission_staff", N_("Only a mission's staff account belongs to a mission."))
        )
        return None
    try:
        mission = await missions.mission_by_code(session=session, code=mission_code)
    except missions.MissionNotFound:
        errors.append(FieldError("mission", "unknown", N_("{field} is not one of the missions.")))
        return None
    if not mission.active:
        errors.append(FieldError("mission", "inactive", N_("{field} has been deactivated.")))
        return None
    return mission.id


async def sign_in(
    *,
    session: AsyncSession,
    clock: Clock,
    policy: SignInPolicy,
    username: str,
    password: str,
    address: str,
    device: str | None = None,
) -> StaffUser | None:
    """The active user when the password matches, else None (accounts.sessions opens the session).

    `device` is the trusted device the browser's device cookie names for this username (None: an untrusted
    client). Raises TooManyAttempts when this client must still wait (accounts/sign_in_throttle.py); the
    password is then not even checked, so guessing stops.
    """
    username = username.strip().lower()[:64]
    throttle = sign_in_throttle.ThrottlePolicy.scaled(max_failures=policy.max_failures, window=policy.window)
    await sign_in_throttle.check(
        session=session, clock=clock, policy=throttle, username=username, address=address, device=device
    )
    user = await session.scalar(select(StaffUser).where(StaffUser.username == username))
    ok = verify_password(user.password_hash if user else None, password)
    ok = ok and user is not None and user.is_active
    await sign_in_throttle.record(
        session=session, clock=clock, username=username, address=address, device=device, succeeded=ok
    )
    return user if ok else None


def _users_in_order() -> Select[StaffUser]:
    # By role, then username (unique), so each account is on exactly one page.
    return select(StaffUser).order_by(StaffUser.role, StaffUser.username)


async def list_users(*, session: AsyncSession) -> list[StaffUser]:
    rows = await session.scalars(_users_in_order())
    return list(rows)


async def users_page(*, session: AsyncSession, page: int, per_page: int = paging.PER_PAGE) -> paging.Paged[StaffUser]:
    """One page of the staff accounts, by role then username (majlis/paging.py)."""
    return await paging.page_of(session, _users_in_order(), page=page, per_page=per_page)


async def names_by_id(*, session: AsyncSession, ids: set[int]) -> dict[int, str]:
    """Full names of the given staff, for showing who did what."""
    if not ids:
        return {}
    rows = await session.execute(select(StaffUser.id, StaffUser.full_name).where(StaffUser.id.in_(ids)))
    return {i: n for i, n in rows.all()}


async def get_user(*, session: AsyncSession, user_id: int) -> StaffUser | None:
    return await session.get(StaffUser, user_id)


async def user_by_username(*, session: AsyncSession, username: str) -> StaffUser | None:
    """The staff account with this username, active or not (typed as at sign-in: case and spaces ignored)."""
    return await session.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower()))


async def users_with_role(*, session: AsyncSession, role: Role) -> list[StaffUser]:
    rows = await session.scalars(
        select(StaffUser).where(StaffUser.role == role, StaffUser.is_active.is_(True)).order_by(StaffUser.full_name)
    )
    return list(rows)
