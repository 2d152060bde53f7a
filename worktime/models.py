"""Tables of working calendars: weekly hours and holidays, each in the calendar's own time zone."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from majlis.db import Base
from majlis.i18n import in_language

# The calendar whose days off are the official's: no audience and no calls to applicants on them.
AUDIENCES = "audiences"


class WorkingCalendar(Base):
    """A named calendar: when its owner works, in which time zone; or round the clock."""

    __tablename__ = "working_calendars"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_ar: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    # An IANA zone such as Asia/Riyadh or Australia/Sydney.
    time_zone: Mapped[str] = mapped_column(String(64))
    # Every minute is working time (a duty desk); its hours and holidays are then ignored.
    always_open: Mapped[bool] = mapped_column(Boolean, default=False)

    def name_in(self, language: str) -> str:
        """The name in the reader's language: Arabic for "ar", English for any other."""
        return in_language(language, self.name_ar, self.name_en)


class WorkingHours(Base):
    """One stretch of work on a weekday, in the calendar's zone.

    A stretch whose closing time is not after its opening time runs past
    midnight into the next day (a night shift); it belongs to the day it opens on,
    so a holiday on that day removes the whole stretch.
    """

    __tablename__ = "working_hours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("working_calendars.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # Monday 0 … Sunday 6, as Python counts
    opens: Mapped[time] = mapped_column(Time())
    closes: Mapped[time] = mapped_column(Time())


class CalendarHoliday(Base):
    """A day off in one calendar; editable, since feast days follow the moon sighting."""

    __tablename__ = "calendar_holidays"

    calendar_id: Mapped[int] = mapped_column(ForeignKey("working_calendars.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
