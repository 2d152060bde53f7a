"""Busy times from the official's own iCalendar feed: zones, recurrences, overrides, bad input and overlap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar.timezone import tzp

from cases.tracking import format_tracking_number
from notify.invitation import audience_uid, invitation
from scheduler import busy
from scheduler.busy import BusyInterval, CalendarUnreadable, busy_intervals, overlaps
from scheduler.feeds import FeedEvent, build_feed

WINDOW_START = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW_END = datetime(2027, 1, 1, tzinfo=UTC)

# How Outlook writes a zone it has no standard name for: Central European rules, 1601 onwards.
OUTLOOK_ZONE = """BEGIN:VTIMEZONE
TZID:Customized Time Zone
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE
"""


def ics(*events: str, zones: str = "") -> bytes:
    """Return a VCALENDAR of the given VEVENT bodies (a property a line; UID event-N unless given), CRLF-ended."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Tests//Busy//EN", *zones.splitlines()]
    for number, body in enumerate(events):
        uid = [] if "UID:" in body else [f"UID:event-{number}"]
        lines += ["BEGIN:VEVENT", *uid, "SUMMARY:مشغول", *body.strip().splitlines(), "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(line.strip() for line in lines if line.strip()) + "\r\n").encode()


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def spans(data: bytes, **window: datetime) -> list[tuple[datetime, datetime]]:
    """Return (start, end) of every busy interval of the feed in the window (the whole of 2026 unless given)."""
    found = busy_intervals(
        data, window_start=window.get("start", WINDOW_START), window_end=window.get("end", WINDOW_END)
    )
    return [(interval.starts_at, interval.ends_at) for interval in found]


def reason(data: bytes) -> str:
    with pytest.raises(CalendarUnreadable) as raised:
        busy_intervals(data, window_start=WINDOW_START, window_end=WINDOW_END)
    return raised.value.reason


# --- zones --------------------------------------------------------------------------------------


def test_a_riyadh_event_comes_back_in_utc_with_its_summary_and_uid() -> None:
    data = ics("DTSTART;TZID=Asia/Riyadh:20260105T090000\nDTEND;TZID=Asia/Riyadh:20260105T100000")

    [interval] = busy_intervals(data, window_start=WINDOW_START, window_end=WINDOW_END)

    assert interval == BusyInterval(utc(2026, 1, 5, 6), utc(2026, 1, 5, 7), "مشغول", "event-0")
    assert interval.starts_at.tzinfo is UTC


def test_a_london_summer_event_is_an_hour_behind_utc_and_a_winter_one_is_not() -> None:
    summer = ics("DTSTART;TZID=Europe/London:20260701T090000\nDTEND;TZID=Europe/London:20260701T100000")
    winter = ics("DTSTART;TZID=Europe/London:20260105T090000\nDTEND;TZID=Europe/London:20260105T100000")

    assert spans(summer) == [(utc(2026, 7, 1, 8), utc(2026, 7, 1, 9))]
    assert spans(winter) == [(utc(2026, 1, 5, 9), utc(2026, 1, 5, 10))]


def test_utc_times_are_taken_as_they_are() -> None:
    assert spans(ics("DTSTART:20260701T090000Z\nDTEND:20260701T093000Z")) == [
        (utc(2026, 7, 1, 9), utc(2026, 7, 1, 9, 30))
    ]


def test_floating_times_are_read_in_riyadh_or_the_given_zone() -> None:
    data = ics("DTSTART:20260701T090000\nDTEND:20260701T093000")

    assert spans(data) == [(utc(2026, 7, 1, 6), utc(2026, 7, 1, 6, 30))]
    [interval] = busy_intervals(data, window_start=WINDOW_START, window_end=WINDOW_END, default_tz="Europe/London")
    assert interval.starts_at == utc(2026, 7, 1, 8)


def test_an_all_day_event_covers_whole_riyadh_days() -> None:
    two_days = ics("DTSTART;VALUE=DATE:20260701\nDTEND;VALUE=DATE:20260703")
    one_day = ics("DTSTART;VALUE=DATE:20260701")

    assert spans(two_days) == [(utc(2026, 6, 30, 21), utc(2026, 7, 2, 21))]
    assert spans(one_day) == [(utc(2026, 6, 30, 21), utc(2026, 7, 1, 21))]


def test_windows_zone_names_and_vendor_prefixed_names_are_understood() -> None:
    windows = ics("DTSTART;TZID=Arab Standard Time:20260105T090000\nDTEND;TZID=Arab Standard Time:20260105T100000")
    vendor = "/freeassociation.sourceforge.net/Tzfile/Europe/London"
    prefixed = ics(f"DTSTART;TZID={vendor}:20260701T090000\nDTEND;TZID={vendor}:20260701T100000")

    assert spans(windows) == [(utc(2026, 1, 5, 6), utc(2026, 1, 5, 7))]
    assert spans(prefixed) == [(utc(2026, 7, 1, 8), utc(2026, 7, 1, 9))]


def test_a_zone_the_feed_defines_itself_follows_its_own_daylight_saving_rules() -> None:
    data = ics(
        "DTSTART;TZID=Customized Time Zone:20260105T090000\nDTEND;TZID=Customized Time Zone:20260105T100000",
        "DTSTART;TZID=Customized Time Zone:20260705T090000\nDTEND;TZID=Customized Time Zone:20260705T100000",
        zones=OUTLOOK_ZONE,
    )

    assert spans(data) == [(utc(2026, 1, 5, 8), utc(2026, 1, 5, 9)), (utc(2026, 7, 5, 7), utc(2026, 7, 5, 8))]


def test_two_feeds_may_define_the_same_zone_name_differently() -> None:
    # Left to itself, icalendar keeps the first VTIMEZONE of a name for the whole process.
    plus_four = """BEGIN:VTIMEZONE
    TZID:Customized Time Zone
    BEGIN:STANDARD
    DTSTART:16010101T000000
    TZOFFSETFROM:+0400
    TZOFFSETTO:+0400
    END:STANDARD
    END:VTIMEZONE"""
    event = "DTSTART;TZID=Customized Time Zone:20260105T090000\nDTEND;TZID=Customized Time Zone:20260105T100000"

    assert spans(ics(event, zones=OUTLOOK_ZONE)) == [(utc(2026, 1, 5, 8), utc(2026, 1, 5, 9))]
    assert spans(ics(event, zones=plus_four)) == [(utc(2026, 1, 5, 5), utc(2026, 1, 5, 6))]


def test_a_feeds_zones_are_not_kept_in_icalendars_process_wide_cache() -> None:
    zone = OUTLOOK_ZONE.replace("Customized Time Zone", "Majlis Test Zone")
    event = "DTSTART;TZID=Majlis Test Zone:20260105T090000\nDTEND;TZID=Majlis Test Zone:20260105T100000"

    assert spans(ics(event, zones=zone)) == [(utc(2026, 1, 5, 8), utc(2026, 1, 5, 9))]
    assert tzp.timezone("Majlis Test Zone") is None


# --- lengths and the window --------------------------------------------------------------------------


def test_duration_stands_in_for_dtend() -> None:
    data = ics("DTSTART:20260105T090000Z\nDURATION:PT1H30M")

    assert spans(data) == [(utc(2026, 1, 5, 9), utc(2026, 1, 5, 10, 30))]


def test_an_event_without_end_or_duration_takes_no_time() -> None:
    assert spans(ics("DTSTART:20260105T090000Z")) == []


def test_only_events_overlapping_the_window_come_back_unclipped() -> None:
    data = ics(
        "DTSTART:20251231T230000Z\nDTEND:20260101T000000Z",  # ends as the window starts
        "DTSTART:20251231T230000Z\nDTEND:20260101T010000Z",  # runs into the window
        "DTSTART:20261231T230000Z\nDTEND:20270101T010000Z",  # runs out of the window
        "DTSTART:20270101T000000Z\nDTEND:20270101T010000Z",  # starts as the window ends
    )

    assert spans(data) == [
        (utc(2025, 12, 31, 23), utc(2026, 1, 1, 1)),
        (utc(2026, 12, 31, 23), utc(2027, 1, 1, 1)),
    ]


def test_transparent_and_cancelled_events_are_free_time() -> None:
    data = ics(
        "TRANSP:TRANSPARENT\nDTSTART:20260105T090000Z\nDTEND:20260105T100000Z",
        "STATUS:CANCELLED\nDTSTART:20260106T090000Z\nDTEND:20260106T100000Z",
        "STATUS:TENTATIVE\nDTSTART:20260107T090000Z\nDTEND:20260107T100000Z",
    )

    assert spans(data) == [(utc(2026, 1, 7, 9), utc(2026, 1, 7, 10))]


# --- recurrence -----------------------------------------------------------------------------------


WEEKLY = "DTSTART;TZID=Asia/Riyadh:20260105T090000\nDTEND;TZID=Asia/Riyadh:20260105T100000\n"
MONDAYS_AT_NINE = [(utc(2026, 1, day, 6), utc(2026, 1, day, 7)) for day in (5, 12, 19)]


def test_a_weekly_rule_with_count_repeats_that_often() -> None:
    assert spans(ics(WEEKLY + "RRULE:FREQ=WEEKLY;COUNT=3")) == MONDAYS_AT_NINE


def test_a_weekly_rule_with_until_keeps_the_local_time_across_the_clock_change() -> None:
    # London moves to summer time on 29 March 2026: 09:00 local is 09:00 UTC before, 08:00 UTC after.
    data = ics(
        "DTSTART;TZID=Europe/London:20260319T090000\nDTEND;TZID=Europe/London:20260319T100000\n"
        "RRULE:FREQ=WEEKLY;UNTIL=20260402T080000Z"
    )

    assert [start for start, _ in spans(data)] == [utc(2026, 3, 19, 9), utc(2026, 3, 26, 9), utc(2026, 4, 2, 8)]


def test_exdate_removes_an_occurrence_whatever_form_it_is_written_in() -> None:
    in_utc = ics(WEEKLY + "RRULE:FREQ=WEEKLY;COUNT=3\nEXDATE:20260112T060000Z")
    in_another_zone = ics(WEEKLY + "RRULE:FREQ=WEEKLY;COUNT=3\nEXDATE;TZID=Europe/London:20260112T060000")
    date_only = ics(WEEKLY + "RRULE:FREQ=WEEKLY;COUNT=3\nEXDATE;VALUE=DATE:20260112")

    without_the_twelfth = [MONDAYS_AT_NINE[0], MONDAYS_AT_NINE[2]]
    assert spans(in_utc) == without_the_twelfth
    assert spans(in_another_zone) == without_the_twelfth
    assert spans(date_only) == without_the_twelfth


def test_rdate_adds_occurrences_and_periods() -> None:
    data = ics(WEEKLY + "RDATE;TZID=Asia/Riyadh:20260107T130000\nRDATE;VALUE=PERIOD:20260108T090000Z/PT3H")

    assert spans(data) == [
        (utc(2026, 1, 5, 6), utc(2026, 1, 5, 7)),
        (utc(2026, 1, 7, 10), utc(2026, 1, 7, 11)),
        (utc(2026, 1, 8, 9), utc(2026, 1, 8, 12)),
    ]


def test_a_recurrence_id_moves_one_occurrence_and_a_cancelled_one_removes_it() -> None:
    series = WEEKLY + "RRULE:FREQ=WEEKLY;COUNT=3"
    moved = (
        "UID:event-0\nRECURRENCE-ID;TZID=Asia/Riyadh:20260112T090000\n"
        "DTSTART;TZID=Asia/Riyadh:20260113T140000\nDTEND;TZID=Asia/Riyadh:20260113T150000"
    )
    cancelled = "UID:event-0\nRECURRENCE-ID:20260119T060000Z\nSTATUS:CANCELLED\nDTSTART:20260119T060000Z"
    data = ics(series, moved, cancelled)

    assert spans(data) == [MONDAYS_AT_NINE[0], (utc(2026, 1, 13, 11), utc(2026, 1, 13, 12))]


def test_an_endless_rule_that_began_long_ago_gives_only_the_window() -> None:
    data = ics("DTSTART;TZID=Asia/Riyadh:19900101T090000\nDTEND;TZID=Asia/Riyadh:19900101T100000\nRRULE:FREQ=DAILY")

    found = spans(data, start=utc(2026, 3, 1), end=utc(2026, 3, 8))

    assert found == [(utc(2026, 3, day, 6), utc(2026, 3, day, 7)) for day in range(1, 8)]


def test_a_monthly_rule_on_the_31st_skips_shorter_months() -> None:
    data = ics("DTSTART:20260131T090000Z\nDTEND:20260131T100000Z\nRRULE:FREQ=MONTHLY")

    found = spans(data, start=utc(2026, 1, 1), end=utc(2026, 6, 1))

    assert [start.month for start, _ in found] == [1, 3, 5]


def test_a_rule_that_never_matches_ends_promptly() -> None:
    # dateutil would walk such a rule to the year 9999; here it stops 400 years past the window at most.
    data = ics(WEEKLY + "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30")

    assert spans(data) == [MONDAYS_AT_NINE[0]]  # DTSTART itself is always an occurrence


# busy.py walks a rule from just before the window, on dates moved 400-year cycles on;
# dateutil walking the same rule plainly from DTSTART is the reference.
RULES = [
    "FREQ=DAILY;INTERVAL=3",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,TH;WKST=SU",
    "FREQ=MONTHLY;INTERVAL=5",
    "FREQ=MONTHLY;BYMONTHDAY=31",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=YEARLY;INTERVAL=3;BYMONTH=2;BYMONTHDAY=29",
    "FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO",
    "FREQ=HOURLY;INTERVAL=7;BYDAY=SA",
    "FREQ=DAILY;BYHOUR=8,13;BYMINUTE=0,30",
]


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(RULES),
    st.datetimes(min_value=datetime(2005, 1, 1), max_value=datetime(2026, 12, 31)).map(
        lambda moment: moment.replace(second=0, microsecond=0)
    ),
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)).map(
        lambda moment: moment.replace(tzinfo=UTC)
    ),
    st.integers(min_value=1, max_value=60),
)
def test_a_rule_walked_from_near_the_window_gives_what_dateutil_gives_walked_from_dtstart(
    rule: str, first: datetime, window_start: datetime, days: int
) -> None:
    window_end = window_start + timedelta(days=days)
    data = ics(f"DTSTART:{first:%Y%m%dT%H%M%S}Z\nDURATION:PT45M\nRRULE:{rule}")

    expected = {first.replace(tzinfo=UTC)}  # DTSTART, matched by the rule or not
    for start in rrulestr(rule, dtstart=first):
        if start.replace(tzinfo=UTC) >= window_end:
            break
        expected.add(start.replace(tzinfo=UTC))
    in_window = sorted(start for start in expected if window_start - timedelta(minutes=45) < start < window_end)

    found = spans(data, start=window_start, end=window_end)

    assert [start for start, _ in found] == in_window


