"""Tables of branches, rooms and the staff rosters of rooms."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from majlis.db import Base, UTCDateTime, enum_type
from majlis.i18n import in_language


class RoomKind(enum.StrEnum):
    AUDIENCE_HALL = "audience_hall"
    WOMEN_VIDEO = "women_video"
    MEN_VIDEO = "men_video"
    OFFICIAL_OFFICE = "official_office"


class BranchSite(Base):
    """A reception centre (Riyadh, Jeddah, and those an administrator adds); one is the official's seat."""

    __tablename__ = "branches"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_ar: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    is_official_seat: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where applicants come; shown with their appointment.
    address_ar: Mapped[str] = mapped_column(Text, default="")
    address_en: Mapped[str] = mapped_column(Text, default="")
    # An IANA name (checked with zoneinfo). Every centre today is on Riyadh's clock, and pages show Riyadh time;
    # the zone is kept so that a centre elsewhere can be recorded, but no page converts to it yet.
    time_zone: Mapped[str] = mapped_column(String(64), default="Asia/Riyadh")
    # The address of the branch official's own commitments (iCalendar), recorded for protocol; empty when none.
    # Majlis schedules one official: protocol imports busy time from an address on the calendar page.
    official_calendar_url: Mapped[str] = mapped_column(Text, default="")
    # A closed centre takes no new requests, rooms or kiosks; its past requests keep naming it.
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def name_in(self, language: str) -> str:
        """The centre's name in the reader's language (majlis.i18n.in_language), the other one when that is empty."""
        return in_language(language, self.name_ar, self.name_en)

    def address_in(self, language: str) -> str:
        """The centre's address in the reader's language (majlis.i18n.in_language), the other one when that is empty."""
        return in_language(language, self.address_ar, self.address_en)


class Room(Base):
    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("branch_code", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_code: Mapped[str] = mapped_column(ForeignKey("branches.code"))
    # The room's Arabic name (the one signs and staff use) and its English one ("" until given: the Arabic then).
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120), default="")
    kind: Mapped[RoomKind] = mapped_column(enum_type(RoomKind))
    capacity: Mapped[int] = mapped_column(Integer)
    wheelchair_access: Mapped[bool] = mapped_column(Boolean, default=False)
    # Free text, one item a line: screen, camera, microphone, round table…
    equipment: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def name_in(self, language: str) -> str:
        """The room's name in the reader's language, the other one when that is not given."""
        return in_language(language, self.name, self.name_en)


class RosterEntry(Base):
    """A member of staff on duty in a room on a day, between two Riyadh times."""

    __tablename__ = "room_rosters"
    __table_args__ = (UniqueConstraint("room_id", "staff_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    day: Mapped[date] = mapped_column(Date, index=True)
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)
