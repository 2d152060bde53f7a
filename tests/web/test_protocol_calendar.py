"""Protocol's calendar pages on both databases: the week grid, the month, the Move dialog and the move itself."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.dates import hijri_date
from rooms.models import Room
from scheduler import by_hand as manual
from scheduler.allocation import SeatRule
from scheduler.models import Appointment, AppointmentState
from tests.factories import Client, csrf_token, make_staff, sign_in
from tests.scheduler.test_week_grid import placed_in_hall
from tests.web.notices_seen import isolated, shown_once
from web.i18n import Catalogs
from web.notices import NOTICE_COOKIE

Sessions = async_sessionmaker[AsyncSession]
AR = Catalogs()


def options_of(html: str) -> set[str]:
    select_html = re.search(r'<select id="move-slot".*?</select>', html, re.S)
    assert select_html
    return set(re.findall(r'<option value="(\d+)"', select_html.group(0)))


async def test_the_week_grid_and_the_month(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    slots, number, appointment_id = await placed_in_hall(sessions, clock, gender="male", name="خالد")
    await sign_in(client, "protocol")
    page = await client.get("/protocol?week=2026-11-24&branch=riyadh")
    html = await page.text()
    assert page.status == 200
    # The card: the tracking number isolated left to right, its urgency and confirmation in words, a Move link.
    card = re.search(
        rf'<article class="appointment-card[^"]*" id="appointment-{appointment_id}".*?</article>', html, re.S
    )
    assert card
    assert f'<bdi dir="ltr" class="ltr">{number}</bdi>' in card.group(0)
    assert AR.gettext("ar", "Normal") in card.group(0) and AR.gettext("ar", "Awaiting confirmation") in card.group(0)
    assert f'href="/protocol/appointments/{appointment_id}/move"' in card.group(0)
    assert 'draggable="true"' in card.group(0)
    # It sits in the hall's cell; the free cells take a drop; Jeddah's room is filtered out.
    cell = re.search(rf'<td class="slot[^"]*" data-slot="{slots["hall"]}".*?</td>', html, re.S)
    assert cell and f"appointment-{appointment_id}" in cell.group(0)
    assert f'data-slot="{slots["later"]}" data-drop="1"' in html
    assert f'data-slot="{slots["jeddah"]}"' not in html
    # A day's rooms scroll sideways on a phone: the box is a region the keyboard can reach and scroll, named by its
    # day, whether or not a card in it holds a link (axe's scrollable-region-focusable).
    boxes = re.findall(r'<div class="lanes-box"[^>]*>', html)
    assert boxes and all(
        re.fullmatch(r'<div class="lanes-box" role="region" aria-labelledby="day-[\d-]+" tabindex="0">', box)
        for box in boxes
    )
    # Every day's head in both calendars; a day picker for phones; week navigation.
    assert hijri_date(clock.now().date(), "ar") in html and "1448" in html
    assert 'class="day-picker"' in html and 'aria-current="date"' in html
    assert 'href="/protocol?week=2026-11-15&amp;branch=riyadh"' in html and 'id="next-week"' in html
    everywhere = await (await client.get("/protocol?from=2026-11-24")).text()
    assert f'data-slot="{slots["jeddah"]}"' in everywhere
    # The month: per day its sessions and seats, in Arabic plurals, each day a link into its week.
    page = await client.get("/protocol/month?month=2026-11")
    html = await page.text()
    assert page.status == 200
    day = re.search(r'<td class="has-sessions today" data-day="2026-11-24">.*?</td>', html, re.S)
    assert day
    assert "6 جلسات" in day.group(0) and "مقعد محجوز واحد" in day.group(0) and "5 مقاعد شاغرة" in day.group(0)
    assert 'href="/protocol?week=2026-11-22&day=2026-11-24"' in day.group(0)
    assert hijri_date(clock.now().date(), "ar") in day.group(0)
    assert (await client.get("/protocol/month?month=2026-13")).status == 200  # a bad month: this one
    english = await (await client.get("/protocol/month?month=2026-11&lang=en")).text()
    assert "6 sessions" in english and "1 seat taken" in english and "5 seats free" in english


async def test_the_move_dialog_lists_only_compatible_seats_and_says_why_a_drop_cannot(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    slots, number, appointment_id = await placed_in_hall(sessions, clock, gender="male", name="خالد")
    await sign_in(client, "protocol")
    page = await client.get(f"/protocol/appointments/{appointment_id}/move?to_slot={slots['later']}")
    html = await page.text()
    assert page.status == 200 and "<html" in html
    assert options_of(html) == {str(slots["accessible"]), str(slots["later"])}
    assert f'<option value="{slots["later"]}" selected>' in html
    assert AR.gettext("ar", "only on the official's directive") in html and number in html
    # Dropped on another branch's slot: nothing chosen, and why, next to the field.
    partial = await client.get(f"/protocol/appointments/{appointment_id}/move?to_slot={slots['jeddah']}&partial=1")
    fragment = await partial.text()
    assert partial.status == 200 and "<html" not in fragment
    assert " selected>" not in fragment.split('id="move-slot"')[1].split("</select>")[0]
    assert AR.gettext("ar", manual.SEAT_RULE_MESSAGES[SeatRule.BRANCH]) in fragment
    assert 'id="to_slot-error"' in fragment
    assert (await client.get("/protocol/appointments/999999/move")).status == 404


async def test_a_move_needs_a_reason_then_redirects_with_the_notice(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    slots, number, appointment_id = await placed_in_hall(sessions, clock, gender="male", name="خالد")
    await sign_in(client, "protocol")
    token = await csrf_token(client, f"/protocol/appointments/{appointment_id}/move")
    url = f"/protocol/appointments/{appointment_id}/move"
    form = {"csrf_token": token, "to_slot": str(slots["later"]), "directive": "1", "change_text": ""}
    refused = await client.post(url, data=form, allow_redirects=False)
    html = await refused.text()
    assert refused.status == 422 and 'id="change_text-error"' in html and 'aria-invalid="true"' in html
    # Another branch's slot, even on the directive: refused beside the slot, nothing moved.
    elsewhere = await client.post(
        url, data={**form, "to_slot": str(slots["jeddah"]), "change_text": "بتوجيه"}, allow_redirects=False
    )
    assert elsewhere.status == 422
    assert AR.gettext("ar", manual.SEAT_RULE_MESSAGES[SeatRule.BRANCH]) in await elsewhere.text()
    async with sessions() as session:
        assert (await session.get_one(Appointment, appointment_id)).state is AppointmentState.SCHEDULED
    moved = await client.post(url, data={**form, "change_text": "وجّه المسؤول بتقديم الموعد"}, allow_redirects=False)
    assert moved.status == 303
    assert moved.headers["Location"].startswith("/protocol?week=2026-11-22&day=2026-11-24#appointment-")
    assert NOTICE_COOKIE in moved.cookies
    page = await client.get(moved.headers["Location"].split("#")[0])
    html = await page.text()
    async with sessions() as session:
        now_in = await session.scalar(
            select(Appointment).where(Appointment.state.in_((AppointmentState.SCHEDULED, AppointmentState.CONFIRMED)))
        )
    assert now_in is not None and now_in.slot_id == slots["later"]
    notice = AR.gettext(
        "ar",
        "The appointment has moved on the official's directive; the applicant is told by message and called.",
    )
    assert 'class="notice notice-done" role="status"' in html and notice in html
    cell = re.search(rf'<td class="slot[^"]*" data-slot="{slots["later"]}".*?</td>', html, re.S)
    assert cell and number in cell.group(0)


async def test_a_room_gets_its_english_name_shown_on_english_pages(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    await sign_in(client, "protocol")
    token = await csrf_token(client, "/protocol/rooms")
    form = {
        "branch": "riyadh",
        "name": "قاعة المجلس",
        "name_en": "  The   Majlis hall ",
        "room_kind": "audience_hall",
        "capacity": "40",
        "equipment": "",
        "csrf_token": token,
    }
    too_long = await client.post("/protocol/rooms", data={**form, "name_en": "x" * 121}, allow_redirects=False)
    assert too_long.status == 422 and 'id="name_en-error"' in await too_long.text()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Room)) == 0  # nothing half-saved
    added = await client.post("/protocol/rooms", data=form, allow_redirects=False)
    await shown_once(client, added, f"أُضيفت الغرفة {isolated('قاعة المجلس')}.")
    async with sessions() as session:
        room = await session.scalar(select(Room))
    assert room is not None and room.name_en == "The Majlis hall"
    english = await (await client.get("/protocol/rooms?lang=en")).text()
    assert "<bdi>The Majlis hall</bdi>" in english
    assert "<bdi>قاعة المجلس</bdi>" in await (await client.get("/protocol/rooms?lang=ar")).text()
