"""The working-time clock against a brute-force oracle that looks at every minute on its own.

The oracle never merges, clips or skips: for each whole UTC minute it reads
the local date in the calendar's zone and asks whether a stretch opened on
that date, or a night stretch opened the day before, covers the minute. A
stretch covers the real time from its opening to its closing, each wall-clock
time read in the zone as `opening_moment` below says (the rule the clock's
module docstring states).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from worktime.clock import Calendar, NoWorkingTime, Stretch, add_working, is_working, next_working, working_between

MINUTE = timedelta(minutes=1)
RIYADH = ZoneInfo("Asia/Riyadh")
SYDNEY = ZoneInfo("Australia/Sydney")
# No daylight saving; daylight saving in the southern and the northern summer; a half-hour offset.
ZONES = [RIYADH, SYDNEY, ZoneInfo("Europe/London"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")]
SUN_TO_THU = (6, 0, 1, 2, 3)


# --- the oracle ---------------------------------------------------------------------------------------------------


def opening_moment(zone: ZoneInfo, day: date, at: time) -> datetime:
    """The first moment the zone's clock on `day` shows `at` or a later time.

    An ordinary time is read once; a time shown twice (the clock goes back) is
    its first showing; a time the clock jumps over is the moment of the jump.
    Found by walking whole minutes and reading the clock at each; only the
    starting point comes from Python's reading of wall-clock times.
    """
    wanted = datetime.combine(day, at)
    # Two hours before a first guess is before the first showing, whatever the clock does in between.
    moment = datetime.combine(day, at, tzinfo=zone).astimezone(UTC) - timedelta(hours=2)
    while moment.astimezone(zone).replace(tzinfo=None) < wanted:
        moment += MINUTE
    return moment


@lru_cache(maxsize=4096)
def stretches_covering(calendar: Calendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The real time of each stretch opened on a local day, and of each night stretch opened the day before.

    A stretch opened on a holiday is not there.
    """
    spans = []
    for opened, nights_only in ((day, False), (day - timedelta(days=1), True)):
        if opened in calendar.holidays:
            continue
        for stretch in calendar.stretches:
            night = stretch.closes <= stretch.opens
            if stretch.weekday != opened.weekday() or (nights_only and not night):
                continue
            opens = opening_moment(calendar.zone, opened, stretch.opens)
            closes = opening_moment(calendar.zone, opened + timedelta(days=night), stretch.closes)
            spans.append((opens, closes))
    return tuple(spans)


def minute_is_working(calendar: Calendar, minute: datetime) -> bool:
    if calendar.always_open:
        return True
    spans = stretches_covering(calendar, minute.astimezone(calendar.zone).date())
    return any(opens <= minute < closes for opens, closes in spans)


def working_minutes(calendar: Calendar, start: datetime, end: datetime) -> list[datetime]:
    """Every whole minute from start (inclusive) to end (exclusive) that is working time, one at a time."""
    found = []
    minute = start
    while minute < end:
        if minute_is_working(calendar, minute):
            found.append(minute)
        minute += MINUTE
    return found


# --- random calendars and moments ---------------------------------------------------------------------------------


def clock_changes(zone: ZoneInfo) -> list[datetime]:
    """The moments in 2024–2026 at which the zone's offset changes (on the hour in every zone used here)."""
    found = []
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    while moment.year < 2027:
        if (moment + timedelta(hours=1)).astimezone(zone).utcoffset() != moment.astimezone(zone).utcoffset():
            found.append(moment + timedelta(hours=1))
        moment += timedelta(hours=1)
    return found


CLOCK_CHANGES = {zone: clock_changes(zone) for zone in ZONES}
# The usual opening and closing times, and the hours in which the zones used here change their clocks.
TELLING_MINUTES = [0, 30, 60, 90, 120, 150, 180, 210, 8 * 60, 15 * 60, 22 * 60, 23 * 60 + 30]
WEEKS = [tuple(range(7)), SUN_TO_THU, (0, 1, 2, 3, 4)]


