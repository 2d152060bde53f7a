"""Finding a request at /cases and over the API, and the call centre's caller screen, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import PersonalDataAccess
from accounts.roles import Role
from cases.models import Case
from majlis.clock import FrozenClock
from scheduler.models import AppointmentState, Confirmation
from tests.factories import Client, csrf_token, make_staff, sign_in
from tests.priority.test_triage import new_case
from tests.web.asking import appointment_state, ask, placed

Sessions = async_sessionmaker[AsyncSession]


async def _logged(sessions: Sessions) -> list[tuple[str, str]]:
    """(tracking number, via) of every view written to the access log."""
    async with sessions() as session:
        rows = await session.execute(
            select(Case.tracking_number, PersonalDataAccess.via)
            .join(Case, Case.id == PersonalDataAccess.case_id)
            .order_by(PersonalDataAccess.id)
        )
        return [(number, via) for number, via in rows]


def _listed(page: str) -> list[str]:
    return re.findall(r'<a href="/cases\?q=([0-9-]+)"><bdi dir="ltr" class="ltr">', page)


async def test_a_name_typed_another_way_lists_its_requests_newest_first_and_logs_each(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    older = await new_case(sessions, clock, applicant_name="فاطمة الزهراء")
    clock.advance(timedelta(minutes=1))
    newer = await new_case(sessions, clock, applicant_name="فاطِمه علي", applicant_national_id="1000000016")
    await new_case(sessions, clock, applicant_name="سالم", applicant_national_id="1000000024")
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")

    response = await client.get("/cases", params={"q": "فاطمه"})
    page = await response.text()
    assert response.status == 200
    assert _listed(page) == [newer, older]
    assert "عُثر على طلبين" in page
    assert "<bdi>فاطمة الزهراء</bdi>" in page and "تم الاستلام" in page
    assert await _logged(sessions) == [(newer, "GET /cases"), (older, "GET /cases")]

    # By national ID and by phone, however typed.
    assert _listed(await (await client.get("/cases", params={"q": "١٠٠٠٠٠٠٠١٦"})).text()) == [newer]
    by_phone = await (await client.get("/cases", params={"q": "+966 50 123 4567"})).text()
    assert len(_listed(by_phone)) == 3


async def test_an_exact_tracking_number_opens_the_request(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number = await new_case(sessions, clock)
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    arabic_digits = number.replace("-", "").translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    for typed in (number, number.replace("-", ""), arabic_digits):
        page = await (await client.get("/cases", params={"q": typed})).text()
        assert f'<h2 class="tracking-number small"><bdi dir="ltr" class="ltr">{number}</bdi></h2>' in page, typed
    # The old links (tracking_number=) still open it.
    assert (await client.get(f"/cases?tracking_number={number}")).status == 200


async def test_out_of_reach_is_neither_listed_nor_counted(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    """The call centre reaches requests it entered or with an audience; a portal request waiting for triage is
    the audit desk's alone: not found by name, not counted, and its tracking number answered as unknown."""
    waiting = await new_case(sessions, clock, applicant_name="نورة عبدالله")
    await make_staff(sessions, clock, Role.CALL_CENTRE, "caller")
    await sign_in(client, "caller")
    page = await (await client.get("/cases", params={"q": "نوره"})).text()
    assert _listed(page) == [] and 'id="nothing-found"' in page and "لم يُعثر على أي طلب" in page
    assert (await client.get("/cases", params={"q": waiting})).status == 404
    api = await (await client.get("/api/v1/search/requests", params={"q": "نوره"})).json()
    assert (api["total"], api["results"]) == (0, [])
    assert await _logged(sessions) == []


