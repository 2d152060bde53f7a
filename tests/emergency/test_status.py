"""The citizen follows a report with its number and phone: on the one status page and in the API, the state in
plain words, the mission, times at the mission and in Riyadh, nothing meant for staff; a wrong phone is an
unknown number, and misses share the requests' throttle."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from emergency import reports, timers
from emergency.models import EmergencyReport, ReportSource, ReportState
from emergency.numbers import format_report_number, looks_like_report_number, parse_report_number
from majlis.app import create_app
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.models import OutboxMessage
from tests.conftest import RecordingChannel, make_settings, start_client
from tests.emergency.arrange import add_missions, report_details
from tests.factories import Client, csrf_token
from web.keys import LINKS, SESSIONS, SETTINGS

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.fixture
async def citizen(database_url: str, clock: FrozenClock, recorder: RecordingChannel) -> AsyncIterator[Client]:
    """The app with a low limit of misses, so the throttle shows quickly."""
    app = create_app(make_settings(database_url, lookup_max_misses=4), clock=clock, channels=recorder.channels())
    client = await start_client(app)
    yield client
    await client.close()


async def registered(client: Client, clock: FrozenClock, **fields: str) -> EmergencyReport:
    await add_missions(client.app[SESSIONS])
    async with transaction(client.app[SESSIONS]) as session:
        return await reports.register(
            session=session,
            clock=clock,
            details=report_details(**fields),
            actor_id=None,
            source=ReportSource.AGENT,
            levels=timers.levels_from(client.app[SETTINGS]),
            links=client.app[LINKS],
            status_url="https://majlis.example.sa/status",
        )


async def status_page(client: Client, number: str, phone: str) -> tuple[int, str]:
    token = await csrf_token(client, "/status")
    response = await client.post("/status", data={"tracking_number": number, "phone": phone, "csrf_token": token})
    return response.status, await response.text()


async def test_the_status_page_follows_an_emergency_report(citizen: Client, clock: FrozenClock) -> None:
    report = await registered(citizen, clock)
    typed = report.number.lower().replace("-", " ").translate(ARABIC_INDIC)
    status, html = await status_page(citizen, typed, "00971 50 123 4567")
    assert status == 200, html
    assert f'id="report-number"><bdi dir="ltr" class="ltr">{report.number}<' in html
    # The citizen's language (Arabic), the state in plain words, the mission that handles it.
    assert "أُبلغت البعثة المختصة" in html and "القنصلية العامة في دبي" in html
    # 09:30 in Riyadh is 10:30 in Dubai: both are shown.
    assert ">10:30<" in html and ">09:30<" in html
    assert report.account not in html and "Duty officer" not in html

    clock.advance(timedelta(minutes=20))
    async with transaction(citizen.app[SESSIONS]) as session:
        await session.execute(
            update(EmergencyReport)
            .where(EmergencyReport.id == report.id)
            .values(state=ReportState.ACKNOWLEDGED, acknowledged_at=clock.now())
        )
    status, html = await status_page(citizen, report.number, "+971501234567")
    assert status == 200 and "تولّت البعثة بلاغكم" in html and 'id="acknowledged"' in html


async def test_a_wrong_phone_answers_as_an_unknown_number(citizen: Client, clock: FrozenClock) -> None:
    report = await registered(citizen, clock)
    wrong_phone = await status_page(citizen, report.number, "+971509999999")
    unknown = await status_page(citizen, format_report_number(2026, 99), "+971501234567")
    assert wrong_phone[0] == unknown[0] == 404
    assert "لا يوجد بلاغ طارئ" in wrong_phone[1] and "لا يوجد بلاغ طارئ" in unknown[1]

    api_wrong = await citizen.get(
        f"/api/v1/emergency-reports/{report.number}/status", params={"phone": "+971509999999"}
    )
    api_unknown = await citizen.get("/api/v1/emergency-reports/E99-000001-0/status", params={"phone": "+971501234567"})
    assert api_wrong.status == api_unknown.status == 404
    assert (await api_wrong.json())["messages"] == (await api_unknown.json())["messages"]


async def test_the_api_gives_the_state_mission_and_times(citizen: Client, clock: FrozenClock) -> None:
    report = await registered(citizen, clock, country="AU", city="Perth", phone="+61412345678", language="en")
    response = await citizen.get(
        f"/api/v1/emergency-reports/{report.number}/status", params={"phone": "+61 412 345 678"}
    )
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    assert body["number"] == report.number and body["state"] == "open" and body["type"] == "accident"
    assert body["state_label"]["en"].startswith("Registered.") and body["type_label"]["ar"] == "حادث أو تنويم في مستشفى"
    assert body["mission"] == {
        "code": "canberra",
        "name": {"ar": "بعثة canberra", "en": "The embassy in Canberra"},
        "time_zone": "Australia/Sydney",
    }
    # 24 November: Sydney keeps summer time (UTC+11), eight hours ahead of Riyadh.
    assert body["registered"]["mission_time"] == "2026-11-24T17:30+11:00"
    assert body["registered"]["riyadh_time"] == "2026-11-24T09:30+03:00"
    assert [s["kind"] for s in body["steps"]] == ["registered"]
    assert body["acknowledged"] is None and body["closed"] is None
    assert "account" not in body and "caller_name" not in body and "national_id" not in body


async def test_misses_share_the_requests_throttle(citizen: Client, clock: FrozenClock) -> None:
    report = await registered(citizen, clock)
    assert (await citizen.get("/api/v1/requests/26-000001-7", params={"phone": "0501234567"})).status == 404
    for _ in range(3):
        assert (await status_page(citizen, report.number, "+971509999999"))[0] == 404
    refused = await citizen.get(f"/api/v1/emergency-reports/{report.number}/status", params={"phone": "+971501234567"})
    # Four misses with four free: one second to wait (majlis.throttle.wait_after), said in Retry-After.
    assert refused.status == 429 and refused.headers["Retry-After"] == "1"
    assert (await status_page(citizen, report.number, "+971501234567"))[0] == 429
    requests_api = await citizen.get("/api/v1/requests/26-000001-7", params={"phone": "0501234567"})
    assert requests_api.status == 429 and requests_api.headers["Retry-After"] == "1"
    token = await csrf_token(citizen, "/status")
    form = await citizen.post("/status", data={"tracking_number": "26-000001-7", "phone": "0501", "csrf_token": token})
    assert form.status == 429 and form.headers["Retry-After"] == "1"


async def test_a_number_pasted_from_the_sms_is_followed(citizen: Client, clock: FrozenClock) -> None:
    report = await registered(citizen, clock)
    async with citizen.app[SESSIONS]() as session:
        [sms] = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.channel == "sms", OutboxMessage.recipient == report.phone)
        )
    # What a phone copies from the Arabic SMS: the number with its invisible isolates (and a stray mark).
    [pasted] = re.findall("\u2066[^\u2069]*\u2069", sms.body)
    assert pasted == f"\u2066{report.number}\u2069"
    status, html = await status_page(citizen, f"\u200f{pasted}\u061c", "+971501234567")
    assert status == 200, html
    assert f'id="report-number"><bdi dir="ltr" class="ltr">{report.number}<' in html
    assert parse_report_number(pasted) == report.number and looks_like_report_number(f"\u2067\u200e{report.number}")
