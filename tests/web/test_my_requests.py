""" "My requests" (/status/mine) on SQLite and PostgreSQL: a phone, a code by SMS through the outbox, then the
phone's requests, each linking to its tracker; the same answer whether a phone has requests or not; errors next
to their field; the cookie signed, path-limited and short-lived by the clock; another phone's requests never."""

from __future__ import annotations

import re
from datetime import timedelta
from http.cookies import SimpleCookie

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.models import OutboxMessage
from priority import service as triage
from tests.factories import Client, csrf_token, make_staff
from tests.priority.test_triage import new_case
from tests.scheduler.test_runs import IDS
from tests.web.asking import placed
from tests.web.test_applicant_appointment import INTERNAL
from web.keys import SETTINGS
from web.my_requests import CODE_COOKIE, MINE_COOKIE

Sessions = async_sessionmaker[AsyncSession]
MINE = "+966501234567"
OTHER = "+966501234568"
NOBODY = "+966501234569"
URL = "https://majlis.example.sa/status"
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


async def codes_to(sessions: Sessions, phone: str) -> list[OutboxMessage]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.purpose.like("my_requests_code:%"), OutboxMessage.recipient == phone)
            .order_by(OutboxMessage.id)
        )
        return list(rows)


def code_in(message: OutboxMessage) -> str:
    found = re.search(r"\d{6}", message.body.replace("\u2066", "").replace("\u2069", ""))
    assert found is not None, message.body
    return found.group(0)


async def ask_code(client: Client, phone: str, **headers: str) -> tuple[int, str]:
    token = await csrf_token(client, "/status/mine")
    response = await client.post("/status/mine/code", data={"phone": phone, "csrf_token": token}, headers=headers)
    return response.status, await response.text()


async def verify(client: Client, phone: str, code: str) -> tuple[int, str, str]:
    token = await csrf_token(client, "/status/mine")
    response = await client.post(
        "/status/mine/verify", data={"phone": phone, "code": code, "csrf_token": token}, allow_redirects=False
    )
    return response.status, response.headers.get("Location", ""), response.headers.get("Set-Cookie", "")


def without_varying(page: str, phone: str) -> str:
    """The page without what differs between two asks anyway: the phone typed and the CSRF token."""
    page = page.replace(phone, "PHONE")
    return re.sub(r'name="csrf_token" value="[^"]+"', "", page)