async def test_a_query_that_reads_as_nothing_is_shown_beside_the_box(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    response = await client.get("/cases", params={"q": "26-000417-4"})
    page = await response.text()
    assert response.status == 200
    assert 'aria-describedby="q-error"' in page and 'id="q-error"' in page and "رقم التحقق" in page
    await client.get("/lang/en")
    page = await (await client.get("/cases", params={"q": "ن"})).text()
    assert "Search: type at least two letters of the name." in page

    response = await client.get("/api/v1/search/requests", params={"q": "0512"})
    body = await response.json()
    assert response.status == 422
    assert body["fields"][0]["field"] == "q" and body["fields"][0]["code"] == "invalid_phone"
    assert "رقم جوال" in body["fields"][0]["messages"]["ar"] and "mobile number" in body["fields"][0]["messages"]["en"]


async def test_results_come_twenty_a_page(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    numbers = []
    for _ in range(21):
        numbers.append(await new_case(sessions, clock, applicant_name="خالد الحربي"))
        clock.advance(timedelta(seconds=1))
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    first = await (await client.get("/cases", params={"q": "خالد"})).text()
    one_of_two = 'الصفحة <bdi dir="ltr" class="ltr">1</bdi> من <bdi dir="ltr" class="ltr">2</bdi>'
    assert _listed(first) == numbers[::-1][:20] and 'rel="next" href="/cases?q=' in first and one_of_two in first
    second = await (await client.get("/cases", params={"q": "خالد", "page": "2"})).text()
    # The link back keeps the query and drops ?page= for page 1.
    assert _listed(second) == [numbers[0]] and 'rel="prev" href="/cases?q=%D8%AE%D8%A7%D9%84%D8%AF"' in second
    # Past the last page: the last; not a page number: refused by name, nothing listed, never a 5xx.
    assert _listed(await (await client.get("/cases", params={"q": "خالد", "page": "7"})).text()) == [numbers[0]]
    for bad in ("0", "abc", "٢", "9" * 9):
        refused = await client.get("/cases", params={"q": "خالد", "page": bad})
        assert refused.status == 400 and "الصفحة:" in (text := await refused.text()) and _listed(text) == [], bad
    api_refused = await client.get("/api/v1/search/requests", params={"q": "خالد", "page": "x"})
    assert api_refused.status == 422 and "page" in await api_refused.text()
    # Only what was shown is logged: the first page's twenty, then the second's one.
    assert len(await _logged(sessions)) == 21
    api = await (await client.get("/api/v1/search/requests", params={"q": "الحربى", "page": "2"})).json()
    assert (api["kind"], api["total"], api["pages"], api["page"]) == ("name", 21, 2, 2)
    assert [r["tracking_number"] for r in api["results"]] == [numbers[0]]
    assert api["results"][0]["status"] == "received" and api["results"][0]["status_label"] == "تم الاستلام"


async def test_the_caller_screen_shows_every_request_of_the_phone_and_records_a_call(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    first, second = await placed(sessions, clock, count=2)
    asked = await ask(sessions, clock)
    one = asked[first]
    clock.advance(timedelta(hours=25))  # unanswered long enough to be on the list of calls
    await make_staff(sessions, clock, Role.CALL_CENTRE, "caller")
    await sign_in(client, "caller")

    calls = await (await client.get("/calls")).text()
    assert '/calls/caller?phone=%2B966501234567"' in calls

    local = "0" + one.phone.removeprefix("+966")
    page = await (await client.get("/calls/caller", params={"phone": local})).text()
    assert f'id="request-{first}"' in page and f'id="request-{second}"' not in page
    assert "طُلب التأكيد ولم يصل رد بعد" in page and f'action="/calls/{one.confirmation_id}"' in page
    assert f'href="/cases?q={first}"' in page

    api = await (await client.get("/api/v1/callers", params={"phone": local})).json()
    assert api["phone"] == one.phone and api["total"] == 1
    (found,) = api["requests"]
    assert found["tracking_number"] == first and found["confirmation"] == "awaiting"
    assert found["confirmation_id"] == one.confirmation_id and found["audience"]["starts_at"]

    token = await csrf_token(client, "/calls/caller?phone=" + local)
    response = await client.post(
        f"/calls/{one.confirmation_id}", data={"outcome": "confirmed", "caller": one.phone, "csrf_token": token}
    )
    page = await response.text()
    assert response.status == 200 and response.url.path == "/calls/caller"
    assert 'class="notice notice-done" role="status"' in page and first in page
    assert '<dd class="confirmation">مؤكد</dd>' in page
    assert f'action="/calls/{one.confirmation_id}"' not in page
    assert await appointment_state(sessions, one.appointment_id) is AppointmentState.CONFIRMED
    async with sessions() as session:
        assert (await session.get_one(Confirmation, one.confirmation_id)).answered_via == "call_centre"


async def test_a_bad_phone_is_named_beside_its_field(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.CALL_CENTRE, "caller")
    await sign_in(client, "caller")
    response = await client.get("/calls/caller", params={"phone": "0112345678"})
    page = await response.text()
    assert response.status == 200
    assert 'aria-describedby="phone-error"' in page and "رقم الجوال" in page and 'id="found-count"' not in page
    api = await client.get("/api/v1/callers", params={"phone": "12"})
    body = await api.json()
    assert api.status == 422 and body["fields"][0]["field"] == "phone"
    assert body["fields"][0]["messages"]["en"].startswith("Mobile number is not a valid mobile number")
    # Nobody else's screen.
    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    await sign_in(client, "protocol")
    assert (await client.get("/calls/caller", params={"phone": "0501234567"})).status == 403
    assert (await client.get("/api/v1/callers", params={"phone": "0501234567"})).status == 403