# --- bad input ------------------------------------------------------------------------------------


def test_bytes_that_are_not_a_calendar_are_refused() -> None:
    assert reason(b"Hello, this is not a calendar.\r\n") == "not_icalendar"
    assert reason(b"BEGIN:VEVENT\r\nDTSTART:20260105T090000Z\r\nEND:VEVENT\r\n") == "not_icalendar"
    assert reason(ics("DTSTART:20260105T090000Z")[:-20]) == "not_icalendar"  # cut short


def test_an_empty_calendar_is_refused() -> None:
    assert reason(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nEND:VCALENDAR\r\n") == "no_events"


def test_a_blob_that_is_not_utf8_is_refused() -> None:
    assert reason(b"\x89PNG\r\n\x1a\n" + bytes(range(256))) == "not_utf8"
    assert reason(ics("SUMMARY:caf\xe9\nDTSTART:20260105T090000Z").replace("é".encode(), b"\xe9")) == "not_utf8"


def test_a_huge_input_is_refused_before_parsing() -> None:
    assert reason(b"BEGIN:VCALENDAR\r\n" + b" " * busy.MAX_BYTES + b"END:VCALENDAR\r\n") == "too_large"


def test_events_and_rules_that_cannot_be_read_are_refused() -> None:
    assert reason(ics("DTEND:20260105T090000Z")) == "bad_event"
    assert reason(ics("DTSTART:2026XX05T090000Z")) == "bad_event"
    assert reason(ics(WEEKLY + "RRULE:FREQ=FORTNIGHTLY")) == "bad_recurrence"
    assert reason(ics(WEEKLY + "RRULE:FREQ=DAILY;INTERVAL=1000000000")) == "bad_recurrence"
    assert reason(ics(WEEKLY + "RRULE:RSCALE=ISLAMIC-CIVIL;FREQ=YEARLY")) == "bad_recurrence"
    assert reason(ics("DTSTART;TZID=Mars/Olympus:20260105T090000\nDURATION:PT1H")) == "unknown_timezone"


def test_a_feed_that_would_take_too_long_to_expand_is_refused() -> None:
    every_minute = ics("DTSTART:20260105T090000Z\nDTEND:20260105T090100Z\nRRULE:FREQ=MINUTELY")

    assert reason(every_minute) == "too_large"


def test_a_counted_rule_from_long_ago_is_refused_before_it_is_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(busy, "MAX_DAYS_WALKED", 10_000)
    data = ics("DTSTART:19000105T090000Z\nDTEND:19000105T100000Z\nRRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=2")

    assert reason(data) == "too_large"


# --- overlaps -------------------------------------------------------------------------------------


MEETING = BusyInterval(utc(2026, 1, 5, 9), utc(2026, 1, 5, 10), "اجتماع", "m")
LONG_TRIP = BusyInterval(utc(2026, 1, 1), utc(2026, 1, 4), "سفر", "t")


def test_touching_intervals_do_not_overlap() -> None:
    assert not overlaps(utc(2026, 1, 5, 8), utc(2026, 1, 5, 9), [MEETING])
    assert not overlaps(utc(2026, 1, 5, 10), utc(2026, 1, 5, 11), [MEETING])


def test_any_shared_moment_overlaps() -> None:
    assert overlaps(utc(2026, 1, 5, 8), utc(2026, 1, 5, 9, 1), [MEETING])
    assert overlaps(utc(2026, 1, 5, 9, 59), utc(2026, 1, 5, 11), [MEETING])
    assert overlaps(utc(2026, 1, 5, 9, 15), utc(2026, 1, 5, 9, 30), [MEETING])
    assert overlaps(utc(2026, 1, 5, 8), utc(2026, 1, 5, 11), [MEETING])


def test_a_long_interval_that_began_earlier_still_overlaps() -> None:
    assert overlaps(utc(2026, 1, 3, 9), utc(2026, 1, 3, 10), [LONG_TRIP, MEETING])
    assert not overlaps(utc(2026, 1, 4, 9), utc(2026, 1, 4, 10), [LONG_TRIP, MEETING])
    assert not overlaps(utc(2026, 1, 5, 9), utc(2026, 1, 5, 10), [])


moments = st.integers(min_value=0, max_value=48).map(lambda hour: utc(2026, 1, 1) + timedelta(hours=hour))


@given(
    st.lists(st.tuples(moments, st.integers(min_value=1, max_value=30)), max_size=12),
    moments,
    st.integers(min_value=1, max_value=6),
)
def test_overlaps_agrees_with_checking_every_interval(
    starts: list[tuple[datetime, int]], slot_start: datetime, slot_hours: int
) -> None:
    intervals = sorted(BusyInterval(start, start + timedelta(hours=hours), "", "") for start, hours in starts)
    slot_end = slot_start + timedelta(hours=slot_hours)

    expected = any(i.starts_at < slot_end and slot_start < i.ends_at for i in intervals)

    assert overlaps(slot_start, slot_end, intervals) is expected


# --- round trip -----------------------------------------------------------------------------------


NOW = utc(2026, 1, 1)
TRACKING = format_tracking_number(2026, 1234)  # 26-001234-C, with its check digit


def feed_event(uid: str, starts_at: datetime, minutes: int, cancelled: bool = False) -> FeedEvent:
    return FeedEvent(uid, starts_at, starts_at + timedelta(minutes=minutes), "مقابلة", "القاعة", "", 0, cancelled, NOW)


def test_a_feed_built_here_reads_back_as_the_same_busy_times_less_the_cancelled() -> None:
    # Written by our builder but with UIDs of the official's own events, so it is read as his calendar.
    events = [
        feed_event("meeting-1@example.org", utc(2026, 1, 5, 6), 20),
        feed_event("meeting-2@example.org", utc(2026, 1, 5, 7), 20, cancelled=True),
        feed_event("meeting-3@example.org", utc(2026, 2, 1, 9), 40),
    ]
    feed = build_feed(name="المجلس", events=events)

    found = busy_intervals(feed, window_start=WINDOW_START, window_end=WINDOW_END)

    assert found == [
        BusyInterval(event.starts_at, event.ends_at, event.summary, event.uid)
        for event in events
        if not event.cancelled
    ]


# --- Majlis's own audiences coming back -----------------------------------------------------------


def test_majlis_audience_uids_are_recognised_by_shape_and_check_digit_whatever_the_domain() -> None:
    assert busy.is_majlis_audience(audience_uid(TRACKING, "majlis@majlis.example"))
    assert busy.is_majlis_audience(f"audience-{TRACKING}@old-domain.example")  # the mail domain was changed
    assert busy.is_majlis_audience("appointment-17@majlis")  # the feeds' UID before they shared the invitations'
    wrong_digit = TRACKING[:-1] + str((int(TRACKING[-1]) + 1) % 10)
    assert not busy.is_majlis_audience(f"audience-{wrong_digit}@majlis.example")
    assert not busy.is_majlis_audience("audience-12@example.org")
    assert not busy.is_majlis_audience("appointment-17@clinic.example")
    assert not busy.is_majlis_audience("040000008200E00074C5B7101A82E008000000001C1A2F1B@outlook.com")


def test_majlis_own_feed_imported_as_the_officials_calendar_is_refused_as_holding_no_event_of_his() -> None:
    ours = [
        feed_event(audience_uid(TRACKING, "majlis@majlis.example"), utc(2026, 1, 5, 6), 8),
        feed_event(audience_uid(format_tracking_number(2026, 1235), "majlis@majlis.example"), utc(2026, 1, 5, 7), 8),
    ]

    assert reason(build_feed(name="مقابلات المسؤول", events=ours)) == "no_events"


def test_an_invitation_imported_as_the_officials_calendar_is_refused_too() -> None:
    sent = invitation(
        uid=audience_uid(TRACKING, "majlis@majlis.example"),
        sequence=3,
        method="REQUEST",
        starts_at=utc(2026, 1, 5, 6),
        ends_at=utc(2026, 1, 5, 6, 8),
        summary="مقابلة",
        location="القاعة",
        description="",
        organizer_email="majlis@majlis.example",
        organizer_name="Majlis",
        attendee_email="official@example.org",
        attendee_name="",
        stamp=NOW,
    )

    assert reason(sent) == "no_events"


def test_our_audiences_merged_into_the_officials_calendar_by_another_program_are_left_out() -> None:
    # As Google exports a calendar holding a copy of our feed: its own PRODID, no X- properties, our UIDs kept.
    data = ics(
        f"UID:{audience_uid(TRACKING, 'majlis@majlis.example')}\n"
        "DTSTART:20260105T060000Z\nDTEND:20260105T060800Z\nSEQUENCE:3",
        "UID:appointment-9@majlis\nDTSTART:20260105T070000Z\nDTEND:20260105T070800Z",
        "UID:council-7@example.org\nDTSTART:20260105T080000Z\nDTEND:20260105T090000Z",
        # A stranger's UID shaped like ours but failing the check digit is the official's commitment.
        f"UID:audience-{TRACKING[:-1]}{(int(TRACKING[-1]) + 1) % 10}@example.org\n"
        "DTSTART:20260106T080000Z\nDTEND:20260106T090000Z",
    ).replace(b"PRODID:-//Tests//Busy//EN", b"PRODID:-//Google Inc//Google Calendar 70.9054//EN")

    found = busy_intervals(data, window_start=WINDOW_START, window_end=WINDOW_END)

    assert [(i.uid, i.starts_at) for i in found] == [
        ("council-7@example.org", utc(2026, 1, 5, 8)),
        (f"audience-{TRACKING[:-1]}{(int(TRACKING[-1]) + 1) % 10}@example.org", utc(2026, 1, 6, 8)),
    ]
