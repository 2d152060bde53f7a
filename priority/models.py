"""Tables of triage: the managed categories, each case's classification, manual changes, merges."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from majlis.db import Base, UTCDateTime, enum_type
from priority.score import Urgency


class Route(enum.StrEnum):
    AUDIENCE_IN_PERSON = "audience_in_person"
    AUDIENCE_VIDEO = "audience_video"
    WRITTEN_REFERRAL = "written_referral"


class ChangedField(enum.StrEnum):
    CATEGORY = "category"
    URGENCY = "urgency"
    ROUTE = "route"
    QUEUE_POSITION = "queue_position"
    # An appointment moved by hand by protocol staff.
    APPOINTMENT = "appointment"
    # A WhatsApp request cancelled as a repeat of an open one (by the desk), or the cancellation undone.
    DUPLICATE = "duplicate"


class ChangeReason(enum.StrEnum):
    """Why a member of staff changed a classification by hand: chosen from a list, with free text."""

    VERIFIED_EVIDENCE = "verified_evidence"
    CORRECTED_ERROR = "corrected_error"
    NEW_INFORMATION = "new_information"
    HEALTH_OR_SAFETY = "health_or_safety"
    LEGAL_DEADLINE = "legal_deadline"
    OFFICIAL_DIRECTIVE = "official_directive"
    # The WhatsApp desk found the request repeats an open one of the same applicant.
    REPEATED_REQUEST = "repeated_request"


class Category(Base):
    """A category of request from the managed list, with the urgency it implies."""

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_ar: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    # Points within an urgency band; always below the gap between bands.
    weight: Mapped[int] = mapped_column(Integer)
    implied_urgency: Mapped[Urgency] = mapped_column(enum_type(Urgency, 16))
    position: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Reports and security information: seen only by the audit desk and the official.
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)


class Triage(Base):
    """The audit desk's classification of one case."""

    __tablename__ = "triage"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    category_code: Mapped[str | None] = mapped_column(ForeignKey("categories.code"))
    urgency: Mapped[Urgency | None] = mapped_column(enum_type(Urgency, 16))
    # Required when the urgency is above what the category implies.
    urgency_reason: Mapped[str] = mapped_column(Text, default="")
    route: Mapped[Route | None] = mapped_column(enum_type(Route))
    women_section: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # Points a manual move up the queue added; every such move is in the fairness record.
    queue_adjustment: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ManualChange(Base):
    """The fairness record: a hand-made change of category, urgency, route or queue position."""

    __tablename__ = "manual_changes"
    __table_args__ = (Index("ix_manual_changes_case_id_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    # None: a decision Majlis took by rule (a repeated WhatsApp request cancelled).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    field: Mapped[ChangedField] = mapped_column(enum_type(ChangedField))
    before: Mapped[str] = mapped_column(String(64), default="")
    after: Mapped[str] = mapped_column(String(64))
    reason: Mapped[ChangeReason] = mapped_column(enum_type(ChangeReason))
    reason_text: Mapped[str] = mapped_column(Text)


class DuplicateMerge(Base):
    """A case closed as a duplicate of another; the primary key makes a second merge impossible."""

    __tablename__ = "duplicate_merges"

    duplicate_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    original_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    merged_by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    similarity: Mapped[float] = mapped_column(Float)


class DuplicateFlag(Base):
    """A likely duplicate noticed when a request came in, for the audit desk to look at."""

    __tablename__ = "duplicate_flags"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    other_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    similarity: Mapped[float] = mapped_column(Float)
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DuplicateCancellation(Base):
    """A request cancelled on arrival as a repeat of an open request of the same applicant; staff may undo it."""

    __tablename__ = "duplicate_cancellations"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    original_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    similarity: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    undo_reason: Mapped[str] = mapped_column(Text, default="")
