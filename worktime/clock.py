"""Working-time arithmetic: how much working time lies between two moments, and when an amount of it runs out.

Pure functions over a `Calendar` (no database), so a sweep can load a
calendar once and use it for thousands of referrals, and property tests can
check them against a minute-by-minute count.

A calendar's stretches are local wall-clock hours in its own zone. A stretch
whose closing time is not after its opening time runs past midnight and
belongs to the day it opens on; a holiday removes the stretches that open on
it. Stretches that overlap (the tail of a night shift and the next morning's
hours) count once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Looking further than this for working time means the calendar has none (no hours, or a year of holidays).
_HORIZON_DAYS = 400


class NoWorkingTime(ValueError):
    """The calendar has no working time ahead (no hours set, or every day a holiday)."""


@dataclass(frozen=True)
class Stretch:
    weekday: int  # Monday 0 … Sunday 6
    opens: time
    closes: time

    @property
    def minutes(self) -> int:
        opens = self.opens.hour * 60 + self.opens.minute
        closes = self.closes.hour * 60 + self.closes.minute
        return closes - opens if closes > opens else closes - opens + 24 * 60


@dataclass(frozen=True)
class Calendar:
    zone: ZoneInfo
    stretches: tuple[Stretch, ...] = ()
    holidays: frozenset[date] = frozenset()
    always_open: bool = False

    @property
    def working_day(self) -> timedelta:
        """What "a working day" means in a service level: the longest day's working time (24 h round the clock)."""
        if self.always_open:
            return timedelta(days=1)
        per_day = [0] * 7
        for stretch in self.stretches:
            per_day[stretch.weekday] += stretch.minutes
        return timedelta(minutes=min(max(per_day, default=0), 24 * 60))

    def _local(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC)

    def _opening_on(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        if day in self.holidays:
            return
        for stretch in self.stretches:
            if stretch.weekday != day.weekday():
                continue
            start = self._local(day, stretch.opens)
            end_day = day if stretch.closes > stretch.opens else day + timedelta(days=1)
            end = self._local(end_day, stretch.closes)
            if end > start:  # a stretch swallowed by a clock change has no length
                yield start, end

    def intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The working time between two moments, as disjoint, ordered intervals clipped to them."""
        if end <= start:
            return
        if self.always_open:
            yield start, end
            return
        first = start.astimezone(self.zone).date() - timedelta(days=1)
        last = end.astimezone(self.zone).date()
        found = sorted(
            (s, e) for offset in range((last - first).days + 1) for s, e in self._opening_on(first + timedelta(offset))
        )
        yield from _clipped(_merged(found), start, end)

    def _forward(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals from `start` on, one local day at a time, clipped to start."""
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        pending: list[tuple[datetime, datetime]] = []
        for _ in range(_HORIZON_DAYS):
            pending.extend(self._opening_on(day))
            pending.sort()
            # An interval of a later day cannot begin before the next day's midnight minus a day's
            # clock change, so what ends before tomorrow's first possible opening is final.
            boundary = self._local(day + timedelta(days=1), time(0)) - timedelta(hours=3)
            merged = _merged(pending)
            ready = [iv for iv in merged if iv[1] < boundary]
            pending = [iv for iv in merged if iv[1] >= boundary]
            for s, e in ready:
                if e > start:
                    yield max(s, start), e
            day += timedelta(days=1)
        for s, e in _merged(pending):
            if e > start:
                yield max(s, start), e


def _merged(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for s, e in intervals:
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _clipped(
    intervals: list[tuple[datetime, datetime]], start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    for s, e in intervals:
        s, e = max(s, start), min(e, end)
        if e > s:
            yield s, e


def working_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """The working time from `start` to `end` (nothing if end is not after start)."""
    return sum((e - s for s, e in calendar.intervals(start, end)), timedelta())


def add_working(calendar: Calendar, start: datetime, amount: timedelta) -> datetime:
    """The moment when `amount` of working time, counted from `start`, has passed.

    Nothing to add gives `start` itself, even outside working hours. Raises
    NoWorkingTime when the calendar has too little working time ahead.
    """
    if amount <= timedelta():
        return start
    if calendar.always_open:
        return start + amount
    left = amount
    for s, e in calendar._forward(start):
        if e - s >= left:
            return s + left
        left -= e - s
    raise NoWorkingTime("no working time in the calendar ahead")


def is_working(calendar: Calendar, moment: datetime) -> bool:
    """Whether `moment` falls inside working time."""
    return any(True for _ in calendar.intervals(moment, moment + timedelta(microseconds=1)))


def next_working(calendar: Calendar, moment: datetime) -> datetime:
    """`moment` if it is working time, else the start of the next working time."""
    if calendar.always_open:
        return moment
    for s, _ in calendar._forward(moment):
        return s
    raise NoWorkingTime("no working time in the calendar ahead")
