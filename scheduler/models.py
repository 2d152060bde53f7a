"""Tables of the official's calendar: weekly templates, dated sessions, slots, holidays, busy times, appointments.

No double booking is a property of the schema, not only of the code: a live
appointment holds its (slot, seat) and its case uniquely, by partial unique
indexes that PostgreSQL and SQLite both enforce.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from majlis.db import Base, UTCDateTime, enum_type


class AudienceMode(enum.StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"


class SessionState(enum.StrEnum):
    PLANNED = "planned"
    CANCELLED = "cancelled"


class AppointmentState(enum.StrEnum):
    """scheduled → confirmed → arrived → in_audience → held; or no_show, or released. Every appointment ends."""

    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    # Checked in at the reception centre (kiosk or desk) or by the video room's staff.
    ARRIVED = "arrived"
    # Called by the official: in the hall, or in the video call.
    IN_AUDIENCE = "in_audience"
    # Ended: the official recorded the audience's outcome.
    HELD = "held"
    # Ended: the session was over and the applicant never arrived.
    NO_SHOW = "no_show"
    # Ended without an audience: moved elsewhere, freed by a decline, its session cancelled, or not reached.
    RELEASED = "released"


# Holding the seat. A live appointment whose session is over no longer stops its applicant from
# being placed again (`scheduler.service.waiting_requests` counts only those still ahead).
LIVE_STATES = (
    AppointmentState.SCHEDULED,
    AppointmentState.CONFIRMED,
    AppointmentState.ARRIVED,
    AppointmentState.IN_AUDIENCE,
)
ENDED_STATES = (AppointmentState.HELD, AppointmentState.NO_SHOW, AppointmentState.RELEASED)
_LIVE = text("state IN ('scheduled', 'confirmed', 'arrived', 'in_audience')")


class SessionTemplate(Base):
    """A weekly audience of the official: a weekday, hours in Riyadh time, slot length, rooms."""

    __tablename__ = "session_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # 0 = Monday … 6 = Sunday, as Python counts; the working week is Sunday to Thursday.
    weekday: Mapped[int] = mapped_column(Integer)
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)
    slot_minutes: Mapped[int] = mapped_column(Integer)
    # Applicants seen in parallel in one slot.
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    mode: Mapped[AudienceMode] = mapped_column(enum_type(AudienceMode, 16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TemplateRoom(Base):
    """A room a template uses; a video block may link the women's rooms of two branches."""

    __tablename__ = "session_template_rooms"

    template_id: Mapped[int] = mapped_column(ForeignKey("session_templates.id", ondelete="CASCADE"), primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), primary_key=True)


class AudienceSession(Base):
    """One dated audience, from a template or added by hand."""

    __tablename__ = "audience_sessions"
    __table_args__ = (UniqueConstraint("template_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("session_templates.id"))
    day: Mapped[date] = mapped_column(Date, index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    mode: Mapped[AudienceMode] = mapped_column(enum_type(AudienceMode, 16))
    state: Mapped[SessionState] = mapped_column(enum_type(SessionState, 16))
    # A locked session is never changed by an allocation run.
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # Cancelled because its day became a holiday: taking the holiday back restores it.
    cancelled_for_holiday: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")


class Slot(Base):
    """A stretch of the official's time in one room, with seats for `capacity` applicants."""

    __tablename__ = "slots"
    __table_args__ = (Index("ix_slots_starts_at", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("audience_sessions.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int] = mapped_column(Integer)
    # Set when the official's own calendar is busy then; such a slot takes nobody.
    blocked_by: Mapped[str | None] = mapped_column(String(200))


class Appointment(Base):
    """A request's place in a slot, with how it got there."""

    __tablename__ = "appointments"
    __table_args__ = (
        Index("uq_appointments_live_seat", "slot_id", "seat", unique=True, postgresql_where=_LIVE, sqlite_where=_LIVE),
        Index("uq_appointments_live_case", "case_id", unique=True, postgresql_where=_LIVE, sqlite_where=_LIVE),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), index=True)
    seat: Mapped[int] = mapped_column(Integer)
    state: Mapped[AppointmentState] = mapped_column(enum_type(AppointmentState, 16))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # The placement's explanation: score, slot, how many went before it and why.
    explanation: Mapped[str] = mapped_column(Text)
    # Raised each time the appointment moves, for the calendar invitation's SEQUENCE.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    release_reason: Mapped[str] = mapped_column(String(64), default="")
    # When the appointment ended as held or no-show (released ones keep released_at).
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UnavailableDay(Base):
    """A Riyadh date on which the applicant of a request cannot come."""

    __tablename__ = "unavailable_days"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class Answer(enum.StrEnum):
    """What the applicant answered when asked to confirm the audience."""

    CONFIRMED = "confirmed"
    # The date does not suit: the seat is freed and a new date set.
    RESCHEDULED = "rescheduled"
    # No audience wanted: the seat is freed and the request followed in writing.
    CANCELLED = "cancelled"


class Confirmation(Base):
    """Asking the applicant of an appointment to confirm it, and the answer.

    One per appointment: asked three days before the audience (at once for a
    seat offered at short notice). Unanswered after the configured hours, it is
    on the call centre's list until staff record an answer.
    """

    __tablename__ = "confirmations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    ask_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # A freed seat offered to the next request at short notice (backfill).
    short_notice: Mapped[bool] = mapped_column(Boolean, default=False)
    answer: Mapped[Answer | None] = mapped_column(enum_type(Answer, 16))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # whatsapp, voice, portal or call_centre.
    answered_via: Mapped[str] = mapped_column(String(16), default="")
    # The call centre's calls that reached nobody, with the last one's note.
    call_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_call_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    last_call_note: Mapped[str] = mapped_column(Text, default="")
