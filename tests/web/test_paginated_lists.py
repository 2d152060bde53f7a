"""Long staff lists come a page at a time (web/pagination.py, majlis/paging.py), on SQLite and PostgreSQL.

Each list: more than a page of rows made directly in the database, page 1 and page 2 hold different rows in the
list's order, the pager says "page X of Y" with its numbers isolated and links keeping the filters, and a page
number that is not one is refused by name (never a 5xx)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import PersonalDataAccess, StaffUser
from accounts.roles import Role
from cases.models import Case
from majlis.clock import FrozenClock
from majlis.db import transaction
from scheduler import call_list
from tests.emergency.arrange import add_agent, add_missions
from tests.factories import Client, csrf_token, make_staff, sign_in
from tests.priority.test_triage import desk, new_case, ready
from tests.web.asking import ask, placed
from tests.web.emergency_people import registered
from tests.whatsapp_desk.inbox_arrange import handed_over
from web import audit_desk, emergency_agent, emergency_api, whatsapp_actions
from web import triage as triage_pages

Sessions = async_sessionmaker[AsyncSession]
BAD_PAGES = ("0", "-1", "abc", "٢", "9" * 7)


def page_of(number: int, pages: int) -> str:
    return f'الصفحة <bdi dir="ltr" class="ltr">{number}</bdi> من <bdi dir="ltr" class="ltr">{pages}</bdi>'


async def refuses_bad_pages(client: Client, path: str) -> None:
    for bad in BAD_PAGES:
        response = await client.get(path, params={"page": bad})
        assert response.status == 400, bad
        assert "الصفحة: يُرجى إدخال عدد صحيح" in await response.text(), bad


async def reports_five_minutes_apart(client: Client, sessions: Sessions, clock: FrozenClock, count: int) -> list[str]:
    """The missions, the agent, and `count` reports the agent registered five minutes apart: their numbers, oldest
    first."""
    await add_missions(sessions)
    agent = await add_agent(sessions, clock)
    numbers = []
    for _ in range(count):
        numbers.append((await registered(client, clock, agent.id)).number)
        clock.advance(timedelta(minutes=5))
    return numbers


async def test_staff_accounts_fifty_a_page(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    async with transaction(sessions) as session:
        session.add_all(
            StaffUser(
                username=f"clerk{i:03d}",
                full_name=f"Clerk {i}",
                role=Role.CALL_CENTRE,
                gender="male",
                password_hash="-",
                created_at=clock.now(),
            )
            for i in range(60)
        )
    await sign_in(client, "admin")
    users = re.compile(r'<tr id="user-([a-z0-9]+)">')
    first = await (await client.get("/admin/users")).text()
    second = await (await client.get("/admin/users?page=2")).text()
    one, two = users.findall(first), users.findall(second)
    assert len(one) == 50 and len(two) == 11 and not set(one) & set(two)
    assert page_of(1, 2) in first and 'rel="next" href="/admin/users?page=2"' in first
    assert page_of(2, 2) in second and 'rel="prev" href="/admin/users"' in second and 'rel="next"' not in second
    assert users.findall(await (await client.get("/admin/users?page=5")).text()) == two  # past the last: the last
    await refuses_bad_pages(client, "/admin/users")

    # An account's forms on page 2 come back to page 2: a refusal beside the account, a change's notice there.
    row = f'id="user-{two[0]}">'
    found = re.search(re.escape(row) + r'.*?action="/admin/users/(\d+)/email\?page=2"', second, re.DOTALL)
    assert found is not None
    user_id, token = found[1], await csrf_token(client, "/admin/users")
    refused = await client.post(f"/admin/users/{user_id}/email?page=2", data={"email": "no", "csrf_token": token})
    assert refused.status == 422
    assert f'id="email-of-{user_id}-error"' in await refused.text()
    saved = await client.post(
        f"/admin/users/{user_id}/email?page=2",
        data={"email": "clerk@majlis.example", "csrf_token": token},
        allow_redirects=False,
    )
    assert saved.headers["Location"] == f"/admin/users?page=2&done=email#email-{user_id}"
    off = await client.post(
        f"/admin/users/{user_id}/deactivate?page=2", data={"csrf_token": token}, allow_redirects=False
    )
    assert off.status == 303 and off.headers["Location"] == "/admin/users?page=2"
    on = await client.post(f"/admin/users/{user_id}/reactivate", data={"csrf_token": token}, allow_redirects=False)
    assert on.headers["Location"] == "/admin/users"


async def test_calls_to_make_a_page_at_a_time(
    client: Client, sessions: Sessions, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three calls due, two a page (twenty in service: the pipeline that places requests is too slow for 21 here).
    monkeypatch.setattr(call_list, "PER_PAGE", 2)
    await placed(sessions, clock, count=3)
    asked = await ask(sessions, clock)
    clock.advance(timedelta(hours=25))  # unanswered long enough to be called
    await make_staff(sessions, clock, Role.CALL_CENTRE, "caller")
    await sign_in(client, "caller")
    calls = re.compile(r'<section class="card call" id="call-(\d+)">')
    first = await (await client.get("/calls")).text()
    second = await (await client.get("/calls?page=2")).text()
    one, two = calls.findall(first), calls.findall(second)
    assert len(one) == 2 and len(two) == 1 and not set(one) & set(two)
    assert set(one) | set(two) == {str(a.confirmation_id) for a in asked.values()}
    assert page_of(1, 2) in first and 'rel="next" href="/calls?page=2"' in first
    assert page_of(2, 2) in second and 'rel="prev" href="/calls"' in second
    await refuses_bad_pages(client, "/calls")


async def test_the_audit_desks_new_requests_a_page_at_a_time_with_the_filter_kept(
    client: Client, sessions: Sessions, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_desk, "PER_PAGE", 2)
    numbers = []
    for _ in range(3):
        numbers.append(await new_case(sessions, clock, applicant_name="سعد العتيبي"))
        clock.advance(timedelta(minutes=1))
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    listed = re.compile(r'<a href="/audit/cases/([0-9-]+)">')
    first = await (await client.get("/audit", params={"channel": "web"})).text()
    second = await (await client.get("/audit", params={"channel": "web", "page": "2"})).text()
    assert listed.findall(first) == numbers[:2] and listed.findall(second) == numbers[2:]  # oldest first
    assert page_of(1, 2) in first and 'rel="next" href="/audit?channel=web&amp;page=2"' in first
    assert page_of(2, 2) in second and 'rel="prev" href="/audit?channel=web"' in second
    # Another channel's filter finds none of them: one page, no pager.
    other = await (await client.get("/audit", params={"channel": "whatsapp"})).text()
    assert listed.findall(other) == [] and 'class="pager"' not in other
    await refuses_bad_pages(client, "/audit")


async def test_the_access_report_fifty_views_a_page_with_the_period_kept(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number = await new_case(sessions, clock)
    manager = await make_staff(sessions, clock, Role.MANAGER, "manager")
    async with transaction(sessions) as session:
        case_id = await session.scalar(select(Case.id).where(Case.tracking_number == number))
        assert case_id is not None
        session.add_all(
            PersonalDataAccess(
                at=clock.now() - timedelta(minutes=i), staff_id=manager.id, case_id=case_id, via=f"GET /view/{i}"
            )
            for i in range(55)
        )
    await sign_in(client, "manager")
    views = re.compile(r"GET /view/(\d+)<")
    first = await (await client.get("/reports/access", params={"days": "30"})).text()
    second = await (await client.get("/reports/access", params={"days": "30", "page": "2"})).text()
    # Newest first: views 0-49 on the first page, 50-54 on the second (the sign-in's own views, if any, after).
    assert [int(v) for v in views.findall(first)] == list(range(50))
    assert [int(v) for v in views.findall(second)] == list(range(50, 55))
    assert page_of(1, 2) in first and 'rel="next" href="/reports/access?days=30&amp;page=2"' in first
    assert page_of(2, 2) in second and 'rel="prev" href="/reports/access?days=30"' in second
    await refuses_bad_pages(client, "/reports/access")


async def test_the_whatsapp_conversations_waiting_a_page_at_a_time(
    client: Client, sessions: Sessions, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(whatsapp_actions, "INBOX_PER_PAGE", 2)
    waiting = [
        (await handed_over(sessions, clock, phone=f"+96650123456{i}", ago=timedelta(minutes=30 - i))).conversation_id
        for i in range(3)
    ]
    await make_staff(sessions, clock, Role.WHATSAPP_DESK, "whatsapp")
    await sign_in(client, "whatsapp")
    shown = re.compile(r'id="conversation-(\d+)"')
    first = await (await client.get("/whatsapp")).text()
    second = await (await client.get("/whatsapp?page=2")).text()
    # The longest waiting first; the third alone on page 2.
    assert [int(i) for i in shown.findall(first)] == waiting[:2]
    assert [int(i) for i in shown.findall(second)] == waiting[2:]
    assert page_of(1, 2) in first and 'rel="next" href="/whatsapp?page=2"' in first
    assert page_of(2, 2) in second and 'rel="prev" href="/whatsapp"' in second
    api = await (await client.get("/api/v1/whatsapp/conversations", params={"page": "2"})).json()
    assert [c["id"] for c in api["waiting"]] == waiting[2:]
    assert (api["waiting_total"], api["page"], api["pages"], api["per_page"]) == (3, 2, 2, 2)
    await refuses_bad_pages(client, "/whatsapp")
    refused = await client.get("/api/v1/whatsapp/conversations", params={"page": "abc"})
    assert refused.status == 422 and "page" in await refused.text()


async def test_the_reports_an_agent_registered_a_page_at_a_time(
    client: Client, sessions: Sessions, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emergency_agent, "MINE_PER_PAGE", 2)
    numbers = await reports_five_minutes_apart(client, sessions, clock, 3)
    await sign_in(client, "agent")
    mine = re.compile(r'<tr id="mine-([^"]+)"')
    first = await (await client.get("/emergency/agent")).text()
    second = await (await client.get("/emergency/agent?page=2")).text()
    assert mine.findall(first) == numbers[::-1][:2] and mine.findall(second) == numbers[:1]  # newest first
    # The open queue is the line's work: whole on every page.
    queue = re.compile(r'<tr id="queue-([^"]+)"')
    assert sorted(queue.findall(first)) == sorted(queue.findall(second)) == sorted(numbers)
    assert page_of(1, 2) in first and 'rel="next" href="/emergency/agent?page=2"' in first
    assert page_of(2, 2) in second and 'rel="prev" href="/emergency/agent"' in second
    await refuses_bad_pages(client, "/emergency/agent")

    # The API the same way: ?mine=1 a page at a time, the open queue whole.
    monkeypatch.setattr(emergency_api, "REPORTS_PER_PAGE", 2)
    api = await (await client.get("/api/v1/emergency-reports", params={"mine": "1", "page": "2"})).json()
    assert [r["number"] for r in api["reports"]] == numbers[:1]
    assert (api["total"], api["page"], api["pages"], api["per_page"]) == (3, 2, 2, 2)
    api = await (await client.get("/api/v1/emergency-reports", params={"open": "1", "page": "2"})).json()
    assert sorted(r["number"] for r in api["reports"]) == sorted(numbers)
    assert (api["total"], api["page"], api["pages"], api["per_page"]) == (3, None, None, None)
    refused = await client.get("/api/v1/emergency-reports", params={"mine": "1", "page": "0"})
    assert refused.status == 422 and "page" in await refused.text()


async def test_every_emergency_report_a_page_at_a_time_for_a_consular_supervisor(
    client: Client, sessions: Sessions, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GET /api/v1/emergency-reports answered only the newest 200; every report is now reachable, newest first."""
    monkeypatch.setattr(emergency_api, "REPORTS_PER_PAGE", 2)
    numbers = await reports_five_minutes_apart(client, sessions, clock, 5)
    await make_staff(sessions, clock, Role.CONSULAR_SUPERVISOR, "supervisor")
    await sign_in(client, "supervisor")
    pages = []
    for number in ("1", "2", "3", "4"):  # page 4 is past the last: the last
        body = await (await client.get("/api/v1/emergency-reports", params={"page": number})).json()
        pages.append(([r["number"] for r in body["reports"]], body["page"], body["pages"], body["total"]))
    newest = numbers[::-1]
    assert pages == [
        (newest[:2], 1, 3, 5),
        (newest[2:4], 2, 3, 5),
        (newest[4:], 3, 3, 5),
        (newest[4:], 3, 3, 5),
    ]
    for bad in BAD_PAGES:
        refused = await client.get("/api/v1/emergency-reports", params={"page": bad})
        assert refused.status == 422 and "page" in await refused.text(), bad


