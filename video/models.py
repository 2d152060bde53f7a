"""Tables of video audiences: one row per appointment taken over video, and what happened in its call."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from majlis.db import Base, UTCDateTime, enum_type


class VideoState(enum.StrEnum):
    WAITING = "waiting"
    IN_CALL = "in_call"
    ENDED = "ended"


class VideoOutcome(enum.StrEnum):
    REFERRED = "referred"
    ANSWERED = "answered"
    # Recorded before the four outcomes of audience day; no longer offered.
    FOLLOW_UP = "follow_up"
    REJECTED = "rejected"
    NEEDS_STUDY = "needs_study"


class VideoEventKind(enum.StrEnum):
    CHECKED_IN = "checked_in"
    STARTED = "started"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    RECONNECTED = "reconnected"
    ENDED = "ended"
    OUTCOME = "outcome"
    # The call went through the server's bridge (detail: why — "settings", "room", "direct_failed").
    BRIDGED = "bridged"
    # The bridge saw the picture go bad in one direction (detail: direction and reasons), or recover.
    QUALITY = "quality"
    CONSENT = "consent"
    RECORDING = "recording"


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
    # The applicant's consent to recording, taken by the room staff; recording needs it and the settings' leave.
    recording_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recording_consent_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # Where the recording was written (relative to the recordings directory), once one was made.
    recording_path: Mapped[str | None] = mapped_column(String(255))


class VideoEvent(Base):
    """One thing that happened to a video audience, in order."""

    __tablename__ = "video_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audience_id: Mapped[int] = mapped_column(ForeignKey("video_audiences.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[VideoEventKind] = mapped_column(enum_type(VideoEventKind, 16))
    detail: Mapped[str] = mapped_column(Text, default="")


class RoomCheck(Base):
    """One pre-call check of a women's-section room's camera and microphone, judged on the server."""

    __tablename__ = "room_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    # The Riyadh day of the check: protocol counts failing days per room.
    day: Mapped[date] = mapped_column(Date, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    passed: Mapped[bool] = mapped_column(Boolean)
    # Codes of what failed ("too_dark", "no_face", …), in the order shown.
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What was measured: brightness, sharpness, frame rate, resolution, audio level…
    measures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A JPEG of one received frame, shown with the verdict.
    snapshot: Mapped[bytes | None] = mapped_column(LargeBinary)


class RoomCheckRunState(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class RoomCheckRun(Base):
    """A pre-call check while it runs, so that any process can answer the room's poll of its state.

    The aiortc peer that judges the check lives in the process that answered the offer; its state is written
    here when it starts and when it ends, and the verdict is the RoomCheck row it points to.
    """

    __tablename__ = "room_check_runs"

    # The check's id as given to the browser ("c" and 24 hex digits).
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    state: Mapped[RoomCheckRunState] = mapped_column(enum_type(RoomCheckRunState, 16))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("room_checks.id", ondelete="SET NULL"))
    # Which process runs it (host and pid), for operators reading a stuck check.
    runner: Mapped[str] = mapped_column(String(120), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BridgeWorker(Base):
    """A `majlis bridge` process that carries bridged calls; the hub gives each call to the least loaded one."""

    __tablename__ = "bridge_workers"

    # Chosen by the worker (host and pid by default); also its signalling channel's suffix.
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A worker whose heartbeat is older than the hub's limit is taken for dead and given no calls.
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
