"""Tables of the follow-up: departments and their contacts, service-level policies and their
escalation ladders, referrals and everything that happens on them, information asked of the
applicant, attachments, and the monthly reports sent."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from majlis.db import Base, UTCDateTime, enum_type
from majlis.i18n import in_language
from priority.score import Urgency


class Department(Base):
    """A department or agency a request can be referred to; its parent is the next rank up."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("working_calendars.id"))
    # Where referrals are announced when no liaison officer is named.
    email: Mapped[str] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def name_in(self, language: str) -> str:
        """The name in the reader's language: Arabic for "ar", English for any other."""
        return in_language(language, self.name_ar, self.name_en)


class ContactRole(enum.StrEnum):
    HEAD = "head"
    DEPUTY = "deputy"
    # Receives the department's referrals and answers them.
    LIAISON = "liaison"


class DepartmentContact(Base):
    """A person at a department: its head, a deputy, or a liaison officer (who may hold an account)."""

    __tablename__ = "department_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), index=True)
    role: Mapped[ContactRole] = mapped_column(enum_type(ContactRole, 16))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(20), default="")
    language: Mapped[str] = mapped_column(String(2), default="ar")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class SlaPolicy(Base):
    """Deadlines for referrals of a category and urgency, in the receiving department's working minutes.

    The most specific active policy applies: category and urgency, then category,
    then urgency, then the default (neither). A working day is the department's
    longest working day (24 hours where it is always open).
    """

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("category_code", "urgency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    category_code: Mapped[str | None] = mapped_column(String(40))
    urgency: Mapped[Urgency | None] = mapped_column(enum_type(Urgency, 16))
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    # How often the department must give news until it answers; none asks for no updates.
    update_minutes: Mapped[int | None] = mapped_column(Integer)
    solution_minutes: Mapped[int] = mapped_column(Integer)
    # Escalations may reach people outside their working time (life and safety).
    round_the_clock: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class EscalationLevel(Base):
    """One rung of a policy's ladder: when it is reached and whom it tells.

    Reached at `percent_of_solution` % of the solution time plus `extra_minutes`
    working minutes, counted from the referral; it tells the `contact_role` of the
    department `rank` steps up from the receiving one (0 is the department itself,
    stopping at the top of the tree).
    """

    __tablename__ = "escalation_levels"
    __table_args__ = (UniqueConstraint("policy_id", "level"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("sla_policies.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    percent_of_solution: Mapped[int] = mapped_column(Integer, default=100)
    extra_minutes: Mapped[int] = mapped_column(Integer, default=0)
    rank: Mapped[int] = mapped_column(Integer, default=0)
    contact_role: Mapped[ContactRole] = mapped_column(enum_type(ContactRole, 16))


class ReferralSource(enum.StrEnum):
    # A written referral by the audit desk, without an audience.
    AUDIT_DESK = "audit_desk"
    # The official's directive at an audience, in person or by video.
    AUDIENCE = "audience"


class ReferralState(enum.StrEnum):
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    # The department asked for information; the clocks stop until the applicant answers.
    AWAITING_APPLICANT = "awaiting_applicant"
    ANSWERED = "answered"
    # The department said it is not theirs; the follow-up team sends it elsewhere or closes it.
    RETURNED = "returned"
    CLOSED = "closed"


OPEN_REFERRAL_STATES = frozenset(
    {ReferralState.SENT, ReferralState.ACKNOWLEDGED, ReferralState.AWAITING_APPLICANT, ReferralState.ANSWERED}
)


class Referral(Base):
    """One request sent to one department, with its directive, deadlines and escalation so far."""

    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_state_solution_due", "state", "solution_due_at"),
        Index("ix_referrals_department_state", "department_id", "state"),
        # The monthly report reads referrals made, and answered, in a month.
        Index("ix_referrals_created_at", "created_at"),
        Index("ix_referrals_answered_at", "answered_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    policy_id: Mapped[int] = mapped_column(ForeignKey("sla_policies.id"))
    source: Mapped[ReferralSource] = mapped_column(enum_type(ReferralSource, 16))
    directive: Mapped[str] = mapped_column(Text)
    state: Mapped[ReferralState] = mapped_column(enum_type(ReferralState, 24))
    # Raised when the referral moves on (returned, closed, sent again): links made before stop working.
    generation: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    first_response_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_update_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    solution_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Working minutes by which the deadlines were pushed (pauses and extensions), for the report.
    extended_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # Set while the request waits for the applicant; the deadlines move on by the paused working time.
    paused_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answer: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # The outcome the follow-up team approved for the applicant.
    outcome: Mapped[str] = mapped_column(Text, default="")
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    # When the next rung of the ladder is reached (none past the last, or while closed or paused):
    # the sweep reads only this, so its cost does not grow with the working-time arithmetic.
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EventKind(enum.StrEnum):
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    INFORMATION_ASKED = "information_asked"
    INFORMATION_GIVEN = "information_given"
    UPDATE = "update"
    ANSWERED = "answered"
    RETURNED = "returned"
    REMINDED = "reminded"
    PHONE_CALL = "phone_call"
    ESCALATED = "escalated"
    EXTENDED = "extended"
    CLOSED = "closed"


class ReferralEvent(Base):
    """One exchange on a referral, kept in the request's history: who, when, what was said."""

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EventKind] = mapped_column(enum_type(EventKind, 24))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A staff member, or none when the department acted through its link (then `by` names it).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    by: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class InformationRequest(Base):
    """Information asked of the applicant, and their answer; the request goes back to whoever asked."""

    __tablename__ = "information_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    # Asked by a department on its referral, or by the audit desk (none).
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    question: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The request's status before it was asked, to which the answer returns it.
    return_status: Mapped[str] = mapped_column(String(32))
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApplicantCode(Base):
    """A one-time code sent by SMS to a request's phone, proving the person at the status page holds it."""

    __tablename__ = "applicant_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AttachmentOwner(enum.StrEnum):
    APPLICANT = "applicant"
    DEPARTMENT = "department"
    STAFF = "staff"


class Attachment(Base):
    """A file kept with a request (evidence, a department's answer), stored outside the static files."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    information_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("information_requests.id", ondelete="CASCADE")
    )
    added_by: Mapped[AttachmentOwner] = mapped_column(enum_type(AttachmentOwner, 16))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # The name it came with, cleaned; never used as a path.
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # The file's name in the attachments directory (random, no extension from the sender).
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReportMailing(Base):
    """A monthly report e-mailed to one department's head, or the overall one, once per period."""

    __tablename__ = "report_mailings"
    __table_args__ = (UniqueConstraint("period", "scope"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "2026-11" for a Gregorian month, "h1448-05" for a Hijri one.
    period: Mapped[str] = mapped_column(String(16))
    # A department's code, or "*" for the overall report.
    scope: Mapped[str] = mapped_column(String(40))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
