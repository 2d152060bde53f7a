"""The table behind majlis.pubsub: messages too long for a PostgreSQL NOTIFY payload."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from majlis.db import Base, UTCDateTime


class PubSubPayload(Base):
    """One published message over NOTIFY's 8,000-byte limit (an SDP offer): the notify carries only its id.

    Rows are read by every listener of the channel, so they are not deleted on reading; the publisher's
    process deletes rows older than a minute.
    """

    __tablename__ = "pubsub_payloads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(63))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