def wall_times(zone: ZoneInfo, near: datetime) -> st.SearchStrategy[time]:
    """Times of day, often the usual ones or within an hour and a half of the zone's time at `near`."""
    local = (near - MINUTE).astimezone(zone).replace(tzinfo=None) + MINUTE  # what the clock shows reaching `near`
    around = [local.hour * 60 + local.minute + offset for offset in range(-90, 91, 30)]
    minutes = st.sampled_from([m % (24 * 60) for m in around]) | st.sampled_from(TELLING_MINUTES)
    return (minutes | st.integers(0, 24 * 60 - 1)).map(lambda m: time(m // 60, m % 60))


@st.composite
def weekly_hours(draw: st.DrawFn, zone: ZoneInfo, near: datetime) -> tuple[Stretch, ...]:
    """A few stretches, each on several weekdays, often every day or the day of `near` (a clock change)."""
    found: list[Stretch] = []
    for _ in range(draw(st.integers(1, 4))):
        opens, closes = draw(wall_times(zone, near)), draw(wall_times(zone, near))
        some_days = st.sets(st.integers(0, 6), min_size=1, max_size=3)
        days = draw(st.sampled_from([*WEEKS, (near.astimezone(zone).weekday(),)]) | some_days)
        found += (Stretch(day, opens, closes) for day in days)
    return tuple(found)


@dataclass(frozen=True)
class Scene:
    """A calendar and a stretch of whole minutes to look at it over, most often around a clock change."""

    calendar: Calendar
    start: datetime
    end: datetime


@st.composite
def scenes(draw: st.DrawFn, max_days: int = 4) -> Scene:
    zone = draw(st.sampled_from(ZONES))
    changes = CLOCK_CHANGES[zone]
    ordinary = st.integers(0, 3 * 366 * 24).map(lambda h: datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=h))
    anchor = draw(st.sampled_from(changes) if changes and draw(st.sampled_from([True] * 4 + [False])) else ordinary)
    start = anchor - timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
    end = start + timedelta(minutes=draw(st.integers(0, max_days * 24 * 60)))
    first_day = start.astimezone(zone).date()
    kind = draw(st.sampled_from(["hours"] * 8 + ["always open", "no hours"]))
    calendar = Calendar(
        zone=zone,
        stretches=draw(weekly_hours(zone, anchor)) if kind == "hours" else (),
        holidays=draw(st.frozensets(st.integers(-2, max_days + 1).map(lambda n: first_day + timedelta(days=n)))),
        always_open=kind == "always open",
    )
    return Scene(calendar, start, end)


def without_hours(calendar: Calendar) -> bool:
    return not calendar.always_open and not calendar.stretches


# --- properties ---------------------------------------------------------------------------------------------------


@settings(max_examples=250, deadline=None)
@given(scenes())
def test_working_time_between_two_moments_counts_the_working_minutes(scene: Scene) -> None:
    expected = len(working_minutes(scene.calendar, scene.start, scene.end))
    assert working_between(scene.calendar, scene.start, scene.end) == expected * MINUTE


@settings(max_examples=250, deadline=None)
@given(scenes(), st.data())
def test_adding_k_minutes_ends_with_the_kth_working_minute(scene: Scene, data: st.DataObject) -> None:
    calendar, start = scene.calendar, scene.start
    found = working_minutes(calendar, start, scene.end)
    if not found:
        if without_hours(calendar):
            with pytest.raises(NoWorkingTime):
                add_working(calendar, start, MINUTE)
        else:
            assert add_working(calendar, start, MINUTE) > scene.end
        return
    k = data.draw(st.integers(1, len(found)), label="k")
    due = add_working(calendar, start, k * MINUTE)
    # The end of the k-th working minute is the first moment at which k minutes have been worked.
    assert due == found[k - 1] + MINUTE
    assert working_between(calendar, start, due) == k * MINUTE
    assert working_between(calendar, start, due - timedelta(seconds=1)) < k * MINUTE


@settings(max_examples=300, deadline=None)
@given(scenes(max_days=0))
def test_a_moment_is_working_when_its_minute_is(scene: Scene) -> None:
    expected = minute_is_working(scene.calendar, scene.start)
    assert is_working(scene.calendar, scene.start) is expected
    assert is_working(scene.calendar, scene.start + timedelta(seconds=59)) is expected


@settings(max_examples=150, deadline=None)
@given(scenes())
def test_next_working_moment_is_the_first_working_minute(scene: Scene) -> None:
    calendar, start = scene.calendar, scene.start
    found = working_minutes(calendar, start, scene.end)
    if found:
        assert next_working(calendar, start) == found[0]
        if found[0] > start:  # waiting for work never ends in the middle of a minute
            assert next_working(calendar, start + timedelta(seconds=1)) == found[0]
    elif without_hours(calendar):
        with pytest.raises(NoWorkingTime):
            next_working(calendar, start)
    else:
        assert next_working(calendar, start) >= scene.end


@settings(max_examples=200, deadline=None)
@given(scenes(), st.floats(0, 1), st.integers(0, 59))
def test_working_time_adds_up_over_consecutive_spans(scene: Scene, share: float, seconds: int) -> None:
    calendar, start, end = scene.calendar, scene.start, scene.end
    middle = min(start + (end - start) * share + timedelta(seconds=seconds), end)
    whole = working_between(calendar, start, end)
    assert working_between(calendar, start, middle) + working_between(calendar, middle, end) == whole
    assert working_between(calendar, end, start) == timedelta()


@settings(max_examples=200, deadline=None)
@given(scenes(), st.integers(0, 5 * 24 * 3600))
def test_adding_working_time_and_measuring_it_back_agree(scene: Scene, seconds: int) -> None:
    calendar, amount = scene.calendar, timedelta(seconds=seconds)
    assume(not without_hours(calendar))
    due = add_working(calendar, scene.start, amount)
    assert due >= scene.start
    assert working_between(calendar, scene.start, due) == amount
    if amount:  # the deadline falls where work is done, not after a pause that follows it
        assert is_working(calendar, due - timedelta(microseconds=1))


@settings(max_examples=100, deadline=None)
@given(scenes(), st.integers(0, 3 * 24 * 3600))
def test_the_zone_a_moment_is_written_in_does_not_matter(scene: Scene, seconds: int) -> None:
    calendar, amount = scene.calendar, timedelta(seconds=seconds)
    local_start, local_end = scene.start.astimezone(calendar.zone), scene.end.astimezone(calendar.zone)
    assert working_between(calendar, local_start, local_end) == working_between(calendar, scene.start, scene.end)
    assert is_working(calendar, local_start) is is_working(calendar, scene.start)
    if not without_hours(calendar):
        assert add_working(calendar, local_start, amount) == add_working(calendar, scene.start, amount)
        assert next_working(calendar, local_start) == next_working(calendar, scene.start)


@settings(max_examples=50, deadline=None)
@given(scenes(), st.integers(1, 10**6))
def test_a_calendar_without_hours_has_no_working_time(scene: Scene, seconds: int) -> None:
    calendar = Calendar(zone=scene.calendar.zone, holidays=scene.calendar.holidays)
    assert working_between(calendar, scene.start, scene.end) == timedelta()
    assert not is_working(calendar, scene.start)
    assert calendar.working_day == timedelta()
    with pytest.raises(NoWorkingTime):
        add_working(calendar, scene.start, timedelta(seconds=seconds))
    with pytest.raises(NoWorkingTime):
        next_working(calendar, scene.start)
    assert add_working(calendar, scene.start, timedelta()) == scene.start  # nothing to add needs no working time


# --- examples -----------------------------------------------------------------------------------------------------

GOVERNMENT = Calendar(zone=RIYADH, stretches=tuple(Stretch(day, time(8), time(15)) for day in SUN_TO_THU))
# Every night 22:00 to 06:00 in Sydney.
SYDNEY_NIGHTS = Calendar(zone=SYDNEY, stretches=tuple(Stretch(day, time(22), time(6)) for day in range(7)))


def riyadh(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=RIYADH)


def sydney(year: int, month: int, day: int, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SYDNEY, fold=fold)


def test_two_working_hours_from_thursday_afternoon_end_on_sunday_morning() -> None:
    due = add_working(GOVERNMENT, riyadh(2026, 12, 3, 14), timedelta(hours=2))
    assert due == riyadh(2026, 12, 6, 9)
    assert due.tzinfo is UTC
    assert working_between(GOVERNMENT, riyadh(2026, 12, 3, 14), due) == timedelta(hours=2)
    # The weekend in between is no working time, and waiting for work ends on Sunday at eight.
    assert not is_working(GOVERNMENT, riyadh(2026, 12, 4, 10))
    assert next_working(GOVERNMENT, riyadh(2026, 12, 4, 10)) == riyadh(2026, 12, 6, 8)
    assert GOVERNMENT.working_day == timedelta(hours=7)


def test_a_holiday_is_skipped() -> None:
    eid = Calendar(zone=RIYADH, stretches=GOVERNMENT.stretches, holidays=frozenset({date(2026, 12, 3)}))
    assert add_working(eid, riyadh(2026, 12, 2, 14), timedelta(hours=2)) == riyadh(2026, 12, 6, 9)
    assert working_between(eid, riyadh(2026, 12, 2), riyadh(2026, 12, 7)) == timedelta(hours=7 + 7)


def test_a_night_shift_over_a_clock_change_lasts_as_long_as_the_clocks_say() -> None:
    # Sydney's clocks go forward at 02:00 on Sunday 6 October 2024 and back at 03:00 on Sunday 6 April 2025.
    forward = working_between(SYDNEY_NIGHTS, sydney(2024, 10, 5, 12), sydney(2024, 10, 6, 12))
    back = working_between(SYDNEY_NIGHTS, sydney(2025, 4, 5, 12), sydney(2025, 4, 6, 12))
    assert (forward, back) == (timedelta(hours=7), timedelta(hours=9))
    # Eight working hours from Saturday 22:00 run into the next night when the night is an hour short.
    assert add_working(SYDNEY_NIGHTS, sydney(2024, 10, 5, 22), timedelta(hours=8)) == sydney(2024, 10, 6, 23)
    # The repeated hour from 02:00 to 03:00 is worked twice, once on each reading of the clock.
    assert is_working(SYDNEY_NIGHTS, sydney(2025, 4, 6, 2, 30)) and is_working(
        SYDNEY_NIGHTS, sydney(2025, 4, 6, 2, 30, fold=1)
    )
    assert SYDNEY_NIGHTS.working_day == timedelta(hours=8)


def test_times_the_clock_skips_or_repeats() -> None:
    new_york = ZoneInfo("America/New_York")
    sunday = date(2025, 3, 9)  # 02:00 becomes 03:00
    early = Calendar(zone=new_york, stretches=(Stretch(6, time(1), time(2, 30)),))
    late = Calendar(zone=new_york, stretches=(Stretch(6, time(2, 30), time(3, 15)),))
    day = (datetime.combine(sunday, time(0), new_york), datetime.combine(sunday, time(12), new_york))
    # Open until 02:30, a time that never comes: closed when the clock jumps to 03:00.
    assert working_between(early, *day) == timedelta(hours=1)
    assert not is_working(early, datetime.combine(sunday, time(3, 10), new_york))
    # Open from 02:30: open from the jump, so the quarter hour after 03:00 is worked.
    assert working_between(late, *day) == timedelta(minutes=15)
    assert next_working(late, day[0]) == datetime.combine(sunday, time(3), new_york)
    # London's clocks go back from 02:00 to 01:00 on 26 October 2025: closing at 01:30 is its first showing.
    london = ZoneInfo("Europe/London")
    autumn = Calendar(zone=london, stretches=(Stretch(6, time(0), time(1, 30)),))
    assert working_between(autumn, datetime(2025, 10, 25, 12, tzinfo=UTC), datetime(2025, 10, 27, tzinfo=UTC)) == (
        timedelta(hours=1, minutes=30)
    )


def test_overlapping_stretches_count_once() -> None:
    calendar = Calendar(
        zone=RIYADH,
        stretches=(Stretch(0, time(8), time(15)), Stretch(0, time(9), time(16)), Stretch(0, time(8), time(15))),
    )
    monday = (riyadh(2026, 11, 30), riyadh(2026, 12, 1))
    assert working_between(calendar, *monday) == timedelta(hours=8)
    assert calendar.working_day == timedelta(hours=8)
    # Two hours to 16:00 on Monday, then the next Monday from 08:00.
    assert add_working(calendar, riyadh(2026, 11, 30, 14), timedelta(hours=3)) == riyadh(2026, 12, 7, 9)


def test_round_the_clock_counts_real_hours_across_a_clock_change() -> None:
    duty = Calendar(zone=SYDNEY, always_open=True, holidays=frozenset({date(2024, 10, 6)}))
    saturday_noon = sydney(2024, 10, 5, 12)
    assert add_working(duty, saturday_noon, timedelta(hours=24)) == sydney(2024, 10, 6, 13)
    assert working_between(duty, saturday_noon, sydney(2024, 10, 6, 12)) == timedelta(hours=23)
    assert duty.working_day == timedelta(days=1)
    # Stretches that cover every hour work round the clock too.
    nights_and_days = Calendar(
        zone=SYDNEY, stretches=(*SYDNEY_NIGHTS.stretches, *(Stretch(d, time(6), time(22)) for d in range(7)))
    )
    a_month_later = saturday_noon.astimezone(UTC) + timedelta(days=30)  # real days, not days on the local clock
    assert add_working(nights_and_days, saturday_noon, timedelta(days=30)) == a_month_later
    assert next_working(nights_and_days, saturday_noon) == saturday_noon


def test_naive_moments_and_impossible_weekdays_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        working_between(GOVERNMENT, datetime(2026, 12, 3, 8), datetime(2026, 12, 3, 9))
    with pytest.raises(ValueError, match="weekday"):
        Stretch(7, time(8), time(15))


def test_long_holidays_and_amounts_of_more_than_a_year() -> None:
    start = riyadh(2026, 1, 1)
    closed_till_autumn = Calendar(
        zone=RIYADH,
        stretches=GOVERNMENT.stretches,
        holidays=frozenset(date(2026, 1, 1) + timedelta(days=n) for n in range(300)),
    )
    assert next_working(closed_till_autumn, start) == riyadh(2026, 10, 28, 8)  # the first Wednesday after
    # Two thousand five hundred working hours are some seventy weeks of the government's hours.
    due = add_working(GOVERNMENT, start, timedelta(hours=2500))
    assert due > riyadh(2027, 4, 1)
    assert working_between(GOVERNMENT, start, due) == timedelta(hours=2500)
