"""The audience feeds calendar clients subscribe to, read back with icalendar; and their URL tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar, Event, Timezone

from scheduler.feeds import FeedEvent, build_feed, feed_token, token_valid

NOW = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
LONG_ARABIC = "مقابلة صاحب المعالي مع وفد الغرفة التجارية الصناعية بالرياض لمناقشة المبادرات الجديدة للعام القادم"
AUDIENCE = FeedEvent(
    uid="appointment-17@majlis",
    starts_at=datetime(2026, 1, 5, 6, 0, tzinfo=UTC),
    ends_at=datetime(2026, 1, 5, 6, 20, tzinfo=UTC),
    summary=LONG_ARABIC,
    location="قاعة المجلس، الدور الأول",
    description="الطلب رقم ١٢٣٤\nيرجى الحضور قبل الموعد بعشر دقائق",
    sequence=2,
    cancelled=False,
)
CANCELLED = FeedEvent(
    uid="appointment-18@majlis",
    starts_at=datetime(2026, 1, 5, 7, 0, tzinfo=UTC),
    ends_at=datetime(2026, 1, 5, 7, 20, tzinfo=UTC),
    summary="مقابلة ملغاة",
    location="",
    description="",
    sequence=5,
    cancelled=True,
)


def feed(*events: FeedEvent) -> bytes:
    return build_feed(name="مواعيد المجلس", events=events, now=NOW)


def parsed(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def event(calendar: Calendar, uid: str) -> Event:
    [found] = [e for e in calendar.events if str(e["UID"]) == uid]
    return found


def test_the_calendar_says_it_is_a_published_gregorian_calendar_named_in_arabic() -> None:
    calendar = parsed(feed(AUDIENCE))

    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]).startswith("-//Majlis//")
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"]) == "مواعيد المجلس"
    assert str(calendar["X-WR-TIMEZONE"]) == "Asia/Riyadh"
    assert calendar.refresh_interval == timedelta(hours=1)
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in feed(AUDIENCE)


def test_the_riyadh_timezone_is_defined_at_plus_three_without_daylight_saving() -> None:
    [zone] = parsed(feed(AUDIENCE)).timezones

    assert isinstance(zone, Timezone)
    assert str(zone["TZID"]) == "Asia/Riyadh"
    assert zone.daylight == []
    assert [(part.TZOFFSETFROM, part.TZOFFSETTO) for part in zone.standard] == [(timedelta(hours=3),) * 2]
    assert b"TZOFFSETTO:+0300\r\n" in feed(AUDIENCE)


def test_each_audience_carries_uid_stamp_riyadh_times_and_its_texts() -> None:
    audience = event(parsed(feed(AUDIENCE)), AUDIENCE.uid)

    assert audience.stamp == NOW
    assert audience["DTSTART"].params["TZID"] == "Asia/Riyadh"
    assert audience["DTEND"].params["TZID"] == "Asia/Riyadh"
    assert b"DTSTART;TZID=Asia/Riyadh:20260105T090000\r\n" in audience.to_ical()
    assert b"DTEND;TZID=Asia/Riyadh:20260105T092000\r\n" in audience.to_ical()
    assert (audience.start, audience.end) == (AUDIENCE.starts_at, AUDIENCE.ends_at)
    assert audience.summary == LONG_ARABIC
    assert audience.location == AUDIENCE.location
    assert audience.description == AUDIENCE.description
    assert audience.sequence == 2
    assert audience.status == "CONFIRMED"


def test_a_cancelled_audience_stays_in_the_feed_marked_cancelled_without_empty_texts() -> None:
    cancelled = event(parsed(feed(AUDIENCE, CANCELLED)), CANCELLED.uid)

    assert cancelled.status == "CANCELLED"
    assert cancelled.sequence == 5
    assert "LOCATION" not in cancelled
    assert "DESCRIPTION" not in cancelled


def test_lines_are_crlf_ended_and_folded_within_75_octets_without_splitting_a_letter() -> None:
    data = feed(AUDIENCE, CANCELLED)

    assert data.endswith(b"\r\n")
    lines = data.split(b"\r\n")[:-1]
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)  # the long Arabic summary was folded
    for line in lines:
        line.decode("utf-8")  # a fold inside a two-byte letter would fail here


def test_the_same_input_gives_the_same_bytes() -> None:
    assert feed(AUDIENCE, CANCELLED) == feed(AUDIENCE, CANCELLED)


def test_an_empty_feed_is_still_a_valid_calendar() -> None:
    calendar = parsed(feed())

    assert calendar.events == []
    assert str(calendar["METHOD"]) == "PUBLISH"


def test_naive_times_are_refused() -> None:
    naive = FeedEvent("x@majlis", datetime(2026, 1, 5, 9), datetime(2026, 1, 5, 10), "", "", "", 0, False)

    with pytest.raises(ValueError, match="aware"):
        feed(naive)
    with pytest.raises(ValueError, match="aware"):
        build_feed(name="x", events=[], now=datetime(2026, 1, 1))


# --- tokens ---------------------------------------------------------------------------------------


SECRET = "feed-secret-long-enough-for-tests-0123456789"


def test_a_token_opens_its_own_scope_only() -> None:
    token = feed_token(SECRET, "room:12")

    assert token_valid(SECRET, "room:12", token)
    assert not token_valid(SECRET, "room:13", token)
    assert not token_valid(SECRET, "official", token)
    assert not token_valid("another-secret", "room:12", token)


def test_a_tampered_or_odd_token_is_refused() -> None:
    token = feed_token(SECRET, "official")
    tampered = ("A" if token[0] != "A" else "B") + token[1:]

    assert not token_valid(SECRET, "official", tampered)
    assert not token_valid(SECRET, "official", token[:-1])
    assert not token_valid(SECRET, "official", "")
    assert not token_valid(SECRET, "official", "تزوير")


def test_tokens_are_url_safe_and_stable() -> None:
    token = feed_token(SECRET, "official")

    assert token == feed_token(SECRET, "official")
    assert len(token) == 43  # 32 bytes of base64 without padding
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        feed_token("", "official")
