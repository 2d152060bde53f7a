"""The audience feeds calendar clients subscribe to, read back with icalendar; their URL tokens; and what they
show of each request through moves and releases, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar, Event, Timezone
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from majlis.clock import RIYADH, FrozenClock
from majlis.db import transaction
from notify.models import OutboxMessage
from scheduler import calendar, changes
from scheduler.busy import BusyInterval
from scheduler.feeds import FeedAudience, FeedEvent, audiences, build_feed, feed_token, token_valid
from scheduler.models import Appointment, Slot
from tests.factories import make_staff
from tests.priority.test_triage import new_case, ready
from tests.rooms.test_rooms import add_room
from tests.scheduler.test_calendar import add, template
from tests.scheduler.test_changes import move as move_by_hand
from tests.scheduler.test_runs import URL, appointments, run, sunday_hall

PLACED = datetime(2025, 12, 20, 8, 0, tzinfo=UTC)
RELEASED = datetime(2025, 12, 28, 11, 30, 15, tzinfo=UTC)
LONG_ARABIC = "مقابلة صاحب المعالي مع وفد الغرفة التجارية الصناعية بالرياض لمناقشة المبادرات الجديدة للعام القادم"
AUDIENCE = FeedEvent(
    uid="audience-26-000017-6@majlis.example",
    starts_at=datetime(2026, 1, 5, 6, 0, tzinfo=UTC),
    ends_at=datetime(2026, 1, 5, 6, 20, tzinfo=UTC),
    summary=LONG_ARABIC,
    location="قاعة المجلس، الدور الأول",
    description="الطلب رقم ١٢٣٤\nيرجى الحضور قبل الموعد بعشر دقائق",
    sequence=2,
    cancelled=False,
    stamp=PLACED,
)
CANCELLED = FeedEvent(
    uid="audience-26-000018-4@majlis.example",
    starts_at=datetime(2026, 1, 5, 7, 0, tzinfo=UTC),
    ends_at=datetime(2026, 1, 5, 7, 20, tzinfo=UTC),
    summary="مقابلة ملغاة",
    location="",
    description="",
    sequence=5,
    cancelled=True,
    stamp=RELEASED,
)


def feed(*events: FeedEvent) -> bytes:
    return build_feed(name="مواعيد المجلس", events=events)


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

    assert audience.stamp == PLACED  # when the audience was placed, not when the feed was built
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
    assert cancelled.stamp == RELEASED
    assert b"DTSTAMP:20251228T113015Z\r\n" in cancelled.to_ical()
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
    start, end = datetime(2026, 1, 5, 9), datetime(2026, 1, 5, 10)
    naive = FeedEvent("x@majlis", start, end, "", "", "", 0, False, PLACED)
    naive_stamp = FeedEvent("x@majlis", start.replace(tzinfo=UTC), end.replace(tzinfo=UTC), "", "", "", 0, False, start)

    with pytest.raises(ValueError, match="aware"):
        feed(naive)
    with pytest.raises(ValueError, match="aware"):
        feed(naive_stamp)


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


# --- what the feeds show, on both databases ------------------------------------------------------

Sessions = async_sessionmaker[AsyncSession]
WINDOW = (datetime(2026, 11, 1, tzinfo=RIYADH), datetime(2027, 3, 1, tzinfo=RIYADH))


async def shown(sessions: Sessions, room_id: int | None = None) -> list[FeedAudience]:
    async with sessions() as session:
        return await audiences(session=session, start=WINDOW[0], end=WINDOW[1], room_id=room_id)


async def move(sessions: Sessions, clock: FrozenClock, appointment_id: int, slot: Slot, actor: int) -> Appointment:
    return await move_by_hand(sessions, clock, actor, appointment_id, slot.id, text="طلب المستفيد موعدًا آخر")


async def official_busy(sessions: Sessions, clock: FrozenClock, starts_at: datetime, ends_at: datetime) -> None:
    async with transaction(sessions) as session:
        await changes.import_busy_times(
            session=session,
            clock=clock,
            actor_id=None,
            busy=[BusyInterval(starts_at, ends_at, "اجتماع", "council@example.org")],
            status_url=URL,
        )


async def invitation_sequences(sessions: Sessions, number: str) -> list[tuple[str, int]]:
    """The e-mail invitations written for a request, in order: ("invite" or "uninvite", SEQUENCE)."""
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.case_id == case.id, OutboxMessage.purpose.like("%invite:%"))
            .order_by(OutboxMessage.id)
        )
        return [(row.purpose.split(":")[0], int(row.payload["invitation"]["sequence"])) for row in rows]


async def test_a_request_stays_one_event_whose_sequence_rises_with_every_move_as_its_invitations_do(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await sunday_hall(sessions, clock, weeks=3)
    desk = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    protocol = (await make_staff(sessions, clock, Role.PROTOCOL, "protocol")).id
    number = await new_case(sessions, clock)
    await ready(sessions, clock, desk, number)
    await run(sessions, clock)
    [placed] = await shown(sessions)
    assert (placed.tracking_number, placed.place) == (number, "قاعة المجلس")
    assert (placed.starts_at, placed.sequence, placed.cancelled) == (
        datetime(2026, 11, 29, 10, tzinfo=RIYADH),
        0,
        False,
    )
    assert placed.stamp == clock.now()

    # Moved by hand to the session's last slot: the row is replaced, the request's event is not.
    clock.advance(timedelta(hours=1))
    async with sessions() as session:
        last = await session.scalar(
            select(Slot).where(Slot.starts_at < datetime(2026, 11, 30, tzinfo=RIYADH)).order_by(Slot.starts_at.desc())
        )
    assert last is not None
    await move(sessions, clock, (await appointments(sessions))[number].id, last, protocol)
    [moved] = await shown(sessions)
    assert (moved.tracking_number, moved.starts_at, moved.cancelled) == (number, last.starts_at, False)
    assert moved.sequence > placed.sequence
    assert moved.stamp == clock.now()

    # The official turns out busy then: released, told, and placed again in the seat it left, still one event.
    clock.advance(timedelta(hours=1))
    await official_busy(sessions, clock, last.starts_at, last.ends_at)
    [again] = await shown(sessions)
    assert (again.starts_at, again.cancelled) == (placed.starts_at, False)
    assert again.sequence > moved.sequence
    # The invitations count alike: placed 0; moved (a release and a new row with `sequence` 1) 3;
    # released 4 and placed again in the same transaction as a move (its row's `sequence` 2, from the released
    # row's 1) 6, which the feed shows: the applicant is sent the updated invitation only, never a cancellation
    # before it (scheduler.changes: one "moved" message).
    assert await invitation_sequences(sessions, number) == [
        ("invite", 0),
        ("invite", 3),
        ("invite", 6),
    ]
    assert again.sequence == 6


async def test_a_released_audience_stays_cancelled_and_a_room_it_left_shows_it_cancelled(
    sessions: Sessions, clock: FrozenClock
) -> None:
    hall = await add_room(sessions, clock, name="قاعة المجلس", kind="audience_hall", capacity="40")
    annex = await add_room(sessions, clock, name="القاعة الملحقة", kind="audience_hall", capacity="40")
    await add(sessions, clock, template((hall.id,)))
    await add(sessions, clock, template((annex.id,), weekday="0"))  # Mondays
    async with transaction(sessions) as session:
        await calendar.generate_sessions(session=session, clock=clock, weeks=2)
    desk = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    protocol = (await make_staff(sessions, clock, Role.PROTOCOL, "protocol")).id
    number = await new_case(sessions, clock)
    await ready(sessions, clock, desk, number)
    await run(sessions, clock)
    sunday = datetime(2026, 11, 29, 10, tzinfo=RIYADH)
    monday = datetime(2026, 11, 30, 10, tzinfo=RIYADH)
    async with sessions() as session:
        annex_slot = await session.scalar(select(Slot).where(Slot.room_id == annex.id, Slot.starts_at == monday))
    assert annex_slot is not None
    await move(sessions, clock, (await appointments(sessions))[number].id, annex_slot, protocol)

    [official] = await shown(sessions)
    [left] = await shown(sessions, hall.id)
    [arrived] = await shown(sessions, annex.id)
    assert (official.starts_at, official.place, official.cancelled) == (monday, "القاعة الملحقة", False)
    assert arrived == official
    assert (left.starts_at, left.place, left.cancelled) == (sunday, "قاعة المجلس", True)
    assert left.sequence == official.sequence and left.stamp == official.stamp

    # Busy through every session: released with no seat left, the audience stays in the feeds, cancelled.
    clock.advance(timedelta(minutes=5))
    await official_busy(sessions, clock, datetime(2026, 11, 28, tzinfo=RIYADH), datetime(2026, 12, 31, tzinfo=RIYADH))
    assert await appointments(sessions) == {}
    [official_now] = await shown(sessions)
    [arrived_now] = await shown(sessions, annex.id)
    [left_now] = await shown(sessions, hall.id)
    assert (official_now.starts_at, official_now.cancelled) == (monday, True)
    assert official_now.sequence == official.sequence + 1
    assert official_now.stamp == clock.now()
    assert arrived_now == official_now
    assert (left_now.starts_at, left_now.cancelled, left_now.sequence) == (sunday, True, official_now.sequence)
    # Outside the window nothing shows.
    async with sessions() as session:
        assert await audiences(session=session, start=WINDOW[1], end=WINDOW[1] + timedelta(days=30)) == []
