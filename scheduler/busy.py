"""The official's commitments, read from his own calendar: the busy intervals of an iCalendar feed.

Pure: bytes in, intervals out.  Nothing here touches the network, the database
or the clock, so an import can be previewed, retried and tested alike.

Majlis's own audiences are not the official's commitments, though his calendar
may hold them: subscribed to the official's feed, imported from it, or merged
with it by a calendar program. Read as busy time, each would block its own
slot and cancel the audience it is. They are recognised by UID, the one
property RFC 5545 (§3.8.4.7) makes calendar programs keep: Google, Outlook and
Apple export an imported or subscribed event with its UID, whereas PRODID
becomes the exporting program's and unknown X- properties are dropped. Ours
are `audience-<tracking number>@<domain>` (invitations and feeds alike) whose
tracking number passes its check digit, so a stranger's UID practically never
matches; any domain is taken, since the mail domain that UIDs carry can change
in the settings while calendars keep the UIDs they had. `appointment-<id>@majlis`
is what the feeds wrote before they shared the invitations' UID; copies of it
may sit in calendars still.

Recurring events are expanded with dateutil, which walks the calendar from a
rule's start and, for a rule that never matches (FREQ=DAILY;BYMONTH=2;
BYMONTHDAY=30), on to the year 9999 - seconds of work for one line of input.
Three things keep a hostile feed from hanging the server: a rule without
COUNT starts its walk just before the window, not at its DTSTART; the walk runs
on dates moved forward by whole 400-year Gregorian cycles (which repeat exactly)
so that dateutil's own end of time lies at most 400 years past the window; and
every feed has a budget of occurrences and of days walked.
"""

from __future__ import annotations

import re
import warnings
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import cache
from operator import attrgetter
from typing import Any, Final, Literal, NamedTuple, cast
from zoneinfo import ZoneInfo, available_timezones

from dateutil.rrule import (
    DAILY,
    HOURLY,
    MINUTELY,
    MONTHLY,
    SECONDLY,
    WEEKLY,
    YEARLY,
    rrule,
    weekdays,
)
from icalendar import Calendar, Component, Event, vDDDLists, vDDDTypes, vRecur, vUTCOffset, vWeekday
from icalendar.error import GloballyUniqueTZIDGuessed
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from cases.tracking import parse_tracking_number
from notify.invitation import tracking_number_in

Reason = Literal[
    "too_large",  # over MAX_BYTES, or more occurrences or calendar walking than a feed may cause
    "not_utf8",  # iCalendar is UTF-8 (RFC 5545 §3.1.4); anything else would garble every summary
    "not_icalendar",  # not one parseable VCALENDAR
    "no_events",  # no VEVENT, or only Majlis's own audiences: the wrong file (Majlis's feed) or an empty export
    "bad_event",  # an event's start, end or duration is missing or malformed
    "bad_recurrence",  # an RRULE, RDATE, EXDATE or RECURRENCE-ID is malformed or of a kind not supported
    "unknown_timezone",  # a TZID that is neither an IANA or Windows name nor defined by a VTIMEZONE
]

MAX_BYTES: Final = 2 * 1024 * 1024
MAX_OCCURRENCES: Final = 10_000
# Days of calendar that recurrence rules may walk over, all rules of a feed together;
# a million is about 1.5 s of dateutil's time at worst, and about 2,500 weekly or daily
# series over a one-year window.
MAX_DAYS_WALKED: Final = 1_000_000
MAX_INTERVAL: Final = 1_000  # dateutil steps a huge INTERVAL month by month