async def test_a_phone_sees_its_requests_after_the_code_and_never_anothers(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    first = await new_case(sessions, clock, applicant_phone=MINE, subject="طلب أول")
    clock.advance(timedelta(minutes=1))
    second = await new_case(sessions, clock, applicant_national_id=IDS[1], applicant_phone=MINE, subject="طلب ثان")
    theirs = await new_case(sessions, clock, applicant_national_id=IDS[2], applicant_phone=OTHER, subject="طلب غيره")

    form = await client.get("/status/mine")
    assert form.status == 200 and 'id="phone"' in await form.text()
    status, page = await ask_code(client, "0501234567")
    assert status == 200 and 'id="code"' in page
    (sms,) = await codes_to(sessions, MINE)
    assert sms.channel == "sms" and sms.language == "ar" and "للاطلاع على طلباتكم" in sms.body
    assert await codes_to(sessions, OTHER) == []

    # A wrong code: the error next to the code field, no cookie.
    wrong = "000000" if code_in(sms) != "000000" else "111111"
    token = await csrf_token(client, "/status/mine")
    refused = await client.post("/status/mine/verify", data={"phone": MINE, "code": wrong, "csrf_token": token})
    refused_page = await refused.text()
    assert refused.status == 422 and 'id="code-error"' in refused_page and "الرمز غير صحيح" in refused_page
    assert MINE_COOKIE not in refused.cookies

    # The right code, typed in Arabic-Indic digits.
    status, location, cookie = await verify(client, "0501234567", code_in(sms).translate(ARABIC_INDIC))
    assert (status, location) == (303, "/status/mine")
    assert f"{MINE_COOKIE}=" in cookie and "HttpOnly" in cookie and "Path=/status/mine" in cookie
    assert "SameSite=Strict" in cookie and MINE.lstrip("+") in cookie

    listing = await (await client.get("/status/mine")).text()
    assert 'id="my-requests"' in listing
    assert listing.index(second) < listing.index(first)
    assert f'href="/status/mine/{first}"' in listing and f'href="/status/mine/{second}"' in listing
    assert "طلب أول" in listing and "طلب ثان" in listing
    assert theirs not in listing and "طلب غيره" not in listing
    assert f'<bdi dir="ltr" class="ltr">{first}</bdi>' in listing

    # Each links to its tracker, without asking the phone again; another phone's request is not there.
    tracker = await client.get(f"/status/mine/{first}")
    tracker_page = await tracker.text()
    assert tracker.status == 200 and 'id="tracker"' in tracker_page and 'aria-current="step"' in tracker_page
    assert f'<bdi dir="ltr" class="ltr">{first}</bdi>' in tracker_page
    stranger = await client.get(f"/status/mine/{theirs}", allow_redirects=False)
    assert stranger.status == 303 and stranger.headers["Location"] == "/status/mine"
    garbage = await client.get("/status/mine/not-a-number", allow_redirects=False)
    assert garbage.status == 303

    # The permission ends with the clock.
    clock.advance(timedelta(minutes=client.app[SETTINGS].my_requests_minutes, seconds=1))
    later = await (await client.get("/status/mine")).text()
    assert 'id="my-requests"' not in later and 'id="phone"' in later
    assert (await client.get(f"/status/mine/{first}", allow_redirects=False)).status == 303


async def test_the_page_answers_alike_whether_the_phone_has_requests_or_not(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await new_case(sessions, clock, applicant_phone=MINE)
    mine = await ask_code(client, MINE)
    nobody = await ask_code(client, NOBODY)
    assert mine[0] == nobody[0] == 200
    assert without_varying(mine[1], MINE) == without_varying(nobody[1], NOBODY)
    assert len(await codes_to(sessions, MINE)) == 1 and await codes_to(sessions, NOBODY) == []
    # And the code nobody received opens nothing.
    status, _, cookie = await verify(client, NOBODY, "123456")
    assert status == 422 and MINE_COOKIE not in cookie


async def test_asking_for_a_code_redirects_alike_and_a_refresh_sends_no_other(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await new_case(sessions, clock, applicant_phone=MINE)
    answers = []
    for phone in (MINE, NOBODY):
        token = await csrf_token(client, "/status/mine")
        sent = await client.post("/status/mine/code", data={"phone": phone, "csrf_token": token}, allow_redirects=False)
        cookie = sent.cookies[CODE_COOKIE]
        assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/status/mine/code"
        assert phone.lstrip("+") not in sent.headers["Location"]  # the phone is in the signed cookie, not the address
        answers.append((sent.status, sent.headers["Location"]))
        for _ in range(2):  # the page, then a refresh of it
            page = await client.get("/status/mine/code")
            text = await page.text()
            assert page.status == 200 and 'id="code"' in text and 'id="code-sent"' in text and phone in text
    assert answers == [(303, "/status/mine/code")] * 2
    assert len(await codes_to(sessions, MINE)) == 1 and await codes_to(sessions, NOBODY) == []
    # The code's time over, or no cookie: the phone form again, nothing sent.
    clock.advance(timedelta(minutes=client.app[SETTINGS].applicant_code_minutes, seconds=1))
    late = await client.get("/status/mine/code", allow_redirects=False)
    assert late.status == 303 and late.headers["Location"] == "/status/mine"
    client.session.cookie_jar.clear()
    assert (await client.get("/status/mine/code", allow_redirects=False)).headers["Location"] == "/status/mine"
    assert len(await codes_to(sessions, MINE)) == 1


async def test_errors_are_named_next_to_their_field_in_both_languages(client: Client, clock: FrozenClock) -> None:
    status, page = await ask_code(client, "12345")
    assert status == 422 and 'id="phone-error"' in page and "رقم الجوال" in page and 'aria-invalid="true"' in page
    status, page = await ask_code(client, "", Cookie="majlis_lang=en")
    assert status == 422 and 'id="phone-error"' in page and "Mobile number is required." in page
    token = await csrf_token(client, "/status/mine")
    empty = await client.post("/status/mine/verify", data={"phone": MINE, "code": "", "csrf_token": token})
    assert empty.status == 422 and 'id="code-error"' in await empty.text()


async def test_codes_are_throttled_per_phone(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await new_case(sessions, clock, applicant_phone=MINE)
    per_hour = client.app[SETTINGS].applicant_codes_per_hour
    for _ in range(per_hour):
        assert (await ask_code(client, MINE))[0] == 200
    status, page = await ask_code(client, MINE, Cookie="majlis_lang=en")
    assert status == 429 and "Too many codes were sent to this number" in page
    assert len(await codes_to(sessions, MINE)) == per_hour
    clock.advance(timedelta(hours=1, seconds=1))
    assert (await ask_code(client, MINE))[0] == 200


async def test_a_forged_or_forgotten_cookie_shows_nothing(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number = await new_case(sessions, clock, applicant_phone=MINE)
    await ask_code(client, MINE)
    (sms,) = await codes_to(sessions, MINE)
    assert (await verify(client, MINE, code_in(sms)))[0] == 303
    jar = client.session.cookie_jar
    value = next(c for c in jar if c.key == MINE_COOKIE).value

    def holding(token: str) -> None:
        jar.clear(lambda cookie: cookie.key == MINE_COOKIE)
        cookie: SimpleCookie = SimpleCookie()
        cookie[MINE_COOKIE] = token
        cookie[MINE_COOKIE]["path"] = "/status/mine"
        jar.update_cookies(cookie, client.make_url("/status/mine"))

    # The same signature on another phone's digits is refused, and so is a later end.
    digits, expires, mac = value.split(".")
    for forged in (f"{OTHER.lstrip('+')}.{expires}.{mac}", f"{digits}.{int(expires) + 3600}.{mac}", "1.2", ""):
        holding(forged)
        assert 'id="my-requests"' not in await (await client.get("/status/mine")).text()
    holding(value)
    assert number in await (await client.get("/status/mine")).text()
    token = await csrf_token(client, "/status/mine")
    left = await client.post("/status/mine/leave", data={"csrf_token": token}, allow_redirects=False)
    assert left.status == 303
    assert 'id="my-requests"' not in await (await client.get("/status/mine")).text()


async def test_the_list_gives_each_requests_stage_and_next_audience(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    (number,) = await placed(sessions, clock)
    await ask_code(client, MINE)
    (sms,) = await codes_to(sessions, MINE)
    assert (await verify(client, MINE, code_in(sms)))[0] == 303
    listing = await (await client.get("/status/mine", headers={"Cookie": "majlis_lang=en"})).text()
    assert f'href="/status/mine/{number}"' in listing
    assert '<dd class="stage">Audience scheduled</dd>' in listing
    assert '<dd class="next-audience">Sunday, November 29, 2026' in listing
    assert not INTERNAL.search(listing)


async def test_a_request_waiting_for_the_applicant_says_so_in_the_list(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number = await new_case(sessions, clock, applicant_phone=MINE)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "asker")).id
    async with transaction(sessions) as session:
        await triage.request_information(
            session=session, clock=clock, tracking_number=number, actor_id=actor, missing="صورة الصك", status_url=URL
        )
    await ask_code(client, MINE)
    (sms,) = await codes_to(sessions, MINE)
    assert (await verify(client, MINE, code_in(sms)))[0] == 303
    listing = await (await client.get("/status/mine", headers={"Cookie": "majlis_lang=en"})).text()
    assert '<dd class="stage">Request received — Information is needed from you</dd>' in listing
    # Its tracker shows the question and leads to the answer with the request's own phone.
    tracker = await (await client.get(f"/status/mine/{number}")).text()
    assert 'id="needs-information"' in tracker and "صورة الصك" in tracker and 'id="tracker-waiting"' in tracker
    assert f'name="phone" value="{MINE}"' in tracker
