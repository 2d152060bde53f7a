"""The feeds through the real app: conditional requests, the same UID and SEQUENCE as the e-mail invitations,
and Majlis's own feed read back as the official's calendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

from aiohttp import FormData
from icalendar import Calendar, Event
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import StaffUser
from accounts.roles import Role
from majlis.clock import RIYADH, FrozenClock
from notify.invitation import audience_uid
from scheduler.feeds import feed_token
from scheduler.models import Appointment, AppointmentState, Slot
from tests.conftest import TEST_SECRET, RecordingChannel
from tests.factories import Client, make_staff
from tests.priority.test_triage import new_case, ready
from tests.scheduler.test_changes import move
from tests.scheduler.test_runs import IDS, appointments
from tests.web.test_protocol import add_hall_and_template, protocol_client
from web.keys import DISPATCHER, SETTINGS

Sessions = async_sessionmaker[AsyncSession]
OFFICIAL = f"/feeds/official.ics?token={feed_token(TEST_SECRET, 'official')}"
SUNDAY = datetime(2026, 11, 29, 10, tzinfo=RIYADH)  # the first seat add_hall_and_template offers


async def arrange(client: Client, sessions: Sessions, clock: FrozenClock) -> tuple[str, str]:
    """One request placed by protocol's allocation on Sunday 29 November at 10:00; its number and a CSRF token."""
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    number = await new_case(sessions, clock, applicant_national_id=IDS[0])
    await ready(sessions, clock, actor, number)
    token = await protocol_client(client, sessions, clock)
    await add_hall_and_template(client, token)
    assert (await client.post("/protocol/allocate", data={"csrf_token": token})).status == 200
    return number, token


async def move_to(sessions: Sessions, clock: FrozenClock, number: str, starts_at: datetime) -> None:
    async with sessions() as session:
        protocol = await session.scalar(select(StaffUser.id).where(StaffUser.username == "protocol"))
        target = await session.scalar(select(Slot.id).where(Slot.starts_at == starts_at))
    assert protocol is not None and target is not None
    appointment_id = (await appointments(sessions))[number].id
    await move(sessions, clock, protocol, appointment_id, target, text="طلب المستفيد موعدًا آخر")


def only_event(body: bytes) -> Event:
    [event] = Calendar.from_ical(body).events
    return event


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


