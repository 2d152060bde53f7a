"""Tables of video audiences: one row per appointment taken over video, and what happened in its call."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from majlis.db import Base, UTCDateTime, enum_type


class VideoState(enum.StrEnum):
    WAITING = "waiting"
    IN_CALL = "in_call"
    ENDED = "ended"


class VideoOutcome(enum.StrEnum):
    REFERRED = "referred"
    ANSWERED = "answered"
    FOLLOW_UP = "follow_up"


class VideoEventKind(enum.StrEnum):
    CHECKED_IN = "checked_in"
    STARTED = "started"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    RECONNECTED = "reconnected"
    ENDED = "ended"
    OUTCOME = "outcome"


class VideoAudience(Base):
    """An appointment held over video between the official and a women's-section room."""

    __tablename__ = "video_audiences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    state: Mapped[VideoState] = mapped_column(enum_type(VideoState, 16))
    # When the room staff checked the applicant in: her waiting time on the official's console.
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "official" or "room" (the room ends only in an emergency).
    ended_by: Mapped[str | None] = mapped_column(String(16))
    reconnections: Mapped[int] = mapped_column(Integer, default=0)
    # Seconds both sides had media, summed over the call's connected stretches.
    connected_seconds: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[VideoOutcome | None] = mapped_column(enum_type(VideoOutcome, 16))
    directive: Mapped[str] = mapped_column(Text, default="")
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))


class VideoEvent(Base):
    """One thing that happened to a video audience, in order."""

    __tablename__ = "video_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audience_id: Mapped[int] = mapped_column(ForeignKey("video_audiences.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[VideoEventKind] = mapped_column(enum_type(VideoEventKind, 16))
    detail: Mapped[str] = mapped_column(Text, default="")