async def test_the_priority_queue_a_page_at_a_time_each_request_with_its_place_in_the_whole_queue(
    client: Client, sessions: Sessions, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ordered as the allocator orders it (its scores grow with waiting), all of it; only what is shown is cut.
    monkeypatch.setattr(triage_pages, "QUEUE_PER_PAGE", 2)
    actor = await desk(sessions, clock)
    numbers = []
    for category, urgency in (("general", "normal"), ("qisas", "critical"), ("general", "normal")):
        number = await new_case(sessions, clock)
        await ready(sessions, clock, actor, number, category=category, urgency=urgency)
        numbers.append(number)
        clock.advance(timedelta(minutes=1))
    await sign_in(client, "auditor")
    rows = re.compile(
        r'<td data-label="[^"]+"><bdi dir="ltr" class="ltr">(\d+)</bdi></td><td data-label="[^"]+">'
        r'<a href="/audit/cases/([0-9-]+)">'
    )
    first = await (await client.get("/audit/queue")).text()
    second = await (await client.get("/audit/queue?page=2")).text()
    # The critical one first, then the older normal one; on page 2 the third keeps its place, 3.
    assert rows.findall(first) == [("1", numbers[1]), ("2", numbers[0])]
    assert rows.findall(second) == [("3", numbers[2])]
    assert page_of(1, 2) in first and 'rel="next" href="/audit/queue?page=2"' in first
    assert page_of(2, 2) in second and 'rel="prev" href="/audit/queue"' in second
    await refuses_bad_pages(client, "/audit/queue")
    # Protocol reads the queue too, but may not open the triage page: its links open the request in search.
    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    await sign_in(client, "protocol")
    page = await (await client.get("/audit/queue")).text()
    assert f'<a href="/cases?q={numbers[1]}">' in page and "/audit/cases/" not in page
    assert (await client.get(f"/cases?q={numbers[1]}")).status == 200
