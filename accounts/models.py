"""Tables of staff accounts, their sign-in sessions, login attempts and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from accounts.roles import Role
from majlis.db import Base, UTCDateTime, enum_type


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    # Women's-section rooms are staffed by women; rosters check this later.
    gender: Mapped[str] = mapped_column(String(8))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A department liaison's department: the only referrals the account may see and answer.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    # A mission's staff: the only mission whose emergency reports the account may see and act on.
    mission_id: Mapped[int | None] = mapped_column(ForeignKey("missions.id"))
    # Where a manager's monthly service-quality report is e-mailed; optional for every other role.
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Two-factor sign-in: the TOTP secret (base32) once enrolment is confirmed (the pending one is the session's).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last TOTP time step accepted, so one code cannot be used twice.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set by an administrator's reset: the next sign-in must choose a new password before anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StaffSession(Base):
    """A signed-in browser. Only a hash of the cookie's token is stored."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The absolute end; the idle end is last_seen_at plus the idle timeout.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The session's own CSRF token (a new session, a new token: it rotates at sign-in).
    csrf_token: Mapped[str] = mapped_column(String(64), default="")
    # When the second factor was given, or the password alone sufficed; None while the code is still owed.
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Shown in the list of one's own sessions.
    address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    # The TOTP secret this session's enrolment page shows until its first code confirms it. Kept per session, not
    # per account: another sign-in (a password thief's) gets a secret of its own and never learns this one.
    pending_totp_secret: Mapped[str | None] = mapped_column(String(64))


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator; only its hash is kept."""

    __tablename__ = "staff_recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginAttempt(Base):
    """One try at signing in; failures in a window throttle further tries (accounts/sign_in_throttle.py)."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
        Index("ix_login_attempts_username_address_at", "username", "address", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    # The trusted device (its device cookie's nonce) the attempt came from; "" for an untrusted client.
    device: Mapped[str] = mapped_column(String(32), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    succeeded: Mapped[bool] = mapped_column(Boolean)


class AuditEntry(Base):
    """A staff action: who did what to which record, when, with the details."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PersonalDataAccess(Base):
    """A member of staff saw a request's personal data: who, when, which request, through what."""

    __tablename__ = "personal_data_access"
    __table_args__ = (
        Index("ix_personal_data_access_case_at", "case_id", "at"),
        Index("ix_personal_data_access_staff_at", "staff_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    # The page or API route, e.g. "GET /requests/{tracking_number}".
    via: Mapped[str] = mapped_column(String(120))
