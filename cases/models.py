"""Tables of applicants, their requests (cases), status history and intake bookkeeping."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from cases.identity import ApplicantKind
from cases.names import search_key
from majlis.db import Base, UTCDateTime, enum_type


class Gender(enum.StrEnum):
    MALE = "male"
    FEMALE = "female"


class Language(enum.StrEnum):
    AR = "ar"
    EN = "en"


class RequestKind(enum.StrEnum):
    AUDIENCE_IN_PERSON = "audience_in_person"
    AUDIENCE_VIDEO = "audience_video"
    PETITION = "petition"
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    ENQUIRY = "enquiry"


class Channel(enum.StrEnum):
    PORTAL = "portal"
    WALK_IN = "walk_in"
    CALL_CENTRE = "call_centre"
    WHATSAPP = "whatsapp"
    EMAIL = "email"


class CaseStatus(enum.StrEnum):
    RECEIVED = "received"
    NEEDS_INFORMATION = "needs_information"
    AWAITING_AUDIENCE = "awaiting_audience"
    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    REFERRED = "referred"
    COMPLETED = "completed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    # The official asked for the request to be studied after its audience.
    UNDER_STUDY = "under_study"
    # Closed after the applicant missed a second audience.
    CLOSED_NO_SHOW = "closed_no_show"


class Applicant(Base):
    """A citizen, resident or company, known by the number on their ID or registration."""

    __tablename__ = "applicants"
    __table_args__ = (UniqueConstraint("kind", "id_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[ApplicantKind] = mapped_column(enum_type(ApplicantKind))
    id_number: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    # Companies are represented by a person whose gender may be unknown.
    gender: Mapped[Gender | None] = mapped_column(enum_type(Gender))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[Language] = mapped_column(enum_type(Language, 2))
    # Special care for audience day; recorded for protocol, never a priority.
    care_elderly: Mapped[bool] = mapped_column(Boolean, default=False)
    care_wheelchair: Mapped[bool] = mapped_column(Boolean, default=False)
    care_transport: Mapped[bool] = mapped_column(Boolean, default=False)
    care_interpreter: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def special_care(self) -> list[str]:
        flags = {
            "elderly": self.care_elderly,
            "wheelchair": self.care_wheelchair,
            "transport": self.care_transport,
            "interpreter": self.care_interpreter,
        }
        return [name for name, on in flags.items() if on]


class Case(Base):
    """One request from an applicant, from intake to completion."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_submitted_at", "status", "submitted_at"),
        # The statistics dashboard counts the requests submitted in a span, whatever their status.
        Index("ix_cases_submitted_at", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracking_number: Mapped[str] = mapped_column(String(16), unique=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicants.id"), index=True)
    kind: Mapped[RequestKind] = mapped_column(enum_type(RequestKind))
    subject: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    # A reception centre (rooms.models.BranchSite): data an administrator manages, not a fixed list.
    branch: Mapped[str] = mapped_column(ForeignKey("branches.code"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    status: Mapped[CaseStatus] = mapped_column(enum_type(CaseStatus))
    # The applicant's details as given with this request. They are the case's
    # own: a later, unverified request quoting the same ID number cannot change
    # how this one is routed or in which language its applicant is told. The
    # phone is also what a status enquiry must match; indexed for the duplicate check on every intake.
    phone: Mapped[str] = mapped_column(String(20), index=True)
    applicant_name: Mapped[str] = mapped_column(String(200))
    # The name as search compares it (cases/names.py), kept in step with applicant_name by _keep_name_key.
    name_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    gender: Mapped[Gender | None] = mapped_column(enum_type(Gender))
    language: Mapped[Language] = mapped_column(enum_type(Language, 2))
    email: Mapped[str | None] = mapped_column(String(254))
    care_elderly: Mapped[bool] = mapped_column(Boolean, default=False)
    care_wheelchair: Mapped[bool] = mapped_column(Boolean, default=False)
    care_transport: Mapped[bool] = mapped_column(Boolean, default=False)
    care_interpreter: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # The retention job replaced its personal data (name, phone, ID, texts) after the retention period.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    applicant: Mapped[Applicant] = relationship(lazy="raise_on_sql")

    @validates("applicant_name")
    def _keep_name_key(self, _field: str, name: str) -> str:
        # Every change of the name through the ORM; bulk UPDATEs (retention) set name_key themselves.
        self.name_key = search_key(name)
        return name

    @property
    def special_care(self) -> list[str]:
        flags = {
            "elderly": self.care_elderly,
            "wheelchair": self.care_wheelchair,
            "transport": self.care_transport,
            "interpreter": self.care_interpreter,
        }
        return [name for name, on in flags.items() if on]


class StatusChange(Base):
    """One step in a case's life: from what, to what, who, when and why."""

    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[CaseStatus | None] = mapped_column(enum_type(CaseStatus, name="from_status"))
    to_status: Mapped[CaseStatus] = mapped_column(enum_type(CaseStatus, name="to_status"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # Staff's own words, shown as typed.
    note: Mapped[str] = mapped_column(Text, default="")
    # Or a note of the system's: an English message id and its values, shown in
    # the reader's language.
    note_key: Mapped[str] = mapped_column(String(200), default="")
    note_params: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class TrackingCounter(Base):
    """The last serial handed out in a year; incremented atomically by each intake."""

    __tablename__ = "tracking_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_serial: Mapped[int] = mapped_column(Integer)


class SubmissionKey(Base):
    """An Idempotency-Key a client sent, and the case its first submission made."""

    __tablename__ = "submission_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseAddendum(Base):
    """Words kept on a case from another: the text of a duplicate merged into it."""

    __tablename__ = "case_addenda"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    source_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    source_tracking_number: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class StatusLookup(Base):
    """One status enquiry by tracking number and phone, and whether it matched; misses are throttled."""

    __tablename__ = "status_lookups"
    __table_args__ = (Index("ix_status_lookups_address_at", "address", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    matched: Mapped[bool] = mapped_column(Boolean)


class IdentityFlag(Base):
    """A request whose name does not match the applicant's earlier records for its ID, for the audit desk."""

    __tablename__ = "identity_flags"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicants.id", ondelete="CASCADE"), index=True)
    given_name: Mapped[str] = mapped_column(String(200))
    # The name on the applicant's record when the request came.
    known_name: Mapped[str] = mapped_column(String(200))
    similarity: Mapped[float] = mapped_column(Float)
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The audit desk looked at it: settled (same person, a spelling) or not.
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    review_note: Mapped[str] = mapped_column(Text, default="")


class ApplicantChange(Base):
    """A proposed change to an applicant's record (name, phone, gender, care needs …) from a verified request.

    Verifying a request no longer changes the applicant: the differences between what the request was
    submitted with and the record are proposed here, and the audit desk accepts or declines them.
    """

    __tablename__ = "applicant_changes"
    __table_args__ = (Index("ix_applicant_changes_open", "applicant_id", "decided_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicants.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    # {field: [on the record, as the request gave it]}
    fields: Mapped[dict[str, list[object]]] = mapped_column(JSON)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    accepted: Mapped[bool | None] = mapped_column(Boolean)


class PhoneCode(Base):
    """A one-time code sent by SMS to a phone, proving that the person asking for "my requests" holds it."""

    __tablename__ = "phone_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The phone in its international form (+9665…), as cases.phone keeps it.
    phone: Mapped[str] = mapped_column(String(20), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