# Wall-clock time anywhere is within a day of UTC, so a window widened by two days in
# UTC covers the window in every zone; exact filtering happens on UTC instants later.
_SLACK: Final = timedelta(days=2)
# How much of a VTIMEZONE's history is worked out before the window: enough for
# events that started before the window and are still going on.
_ZONE_HISTORY: Final = timedelta(days=400)
# icalendar turns every VTIMEZONE it parses into a dateutil zone that it keeps for the
# life of the process under its TZID (1-2 ms each, never freed, and the first definition
# of a name wins over later feeds). Renamed, they parse as plain components read here.
_VTIMEZONE_LINE: Final = re.compile(r"^(BEGIN|END):VTIMEZONE(?=\r?$)", re.IGNORECASE | re.MULTILINE)
_HIDDEN_VTIMEZONE: Final = "X-MAJLIS-VTIMEZONE"
_OLD_FEED_UID: Final = re.compile(r"appointment-[0-9]+@majlis", re.IGNORECASE)
_CYCLE_YEARS: Final = 400  # the Gregorian calendar repeats, weekdays included, every 400 years
_LAST_YEAR: Final = 9998  # dateutil stops after year 9999; one year spare for its look-ahead

_FREQUENCIES: Final = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY")  # dateutil's order
_STEPS: Final = {
    WEEKLY: timedelta(weeks=1),
    DAILY: timedelta(days=1),
    HOURLY: timedelta(hours=1),
    MINUTELY: timedelta(minutes=1),
    SECONDLY: timedelta(seconds=1),
}
_WEEKDAYS: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# RRULE number parts: dateutil argument, smallest and largest magnitude, whether negatives count from the end.
_NUMBER_PARTS: Final = {
    "BYSECOND": ("bysecond", 0, 60, False),
    "BYMINUTE": ("byminute", 0, 59, False),
    "BYHOUR": ("byhour", 0, 23, False),
    "BYMONTHDAY": ("bymonthday", 1, 31, True),
    "BYYEARDAY": ("byyearday", 1, 366, True),
    "BYWEEKNO": ("byweekno", 1, 53, True),
    "BYMONTH": ("bymonth", 1, 12, False),
    "BYSETPOS": ("bysetpos", 1, 366, True),
}


@dataclass(frozen=True, slots=True, order=True)
class BusyInterval:
    """A stretch of time the official's own calendar says he is taken; instants are aware, in UTC."""

    starts_at: datetime
    ends_at: datetime
    summary: str
    uid: str


