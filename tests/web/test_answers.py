"""The answer page behind the link in confirmation messages: confirm, reschedule, cancel; refused links."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases.models import CaseStatus
from majlis.clock import FrozenClock
from majlis.dates import dual_datetime
from majlis.db import transaction
from rooms.models import Room
from scheduler import changes
from scheduler.models import Appointment, AppointmentState, Confirmation, Slot
from tests.factories import Client, csrf_token
from tests.web.asking import Asked, answer_path, appointment_state, ask, case_of, placed
from web.keys import LINKS

Sessions = async_sessionmaker[AsyncSession]


async def one_asked(sessions: Sessions, clock: FrozenClock) -> Asked:
    (number,) = await placed(sessions, clock)
    return (await ask(sessions, clock))[number]


async def choose(client: Client, path: str, answer: str) -> str:
    """Posts one of the page's buttons and gives back the page the browser lands on."""
    token = await csrf_token(client, path)
    response = await client.post(path, data={"answer": answer, "csrf_token": token})
    assert response.status == 200, await response.text()
    assert response.history and response.history[0].status == 303
    return await response.text()


async def test_the_page_shows_the_audience_and_three_choices(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    item = await one_asked(sessions, clock)
    path = answer_path(client.app[LINKS], item)
    response = await client.get(path)
    text = await response.text()
    assert response.status == 200
    assert 'dir="rtl"' in text and item.tracking_number in text
    assert dual_datetime(item.starts_at, "ar") in text and "قاعة المجلس" in text
    assert "بانتظار ردكم" in text
    for value in ("confirmed", "rescheduled", "cancelled"):
        assert f'name="answer" value="{value}"' in text
    assert '<meta name="robots" content="noindex, nofollow">' in text
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]
    english = await (await client.get(path + "?lang=en")).text()
    assert 'dir="ltr"' in english and dual_datetime(item.starts_at, "en") in english
    assert "قاعة المجلس" in english  # no English name yet: the Arabic one rather than none
    async with transaction(sessions) as session:
        slot = await session.get_one(Slot, (await session.get_one(Appointment, item.appointment_id)).slot_id)
        room = await session.get_one(Room, slot.room_id)
        room.name_en = "Majlis hall"
    english = await (await client.get(path + "?lang=en")).text()
    assert "<bdi>Majlis hall</bdi>" in english and "قاعة المجلس" not in english
    assert "قاعة المجلس" in await (await client.get(path + "?lang=ar")).text()


async def test_confirming_on_the_page(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    item = await one_asked(sessions, clock)
    path = answer_path(client.app[LINKS], item)
    text = await choose(client, path, "confirmed")
    assert "شكرًا لكم، تأكد حضوركم" in text and 'value="confirmed"' not in text
    assert await appointment_state(sessions, item.appointment_id) is AppointmentState.CONFIRMED
    assert (await case_of(sessions, item.tracking_number)).status is CaseStatus.CONFIRMED
    async with sessions() as session:
        confirmation = await session.get_one(Confirmation, item.confirmation_id)
    assert confirmation.answered_via == "portal"
    # Changing one's mind afterwards is still possible.
    assert 'value="rescheduled"' in text and 'value="cancelled"' in text


async def test_asking_for_another_date_shows_the_new_one(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    item = await one_asked(sessions, clock)
    path = answer_path(client.app[LINKS], item)
    text = await choose(client, path, "rescheduled")
    assert await appointment_state(sessions, item.appointment_id) is AppointmentState.RELEASED
    assert "سُجّل ردكم" in text and 'id="new-date"' in text
    async with sessions() as session:
        slots = list(await session.scalars(select(Slot).order_by(Slot.starts_at)))
    new_slot = next(s for s in slots if s.starts_at.date() == date(2026, 12, 6))
    assert dual_datetime(new_slot.starts_at, "ar") in text
    # The old link now says what the answer did, and asks nothing again.
    again = await (await client.get(path)).text()
    assert 'name="answer"' not in again and 'id="new-date"' in again


async def test_cancelling_leaves_the_request_in_writing(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    item = await one_asked(sessions, clock)
    text = await choose(client, answer_path(client.app[LINKS], item), "cancelled")
    assert "يُتابَع كتابيًا" in text
    assert (await case_of(sessions, item.tracking_number)).status is CaseStatus.REFERRED


async def test_an_answer_needs_the_forms_csrf_token_and_a_known_choice(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    item = await one_asked(sessions, clock)
    path = answer_path(client.app[LINKS], item)
    await client.get(path)  # the browser has its CSRF cookie, but the post carries no token
    assert (await client.post(path, data={"answer": "cancelled"})).status == 403
    token = await csrf_token(client, path)
    response = await client.post(path, data={"answer": "maybe", "csrf_token": token})
    assert response.status == 422 and "اختاروا أحد الردود الثلاثة" in await response.text()
    assert await appointment_state(sessions, item.appointment_id) is AppointmentState.SCHEDULED


async def test_altered_and_expired_links_are_refused(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    item = await one_asked(sessions, clock)
    path = answer_path(client.app[LINKS], item)
    altered = path[:-3] + ("xyz" if not path.endswith("xyz") else "abc")
    response = await client.get(altered)
    assert response.status == 403 and "هذا الرابط غير صالح" in await response.text()
    token = await csrf_token(client, path)
    refused = await client.post(altered, data={"answer": "cancelled", "csrf_token": token})
    assert refused.status == 403
    clock.set(item.starts_at)
    expired = await client.get(path)
    assert expired.status == 410 and "انتهت صلاحية هذا الرابط" in await expired.text()
    assert expired.headers["Referrer-Policy"] == "no-referrer"
    assert await appointment_state(sessions, item.appointment_id) is AppointmentState.SCHEDULED


async def test_the_link_of_a_released_appointment_says_it_changed(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    item = await one_asked(sessions, clock)
    path = answer_path(client.app[LINKS], item)
    token = await csrf_token(client, path)
    async with transaction(sessions) as session:
        appointment = await session.get_one(Appointment, item.appointment_id)
        dated = (await session.get_one(Slot, appointment.slot_id)).session_id
        await changes.cancel_session(
            session=session, clock=clock, session_id=dated, actor_id=None, reason="المسؤول مسافر", status_url="/status"
        )
    response = await client.get(path)
    text = await response.text()
    assert response.status == 200 and "تغيّر هذا الموعد" in text and 'name="answer"' not in text
    posted = await client.post(path, data={"answer": "confirmed", "csrf_token": token})
    assert posted.status == 409 and "تغيّر هذا الموعد" in await posted.text()
    assert await appointment_state(sessions, item.appointment_id) is AppointmentState.RELEASED
