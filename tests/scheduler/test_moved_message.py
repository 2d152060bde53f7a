"""A moved audience is told once: "your audience moved", with the new date and place, on both databases.

A cancelled session, a late holiday or the official's busy time used to send a cancellation and then a new date
(two three-segment SMS); now the applicant placed again at once hears one message, and the e-mail invitation is
updated (a REQUEST with a higher SEQUENCE), never cancelled. One left without a seat still hears that a new date
will follow.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import RIYADH, FrozenClock
from majlis.dates import short_dual_datetime
from majlis.db import transaction
from notify.models import OutboxMessage
from notify.texts import audience_moved_sms, sms_segments
from rooms.models import Room
from scheduler import changes
from scheduler.busy import BusyInterval
from scheduler.models import AudienceSession, Slot
from tests.factories import make_staff
from tests.priority.test_triage import new_case, ready
from tests.scheduler.test_changes import move
from tests.scheduler.test_runs import IDS, URL, appointments, run, sunday_hall

Sessions = async_sessionmaker[AsyncSession]


async def _messages(sessions: Sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.case_id.is_not(None)).order_by(OutboxMessage.id)
            )
        )


async def _placed_one(sessions: Sessions, clock: FrozenClock, **overrides: object) -> tuple[str, int]:
    """A request placed by a run (its first "scheduled" message sent); gives back its number and an actor."""
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    number = await new_case(sessions, clock, **overrides)
    await ready(sessions, clock, actor, number)
    await run(sessions, clock)
    return number, actor


def _after_placement(messages: list[OutboxMessage], first_id: int) -> list[str]:
    return [m.purpose.split(":")[0] for m in messages if m.id > first_id]


async def _last_id(sessions: Sessions) -> int:
    return max((m.id for m in await _messages(sessions)), default=0)


async def test_a_cancelled_session_sends_one_moved_message_and_updates_the_invitation(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await sunday_hall(sessions, clock, weeks=3)
    number, actor = await _placed_one(sessions, clock, kind="audience_in_person")
    before = await _last_id(sessions)
    async with sessions() as session:
        first = await session.scalar(select(AudienceSession).order_by(AudienceSession.starts_at))
    assert first is not None
    async with transaction(sessions) as session:
        await changes.cancel_session(
            session=session, clock=clock, session_id=first.id, actor_id=actor, reason="ارتباط رسمي", status_url=URL
        )
    placed = (await appointments(sessions))[number]
    async with sessions() as session:
        slot = await session.get_one(Slot, placed.slot_id)
    messages = [m for m in await _messages(sessions) if m.id > before]
    # One SMS and one e-mail: no cancellation, no second "scheduled".
    assert sorted(m.purpose for m in messages) == sorted([f"moved:{placed.id}", f"invite:{placed.id}"])
    sms = next(m for m in messages if m.channel == "sms")
    assert short_dual_datetime(slot.starts_at, "ar") in sms.body
    assert "قاعة المجلس" in sms.body and "6-" in sms.body
    assert sms_segments(sms.body) <= 2, (len(sms.body), sms.body)
    mail = next(m for m in messages if m.channel == "email")
    invitation = mail.payload["invitation"]
    assert invitation["method"] == "REQUEST" and invitation["sequence"] >= 1
    assert invitation["starts_at"] == slot.starts_at.isoformat()


async def test_a_late_holiday_and_busy_time_each_send_one_moved_message(sessions: Sessions, clock: FrozenClock) -> None:
    await sunday_hall(sessions, clock, weeks=4)
    number, _ = await _placed_one(sessions, clock, kind="audience_in_person", applicant_email=None)
    before = await _last_id(sessions)
    async with transaction(sessions) as session:
        await changes.declare_holiday(
            session=session, clock=clock, actor_id=None, day=date(2026, 11, 29), name="عيد", status_url=URL
        )
    assert _after_placement(await _messages(sessions), before) == ["moved"]
    before = await _last_id(sessions)
    meeting = BusyInterval(datetime(2026, 12, 6, 9, tzinfo=RIYADH), datetime(2026, 12, 6, 13, tzinfo=RIYADH), "x", "u")
    async with transaction(sessions) as session:
        await changes.import_busy_times(session=session, clock=clock, actor_id=None, busy=[meeting], status_url=URL)
    assert _after_placement(await _messages(sessions), before) == ["moved"]
    assert number in await appointments(sessions)


async def test_a_request_left_without_a_seat_hears_its_audience_is_cancelled(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await sunday_hall(sessions, clock, weeks=1)  # one session only: nowhere to go once it is cancelled
    _, actor = await _placed_one(sessions, clock, kind="audience_in_person", applicant_email=None)
    before = await _last_id(sessions)
    async with sessions() as session:
        only = await session.scalar(select(AudienceSession).order_by(AudienceSession.starts_at))
    assert only is not None
    async with transaction(sessions) as session:
        report = await changes.cancel_session(
            session=session, clock=clock, session_id=only.id, actor_id=actor, reason="ارتباط", status_url=URL
        )
    assert report.placed == 0
    assert _after_placement(await _messages(sessions), before) == ["cancelled"]


async def test_a_move_by_hand_sends_one_short_message_in_the_applicants_language(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await sunday_hall(sessions, clock, weeks=3)
    number, actor = await _placed_one(
        sessions, clock, kind="audience_in_person", applicant_language="en", applicant_national_id=IDS[1]
    )
    held = (await appointments(sessions))[number]
    async with sessions() as session:
        later = await session.scalar(select(Slot).where(Slot.starts_at > datetime(2026, 12, 5, tzinfo=RIYADH)))
    assert later is not None
    async with transaction(sessions) as session:
        (await session.get_one(Room, later.room_id)).name_en = "The Majlis hall"
    before = await _last_id(sessions)
    moved = await move(sessions, clock, actor, held.id, later.id)
    messages = [m for m in await _messages(sessions) if m.id > before]
    assert sorted(m.purpose for m in messages) == sorted([f"moved:{moved.id}", f"invite:{moved.id}"])
    sms = next(m for m in messages if m.channel == "sms")
    assert sms.body.startswith(f"Your audience for request {number} has moved to ")
    assert short_dual_datetime(later.starts_at, "en") + " at The Majlis hall." in sms.body
    assert sms_segments(sms.body) == 1  # all GSM-7: 160 characters a segment


def test_the_arabic_moved_sms_fits_two_segments_on_its_longest_day() -> None:
    # Wednesday (the longest weekday), a two-digit day in both calendars, Jumada al-Akhirah (the longest month),
    # two-digit hours: the longest date the short form gives, with a hall's name and a 32-character link.
    when = short_dual_datetime(datetime(2026, 11, 25, 10, 40, tzinfo=RIYADH), "ar")
    assert when == "الأربعاء 25 نوفمبر (15 جمادى الآخرة) 10:40 ص"
    body = audience_moved_sms(
        language="ar",
        tracking_number="6-000005-26",
        when=when,
        place="قاعة المجلس",
        status_url="https://majlis.example.sa/status",
    )
    assert sms_segments(body) == 2, (len(body), body)
