"""Working-time arithmetic: how much working time lies between two moments, and when an amount of it runs out.

Pure functions over a `Calendar` (no database), so a sweep can load a
calendar once and use it for thousands of referrals, and property tests can
check them against a minute-by-minute count.

A calendar's stretches are local wall-clock hours in its own zone. A stretch
whose closing time is not after its opening time runs past midnight and
belongs to the day it opens on; a holiday removes the stretches that open on
it. Stretches that overlap (the tail of a night shift and the next morning's
hours) count once. An always-open calendar works every minute; its hours and
holidays are ignored.

A stretch is the real time from the moment it opens to the moment it closes,
each being the first moment the zone's clock shows that wall-clock time (or a
later one) on that date. So where the clock goes back, a time shown twice is
its first showing, and a night shift simply lasts an hour longer; where the
clock jumps forward, a time it skips is the moment of the jump, and a night
shift lasts an hour less. (Reading a skipped time with the offset from before
the jump, Python's fold=0, would put 02:30 after 03:15 on such a night: a
stretch from 02:30 to 03:15 would vanish and one closing at 02:30 would work
until 03:30 by the clock.) This reading keeps the order of wall-clock times,
so the stretches of later days never open before those of earlier days.

Every moment given must be aware; every moment returned is in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

# Looking further than this past the last working time found means the calendar has no more
# (no hours, or a year of holidays).
_HORIZON_DAYS = 400
_DAY = timedelta(days=1)

Span = tuple[datetime, datetime]


class NoWorkingTime(ValueError):
    """The calendar has no working time ahead (no hours set, or every day a holiday)."""


@dataclass(frozen=True)
class Stretch:
    weekday: int  # Monday 0 … Sunday 6
    opens: time
    closes: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"a weekday is 0 (Monday) to 6 (Sunday), not {self.weekday}")

    @property
    def overnight(self) -> bool:
        """Whether the stretch runs past midnight into the next day (24 hours when it closes as it opens)."""
        return self.closes <= self.opens

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
        """What "a working day" means in a service level: the longest day's working time (24 h round the clock).

        A day's working time is that of the stretches opening on it, overlaps counted once, by the wall clock.
        """
        if self.always_open:
            return timedelta(days=1)
        longest = 0
        for stretches in self._by_weekday:
            covered, reached = 0, 0
            for stretch in stretches:  # in order of opening
                opens = stretch.opens.hour * 60 + stretch.opens.minute
                closes = opens + stretch.minutes
                covered += max(0, closes - max(opens, reached))
                reached = max(reached, closes)
            longest = max(longest, covered)
        return timedelta(minutes=min(longest, 24 * 60))

    @cached_property
    def _by_weekday(self) -> tuple[tuple[Stretch, ...], ...]:
        return tuple(
            tuple(sorted((s for s in self.stretches if s.weekday == weekday), key=lambda s: s.opens))
            for weekday in range(7)
        )

    @cached_property
    def _spans_of_day(self) -> dict[date, tuple[Span, ...]]:
        # Filled as days are asked for: a sweep reads the same days for many referrals of one calendar.
        return {}

    def _moment(self, day: date, at: time) -> datetime:
        """The first moment the zone's clock shows `at` on `day`, or a later time when it jumps over `at`."""
        # Python reads a wall time with the offset in force before a clock change (fold=0) or after it (fold=1).
        before = datetime.combine(day, at, self.zone).utcoffset()
        after = datetime.combine(day, at.replace(fold=1), self.zone).utcoffset()
        assert before is not None and after is not None
        as_if_utc = datetime.combine(day, at, UTC)
        if before >= after:  # shown once, or twice as the clock goes back (then fold=0 is its first showing)
            return as_if_utc - before
        # Skipped as the clock jumps forward: the offset from before lands after the jump and the offset
        # from after lands before it; the jump is found in between, to the second.
        early, late = int((as_if_utc - after).timestamp()), int((as_if_utc - before).timestamp())
        naive = datetime.combine(day, at)
        while late - early > 1:
            middle = (early + late) // 2
            if datetime.fromtimestamp(middle, self.zone).replace(tzinfo=None) >= naive:
                late = middle
            else:
                early = middle
        return datetime.fromtimestamp(late, UTC)

    def _opening_on(self, day: date) -> tuple[Span, ...]:
        """The real time of each stretch opening on a local day, in order of opening (none on a holiday)."""
        spans = self._spans_of_day.get(day)
        if spans is None:
            found = []
            if day not in self.holidays:
                for stretch in self._by_weekday[day.weekday()]:
                    opens = self._moment(day, stretch.opens)
                    closes = self._moment(day + _DAY if stretch.overnight else day, stretch.closes)
                    if closes > opens:  # a stretch the clock jumps over has no length
                        found.append((opens, closes))
            spans = self._spans_of_day[day] = tuple(found)
        return spans

    def _opened(self, first: date, last: date | None = None) -> Iterator[Span]:
        """The stretches opening from local day `first` (to `last`), in order of opening.

        Without `last` it runs until a horizon of days passes without working time.
        """
        day, idle = first, 0
        while (day <= last) if last is not None else idle < _HORIZON_DAYS:
            found = self._opening_on(day)
            yield from found
            idle = 0 if found else idle + 1
            day += _DAY

    def intervals(self, start: datetime, end: datetime) -> Iterator[Span]:
        """The working time between two moments, as disjoint, ordered intervals clipped to them (UTC)."""
        start, end = _utc(start), _utc(end)
        if end <= start:
            return
        if self.always_open:
            yield start, end
            return
        # A night shift opened the day before can reach into start's day; nothing opened later reaches back.
        first = start.astimezone(self.zone).date() - _DAY
        # Where the clock goes back over midnight, end may read the day before a stretch that opens before it.
        last = end.astimezone(self.zone).date() + _DAY
        yield from _clipped(_merged(self._opened(first, last)), start, end)

    def _forward(self, start: datetime) -> Iterator[Span]:
        """Working time from `start` (UTC) on, in order and without overlaps, until the horizon."""
        # Not merged: a calendar worked round the clock by its stretches would never close a merged interval.
        reached = start
        for s, e in self._opened(start.astimezone(self.zone).date() - _DAY):
            if e > reached:
                yield max(s, reached), e
                reached = e


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("the working-time clock needs aware datetimes")
    return moment.astimezone(UTC)


