"""Tables of audience day: arrivals, in-person audiences, kiosks and special-care tasks.

The appointment's own state (arrived, in audience, held, no-show) is the
scheduler's; these rows keep what happened on the day and who did it.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from majlis.db import Base, UTCDateTime, enum_type


class ArrivalVia(enum.StrEnum):
    KIOSK = "kiosk"
    DESK = "desk"
    # The video room's staff checked the applicant in.
    ROOM = "room"


class Outcome(enum.StrEnum):
    """What the official decided at an audience, in person or by video."""

    ANSWERED = "answered"
    REFERRED = "referred"
    REJECTED = "rejected"
    NEEDS_STUDY = "needs_study"


class CareKind(enum.StrEnum):
    WHEELCHAIR = "wheelchair"
    TRANSPORT = "transport"
    ELDERLY = "elderly"
    INTERPRETER = "interpreter"


class TaskState(enum.StrEnum):
    OPEN = "open"
    DONE = "done"


class Arrival(Base):
    """An applicant's arrival for one appointment, with the queue number the hall screen shows."""

    __tablename__ = "arrivals"
    __table_args__ = (
        UniqueConstraint("session_id", "queue_number"),
        # The statistics dashboard's time at the centre reads the arrivals of a span.
        Index("ix_arrivals_arrived_at", "arrived_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("audience_sessions.id", ondelete="CASCADE"), index=True)
    # Numbers start at 1 in each session, in order of arrival; the screen shows nothing else.
    queue_number: Mapped[int] = mapped_column(Integer)
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime())
    via: Mapped[ArrivalVia] = mapped_column(enum_type(ArrivalVia, 8))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosks.id"))
    # Came after the slot's start plus the grace minutes: heard after those who came in time.
    late: Mapped[bool] = mapped_column(Boolean, default=False)


class HallAudience(Base):
    """An in-person audience: called, heard, and the official's outcome and directive."""

    __tablename__ = "hall_audiences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("audience_sessions.id", ondelete="CASCADE"), index=True)
    called_at: Mapped[datetime] = mapped_column(UTCDateTime())
    called_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[Outcome | None] = mapped_column(enum_type(Outcome, 16))
    directive: Mapped[str] = mapped_column(Text, default="")
    # The departments named in a referral, as the official said them (structured referral comes with follow-up).
    referred_to: Mapped[str] = mapped_column(Text, default="")
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))


class Kiosk(Base):
    """A tablet at a reception centre's entrance, bound to the branch by a device token."""

    __tablename__ = "kiosks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_code: Mapped[str] = mapped_column(ForeignKey("branches.code"))
    name: Mapped[str] = mapped_column(String(120))
    # SHA-256 of the device token; the token itself is shown once, when the kiosk is enrolled.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CareTask(Base):
    """Escort or transport for an applicant who needs special care on audience day, for one of protocol."""

    __tablename__ = "care_tasks"
    __table_args__ = (UniqueConstraint("appointment_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[CareKind] = mapped_column(enum_type(CareKind, 16))
    state: Mapped[TaskState] = mapped_column(enum_type(TaskState, 8))
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
