"""Hostile input at the edge (web/hostile_input.py), on SQLite and PostgreSQL: bytes that are not UTF-8, a NUL,
a lone surrogate, a JSON integer of 5,000 digits, JSON nested 1,000 deep, an integer beyond the database's
INTEGER and an id in the path beyond it. A public form, the public and a staff JSON API and a Twilio webhook
each answer 400, 422 or 404 with the error in Arabic and English, save nothing, and log no error.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import ClientResponse
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases.models import Case
from majlis.clock import FrozenClock
from tests.factories import Client, api_payload, csrf_token, form_data, make_staff
from tests.web.test_audience_api import switch

Sessions = async_sessionmaker[AsyncSession]
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

# Raw JSON texts: json.dumps cannot write a lone surrogate or a 5,000-digit number the way an attacker can.
LONE_SURROGATE = '"\\ud800"'
HUGE_INTEGER = "9" * 5000
DEEP = "[" * 1000 + "]" * 1000


@pytest.fixture
def errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """The records at ERROR or above logged during the test (a traceback is always one)."""
    caplog.set_level(logging.INFO)
    found: list[logging.LogRecord] = []
    yield found
    found.extend(r for r in caplog.records if r.levelno >= logging.ERROR)
    assert not found, [r.getMessage() for r in found]


async def cases_saved(sessions: Sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Case)) or 0)


async def refused_json(response: ClientResponse, status: int, field: str | None = None) -> dict[str, Any]:
    """A JSON refusal with its status, in both languages, naming the field when one is given."""
    body: dict[str, Any] = await response.json()
    assert response.status == status, body
    assert body["messages"]["ar"] != body["messages"]["en"], body
    if field is not None:
        (problem,) = [p for p in body["fields"] if p["field"] == field]
        assert problem["messages"]["ar"] and problem["messages"]["ar"] != problem["messages"]["en"], problem
    return body


def public_request(subject: str = '"subject"', id_number: str = '"1000000008"') -> bytes:
    """The public API's request with raw JSON put in for its subject and the applicant's national ID."""
    body = api_payload()
    body["subject"], body["applicant"]["national_id"] = "SUBJECT", "ID"
    text = json.dumps(body).replace('"SUBJECT"', subject).replace('"ID"', id_number)
    return text.encode()


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (public_request(subject='"a\\u0000b"'), 422, "subject"),
        (public_request(subject=LONE_SURROGATE), 422, "subject"),
        (public_request(id_number=HUGE_INTEGER), 422, "applicant.national_id"),
        (public_request(id_number="2147483648"), 422, "applicant.national_id"),
        (public_request(subject="NaN"), 400, None),
        (DEEP.encode(), 400, None),
        (public_request(subject='"\xff"').replace(b"\xc3\xbf", b"\xff"), 400, None),
    ],
    ids=["nul", "lone-surrogate", "5000-digits", "beyond-integer", "nan", "1000-deep", "not-utf8"],
)
async def test_the_public_api_refuses_hostile_bodies(
    client: Client, sessions: Sessions, errors_logged: list[logging.LogRecord], body: bytes, status: int, field: str
) -> None:
    response = await client.post("/api/v1/requests", data=body, headers=JSON)
    await refused_json(response, status, field)
    assert await cases_saved(sessions) == 0


async def test_a_staff_api_refuses_hostile_bodies(
    client: Client, sessions: Sessions, clock: FrozenClock, errors_logged: list[logging.LogRecord]
) -> None:
    await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    headers = {**await switch(client, "desk"), **JSON}
    arrivals = "/api/v1/arrivals"
    for raw, field in [
        ('{"arrival_code": "\\u0000", "branch": "riyadh"}', "arrival_code"),
        ('{"arrival_code": "\\udc00", "branch": "riyadh"}', "arrival_code"),
        ('{"appointment_id": ' + HUGE_INTEGER + ', "branch": "riyadh"}', "appointment_id"),
        ('{"appointment_id": 2147483648, "branch": "riyadh"}', "appointment_id"),
    ]:
        await refused_json(await client.post(arrivals, data=raw.encode(), headers=headers), 422, field)
    await refused_json(await client.post(arrivals, data=DEEP.encode(), headers=headers), 400)
    # The API parses any body as JSON, whatever its label says.
    xml = {**headers, "Content-Type": "application/xml"}
    await refused_json(await client.post(arrivals, data=DEEP.encode(), headers=xml), 400)
    await refused_json(await client.post(arrivals, data=b'{"branch": "\xff"}', headers=headers), 400)
    # An id in the path beyond the INTEGER names nothing: 404, not PostgreSQL's refusal to compare it.
    for too_large in ("2147483648", "9" * 5000):
        await refused_json(await client.post(f"/api/v1/hall/sessions/{too_large}/call-next", headers=headers), 404)
    # A NUL in the query (the status lookup's phone) is refused before it reaches the database.
    await refused_json(await client.get("/api/v1/requests/26-000001-9?phone=%00"), 400)


async def test_a_public_form_refuses_hostile_bodies(
    client: Client, sessions: Sessions, errors_logged: list[logging.LogRecord]
) -> None:
    token = await csrf_token(client, "/")
    nul = form_data(csrf_token=token, **{"applicant.name": "a\x00b"})
    for data, message in [
        (nul, "يحتوي النموذج على محرف لا يمكن حفظه"),
        (f"csrf_token={token}&subject=\xff".encode("latin-1"), "ما أُرسل ليس نصًا بترميز UTF-8"),
    ]:
        response = await client.post("/requests", data=data, headers=FORM if isinstance(data, bytes) else None)
        assert response.status == 400
        assert message in await response.text()
    # A file's name is stored as sent, percent-decoded (web/uploads.py): %00 in it is a NUL too.
    multipart = (
        b'--b\r\nContent-Disposition: form-data; name="files"; filename="a%00b.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--b--\r\n"
    )
    named = await client.post("/requests", data=multipart, headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert named.status == 400
    assert "يحتوي النموذج على محرف لا يمكن حفظه" in await named.text()
    # A part's header aiohttp cannot read (a control character in a field's name) is a malformed body: 400.
    unreadable = b'--b\r\nContent-Disposition: form-data; name="a\x1eb"\r\n\r\nx\r\n--b--\r\n'
    broken = await client.post(
        "/requests", data=unreadable, headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert broken.status == 400
    # The same on a route that takes files, whose larger body web/uploads.py reads first.
    boundary_b = {"Content-Type": "multipart/form-data; boundary=b"}
    answer = await client.post("/api/v1/requests/26-000001-9/answers", data=unreadable, headers=boundary_b)
    assert answer.status == 400
    english = await client.post("/requests?lang=en", data=b"subject=\xff", headers=FORM)
    assert english.status == 400
    assert "What was sent is not text in UTF-8" in await english.text()
    assert await cases_saved(sessions) == 0


async def test_a_webhook_refuses_hostile_bodies_before_its_signature_is_checked(
    client: Client, errors_logged: list[logging.LogRecord]
) -> None:
    for data in (b"Body=\xff&From=whatsapp%3A%2B966501234567", b"Body=a%00b&From=whatsapp%3A%2B966501234567"):
        response = await client.post("/webhooks/twilio/whatsapp", data=data, headers=FORM)
        assert response.status == 400, await response.text()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_every_id_in_every_path_beyond_the_integer_names_nothing(
    client: Client, errors_logged: list[logging.LogRecord]
) -> None:
    """Each route with an id declared as digits answers 404 for one past INTEGER and for 4,400 digits, whoever asks.

    The edge decides before any handler or role check, so the database cannot matter (SQLite only).
    """
    checked = 0
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        formatter, pattern = info.get("formatter"), info.get("pattern")
        if formatter is None or pattern is None or route.method in ("HEAD", "*"):
            continue
        ids = re.findall(r"\(\?P<(\w+)>\\d", pattern.pattern)
        if not ids:
            continue
        # Past Python's 4,300 digits int() refuses the text; one such id per address keeps it under aiohttp's
        # 8,190 bytes for a request line.
        for too_large in ("2147483648", "9" * 4400):
            values = {name: "x" for name in re.findall(r"{(\w+)}", formatter)}
            values.update(dict.fromkeys(ids, "2147483648"))
            values[ids[0]] = too_large
            response = await client.request(route.method, formatter.format(**values), headers=JSON)
            assert response.status == 404, (route.method, formatter)
            checked += 1
    assert checked > 60  # about 35 routes, each twice


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_request_aiohttp_cannot_parse_is_one_info_line(
    client: Client, caplog: pytest.LogCaptureFixture, errors_logged: list[logging.LogRecord]
) -> None:
    """Refused by aiohttp's parser before any middleware (so no database): 400, logged at INFO, no traceback."""
    response = await client.get("/status?phone=" + "0" * 9000)
    assert response.status == 400
    (line,) = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert (line.levelname, line.getMessage(), line.exc_info) == (
        "INFO",
        "malformed request refused with 400 (LineTooLong)",
        None,
    )
