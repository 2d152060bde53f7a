"""What the applicant sees of the audience: the status page and the status API, the arrival code and its QR code,
the calendar file; and never a score, a rank or a note written for staff. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from babel.dates import format_time
from icalendar import Calendar, Event
from openapi_spec_validator import validate
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from cases.models import Case, StatusChange
from majlis.app import create_app
from majlis.clock import RIYADH, FrozenClock
from majlis.dates import dual_date
from majlis.db import transaction
from priority import service as triage
from rooms.models import BranchSite
from scheduler import calendar as scheduler_calendar
from scheduler.models import Appointment, AppointmentState, AudienceSession, Slot
from tests.conftest import RecordingChannel, make_settings, start_client
from tests.factories import Client, csrf_token, make_staff
from tests.priority.test_triage import new_case, ready
from tests.rooms.test_rooms import add_room
from tests.scheduler.test_calendar import TUESDAY, add, template
from tests.scheduler.test_runs import URL, run, sunday_hall
from tests.web.asking import PHONES, placed
from web.applicant_view import APPLICANT_NOTE_KEYS
from web.keys import LINKS, SESSIONS

Sessions = async_sessionmaker[AsyncSession]
ROOT = Path(__file__).resolve().parents[2]
ADDRESSES = {
    "riyadh": ("مركز الاستقبال والتواصل — طريق الملك فهد، الرياض", "Reception Centre — King Fahd Road, Riyadh"),
    "jeddah": ("مركز الاستقبال والتواصل — طريق الملك عبدالعزيز، جدة", "Reception Centre — King Abdulaziz Road, Jeddah"),
}
# The first seat of the Sunday hall after the test clock (Tuesday 24 November 2026, 09:30 Riyadh).
SUNDAY_10 = datetime(2026, 11, 29, 10, 0, tzinfo=RIYADH)
CODE = re.compile(r'id="arrival-code" dir="ltr">([^<]+)<')
QR = re.compile(r'<div id="arrival-qr">(<svg.*?</svg>)</div>', re.DOTALL)
# What the allocation writes for staff (tests/scheduler/test_runs.py reads "rank 1" in it).
INTERNAL = re.compile(r"score|rank|\bpriority\b|placed before", re.IGNORECASE)


async def with_addresses(sessions: Sessions) -> None:
    async with transaction(sessions) as session:
        for branch in await session.scalars(select(BranchSite)):
            branch.address_ar, branch.address_en = ADDRESSES[branch.code]


async def status_page(client: Client, number: str, phone: str, **headers: str) -> tuple[int, str]:
    token = await csrf_token(client, "/status")
    response = await client.post(
        "/status", data={"tracking_number": number, "phone": phone, "csrf_token": token}, headers=headers
    )
    return response.status, await response.text()


async def status_json(client: Client, number: str, phone: str, language: str = "ar") -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/requests/{number}", params={"phone": phone}, headers={"Accept-Language": language}
    )
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


def decode_qr(svg: str) -> str:
    """Reads the QR code of the page's inline SVG back, by drawing segno's path and decoding it with OpenCV."""
    size_match = re.search(r'<path fill="#fff" d="M0 0h(\d+)v', svg)
    path_match = re.search(r'class="qrline"[^>]* d="([^"]+)"', svg)
    assert size_match and path_match, svg[:200]
    size = int(size_match.group(1))
    grid = np.full((size, size), 255, np.uint8)
    x = y = 0.0
    for command, first, second in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path_match.group(1)):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            grid[int(y), int(x) : int(x + float(first))] = 0
            x += float(first)
    picture = cv2.resize(grid, (size * 8, size * 8), interpolation=cv2.INTER_NEAREST)
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(picture)
    return str(text)


async def only_appointment(sessions: Sessions, number: str) -> tuple[Appointment, Slot]:
    async with sessions() as session:
        row = (
            await session.execute(
                select(Appointment, Slot)
                .join(Slot, Slot.id == Appointment.slot_id)
                .join(Case, Case.id == Appointment.case_id)
                .where(Case.tracking_number == number)
            )
        ).one()
    return row[0], row[1]


async def set_state(sessions: Sessions, appointment_id: int, state: AppointmentState) -> None:
    async with transaction(sessions) as session:
        appointment = await session.get_one(Appointment, appointment_id)
        appointment.state = state


async def test_the_status_page_shows_the_audience_with_its_arrival_code(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    (number,) = await placed(sessions, clock)
    await with_addresses(sessions)
    appointment, slot = await only_appointment(sessions, number)
    assert slot.starts_at == SUNDAY_10

    status, page = await status_page(client, number, PHONES[0])
    assert status == 200
    assert response_lang(page) == "ar"
    section = page[page.index('id="appointment"') : page.index("</section>")]
    # The day in both calendars, the time, the hall and the centre's address, how it is held.
    assert "29 نوفمبر 2026" in section and "19 جمادى الآخرة 1448 هـ" in section
    assert dual_date(SUNDAY_10, "ar") in section
    assert format_time(time(10, 0), format="short", locale="ar") in section
    assert format_time(time(10, 8), format="short", locale="ar") in section
    assert "قاعة المجلس" in section and ADDRESSES["riyadh"][0] in section
    assert "حضوريًا في قاعة المقابلات" in section
    assert "مجدول، وسنطلب منكم تأكيده" in section
    # What to bring and when to come: 30 minutes before (the setting's default), the time isolated in Arabic.
    assert "بطاقة الهوية الوطنية الأصلية" in section
    assert "\u2068" + format_time(time(9, 30), format="short", locale="ar") + "\u2069" in section
    # The arrival code, as text and as a QR code carrying the same code.
    code_match = CODE.search(section)
    qr_match = QR.search(section)
    assert code_match and qr_match
    code = code_match.group(1)
    assert client.app[LINKS].check_arrival_code(code) == appointment.id
    assert decode_qr(qr_match.group(1)) == code
    assert "<script" not in qr_match.group(1) and "style=" not in qr_match.group(1)
    # The calendar download is a form with the same tracking number and phone, never a bare link.
    assert 'action="/status/calendar.ics"' in section
    assert f'name="tracking_number" value="{number}"' in section and f'name="phone" value="{PHONES[0]}"' in section
    english = (await status_page(client, number, PHONES[0], Cookie="majlis_lang=en"))[1]
    assert ADDRESSES["riyadh"][1] in english and "Sunday, November 29, 2026 (19 Jumada al-Akhirah 1448 AH)" in english
    assert "Your original national ID card." in english and "In person, in the audience hall" in english


def response_lang(page: str) -> str:
    match = re.search(r'<html lang="(\w+)"', page)
    assert match
    return match.group(1)


async def test_the_api_gives_the_appointment_in_the_readers_language(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    (number,) = await placed(sessions, clock)
    await with_addresses(sessions)
    appointment, _ = await only_appointment(sessions, number)
    arabic = (await status_json(client, number, PHONES[0]))["appointment"]
    assert arabic["starts_at"] == "2026-11-29T07:00:00Z" and arabic["ends_at"] == "2026-11-29T07:08:00Z"
    assert arabic["mode"] == "in_person" and arabic["state"] == "scheduled"
    assert arabic["place"] == {
        "branch": "riyadh",
        "centre": "الرياض",
        "room": "قاعة المجلس",
        "address": ADDRESSES["riyadh"][0],
    }
    assert arabic["date"] == dual_date(SUNDAY_10, "ar")
    assert arabic["arrive_by"] == "2026-11-29T06:30:00Z"
    assert any("بطاقة الهوية الوطنية الأصلية" in item for item in arabic["bring"])
    assert client.app[LINKS].check_arrival_code(arabic["arrival_code"]) == appointment.id
    assert arabic["calendar_url"] == f"/api/v1/requests/{number}/calendar.ics"
    english = (await status_json(client, number, PHONES[0], "en"))["appointment"]
    assert english["place"]["address"] == ADDRESSES["riyadh"][1] and english["place"]["centre"] == "Riyadh"
    assert english["date"] == "Sunday, November 29, 2026 (19 Jumada al-Akhirah 1448 AH)"
    assert english["mode_label"] == "In person, in the audience hall"
    assert "Your original national ID card." in english["bring"]


@pytest.fixture
async def early_client(database_url: str, clock: FrozenClock, recorder: RecordingChannel) -> AsyncIterator[Client]:
    """An app whose applicants are asked to come 45 minutes before."""
    settings = make_settings(database_url, arrive_minutes_before=45)
    test_client = await start_client(create_app(settings, clock=clock, channels=recorder.channels()))
    yield test_client
    await test_client.close()


async def test_when_to_arrive_follows_the_setting(early_client: Client, clock: FrozenClock) -> None:
    sessions: Sessions = early_client.app[SESSIONS]
    (number,) = await placed(sessions, clock)
    english = (await status_json(early_client, number, PHONES[0], "en"))["appointment"]
    assert english["arrive_by"] == "2026-11-29T06:15:00Z"
    arrive = format_time(time(9, 15), format="short", locale="en")
    assert f"Arrive by \u2068{arrive}\u2069, \u206845\u2069 minutes before your audience" in " ".join(english["bring"])


async def test_a_womens_video_audience_is_at_the_womens_section(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    room = await add_room(sessions, clock, branch="jeddah", name="غرفة الاتصال المرئي — القسم النسائي بجدة")
    await add(
        sessions,
        clock,
        template((room.id,), weekday=str(TUESDAY), starts="11:00", ends="12:00", slot_minutes="10", mode="video"),
    )
    async with transaction(sessions) as session:
        await scheduler_calendar.generate_sessions(session=session, clock=clock, weeks=2)
    await with_addresses(sessions)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    number = await new_case(sessions, clock, branch="jeddah", kind="audience_video", applicant_gender="female")
    await ready(sessions, clock, actor, number, route="audience_video")
    assert (await run(sessions, clock)).placed == 1

    body = (await status_json(client, number, "0501234567"))["appointment"]
    assert body["mode"] == "video" and body["starts_at"] == "2026-12-01T08:00:00Z"
    assert body["mode_label"] == "عن بُعد بالاتصال المرئي من القسم النسائي في مركز الاستقبال"
    assert body["place"]["room"] == room.name and body["place"]["address"] == ADDRESSES["jeddah"][0]
    assert any("القسم النسائي" in item for item in body["bring"])
    _, page = await status_page(client, number, "0501234567")
    assert "القسم النسائي في مركز الاستقبال" in page and ADDRESSES["jeddah"][0] in page


async def test_the_calendar_file_has_the_requests_uid_and_needs_the_phone(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    (number,) = await placed(sessions, clock)
    await with_addresses(sessions)
    token = await csrf_token(client, "/status")
    form = {"tracking_number": number, "phone": PHONES[0], "csrf_token": token}
    response = await client.post("/status/calendar.ics", data=form)
    assert response.status == 200, await response.text()
    assert response.content_type == "text/calendar"
    assert response.headers["Content-Disposition"] == f'attachment; filename="audience-{number}.ics"'
    assert response.headers["Cache-Control"] == "no-store"
    calendar = Calendar.from_ical(await response.read())
    assert str(calendar["METHOD"]) == "PUBLISH"
    (event,) = [c for c in calendar.walk() if isinstance(c, Event)]
    assert str(event["UID"]) == f"audience-{number}@example.gov.sa"
    assert event.decoded("SEQUENCE") == 0
    assert event.decoded("DTSTART") == SUNDAY_10 and event.decoded("DTEND") == SUNDAY_10 + timedelta(minutes=8)
    assert "قاعة المجلس" in str(event["LOCATION"]) and ADDRESSES["riyadh"][0] in str(event["LOCATION"])
    appointment, _ = await only_appointment(sessions, number)
    assert client.app[LINKS].arrival_code(appointment.id) in str(event["DESCRIPTION"])
    assert "ATTENDEE" not in event and not INTERNAL.search(calendar.to_ical().decode())
    assert str(event["ORGANIZER"]) == "mailto:majlis@example.gov.sa"
    # One audience to add, in Riyadh time: not a named calendar to subscribe to.
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Asia/Riyadh"]
    assert "X-WR-CALNAME" not in calendar and "REFRESH-INTERVAL" not in calendar

    from_api = await client.get(f"/api/v1/requests/{number}/calendar.ics", params={"phone": "0501234567"})
    assert from_api.status == 200 and from_api.content_type == "text/calendar"
    (api_event,) = [c for c in Calendar.from_ical(await from_api.read()).walk() if isinstance(c, Event)]
    assert api_event["UID"] == event["UID"] and api_event.decoded("DTSTART") == SUNDAY_10

    # A wrong phone, or no phone, gets nothing of it; a form without its CSRF token is refused.
    wrong = await client.post("/status/calendar.ics", data={**form, "phone": "0551234567"})
    assert wrong.status == 404 and "BEGIN:VCALENDAR" not in await wrong.text()
    for params in ({"phone": "+966551234567"}, {}):
        missed = await client.get(f"/api/v1/requests/{number}/calendar.ics", params=params)
        assert missed.status == 404 and "BEGIN:VCALENDAR" not in await missed.text()
    forged = await client.post("/status/calendar.ics", data={"tracking_number": number, "phone": PHONES[0]})
    assert forged.status == 403


async def test_a_wrong_phone_sees_nothing_of_the_audience(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    (number,) = await placed(sessions, clock)
    appointment, _ = await only_appointment(sessions, number)
    code = client.app[LINKS].arrival_code(appointment.id)
    status, page = await status_page(client, number, "0551234567")
    assert status == 404 and code not in page and "قاعة المجلس" not in page
    response = await client.get(f"/api/v1/requests/{number}", params={"phone": "0551234567"})
    assert response.status == 404 and code not in await response.text()


async def test_no_appointment_before_it_is_placed_nor_after_it_ends(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    waiting = await new_case(sessions, clock, applicant_national_id="1000000040", applicant_phone="+966501234599")
    assert (await status_json(client, waiting, "+966501234599"))["appointment"] is None
    assert 'id="appointment"' not in (await status_page(client, waiting, "+966501234599"))[1]

    (number,) = await placed(sessions, clock)
    appointment, _ = await only_appointment(sessions, number)
    assert (await status_json(client, number, PHONES[0]))["appointment"]["state"] == "scheduled"
    await set_state(sessions, appointment.id, AppointmentState.CONFIRMED)
    assert (await status_json(client, number, PHONES[0]))["appointment"]["state"] == "confirmed"
    # Audience day, during the session: an applicant who has checked in still sees it, past the slot's end.
    clock.set(datetime(2026, 11, 29, 10, 30, tzinfo=RIYADH))
    assert (await status_json(client, number, PHONES[0]))["appointment"]["state"] == "confirmed"
    await set_state(sessions, appointment.id, AppointmentState.ARRIVED)
    assert (await status_json(client, number, PHONES[0]))["appointment"]["state"] == "arrived"
    await set_state(sessions, appointment.id, AppointmentState.IN_AUDIENCE)
    assert (await status_json(client, number, PHONES[0]))["appointment"]["state"] == "in_audience"
    for ended in (AppointmentState.HELD, AppointmentState.NO_SHOW, AppointmentState.RELEASED):
        await set_state(sessions, appointment.id, ended)
        assert (await status_json(client, number, PHONES[0]))["appointment"] is None, ended
        _, page = await status_page(client, number, PHONES[0])
        assert 'id="arrival-code"' not in page
        calendar = await client.get(f"/api/v1/requests/{number}/calendar.ics", params={"phone": PHONES[0]})
        assert calendar.status == 404
    # Still "confirmed" after its session is over (the sweep has not run yet): nothing ahead to show.
    await set_state(sessions, appointment.id, AppointmentState.CONFIRMED)
    async with sessions() as session:
        ends = await session.scalar(select(AudienceSession.ends_at).order_by(AudienceSession.starts_at))
    assert ends is not None
    clock.set(ends)
    assert (await status_json(client, number, PHONES[0]))["appointment"] is None


async def test_applicants_never_see_scores_ranks_or_staff_notes(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await sunday_hall(sessions, clock)
    staff = await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")
    number = await new_case(sessions, clock)
    async with transaction(sessions) as session:
        await triage.request_information(
            session=session,
            clock=clock,
            tracking_number=number,
            actor_id=staff.id,
            missing="صورة صك الحكم",
            status_url=URL,
        )
    await ready(sessions, clock, staff.id, number)
    assert (await run(sessions, clock)).placed == 1
    async with transaction(sessions) as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        # The official's directive on a request that stays where it is: for staff only.
        await cases.change_status(
            session=session,
            clock=clock,
            case=case,
            to_status=case.status,
            actor_id=staff.id,
            note="Internal: call the governor's office before the audience",
        )
    async with sessions() as session:
        notes = [s.note for s in await session.scalars(select(StatusChange).order_by(StatusChange.id))]
    explanation = next(note for note in notes if "rank" in note)  # the test can fail: the note is there
    assert "score" in explanation

    for language in ("ar", "en"):
        _, page = await status_page(client, number, "0501234567", Cookie=f"majlis_lang={language}")
        body = await client.get(
            f"/api/v1/requests/{number}", params={"phone": "0501234567"}, headers={"Accept-Language": language}
        )
        raw = json.dumps(await body.json(), ensure_ascii=False)
        for shown in (page, raw):
            assert not INTERNAL.search(shown), language
            assert explanation not in shown and "governor's office" not in shown
            assert staff.full_name not in shown and "auditor" not in shown
            # What the desk asked the applicant for, and the system's note for them, are shown.
            assert "صورة صك الحكم" in shown
        history = (await body.json())["history"]
        completed = "اكتملت البيانات المطلوبة." if language == "ar" else "The information asked for has been completed."
        assert completed in [step["note"] for step in history]
        assert [step["status"] for step in history] == [
            "received",
            "needs_information",
            "received",
            "awaiting_audience",
            "scheduled",
        ]


def test_every_note_shown_to_applicants_is_still_written_by_the_domains() -> None:
    sources = "".join(
        path.read_text(encoding="utf-8")
        for package in ("cases", "priority", "scheduler", "audience_day", "video", "followup", "whatsapp_desk")
        for path in (ROOT / package).rglob("*.py")
    )
    flat = re.sub(r'"\s*\n\s*"', "", sources)  # messages split over lines
    missing = [key for key in APPLICANT_NOTE_KEYS if f'N_("{key}")' not in flat]
    assert missing == []


async def test_openapi_describes_the_appointment(client: Client) -> None:
    document = await (await client.get("/openapi.json")).json()
    validate(document)
    schemas = document["components"]["schemas"]
    status = schemas["RequestStatus"]
    assert "appointment" in status["required"]
    assert {"$ref": "#/components/schemas/AudienceOut"} in status["properties"]["appointment"]["anyOf"]
    assert {"type": "null"} in status["properties"]["appointment"]["anyOf"]
    audience = schemas["AudienceOut"]
    assert {"starts_at", "ends_at", "mode", "place", "state", "arrival_code"} <= set(audience["required"])
    assert audience["properties"]["state"]["enum"] == ["scheduled", "confirmed", "arrived", "in_audience"]
    ics = document["paths"]["/api/v1/requests/{tracking_number}/calendar.ics"]["get"]
    assert "text/calendar" in ics["responses"]["200"]["content"]


async def test_the_audit_desks_reason_for_a_rejection_is_shown_but_not_the_officials_directive(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    staff = await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")
    number = await new_case(sessions, clock)
    async with transaction(sessions) as session:
        await triage.reject(
            session=session,
            clock=clock,
            tracking_number=number,
            actor_id=staff.id,
            reason="خارج اختصاص الجهة",
            status_url=URL,
        )
    status, page = await status_page(client, number, PHONES[0])
    # The SMS told the applicant this reason in the same words: the status page may show it too.
    assert status == 200 and "تعذّر قبول الطلب: خارج اختصاص الجهة" in page
