"""Tables of the fairness record: the hash-chained log of every placement and change, and the anchors sent out.

The chain holds no personal data (no name, national ID or phone): tracking
numbers, scores, seats and the justification staff wrote. It outlives the
cases it speaks of (retention may erase a case; its entries stay, so case_id
is a plain number, not a foreign key), and it is read by auditors.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from majlis.db import Base, UTCDateTime, enum_type


class EntryKind(enum.StrEnum):
    """What an entry of the chain records."""

    # A request given a seat: by an allocation run, on routing, on the official's directive, or by hand.
    PLACEMENT = "placement"
    # An appointment moved by hand to another seat.
    MOVE = "move"
    # An appointment released to give its seat to a critical request.
    DISPLACEMENT = "displacement"
    # A classification set or changed (category, urgency, route): the score the queue orders by.
    SCORE = "score"
    # A hand-made change of the fairness record (priority.models.ManualChange): an override of the rule.
    OVERRIDE = "override"
    # A request closed as a duplicate of another.
    MERGE = "merge"


class ChainEntry(Base):
    """One link of the chain: the change, who made it and why, and the hash of the link before."""

    __tablename__ = "fairness_chain"

    # 1, 2, 3 … with no gap: the position is part of what is hashed, so a reordering shows.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # None: Majlis by rule (an allocation run, a job).
    actor_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[EntryKind] = mapped_column(enum_type(EntryKind, 16))
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # The change as canonical JSON (fairness.chain.canonical), kept as the very text that was hashed.
    change: Mapped[str] = mapped_column(Text)
    justification: Mapped[str] = mapped_column(Text, default="")
    # Unique: two links cannot follow one link, so the chain cannot fork.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class ChainAnchor(Base):
    """The chain's head as sent out on one day (e-mailed to the managers, written to the anchor file).

    Only a record that the day's anchor went: verification never trusts this table (whoever can
    rewrite the chain can rewrite it too); it checks the anchors held outside the database.
    """

    __tablename__ = "fairness_anchors"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
