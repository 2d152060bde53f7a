"""Tables of service quality: the desk's rating tablets, rating invitations, ratings, their daily review, the
managed list of causes, and the monthly reports' mailings.

A rating is bound to the visit it rates (its invitation: the request, the moment of service and the staff member
who served) and to nothing about the applicant: the face and the optional comment are all the applicant gives.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from majlis.db import Base, UTCDateTime, enum_type


class Visit(enum.StrEnum):
    """What a rating is of: the service at a moment of the request's life."""

    # At the desk, on the customer-facing tablet: a request taken in person, or an arrival checked in.
    INTAKE = "intake"
    CHECK_IN = "check_in"
    # By a signed link sent after the audience (in person or by video), and when the request is complete.
    AUDIENCE = "audience"
    COMPLETION = "completion"


class InviteChannel(enum.StrEnum):
    """Where the invitation to rate was shown: on the desk's tablet, or as a link by SMS or WhatsApp."""

    TABLET = "tablet"
    SMS = "sms"
    WHATSAPP = "whatsapp"


class ReviewAction(enum.StrEnum):
    """What a manager decided after investigating a negative rating."""

    COACHING = "coaching"
    NO_FAULT = "no_fault"
    PROCESS_CHANGE = "process_change"


# A face of 1 or 2 is negative: it needs an investigation, a cause and an action.
NEGATIVE_AT_MOST = 2
SCORES = (1, 2, 3, 4, 5)


class DeskTablet(Base):
    """A customer-facing tablet at a desk of a reception centre, bound to its branch by a device token.

    The staff member at the desk pairs it with themselves for their shift (`staff_id`); what they serve then is
    offered for rating on it. The token is shown once, at enrolment; only its SHA-256 is kept.
    """

    __tablename__ = "desk_tablets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_code: Mapped[str] = mapped_column(ForeignKey("branches.code"))
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The staff member at this desk now; at most one tablet per staff member (enforced where pairing happens).
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), unique=True)
    paired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RatingInvite(Base):
    """One visit offered for rating: on a desk's tablet, or by a signed link usable once.

    `used_at` is set with the rating, in its transaction; a second use of the link is refused.
    """

    __tablename__ = "rating_invites"
    __table_args__ = (
        # One invitation per visit: a request's intake, an appointment's check-in, audience, a request's completion.
        UniqueConstraint("case_id", "visit", "appointment_id", name="uq_rating_invites_visit"),
        Index("ix_rating_invites_tablet_pending", "tablet_id", "used_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    # The appointment of a check-in or an audience; 0 for an intake or a completion (0, not NULL, so the
    # unique constraint holds on both databases).
    appointment_id: Mapped[int] = mapped_column(Integer, default=0)
    visit: Mapped[Visit] = mapped_column(enum_type(Visit, 16))
    channel: Mapped[InviteChannel] = mapped_column(enum_type(InviteChannel, 16))
    # Who served: the desk's staff member, the one who recorded the audience's outcome, or who completed the
    # request. None when nobody is known (a kiosk check-in, a completion by the system).
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    branch_code: Mapped[str | None] = mapped_column(ForeignKey("branches.code"))
    # The department the request was referred to, for the per-department monthly report (a completion's).
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    tablet_id: Mapped[int | None] = mapped_column(ForeignKey("desk_tablets.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when a newer visit took the tablet before this one was rated: it is no longer shown there.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Rating(Base):
    """A face from 1 (very unhappy) to 5 (very happy) and an optional comment, for one invitation."""

    __tablename__ = "ratings"
    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 5", name="score_is_a_face"),
        Index("ix_ratings_rated_at", "rated_at"),
        Index("ix_ratings_staff_rated_at", "staff_id", "rated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invite_id: Mapped[int] = mapped_column(ForeignKey("rating_invites.id", ondelete="CASCADE"), unique=True)
    # Copied from the invitation so the review queue and the statistics read one table.
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    visit: Mapped[Visit] = mapped_column(enum_type(Visit, 16))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    branch_code: Mapped[str | None] = mapped_column(ForeignKey("branches.code"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReviewCause(Base):
    """A cause a manager can give for a negative rating; a managed list (retired causes stay on old reviews)."""

    __tablename__ = "review_causes"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)


class RatingReview(Base):
    """A manager's review of a rating: for a negative one, the investigation, its cause and the action taken."""

    __tablename__ = "rating_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id", ondelete="CASCADE"), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    cause_code: Mapped[str | None] = mapped_column(ForeignKey("review_causes.code"))
    action: Mapped[ReviewAction | None] = mapped_column(enum_type(ReviewAction, 16))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))


class QualityMailing(Base):
    """A monthly service-quality report e-mailed to one manager, once per period (so a rerun sends no twin)."""

    __tablename__ = "quality_report_mailings"
    __table_args__ = (UniqueConstraint("period", "staff_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "2026-11" for a Gregorian month, "h1448-05" for a Hijri one (followup.periods.Period.key).
    period: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