async def test_a_feed_answers_304_while_it_is_unchanged_and_the_calendar_once_it_changes(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number, _ = await arrange(client, sessions, clock)
    placed_at = clock.now()
    first = await client.get(OFFICIAL)
    body = await first.read()
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.status == 200 and first.content_type == "text/calendar"
    assert etag.startswith('"') and first.headers["Cache-Control"] == "private, max-age=300"
    assert parsedate_to_datetime(last_modified) == placed_at.replace(microsecond=0)  # the placement, after midnight
    event = only_event(body)
    assert event.stamp == placed_at
    assert str(event["SUMMARY"]) == f"مقابلة — الطلب رقم {number}"

    # Two hours on, nothing changed: the same bytes (DTSTAMP is the placement's), and 304 to either validator.
    clock.advance(timedelta(hours=2))
    assert await (await client.get(OFFICIAL)).read() == body
    unchanged = await client.get(OFFICIAL, headers={"If-None-Match": etag})
    assert unchanged.status == 304 and await unchanged.read() == b""
    assert (unchanged.headers["ETag"], unchanged.headers["Last-Modified"]) == (etag, last_modified)
    assert (await client.get(OFFICIAL, headers={"If-Modified-Since": last_modified})).status == 304
    assert (await client.get(OFFICIAL, headers={"If-None-Match": f'"stale", W/{etag}'})).status == 304
    assert (await client.get(OFFICIAL, headers={"If-None-Match": "*"})).status == 304
    # If-None-Match, when sent, decides alone (RFC 9110 §13.2.2).
    either = {"If-None-Match": '"stale"', "If-Modified-Since": last_modified}
    assert (await client.get(OFFICIAL, headers=either)).status == 200
    earlier = http_date(parsedate_to_datetime(last_modified) - timedelta(seconds=1))
    assert (await client.get(OFFICIAL, headers={"If-Modified-Since": earlier})).status == 200

    # Moved: both old validators now get the calendar, with the same UID at a higher SEQUENCE.
    await move_to(sessions, clock, number, SUNDAY + timedelta(minutes=56))
    changed = await client.get(OFFICIAL, headers={"If-None-Match": etag, "If-Modified-Since": last_modified})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    assert parsedate_to_datetime(changed.headers["Last-Modified"]) == clock.now().replace(microsecond=0)
    assert (await client.get(OFFICIAL, headers={"If-Modified-Since": last_modified})).status == 200
    moved = only_event(await changed.read())
    assert moved["UID"] == event["UID"]
    assert moved.sequence > event.sequence
    assert (moved.start, moved.stamp) == (SUNDAY + timedelta(minutes=56), clock.now())

    # The next day the window has moved on: Last-Modified is that midnight, and the unchanged bytes keep their tag.
    clock.set(datetime(2026, 11, 25, 9, tzinfo=RIYADH))
    next_day = await client.get(OFFICIAL, headers={"If-Modified-Since": changed.headers["Last-Modified"]})
    assert next_day.status == 200
    assert parsedate_to_datetime(next_day.headers["Last-Modified"]) == datetime(2026, 11, 25, tzinfo=RIYADH)
    assert next_day.headers["ETag"] == changed.headers["ETag"]
    assert (await client.get(OFFICIAL, headers={"If-None-Match": changed.headers["ETag"]})).status == 304


async def test_the_feed_names_a_request_as_its_invitations_do_and_asks_for_no_reply(
    client: Client, sessions: Sessions, clock: FrozenClock, recorder: RecordingChannel
) -> None:
    number, _ = await arrange(client, sessions, clock)
    uid = audience_uid(number, client.app[SETTINGS].mail_from)

    async def invitation_and_feed() -> tuple[Event, Event]:
        await client.app[DISPATCHER].run_once()
        sent = [o for o in recorder.sent if o.channel == "email" and "ics" in o.payload]
        invited = only_event(str(sent[-1].payload["ics"]).encode())
        return invited, only_event(await (await client.get(OFFICIAL)).read())

    invited, shown = await invitation_and_feed()
    assert str(invited["UID"]) == str(shown["UID"]) == uid
    assert invited.sequence == shown.sequence == 0
    assert (invited.start, shown.start) == (SUNDAY, SUNDAY)
    [attendee] = invited.attendees
    assert attendee.params["RSVP"] == "FALSE"

    clock.advance(timedelta(hours=1))
    await move_to(sessions, clock, number, SUNDAY + timedelta(minutes=56))
    invited, shown = await invitation_and_feed()
    assert str(invited["UID"]) == str(shown["UID"]) == uid
    assert invited.sequence == shown.sequence > 0
    assert invited.start == shown.start == SUNDAY + timedelta(minutes=56)


async def test_majlis_own_feed_imported_as_the_officials_calendar_cancels_no_audience(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number, token = await arrange(client, sessions, clock)
    own = await (await client.get(OFFICIAL)).read()

    async def import_busy(data: bytes) -> int:
        form = FormData()
        form.add_field("csrf_token", token)
        form.add_field("file", data, filename="official.ics", content_type="text/calendar")
        return (await client.post("/protocol/busy", data=form)).status

    async def blocked() -> int:
        async with sessions() as session:
            return int(await session.scalar(select(func.count(Slot.id)).where(Slot.blocked_by.is_not(None))) or 0)

    # The feed alone holds nothing of the official's: refused, as a calendar without events is.
    assert await import_busy(own) == 422
    assert await blocked() == 0
    assert [a.slot_id for a in (await appointments(sessions)).values()]  # still placed

    # Merged with his own commitments (as a calendar program exports both): only those block slots.
    commitment = (
        b"BEGIN:VEVENT\r\nUID:council-7@example.org\r\nDTSTAMP:20261120T000000Z\r\n"
        b"DTSTART;TZID=Asia/Riyadh:20261129T103000\r\nDTEND;TZID=Asia/Riyadh:20261129T110000\r\n"
        b"SUMMARY:Council meeting\r\nEND:VEVENT\r\n"
    )
    merged = own.replace(b"END:VCALENDAR\r\n", commitment + b"END:VCALENDAR\r\n")
    assert await import_busy(merged) == 200
    assert await blocked() == 5  # the 8-minute slots from 10:24 to 10:56
    async with sessions() as session:
        states = list(await session.scalars(select(Appointment.state)))
        [slot_start] = await session.scalars(select(Slot.starts_at).join(Appointment, Appointment.slot_id == Slot.id))
    assert states == [AppointmentState.SCHEDULED]  # never released: its own event did not block its slot
    assert slot_start == SUNDAY
    assert number in await appointments(sessions)


async def test_a_room_feed_is_named_for_its_room_and_unknown_rooms_are_not_found(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number, _ = await arrange(client, sessions, clock)
    async with sessions() as session:
        room_id = await session.scalar(select(Slot.room_id))
    assert room_id is not None
    found = await client.get(f"/feeds/rooms/{room_id}.ics?token={feed_token(TEST_SECRET, f'room:{room_id}')}")
    calendar = Calendar.from_ical(await found.read())
    assert str(calendar["X-WR-CALNAME"]) == "مقابلات قاعة المجلس"
    [event] = calendar.events
    assert number in str(event["SUMMARY"]) and str(event["LOCATION"]) == "قاعة المجلس"
    missing = await client.get(f"/feeds/rooms/999.ics?token={feed_token(TEST_SECRET, 'room:999')}")
    assert missing.status == 404
