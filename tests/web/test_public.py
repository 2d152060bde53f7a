"""The public pages: Arabic and right to left by default, the form, the receipt, the status page."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases.models import Case, Channel
from tests.factories import Client, csrf_token, form_data

TRACKING = re.compile(r'id="tracking-number"><bdi dir="ltr" class="ltr">([0-9-]+)<')


async def submit_form(client: Client, **overrides: str) -> tuple[int, str]:
    token = await csrf_token(client, "/")
    response = await client.post("/requests", data={**form_data(**overrides), "csrf_token": token})
    return response.status, await response.text()


async def test_pages_are_arabic_and_right_to_left_by_default(client: Client) -> None:
    for path in ("/", "/status", "/login"):
        response = await client.get(path, headers={"Accept-Language": "en-US,en;q=0.9"})
        html = await response.text()
        assert response.status == 200
        assert '<html lang="ar" dir="rtl">' in html
    home = await (await client.get("/")).text()
    assert "تقديم طلب إلى المسؤول" in home
    assert 'name="viewport"' in home  # laid out for tablets and phones


async def test_english_on_a_switch_is_remembered(client: Client) -> None:
    response = await client.get("/lang/en?next=/status", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/status"
    html = await (await client.get("/status")).text()
    assert '<html lang="en" dir="ltr">' in html and "Track a request" in html


async def test_language_switch_never_redirects_away(client: Client) -> None:
    response = await client.get("/lang/en?next=//evil.example", allow_redirects=False)
    assert response.headers["Location"] == "/"


async def test_dates_show_gregorian_and_hijri_together(client: Client) -> None:
    html = await (await client.get("/")).text()
    # The test clock stands on Tuesday 24 November 2026 = 14 Jumada al-Akhirah 1448.
    assert "24 نوفمبر 2026" in html and "14 جمادى الآخرة 1448 هـ" in html


async def test_the_form_gives_a_tracking_number(client: Client, sessions: async_sessionmaker[AsyncSession]) -> None:
    status, html = await submit_form(client)
    assert status == 200
    match = TRACKING.search(html)
    assert match
    async with sessions() as session:
        case = await session.scalar(select(Case))
    assert case is not None and case.tracking_number == match.group(1)
    assert case.channel is Channel.PORTAL and case.entered_by_id is None


async def test_a_resent_form_does_not_make_a_second_request(
    client: Client, sessions: async_sessionmaker[AsyncSession]
) -> None:
    token = await csrf_token(client, "/")
    data = {**form_data(), "csrf_token": token, "idempotency_key": "form-1"}
    first = TRACKING.search(await (await client.post("/requests", data=data)).text())
    second = TRACKING.search(await (await client.post("/requests", data=data)).text())
    assert first and second and first.group(1) == second.group(1)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Case)) == 1


async def test_errors_name_each_field_in_arabic_and_save_nothing(
    client: Client, sessions: async_sessionmaker[AsyncSession]
) -> None:
    status, html = await submit_form(
        client, **{"applicant.id_number": "1000000009", "applicant.phone": "123", "subject": ""}
    )
    assert status == 422
    assert "حقل «رقم الهوية»" in html  # the ID number field, named
    assert 'id="applicant.phone-error"' in html and 'id="subject-error"' in html
    assert 'aria-invalid="true"' in html
    # What was typed is kept, so nothing needs typing again.
    assert 'value="1000000009"' in html
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Case)) == 0


async def test_errors_in_english_when_english_is_chosen(client: Client) -> None:
    await client.get("/lang/en")
    status, html = await submit_form(client, **{"applicant.phone": "123"})
    assert status == 422
    assert "Mobile number is not a valid mobile number" in html


async def test_a_form_without_its_csrf_token_is_refused(
    client: Client, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await client.get("/")
    response = await client.post("/requests", data=form_data())
    assert response.status == 403
    assert "انتهت صلاحية" in await response.text() or "النموذج" in await response.text()
    forged = await client.post("/requests", data={**form_data(), "csrf_token": "0" * 64})
    assert forged.status == 403
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Case)) == 0


async def test_status_page_shows_the_history_for_the_right_phone(client: Client) -> None:
    _, html = await submit_form(client)
    match = TRACKING.search(html)
    assert match
    number = match.group(1)
    token = await csrf_token(client, "/status")
    found = await client.post(
        "/status", data={"tracking_number": number, "phone": "+966501234567", "csrf_token": token}
    )
    assert found.status == 200
    page = await found.text()
    assert "تم الاستلام" in page and number in page
    missed = await client.post("/status", data={"tracking_number": number, "phone": "0551234567", "csrf_token": token})
    assert missed.status == 404
    assert "تم الاستلام" not in await missed.text()


async def test_unknown_page_is_a_bilingual_404_page(client: Client) -> None:
    response = await client.get("/no-such-page")
    assert response.status == 404
    html = await response.text()
    assert '<html lang="ar" dir="rtl">' in html and "Traceback" not in html


async def test_the_stylesheet_is_linked_and_served(client: Client) -> None:
    html = await (await client.get("/")).text()
    match = re.search(r'<link rel="stylesheet" href="([^"]+)">', html)
    assert match and match.group(1).startswith("/static/majlis.css?v=")
    css = await client.get(match.group(1))
    assert css.status == 200 and css.content_type == "text/css"


async def test_security_headers_are_set(client: Client) -> None:
    response = await client.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
