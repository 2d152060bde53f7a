"""Times on the emergency line's pages: each moment in the mission's local time and in Riyadh time side by side,
how long ago a report came in, and how far a deadline is ahead or overdue.

Zones come from zoneinfo, so a mission in Sydney reads 03:00 AEDT in summer and 03:00 AEST in winter for the
same Riyadh hour shifted by one. Babel names the days, months and places in the reader's language; the times
themselves are shown between isolates by the templates, so they keep their order in Arabic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime, get_timezone_location

from majlis.clock import RIYADH
from majlis.errors import N_
from majlis.i18n import Catalogs

RIYADH_ZONE = "Asia/Riyadh"


@dataclass(frozen=True)
class ZonedMoment:
    """One moment as read in one zone."""

    day: str  # "الأربعاء 25 نوفمبر 2026" / "Wed 25 Nov 2026"
    time: str  # "03:00"
    place: str  # the zone's city in the reader's language: "سيدني", "Sydney"
    offset: str  # "UTC+11", "UTC+5:30"
    iso: str  # for <time datetime="…">


@dataclass(frozen=True)
class BothTimes:
    """A moment at the mission and in Riyadh; `riyadh` is None when the mission keeps Riyadh's time, and then
    `same_as_riyadh` says the one time shown is Riyadh's too (Kuwait, Bahrain, Qatar …), so a reader in
    Riyadh need not know the offsets to see it ("14:00 Kuwait time = Riyadh time")."""

    local: ZonedMoment
    riyadh: ZonedMoment | None
    same_as_riyadh: bool = False


def zone(name: str) -> ZoneInfo:
    """The mission's zone; Riyadh's if the name is unknown to this machine (the directory checks names)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return RIYADH


def _offset(moment: datetime) -> str:
    delta = moment.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def in_zone(moment: datetime, time_zone: str, language: str) -> ZonedMoment:
    """`moment` (aware) as read in `time_zone`."""
    tz = zone(time_zone)
    local = moment.astimezone(tz)
    return ZonedMoment(
        day=format_datetime(local, "EEE d MMM y", tzinfo=tz, locale=language),
        time=local.strftime("%H:%M"),
        place=get_timezone_location(tz, locale=language, return_city=True),
        offset=_offset(local),
        iso=local.isoformat(timespec="minutes"),
    )


def both_times(moment: datetime, time_zone: str, language: str) -> BothTimes:
    """`moment` at the mission (in `time_zone`) and in Riyadh, once where both read the same (labelled as both,
    unless the mission's zone is Riyadh's own, as the central desk's is)."""
    local = in_zone(moment, time_zone, language)
    tz = zone(time_zone)
    if moment.astimezone(tz).utcoffset() != moment.astimezone(RIYADH).utcoffset():
        return BothTimes(local=local, riyadh=in_zone(moment, RIYADH_ZONE, language))
    return BothTimes(local=local, riyadh=None, same_as_riyadh=tz.key != RIYADH_ZONE)


def span_text(catalogs: Catalogs, language: str, span: timedelta) -> str:
    """A stretch of wall time in days, hours and minutes, as short as it reads."""
    minutes = int(abs(span).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return catalogs.gettext(language, N_("{days} d {hours} h"), days=days, hours=hours)
    if hours:
        return catalogs.gettext(language, N_("{hours} h {minutes} min"), hours=hours, minutes=minutes)
    return catalogs.gettext(language, N_("{minutes} min"), minutes=minutes)


@dataclass(frozen=True)
class Standing:
    """A deadline seen from now: the words, and whether it has passed."""

    text: str
    overdue: bool


def standing(catalogs: Catalogs, language: str, due: datetime, now: datetime) -> Standing:
    """'2 h 10 min left' or 'Late by 15 min'."""
    left = due - now
    time = span_text(catalogs, language, left)
    if left < timedelta(0):
        return Standing(catalogs.gettext(language, N_("Late by {time}"), time=time), True)
    return Standing(catalogs.gettext(language, N_("{time} left"), time=time), False)
