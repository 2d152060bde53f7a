"""Tables of the emergency line: missions abroad, what each covers, their duty rosters, reports, what happens on
them, calls to the line and the callbacks owed, roster gaps flagged, and the monthly reports sent."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from majlis.db import Base, UTCDateTime, enum_type
from majlis.i18n import in_language


class MissionKind(enum.StrEnum):
    EMBASSY = "embassy"
    CONSULATE = "consulate"
    # The ministry's central consular desk in Riyadh: reports from countries whose mission is not live yet.
    CENTRAL_DESK = "central_desk"


class Mission(Base):
    """An embassy or consulate (or the ministry's central consular desk), with its zone and working calendar.

    `live` is the rollout flag: reports for a mission not yet live go to the central desk. The head of
    mission is the second rung of every ladder (after the duty officer); the ministry's consular deputy,
    a setting, is the third.
    """

    __tablename__ = "missions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[MissionKind] = mapped_column(enum_type(MissionKind, 16))
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # ISO 3166-1 alpha-2 of the country it sits in ("SA" for the central desk).
    country: Mapped[str] = mapped_column(String(2))
    # IANA zone (Australia/Sydney); every time on its reports is also shown in it.
    time_zone: Mapped[str] = mapped_column(String(64))
    # Working days and hours (Friday–Saturday or Saturday–Sunday weekends …) and holidays, in its zone.
    calendar_id: Mapped[int] = mapped_column(ForeignKey("working_calendars.id"))
    email: Mapped[str] = mapped_column(String(254))
    head_name: Mapped[str] = mapped_column(String(200))
    head_email: Mapped[str] = mapped_column(String(254))
    head_phone: Mapped[str] = mapped_column(String(20))
    live: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def name_in(self, language: str) -> str:
        """The name in the reader's language: Arabic for "ar", English for any other."""
        return in_language(language, self.name_ar, self.name_en)


class MissionCoverage(Base):
    """A country, or one city of it, a mission answers for.

    A city row wins over its country's row ("" as city: the whole country, or the rest of it once a
    consulate covers some cities). Cities are kept in a normalised form (`emergency.routing.city_key`).
    """

    __tablename__ = "mission_coverage"
    __table_args__ = (UniqueConstraint("country", "city_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mission_id: Mapped[int] = mapped_column(ForeignKey("missions.id", ondelete="CASCADE"), index=True)
    country: Mapped[str] = mapped_column(String(2))
    # "" for the whole country.
    city_key: Mapped[str] = mapped_column(String(120), default="")
    city_ar: Mapped[str] = mapped_column(String(120), default="")
    city_en: Mapped[str] = mapped_column(String(120), default="")


class DutyShift(Base):
    """One stretch of a mission's on-call roster: who answers alerts, how to reach them, what they speak."""

    __tablename__ = "duty_shifts"
    __table_args__ = (Index("ix_duty_shifts_mission_span", "mission_id", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mission_id: Mapped[int] = mapped_column(ForeignKey("missions.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    officer_name: Mapped[str] = mapped_column(String(200))
    # E.164, any country: SMS and the alert call go here.
    phone: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254))
    # Language codes the officer speaks ("ar", "en", "fr" …).
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))


class RosterGap(Base):
    """A stretch ahead with nobody on a live mission's roster, flagged to the supervisors before it starts."""

    __tablename__ = "roster_gaps"
    __table_args__ = (UniqueConstraint("mission_id", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mission_id: Mapped[int] = mapped_column(ForeignKey("missions.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set when a shift was added over it (or it passed): no longer shown.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReportType(enum.StrEnum):
    ARREST = "arrest"  # arrest or detention
    ACCIDENT = "accident"  # accident or hospital
    LOST_PASSPORT = "lost_passport"
    DEATH = "death"
    VIOLENCE = "violence"  # violence or abuse
    DISASTER = "disaster"  # disaster or evacuation
    FINANCIAL = "financial"  # financial distress
    OTHER = "other"


class Severity(enum.StrEnum):
    LIFE_THREATENING = "life_threatening"
    URGENT = "urgent"
    NORMAL = "normal"


class ReportState(enum.StrEnum):
    OPEN = "open"  # registered, alerted, not yet acknowledged
    ACKNOWLEDGED = "acknowledged"
    SOLVED = "solved"
    # Passed to another authority (the local police, a hospital, another ministry) within the service level.
    HANDED_OVER = "handed_over"


class ReportSource(enum.StrEnum):
    AGENT = "agent"  # registered by an agent of the contact centre from a call
    CALLBACK = "callback"  # registered when an agent called back a missed call


class EmergencyReport(Base):
    """One citizen's emergency abroad, from registration to solved, with its deadlines and escalation."""

    __tablename__ = "emergency_reports"
    __table_args__ = (
        Index("ix_emergency_reports_mission_state", "mission_id", "state"),
        Index("ix_emergency_reports_created_at", "created_at"),
        Index("ix_emergency_reports_phone", "phone"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "E26-000123-4": the year, a serial and a check digit, as tracking numbers are made.
    number: Mapped[str] = mapped_column(String(16), unique=True)
    national_id: Mapped[str] = mapped_column(String(10))
    caller_name: Mapped[str] = mapped_column(String(200))
    # E.164, any country: the report number goes here by SMS, and the status page asks for it.
    phone: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2), default="ar")
    country: Mapped[str] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(120))
    type: Mapped[ReportType] = mapped_column(enum_type(ReportType, 16))
    severity: Mapped[Severity] = mapped_column(enum_type(Severity, 16))
    # The caller's account of what happened, as the agent wrote it.
    account: Mapped[str] = mapped_column(Text)
    source: Mapped[ReportSource] = mapped_column(enum_type(ReportSource, 16))
    # The mission responsible; the central desk when the country's mission is not live yet.
    mission_id: Mapped[int] = mapped_column(ForeignKey("missions.id"))
    # The mission that covers the place, when the report went to the central desk instead (not live yet).
    covering_mission_id: Mapped[int | None] = mapped_column(ForeignKey("missions.id"))
    state: Mapped[ReportState] = mapped_column(enum_type(ReportState, 16))
    # Raised when the report moves on (acknowledged, solved, sent to another mission): links made before
    # say so instead of acting.
    generation: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    acknowledge_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    solve_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who acknowledged: a duty officer's name (through the link) or a member of staff.
    acknowledged_by: Mapped[str] = mapped_column(String(200), default="")
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    solved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    outcome: Mapped[str] = mapped_column(Text, default="")
    # 0: the duty officer alerted; 1: the head of mission; 2: the ministry's consular deputy; 3: the deputy told
    # the solution is overdue; 4 and up: the deputy reminded every day until solved (emergency.timers).
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    # When the next rung is reached (None once solved or past the last rung): the sweep reads only this.
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class ReportEventKind(enum.StrEnum):
    REGISTERED = "registered"
    ALERTED = "alerted"
    ACKNOWLEDGED = "acknowledged"
    UPDATE = "update"
    ESCALATED = "escalated"
    REASSIGNED = "reassigned"
    SOLVED = "solved"
    HANDED_OVER = "handed_over"
    CITIZEN_TOLD = "citizen_told"


class ReportEvent(Base):
    """One step in a report's life, in order: who, when, what (every escalation step is one)."""

    __tablename__ = "emergency_report_events"
    __table_args__ = (Index("ix_emergency_report_events_report", "report_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("emergency_reports.id", ondelete="CASCADE"))
    kind: Mapped[ReportEventKind] = mapped_column(enum_type(ReportEventKind, 16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # Who, when no account acted: "the duty officer (name)", "the escalation sweep".
    by: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    # Values the event's text names (the rung reached, the mission …), shown in the reader's language.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LineCallState(enum.StrEnum):
    WAITING = "waiting"  # in the agents' queue
    ANSWERED = "answered"  # an agent took it
    MISSED = "missed"  # the caller hung up or the queue gave up: a callback is owed
    CALLED_BACK = "called_back"


class LineCall(Base):
    """A call to the emergency line that chose the emergency option: queued for the agents, then answered, or
    missed and owed a callback."""

    __tablename__ = "emergency_line_calls"
    __table_args__ = (Index("ix_emergency_line_calls_state", "state", "arrived_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    caller: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2), default="ar")
    state: Mapped[LineCallState] = mapped_column(enum_type(LineCallState, 16))
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")
    report_id: Mapped[int | None] = mapped_column(ForeignKey("emergency_reports.id", ondelete="SET NULL"))


class MissionReportMailing(Base):
    """A monthly report e-mailed to one mission (or the ministry's overall one), once per month."""

    __tablename__ = "mission_report_mailings"
    __table_args__ = (UniqueConstraint("period", "mission_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "2026-11"
    period: Mapped[str] = mapped_column(String(16))
    mission_id: Mapped[int] = mapped_column(ForeignKey("missions.id", ondelete="CASCADE"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