class CalendarUnreadable(Exception):
    """The bytes are not an iCalendar feed this module can read; `reason` says why, in a word to translate."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason: Reason = reason


def busy_intervals(
    data: bytes, *, window_start: datetime, window_end: datetime, default_tz: str = "Asia/Riyadh"
) -> list[BusyInterval]:
    """Return the busy intervals of an iCalendar feed that overlap [window_start, window_end), sorted.

    Events marked TRANSP:TRANSPARENT or STATUS:CANCELLED are free time and left
    out, and so are Majlis's own audiences (`is_majlis_audience`).  RRULE,
    RDATE and EXDATE are expanded; a RECURRENCE-ID component replaces the
    occurrence it names (RANGE=THISANDFUTURE is read as that one
    occurrence); EXRULE, which RFC 5545 dropped, is ignored, which can only
    leave more time busy.  Times with a TZID use the IANA or Windows zone of that name,
    else the feed's own VTIMEZONE of that name; floating times and all-day
    events are read in `default_tz`.  Intervals are not clipped to the window,
    and events that take no time (no DTEND or DURATION) are left out.

    Raises CalendarUnreadable for a feed that cannot be read or holds nothing but
    Majlis's own audiences (no_events: an import of Majlis's feed by mistake
    must not clear the official's busy times), and ValueError for a naive
    window (a caller's mistake, not the feed's).
    """
    if window_start.tzinfo is None or window_end.tzinfo is None:
        raise ValueError("the window must be given in aware datetimes")
    if len(data) > MAX_BYTES:
        raise CalendarUnreadable("too_large")
    calendar = _parse(data)
    events = [
        component
        for component in calendar.subcomponents
        if isinstance(component, Event) and not is_majlis_audience(_uid(component))
    ]
    if not events:
        raise CalendarUnreadable("no_events")
    feed = _Feed(calendar, ZoneInfo(default_tz), window_start.astimezone(UTC), window_end.astimezone(UTC))
    return feed.busy(events)


def is_majlis_audience(uid: str) -> bool:
    """Return whether a UID is one Majlis gives an audience in its invitations and feeds (now or before)."""
    tracking_number = tracking_number_in(uid)
    if tracking_number is not None:
        return parse_tracking_number(tracking_number) == tracking_number
    return _OLD_FEED_UID.fullmatch(uid.strip()) is not None


def overlaps(starts_at: datetime, ends_at: datetime, busy: Sequence[BusyInterval]) -> bool:
    """Return whether [starts_at, ends_at) shares a moment with any interval of `busy`, which is sorted by start.

    Touching intervals do not overlap.  A bisection drops the intervals that
    start at or after `ends_at`; the rest are looked at latest first, so an
    interval starting inside the slot answers at once.
    """
    before_end = bisect_left(busy, ends_at, key=attrgetter("starts_at"))
    for index in range(before_end - 1, -1, -1):
        interval = busy[index]
        if max(interval.starts_at, starts_at) < min(interval.ends_at, ends_at):
            return True
    return False


def _parse(data: bytes) -> Calendar:
    """Return the single VCALENDAR in `data`, or raise CalendarUnreadable."""
    try:
        text = data.decode("utf-8-sig")  # some Windows tools put a byte-order mark first
    except UnicodeDecodeError:
        raise CalendarUnreadable("not_utf8") from None
    text = _VTIMEZONE_LINE.sub(rf"\1:{_HIDDEN_VTIMEZONE}", text)
    try:
        with warnings.catch_warnings():
            # icalendar warns when it reads "/vendor/Europe/London" as Europe/London; so do we, on purpose.
            warnings.simplefilter("ignore", GloballyUniqueTZIDGuessed)
            parsed: Component = Calendar.from_ical(text)
    except Exception as error:
        # Hostile input makes the parser raise more than ValueError: TZID=Europe reaches
        # zoneinfo as a directory name and comes back as IsADirectoryError.
        raise CalendarUnreadable("not_icalendar") from error
    if not isinstance(parsed, Calendar):  # a lone VEVENT parses too
        raise CalendarUnreadable("not_icalendar")
    return parsed


class _When(NamedTuple):
    """A moment as the feed wrote it: a wall-clock time in a zone; all-day values are midnight in the default zone."""

    wall: datetime
    zone: tzinfo
    all_day: bool

    @property
    def utc(self) -> datetime:
        return self.wall.replace(tzinfo=self.zone).astimezone(UTC)


class _Length(NamedTuple):
    """How long an occurrence lasts: whole local days (nominal, as DURATION's days are) and then exact time."""

    days: int
    exact: timedelta


class _Budget:
    """The work a feed has caused so far; more than a feed may cause makes it unreadable as too large."""

    def __init__(self) -> None:
        self.occurrences = 0
        self.days = 0

    def occurrence(self) -> None:
        self.occurrences += 1
        if self.occurrences > MAX_OCCURRENCES:
            raise CalendarUnreadable("too_large")

    def walk(self, days: int) -> None:
        self.days += max(days, 0)
        if self.days > MAX_DAYS_WALKED:
            raise CalendarUnreadable("too_large")


class _FeedZone(tzinfo):
    """A time zone as the feed's own VTIMEZONE defines it: the offset changes at each listed transition."""

    def __init__(self, name: str, transitions: list[tuple[datetime, timedelta, timedelta]]) -> None:
        # Each transition is (naive UTC instant, offset before, offset after).
        transitions.sort()
        self._name = name
        self._utc = [at for at, _, _ in transitions]
        self._walls = [at + before for at, before, _ in transitions]  # the clock's reading as it changes
        self._after = [after for _, _, after in transitions]
        self._initial = transitions[0][1]

    def utcoffset(self, dt: datetime | None) -> timedelta:
        if dt is None:
            return self._initial
        # A time in the hour a clock repeats takes the earlier offset, as zoneinfo does with fold=0.
        index = bisect_right(self._walls, dt.replace(tzinfo=None)) - 1
        return self._after[index] if index >= 0 else self._initial

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str:
        return self._name

    def fromutc(self, dt: datetime) -> datetime:
        index = bisect_right(self._utc, dt.replace(tzinfo=None)) - 1
        return dt + (self._after[index] if index >= 0 else self._initial)


class _Feed:
    """One feed being read: its zones, its window and the work it has caused."""

    def __init__(self, calendar: Calendar, default: tzinfo, window_start: datetime, window_end: datetime) -> None:
        self.default = default
        self.window_start = window_start
        self.window_end = window_end
        # Rule walls are naive local times; these bounds, in UTC wall time widened by
        # _SLACK, hold the window whatever the zone.
        self.earliest = (window_start - _SLACK).replace(tzinfo=None)
        self.horizon = (window_end + _SLACK).replace(tzinfo=None)
        self.budget = _Budget()
        self.vtimezones = {
            str(component["TZID"]): component
            for component in calendar.subcomponents
            if component.name in ("VTIMEZONE", _HIDDEN_VTIMEZONE) and "TZID" in component
        }
        self.zones: dict[str, tzinfo] = {}

    def busy(self, events: list[Event]) -> list[BusyInterval]:
        """Return the busy intervals of the events in the window, sorted and without repeats."""
        series = {_uid(event) for event in events if "RECURRENCE-ID" not in event}
        replaced: dict[str, set[datetime]] = {}
        for event in events:
            if "RECURRENCE-ID" in event and _uid(event) in series:
                replaced.setdefault(_uid(event), set()).add(self.recurrence_key(event))
        found: list[BusyInterval] = []
        for event in events:
            if not _is_busy(event):
                continue  # a cancelled or free override still removed its occurrence above
            if "RECURRENCE-ID" in event:
                found.extend(self.occurrences(event, recurring=False, replaced=set()))
            else:
                found.extend(self.occurrences(event, recurring=True, replaced=replaced.get(_uid(event), set())))
        return sorted(set(found))

    def occurrences(self, event: Event, *, recurring: bool, replaced: set[datetime]) -> list[BusyInterval]:
        """Return the event's occurrences that overlap the window, less those in `replaced` (UTC starts)."""
        start = self.when(*_date_property(event, "DTSTART"), reason="bad_event")
        length = self.length(event, start)
        if length is None:
            return []
        # UTC start -> (local wall time if in the series' zone, explicit end of an RDATE period).
        starts: dict[datetime, tuple[datetime | None, datetime | None]] = {start.utc: (start.wall, None)}
        if recurring:
            reach = timedelta(days=length.days + 1) + length.exact
            for rule in _properties(event, "RRULE"):
                for wall in self.rule_walls(rule, start.wall, start.zone, earliest=self.earliest - reach):
                    starts.setdefault(wall.replace(tzinfo=start.zone).astimezone(UTC), (wall, None))
            self.add_rdates(event, start.zone, starts)
            excluded_instants, excluded_dates = self.exdates(event)
        else:
            excluded_instants, excluded_dates = set(), set()
        found = []
        for utc, (local, explicit_end) in starts.items():
            if utc in replaced or utc in excluded_instants or (local or utc).date() in excluded_dates:
                continue
            ends_at = explicit_end if explicit_end is not None else self.end(local, start.zone, utc, length)
            if utc < self.window_end and ends_at > self.window_start and ends_at > utc:
                found.append(BusyInterval(utc, ends_at, str(event.get("SUMMARY", "")), _uid(event)))
        return found

    def length(self, event: Event, start: _When) -> _Length | None:
        """Return how long each occurrence lasts, or None if it takes no time."""
        if "DTEND" in event:
            end = self.when(*_date_property(event, "DTEND"), reason="bad_event")
            if start.all_day and end.all_day:
                # Clients do write DTEND equal to DTSTART for a one-day event.
                return _Length(max((end.wall - start.wall).days, 1), timedelta())
            exact = end.utc - start.utc
            return _Length(0, exact) if exact > timedelta() else None
        if "DURATION" in event:
            duration = event["DURATION"]
            if not isinstance(duration, vDDDTypes) or not isinstance(duration.dt, timedelta):
                raise CalendarUnreadable("bad_event")
            if duration.dt <= timedelta():
                return None
            return _Length(duration.dt.days, duration.dt - timedelta(days=duration.dt.days))
        return _Length(1, timedelta()) if start.all_day else None

    def end(self, wall: datetime | None, zone: tzinfo, start: datetime, length: _Length) -> datetime:
        """Return when an occurrence starting at `start` (UTC; `wall` locally, if known) ends."""
        if length.days and wall is not None:
            # Days are counted on the local calendar, so a day across a clock change is 23 or 25 hours.
            after_days = (wall + timedelta(days=length.days)).replace(tzinfo=zone).astimezone(UTC)
        else:
            after_days = start + timedelta(days=length.days)
        return after_days + length.exact

    def rule_walls(self, rule: object, first: datetime, zone: tzinfo, *, earliest: datetime) -> list[datetime]:
        """Return the local start times an RRULE gives from about `earliest` to the horizon.

        `first` is DTSTART's wall time in `zone`; the rule counts from it but is
        walked only from the last period that starts before `earliest`, unless it
        has a COUNT, which can only be counted from the start.
        """
        if not isinstance(rule, vRecur):
            raise CalendarUnreadable("bad_recurrence")
        if first >= self.horizon:
            return []
        arguments = _rrule_arguments(rule)
        count = cast("int | None", arguments.get("count"))
        until = _until(rule, zone)
        _pin_implied_parts(arguments, first)
        start = first if count is not None else _fast_forward(first, arguments["freq"], arguments["interval"], earliest)
        if (self.horizon - start).days > MAX_DAYS_WALKED - self.budget.days:
            raise CalendarUnreadable("too_large")
        # UNTIL is applied here rather than by dateutil: a rule that stops matching
        # after UNTIL would otherwise be walked to the year 9999.
        shift = max(0, (_LAST_YEAR - self.horizon.year) // _CYCLE_YEARS) * _CYCLE_YEARS
        walls: list[datetime] = []
        stopped_at: datetime | None = None
        try:
            for moment in rrule(dtstart=_years_later(start, shift), cache=False, **arguments):
                wall = _years_later(cast("datetime", moment), -shift)
                if wall >= self.horizon or (until is not None and wall > until):
                    stopped_at = wall
                    break
                self.budget.occurrence()
                walls.append(wall)
        except (ValueError, TypeError, OverflowError) as error:
            raise CalendarUnreadable("bad_recurrence") from error
        if stopped_at is None:
            counted_out = count is not None and len(walls) == count
            stopped_at = walls[-1] if counted_out else start.replace(year=_LAST_YEAR + 1 - shift, month=12, day=31)
        # dateutil spends about twice as long on a day of an HOURLY or finer rule.
        self.budget.walk((stopped_at - start).days * (2 if arguments["freq"] >= HOURLY else 1))
        return walls

    def add_rdates(
        self, event: Event, zone: tzinfo, starts: dict[datetime, tuple[datetime | None, datetime | None]]
    ) -> None:
        """Add the event's RDATE starts (and the ends of RDATE periods) to `starts`."""
        for listed in _properties(event, "RDATE"):
            if not isinstance(listed, vDDDLists):
                raise CalendarUnreadable("bad_recurrence")
            tzid = _tzid(listed)
            for item in listed.dts:
                self.budget.occurrence()
                value = item.dt
                explicit_end = None
                if isinstance(value, tuple):  # a PERIOD: start/end or start/duration
                    value, period_end = value
                    if isinstance(period_end, timedelta):
                        explicit_end = self.when(value, tzid, reason="bad_recurrence").utc + period_end
                    else:
                        explicit_end = self.when(period_end, tzid, reason="bad_recurrence").utc
                when = self.when(value, tzid, reason="bad_recurrence")
                wall = when.wall if when.zone is zone else None
                if explicit_end is None:
                    starts.setdefault(when.utc, (wall, None))
                else:
                    starts[when.utc] = (wall, explicit_end)

    def exdates(self, event: Event) -> tuple[set[datetime], set[date]]:
        """Return the event's excluded UTC starts and excluded local dates (date-only EXDATEs)."""
        instants: set[datetime] = set()
        dates: set[date] = set()
        for listed in _properties(event, "EXDATE"):
            if not isinstance(listed, vDDDLists):
                raise CalendarUnreadable("bad_recurrence")
            tzid = _tzid(listed)
            for item in listed.dts:
                value = item.dt
                if isinstance(value, datetime):
                    instants.add(self.when(value, tzid, reason="bad_recurrence").utc)
                elif isinstance(value, date):
                    dates.add(value)
                else:
                    raise CalendarUnreadable("bad_recurrence")
        return instants, dates

    def recurrence_key(self, event: Event) -> datetime:
        """Return the UTC start of the occurrence an overriding component replaces."""
        return self.when(*_date_property(event, "RECURRENCE-ID", "bad_recurrence"), reason="bad_recurrence").utc

    def when(self, value: object, tzid: str | None, *, reason: Reason) -> _When:
        """Return a DATE or DATE-TIME value read in its zone; `reason` if it is neither."""
        if isinstance(value, datetime):
            if tzid is not None:
                # Whatever zone the parser attached, the name is looked up afresh: see _VTIMEZONE_LINE.
                return _When(value.replace(tzinfo=None), self.zone(tzid), all_day=False)
            if value.tzinfo is not None:  # written with Z
                return _When(value.astimezone(UTC).replace(tzinfo=None), UTC, all_day=False)
            return _When(value, self.default, all_day=False)  # floating
        if isinstance(value, date):
            return _When(datetime.combine(value, time()), self.default, all_day=True)
        raise CalendarUnreadable(reason)

    def zone(self, tzid: str) -> tzinfo:
        """Return the zone a TZID names: IANA, Windows, the feed's own VTIMEZONE, or IANA behind a vendor prefix."""
        known = self.zones.get(tzid)
        if known is None:
            known = self.zones[tzid] = self.find_zone(tzid)
        return known

    def find_zone(self, tzid: str) -> tzinfo:
        names = _zone_names()
        cleaned = tzid.strip().strip("/")
        for candidate in (cleaned, WINDOWS_TO_OLSON.get(cleaned, "")):
            if candidate.lower() in names:
                return ZoneInfo(names[candidate.lower()])
        own = self.vtimezones.get(tzid)
        if own is not None:
            return self.feed_zone(tzid, own)
        # "/freeassociation.sourceforge.net/Tzfile/Europe/London" and the like (RFC 5545 §3.2.19).
        parts = cleaned.split("/")
        for index in range(1, len(parts)):
            suffix = "/".join(parts[index:]).lower()
            if suffix in names:
                return ZoneInfo(names[suffix])
        raise CalendarUnreadable("unknown_timezone")

    def feed_zone(self, name: str, component: Component) -> tzinfo:
        """Return the zone a VTIMEZONE defines, with its transitions worked out up to the horizon."""
        transitions: list[tuple[datetime, timedelta, timedelta]] = []
        for part in component.subcomponents:
            if part.name not in ("STANDARD", "DAYLIGHT"):
                continue
            before, after = _offset(part, "TZOFFSETFROM"), _offset(part, "TZOFFSETTO")
            clock = timezone(before)  # onsets are written in the offset in force before them
            onset = part.get("DTSTART")
            if not isinstance(onset, vDDDTypes) or not isinstance(onset.dt, date):
                raise CalendarUnreadable("unknown_timezone")
            first = _naive(onset.dt, clock)
            onsets = {first}
            for rule in _properties(part, "RRULE"):
                onsets.update(self.rule_walls(rule, first, clock, earliest=self.earliest - _ZONE_HISTORY))
            for listed in _properties(part, "RDATE"):
                if not isinstance(listed, vDDDLists):
                    raise CalendarUnreadable("unknown_timezone")
                for item in listed.dts:
                    if not isinstance(item.dt, date):
                        raise CalendarUnreadable("unknown_timezone")
                    self.budget.occurrence()
                    onsets.add(_naive(item.dt, clock))
            transitions.extend((wall - before, before, after) for wall in onsets)
        if not transitions:
            raise CalendarUnreadable("unknown_timezone")
        return _FeedZone(name, transitions)


def _rrule_arguments(rule: vRecur) -> dict[str, Any]:
    """Return dateutil rrule arguments (without dtstart and until) for an RRULE, or raise bad_recurrence."""
    arguments: dict[str, Any] = {"interval": 1}
    try:
        for key, values in rule.items():
            name = str(key).upper()
            first = values[0]
            if name == "UNTIL":
                continue  # see rule_walls
            if name == "FREQ":
                arguments["freq"] = _FREQUENCIES.index(str(first).upper())
            elif name in ("INTERVAL", "COUNT"):
                number = int(first)
                if number < 1 or (name == "INTERVAL" and number > MAX_INTERVAL):
                    raise ValueError(name)
                arguments[name.lower()] = number
            elif name in _NUMBER_PARTS:
                argument, smallest, largest, signed = _NUMBER_PARTS[name]
                if name == "BYMONTH" and any(getattr(month, "leap", False) for month in values):
                    raise ValueError("leap months (RFC 7529) need a non-Gregorian calendar")
                numbers = tuple(int(number) for number in values)
                for number in numbers:
                    if not (smallest <= number <= largest or (signed and -largest <= number <= -smallest)):
                        raise ValueError(name)
                arguments[argument] = numbers
            elif name == "BYDAY":
                arguments["byweekday"] = tuple(_weekday(day) for day in values)
            elif name == "WKST":
                arguments["wkst"] = _WEEKDAYS.index(str(first).upper())
            elif (name, str(first).upper()) not in (("RSCALE", "GREGORIAN"), ("SKIP", "OMIT")):
                # Another calendar scale (RFC 7529's Hijri or Chinese years) read as Gregorian
                # would block the wrong days, so such a feed is refused rather than misread.
                raise ValueError(name)
    except (ValueError, TypeError, IndexError) as error:
        raise CalendarUnreadable("bad_recurrence") from error
    if "freq" not in arguments:
        raise CalendarUnreadable("bad_recurrence")
    return arguments


def _weekday(day: object) -> Any:
    """Return the dateutil weekday for a BYDAY value such as MO or -1FR."""
    if not isinstance(day, vWeekday):
        raise ValueError("BYDAY")
    # vWeekday declares these in __slots__ only, so mypy cannot see them.
    name = cast("str", getattr(day, "weekday", ""))
    relative = cast("int | None", getattr(day, "relative", None))
    weekday = weekdays[_WEEKDAYS.index(name.upper())]
    if relative is None:
        return weekday
    if not 1 <= abs(relative) <= 53:
        raise ValueError("BYDAY")
    return weekday(relative)


def _pin_implied_parts(arguments: dict[str, Any], first: datetime) -> None:
    """Spell out the parts an RRULE takes from DTSTART, so that its walk may start later without changing them.

    These follow dateutil's own defaults: the day of a YEARLY, MONTHLY or
    WEEKLY rule that names none, and the time of day of a rule coarser than it.
    """
    freq = arguments["freq"]
    if not any(arguments.get(part) for part in ("byweekno", "byyearday", "bymonthday", "byweekday")):
        if freq == YEARLY:
            arguments.setdefault("bymonth", (first.month,))
            arguments["bymonthday"] = (first.day,)
        elif freq == MONTHLY:
            arguments["bymonthday"] = (first.day,)
        elif freq == WEEKLY:
            arguments["byweekday"] = (weekdays[first.weekday()],)
    for argument, finer, value in (
        ("byhour", HOURLY, first.hour),
        ("byminute", MINUTELY, first.minute),
        ("bysecond", SECONDLY, first.second),
    ):
        if freq < finer:
            arguments.setdefault(argument, (value,))


def _fast_forward(first: datetime, freq: int, interval: int, earliest: datetime) -> datetime:
    """Return the start of the rule's last period that begins by `earliest`, or `first` if that is later.

    Periods are counted in whole intervals from `first`, so the rule's rhythm
    is kept; MONTHLY and YEARLY periods start at midnight on their first day.
    """
    if earliest <= first:
        return first
    step = _STEPS.get(freq)
    if step is not None:
        return first + ((earliest - first) // (step * interval)) * (step * interval)
    if freq == MONTHLY:
        months = (earliest.year - first.year) * 12 + earliest.month - first.month
        years, month = divmod(first.month - 1 + months - months % interval, 12)
        return first.replace(year=first.year + years, month=month + 1, day=1, hour=0, minute=0, second=0)
    years = earliest.year - first.year
    return first.replace(year=first.year + years - years % interval, month=1, day=1, hour=0, minute=0, second=0)


def _until(rule: vRecur, zone: tzinfo) -> datetime | None:
    """Return an RRULE's UNTIL as a wall time in the series' zone (a date means to the end of that day)."""
    values = rule.get("UNTIL")
    if not values:
        return None
    value = values[0]
    if isinstance(value, datetime):
        return value.astimezone(zone).replace(tzinfo=None) if value.tzinfo is not None else value
    if isinstance(value, date):
        return datetime.combine(value, time.max)
    raise CalendarUnreadable("bad_recurrence")


def _years_later(moment: datetime, years: int) -> datetime:
    """Return the same wall time `years` later; whole 400-year cycles keep February 29 and every weekday."""
    return moment.replace(year=moment.year + years)


def _naive(value: date, clock: tzinfo) -> datetime:
    """Return a VTIMEZONE time as a naive wall time on `clock`."""
    if isinstance(value, datetime):
        return value.astimezone(clock).replace(tzinfo=None) if value.tzinfo is not None else value
    return datetime.combine(value, time())


def _offset(part: Component, name: str) -> timedelta:
    """Return a UTC offset of a STANDARD or DAYLIGHT part, or raise unknown_timezone."""
    offset = part.get(name)
    if not isinstance(offset, vUTCOffset) or abs(offset.td) >= timedelta(hours=24):
        raise CalendarUnreadable("unknown_timezone")
    return offset.td


def _date_property(event: Event, name: str, reason: Reason = "bad_event") -> tuple[object, str | None]:
    """Return a single date-time property's value and TZID, or raise `reason` if it is missing or malformed."""
    value = event.get(name)
    if not isinstance(value, vDDDTypes):  # absent, broken (vBroken), or given twice (a list)
        raise CalendarUnreadable(reason)
    return value.dt, _tzid(value)


def _tzid(value: vDDDTypes | vDDDLists) -> str | None:
    tzid = value.params.get("TZID")
    return None if tzid is None else str(tzid)


def _properties(component: Component, name: str) -> list[object]:
    """Return every value of a property that may appear more than once."""
    value = component.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _uid(event: Event) -> str:
    return str(event.get("UID", ""))


def _is_busy(event: Event) -> bool:
    """Return whether the event takes the official's time: not transparent and not cancelled."""
    transparency = str(event.get("TRANSP", "OPAQUE")).upper()
    status = str(event.get("STATUS", "CONFIRMED")).upper()
    return transparency != "TRANSPARENT" and status != "CANCELLED"


@cache
def _zone_names() -> dict[str, str]:
    """Return the IANA zone names keyed by their lower case, so that asia/riyadh finds Asia/Riyadh."""
    # Looking names up here first keeps hostile TZIDs away from zoneinfo's file lookups.
    return {name.lower(): name for name in available_timezones()}