def _merged(spans: Iterable[Span]) -> Iterator[Span]:
    """Spans in order of opening, with overlapping or touching ones joined; each given once it is complete."""
    current: Span | None = None
    for s, e in spans:
        if current is not None and s <= current[1]:
            current = (current[0], max(current[1], e))
            continue
        if current is not None:
            yield current
        current = (s, e)
    if current is not None:
        yield current


def _clipped(spans: Iterable[Span], start: datetime, end: datetime) -> Iterator[Span]:
    for s, e in spans:
        if s >= end:
            return
        s, e = max(s, start), min(e, end)
        if e > s:
            yield s, e


def working_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """The working time from `start` to `end` (nothing if end is not after start)."""
    return sum((e - s for s, e in calendar.intervals(start, end)), timedelta())


def add_working(calendar: Calendar, start: datetime, amount: timedelta) -> datetime:
    """The moment when `amount` of working time, counted from `start`, has passed.

    Nothing to add gives `start` itself (in UTC), even outside working hours. Raises
    NoWorkingTime when the calendar has too little working time ahead.
    """
    start = _utc(start)
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
    moment = _utc(moment)  # a moment in a repeated local hour would lose its fold when added to
    return any(True for _ in calendar.intervals(moment, moment + timedelta(microseconds=1)))


def next_working(calendar: Calendar, moment: datetime) -> datetime:
    """`moment` if it is working time, else the start of the next working time."""
    moment = _utc(moment)
    if calendar.always_open:
        return moment
    for s, _ in calendar._forward(moment):
        return s
    raise NoWorkingTime("no working time in the calendar ahead")
