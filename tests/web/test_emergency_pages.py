"""The emergency line's pages and API on SQLite and PostgreSQL: the agent registers a report (every bad field named
in both languages, nothing saved), a mission's staff act on it with every time at the mission and in Riyadh, a
supervisor sends it elsewhere, and the duty officer acknowledges through the alert's link."""

from __future__ import annotations

import asyncio
import re
from argparse import Namespace
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from accounts.roles import Role
from emergency import calls, reports
from emergency.models import EmergencyReport, LineCall, LineCallState, ReportEventKind, ReportSource, ReportState
from majlis import cli_emergency_ops
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.models import OutboxMessage
from tests.conftest import make_settings
from tests.emergency.arrange import Sessions, add_agent, add_mission, add_missions, report_fields
from tests.factories import Client, csrf_token, make_staff, sign_in
from tests.web.emergency_people import api_headers, link_path, mission_staff, registered, report
from web.emergency_times import both_times


async def count_reports(sessions: Sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(EmergencyReport)) or 0


async def test_the_agent_registers_a_report_on_the_page(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await add_missions(sessions)
    await add_agent(sessions, clock)
    await sign_in(client, "agent")
    # The call queue's callback link fills the number in and names the call.
    form = await client.get("/emergency/reports/new?call=7&phone=" + quote("+971501234567"))
    page = await form.text()
    assert form.status == 200 and 'value="+971501234567"' in page and 'name="call" value="7"' in page
    assert '<option value="AE" >الإمارات العربية المتحدة</option>' in page.replace("  ", " ")
    # Each language is named in its own language, and marked so (an Arabic page's "English" is English).
    assert '<option value="en" lang="en"' in page and '<option value="ar" lang="ar"' in page

    token = await csrf_token(client, "/emergency/reports/new")
    answer = await client.post(
        "/emergency/reports",
        data={**report_fields(country="AE"), "call": "7", "csrf_token": token},
        allow_redirects=False,
    )
    assert answer.status == 303
    location = answer.headers["Location"]
    assert location.startswith("/emergency/reports/E26-") and location.endswith("?done=registered")
    shown = await (await client.get(location)).text()
    assert "سُجِّل البلاغ وهو في طريقه إلى البعثة." in shown
    assert "القنصلية العامة في دبي" in shown and "عبر المكتب القنصلي المركزي" not in shown
    # Who was alerted, and how, is in the report's history.
    assert "نُبِّه: رئيس البعثة (Head of dubai)" in shown
    async with sessions() as session:
        first = await session.scalar(select(EmergencyReport))
    # No call 7 is owed a callback: the report is the agent's own.
    assert first is not None and first.source is ReportSource.AGENT

    # A country whose mission is not live yet: the central desk has it, and the page says so.
    token = await csrf_token(client, "/emergency/reports/new")
    british = report_fields(country="GB", city="Manchester", phone="+447911123456")
    answer = await client.post("/emergency/reports", data={**british, "csrf_token": token})
    shown = await answer.text()
    assert answer.status == 200 and "المكتب القنصلي المركزي" in shown
    assert "عبر المكتب القنصلي المركزي: بعثة london لم تنضم إلى خط الطوارئ بعد." in shown
    assert await count_reports(sessions) == 2


async def test_a_report_registered_from_a_missed_call_closes_its_callback(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await add_missions(sessions)
    agent = await add_agent(sessions, clock)
    async with transaction(sessions) as session:
        missed = await calls.record_call(
            session=session, clock=clock, call_sid="CA-missed", caller="+971501234567", language="ar"
        )
        await calls.call_missed(session=session, clock=clock, call_sid="CA-missed")
        answered = await calls.record_call(
            session=session, clock=clock, call_sid="CA-answered", caller="+971501234568", language="ar"
        )
        await calls.call_answered(session=session, clock=clock, call_sid="CA-answered")
    await sign_in(client, "agent")
    token = await csrf_token(client, "/emergency/reports/new")

    async def register(call: str, phone: str) -> EmergencyReport:
        data = {**report_fields(country="AE", phone=phone), "call": call, "csrf_token": token}
        answer = await client.post("/emergency/reports", data=data, allow_redirects=False)
        assert answer.status == 303, await answer.text()
        number = answer.headers["Location"].split("/")[-1].split("?")[0]
        async with sessions() as session:
            found = await session.scalar(select(EmergencyReport).where(EmergencyReport.number == number))
        assert found is not None
        return found

    # An answered call owes no callback: the report is the agent's own, and the call is left as it was.
    plain = await register(str(answered.id), "+971501234568")
    assert plain.source is ReportSource.AGENT
    # The missed call: a callback's report, and the callback done with it, in the same transaction.
    called = await register(str(missed.id), "+971501234567")
    assert called.source is ReportSource.CALLBACK
    async with sessions() as session:
        closed = await session.get(LineCall, missed.id)
        untouched = await session.get(LineCall, answered.id)
    assert closed is not None and closed.state is LineCallState.CALLED_BACK
    assert (closed.report_id, closed.handled_by_id) == (called.id, agent.id)
    assert untouched is not None and untouched.state is LineCallState.ANSWERED and untouched.report_id is None
    # The same call again is owed nothing now.
    assert (await register(str(missed.id), "+971501234567")).source is ReportSource.AGENT


async def test_bad_input_names_every_field_in_both_languages_and_saves_nothing(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await add_missions(sessions)
    await add_agent(sessions, clock)
    await sign_in(client, "agent")
    token = await csrf_token(client, "/emergency/reports/new")
    bad = {
        "national_id": "1234567890",
        "caller_name": "",
        "phone": "0501234567",
        "country": "Atlantis",
        "city": "",
        "type": "kidnapping",
        "severity": "",
        "account": "",
        "language": "ar",
    }
    answer = await client.post("/emergency/reports", data={**bad, "csrf_token": token})
    page = await answer.text()
    assert answer.status == 422
    named = ("national_id", "caller_name", "phone", "country", "city", "type", "severity", "account")
    for field in named:
        assert f'data-field="{field}"' in page, field
    # Each in the reader's language and in the other.
    assert "حقل «اسم المتصل» مطلوب." in page and "Caller&#39;s name is required." in page
    assert 'value="0501234567"' in page  # what was typed is kept
    # A place no mission covers is named too, once the rest is right.
    answer = await client.post(
        "/emergency/reports", data={**report_fields(country="JP", city="Kyoto"), "csrf_token": token}
    )
    assert answer.status == 422 and 'data-field="city"' in await answer.text()
    assert await count_reports(sessions) == 0
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


async def test_the_agent_registers_and_lists_through_the_api(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    world = await add_missions(sessions)
    agent = await add_agent(sessions, clock)
    other = await add_agent(sessions, clock, "other")
    await sign_in(client, "agent")
    headers = await api_headers(client)
    created = await client.post(
        "/api/v1/emergency-reports",
        json=report_fields(country="AU", city="Sydney", phone="+61412345678"),
        headers=headers,
    )
    body = await created.json()
    assert created.status == 201, body
    assert body["mission"]["code"] == "sydney" and body["state"] == "open" and body["number"].startswith("E26-")
    assert body["events"][0]["kind"] == "registered"
    assert body["created_at_mission"].endswith("+11:00") and body["created_at_riyadh"].endswith("+03:00")
    # Every time, not only the registration's: at the mission and in Riyadh beside the UTC instant.
    for name in ("acknowledge_due_at", "solve_due_at"):
        assert body[f"{name}_mission"].endswith("+11:00") and body[f"{name}_riyadh"].endswith("+03:00"), name
    assert body["acknowledged_at_mission"] is None and body["solved_at_riyadh"] is None
    assert body["events"][0]["at_mission"] == "2026-11-24T17:30:00+11:00"
    assert body["events"][0]["at_riyadh"] == "2026-11-24T09:30:00+03:00"

    refused = await client.post(
        "/api/v1/emergency-reports", json={"national_id": "12", "phone": "12345", "country": "XX"}, headers=headers
    )
    problems = await refused.json()
    assert refused.status == 422
    fields = {p["field"] for p in problems["fields"]}
    assert {"national_id", "caller_name", "phone", "country", "city", "type", "severity", "account"} <= fields
    assert all(p["messages"]["ar"] and p["messages"]["en"] for p in problems["fields"])
    assert await count_reports(sessions) == 1

    theirs = await registered(client, clock, other.id, severity="life_threatening")
    mine = (await (await client.get("/api/v1/emergency-reports?mine=1")).json())["reports"]
    queue = (await (await client.get("/api/v1/emergency-reports?open=1")).json())["reports"]
    assert [r["number"] for r in mine] == [body["number"]]
    # The open queue: life-threatening first.
    assert [r["number"] for r in queue] == [theirs.number, body["number"]]
    assert agent.id != other.id and world.sydney


async def test_the_mission_acts_and_every_time_shows_at_the_mission_and_in_riyadh(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    world = await add_missions(sessions)
    await mission_staff(sessions, clock, "sydney", world.sydney)
    found = await registered(client, clock, country="AU", city="Sydney", phone="+61412345678")
    await sign_in(client, "sydney")

    home = await client.get("/emergency/mission")
    page = await home.text()
    assert home.status == 200 and found.number in page
    # 09:30 in Riyadh on 24 November is 17:30 in Sydney (daylight saving: UTC+11).
    assert ">17:30<" in page and ">09:30<" in page and "سيدني" in page and "الرياض" in page

    path = f"/emergency/reports/{found.number}"
    token = await csrf_token(client, path)
    refused = await client.post(f"{path}/solve", data={"csrf_token": token})
    text = await refused.text()
    assert refused.status == 422 and 'data-field="ending"' in text and 'data-field="outcome"' in text
    assert (await client.post(f"{path}/acknowledge", data={"csrf_token": token}, allow_redirects=False)).status == 303
    again = await client.post(f"{path}/acknowledge", data={"csrf_token": token})
    assert again.status == 409 and "Staff mission_staff" in await again.text()
    clock.advance(timedelta(minutes=20))
    update = {"note": "تواصلنا مع المستشفى.", "csrf_token": token}
    assert (await client.post(f"{path}/update", data=update, allow_redirects=False)).status == 303
    solve = {"ending": "handed_over", "outcome": "أحيل إلى شرطة سيدني.", "csrf_token": token}
    assert (await client.post(f"{path}/solve", data=solve, allow_redirects=False)).status == 303

    closed = await report(sessions, found.id)
    assert closed.state is ReportState.HANDED_OVER and closed.acknowledged_by == "Staff mission_staff"
    shown = await (await client.get(path)).text()
    assert "أُحيل إلى جهة أخرى" in shown and "تواصلنا مع المستشفى." in shown and 'id="solve-form"' not in shown
    # Names, places and what people typed, in whatever script, are set apart from the Arabic around them.
    assert '<dd id="acknowledged-by"><bdi>Staff mission_staff</bdi></dd>' in shown
    assert '<dd><span lang="ar">العربية</span></dd>' in shown  # the citizen's language, in its own language
    assert "<bdi>Sydney</bdi>" in shown and '<td data-label="بواسطة"><bdi>Staff mission_staff</bdi></td>' in shown
    assert '<p class="request-text" id="account"><bdi>' in shown and "<bdi>تواصلنا مع المستشفى.</bdi>" in shown
    async with sessions() as session:
        told = await session.scalar(select(OutboxMessage).where(OutboxMessage.purpose.like("emergency_handed_over:%")))
    assert told is not None and told.recipient == "+61412345678"


async def test_a_supervisor_sends_a_report_elsewhere_and_the_old_link_is_gone(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    world = await add_missions(sessions)
    await make_staff(sessions, clock, Role.CONSULAR_SUPERVISOR, "supervisor")
    found = await registered(client, clock)
    old_link = link_path(client, found)
    await sign_in(client, "supervisor")
    path = f"/emergency/reports/{found.number}"
    token = await csrf_token(client, path)
    refused = await client.post(f"{path}/reassign", data={"mission_id": "", "reason": "", "csrf_token": token})
    text = await refused.text()
    assert refused.status == 422 and 'data-field="mission_id"' in text and 'data-field="reason"' in text
    moved = {"mission_id": str(world.abu_dhabi), "reason": "The citizen is now in Abu Dhabi.", "csrf_token": token}
    assert (await client.post(f"{path}/reassign", data=moved, allow_redirects=False)).status == 303
    assert (await report(sessions, found.id)).mission_id == world.abu_dhabi
    moved_page = await (await client.get(path)).text()
    assert (
        "من القنصلية العامة في دبي إلى بعثة abu-dhabi" in moved_page
        and "The citizen is now in Abu Dhabi." in moved_page
    )

    gone = await client.get(old_link)
    assert gone.status == 410 and "the report has been sent to another mission" in await gone.text()
    board = await (await client.get("/emergency/supervision?severity=urgent&mission=abu-dhabi")).text()
    assert found.number in board
    assert found.number not in await (await client.get("/emergency/supervision?mission=dubai")).text()
    bad = await client.get("/emergency/supervision?severity=extreme")
    assert bad.status == 422 and "درجة الخطورة" in await bad.text()


async def test_the_duty_officer_acknowledges_through_the_link(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await add_missions(sessions)
    found = await registered(client, clock, severity="life_threatening")
    path = link_path(client, found)
    page = await client.get(path)
    text = await page.text()
    assert page.status == 200 and "+971501234567" in text and "Car accident on Sheikh Zayed Road" in text
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    assert "noindex" in page.headers["X-Robots-Tag"] and 'href="/staff"' not in text

    token = await csrf_token(client, path)
    nameless = await client.post(f"{path}/acknowledge", data={"by": " ", "csrf_token": token})
    assert nameless.status == 422 and "حقل «اسمك» مطلوب." in await nameless.text()
    assert (await report(sessions, found.id)).state is ReportState.OPEN
    done = await client.post(f"{path}/acknowledge", data={"by": "Fahd Alharbi", "csrf_token": token})
    assert done.status == 200 and "توقف التصعيد" in await done.text()
    acknowledged = await report(sessions, found.id)
    assert acknowledged.state is ReportState.ACKNOWLEDGED and acknowledged.acknowledged_by == "Fahd Alharbi"
    twice = await client.post(f"{path}/acknowledge", data={"by": "Someone else", "csrf_token": token})
    assert twice.status == 409 and "Fahd Alharbi" in await twice.text()
    news = await client.post(
        f"{path}/update", data={"by": "Fahd Alharbi", "note": "At the hospital.", "csrf_token": token}
    )
    assert news.status == 200
    async with sessions() as session:
        kinds = [e.kind for e in await reports.events(session=session, report_id=found.id)]
    assert kinds[-2:] == [ReportEventKind.ACKNOWLEDGED, ReportEventKind.UPDATE]

    assert (await client.get(path[:-3] + "xyz")).status == 404
    assert (await client.get("/e/not-a-token")).status == 404


def test_both_times_follow_sydney_across_its_clock_change() -> None:
    summer = both_times(datetime(2026, 1, 15, 16, 0, tzinfo=UTC), "Australia/Sydney", "en")
    winter = both_times(datetime(2026, 7, 15, 16, 0, tzinfo=UTC), "Australia/Sydney", "en")
    assert (summer.local.time, summer.local.offset, summer.local.place) == ("03:00", "UTC+11", "Sydney")
    assert (winter.local.time, winter.local.offset) == ("02:00", "UTC+10")
    assert summer.riyadh is not None and (summer.riyadh.time, summer.riyadh.offset) == ("19:00", "UTC+3")
    # A mission keeping Riyadh's time shows it once, said to be Riyadh's too; Riyadh's own zone says it once.
    kuwait = both_times(datetime(2026, 1, 15, 16, 0, tzinfo=UTC), "Asia/Kuwait", "en")
    assert kuwait.riyadh is None and kuwait.same_as_riyadh and kuwait.local.place == "Kuwait"
    riyadh = both_times(datetime(2026, 1, 15, 16, 0, tzinfo=UTC), "Asia/Riyadh", "ar")
    assert riyadh.riyadh is None and not riyadh.same_as_riyadh
    assert not summer.same_as_riyadh
    assert both_times(datetime(2026, 1, 15, 16, 0, tzinfo=UTC), "Asia/Kolkata", "en").local.offset == "UTC+5:30"


async def test_a_mission_on_riyadh_time_shows_one_time_named_as_both(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await add_mission(sessions, "kuwait", country="KW", zone="Asia/Kuwait")
    await make_staff(sessions, clock, Role.CONSULAR_SUPERVISOR, "supervisor")
    found = await registered(client, clock, country="KW", city="Kuwait City", phone="+96550012345")
    await sign_in(client, "supervisor")
    page = await (await client.get(f"/emergency/reports/{found.number}")).text()
    assert "توقيت الكويت = توقيت الرياض" in page and 'class="when-riyadh"' not in page
    acknowledged = await client.post(
        f"/api/v1/emergency-reports/{found.number}/acknowledge", headers=await api_headers(client)
    )
    body = await acknowledged.json()
    assert acknowledged.status == 200, body
    assert body["acknowledged_at_mission"] == "2026-11-24T09:30:00+03:00" == body["acknowledged_at_riyadh"]


async def test_the_terminal_prints_each_step_at_the_mission_and_in_riyadh(
    client: Client, sessions: Sessions, clock: FrozenClock, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    world = await add_missions(sessions)
    await mission_staff(sessions, clock, "sydney", world.sydney)
    found = await registered(client, clock, country="AU", city="Sydney", phone="+61412345678")
    settings = make_settings(database_url)
    ack = Namespace(emergency_command="ack", number=found.number, by="sydney")
    assert await asyncio.to_thread(cli_emergency_ops.run, settings, ack) == 0
    solve = Namespace(emergency_command="solve", number=found.number, by="sydney", outcome="Done.", handed_over=False)
    assert await asyncio.to_thread(cli_emergency_ops.run, settings, solve) == 0
    acknowledged, solved = capsys.readouterr().out.splitlines()
    for line in (acknowledged, solved):
        assert re.search(
            r" at \d{4}-\d\d-\d\d \d\d:\d\d Australia/Sydney \((\d{4}-\d\d-\d\d )?\d\d:\d\d Riyadh\)", line
        ), line
    assert acknowledged.startswith(f"{found.number} acknowledged by ") and solved.startswith(
        f"{found.number} solved at "
    )


async def test_the_api_is_in_the_openapi_document(client: Client) -> None:
    document = await (await client.get("/openapi.json")).json()
    paths = document["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/emergency-reports"])
    for step in ("acknowledge", "updates", "solve", "reassign"):
        assert "post" in paths[f"/api/v1/emergency-reports/{{number}}/{step}"], step
    assert {"EmergencyReportIn", "EmergencyReportDetailOut", "ReassignIn"} <= set(document["components"]["schemas"])
