"""The follow-up team's pages and API, on SQLite and PostgreSQL: the daily list, a referral and every action
on it (reminder, call, escalation, extension, closing), referring a request again, refusals that change
nothing, and the roles.

The day is tests/followup/team_arrange.py's: Thursday 26 November 2026, 13:00 in Riyadh.
"""

from __future__ import annotations

import re
from typing import Any

from openapi_spec_validator import validate
from sqlalchemy import func, select

from accounts.roles import Role
from cases import service as cases
from cases.models import CaseStatus
from followup.models import EventKind, Referral, ReferralEvent, ReferralState
from majlis.clock import FrozenClock
from notify.models import OutboxMessage
from tests.factories import Client, csrf_token, make_staff, sign_in
from tests.followup.team_arrange import Day, Sessions, followup_day, referral, riyadh, tracking_number


async def team_day(client: Client, sessions: Sessions, clock: FrozenClock) -> Day:
    """The day, with the follow-up team signed in."""
    day = await followup_day(sessions, clock)
    await make_staff(sessions, clock, Role.FOLLOW_UP, "followup")
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    await sign_in(client, "followup")
    return day


async def events(sessions: Sessions, referral_id: int) -> list[EventKind]:
    async with sessions() as session:
        rows = await session.scalars(
            select(ReferralEvent.kind).where(ReferralEvent.referral_id == referral_id).order_by(ReferralEvent.id)
        )
        return list(rows)


async def outbox(sessions: Sessions, like: str) -> list[OutboxMessage]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose.like(like)).order_by(OutboxMessage.id)
        )
        return list(rows)


async def post(client: Client, path: str, token: str, **fields: Any) -> Any:
    return await client.post(path, data={"csrf_token": token, **fields}, allow_redirects=False)


def section(page: str, table_id: str) -> str:
    found = re.search(rf'<table[^>]*id="{table_id}".*?</table>', page, re.S)
    assert found, table_id
    return found.group(0)


async def test_the_daily_list_shows_the_team_s_work_first_then_overdue_first(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    day = await team_day(client, sessions, clock)
    page = await client.get("/followup")
    text = await page.text()
    assert page.status == 200
    # Today in both calendars.
    assert "الخميس، 26 نوفمبر 2026" in text and "جمادى الآخرة 1448 هـ" in text
    figures = re.sub(r"<[^>]+>", "", re.search(r'id="figures">(.*?)</ul>', text, re.S).group(1))  # type: ignore[union-attr]
    assert "متأخرة: 3" in figures and "بانتظار إجراء فريق المتابعة: 4" in figures
    team = section(text, "team")
    assert team.index(day.no_department) < team.index(f"/followup/referrals/{day.returned_alone}")
    assert "مراجعة الرد وإغلاق الإحالة" in team and "إحالة إلى جهة مختصة" in team
    chasing = section(text, "chasing")
    order = [int(i) for i in re.findall(r'id="referral-(\d+)"', chasing)]
    assert order == [
        day.silent_since_last_week,
        day.no_news,
        day.beside_a_return,
        day.due_after_the_weekend,
        day.sent_this_morning,
        day.waiting_for_applicant,
    ]
    assert "متأخرة بمقدار 2 يوم عمل و6 ساعة" in chasing
    assert "المتبقي 4 ساعة<" in chasing
    assert "أُوقف احتساب المواعيد" in chasing

    english = await (await client.get("/followup?lang=en&department=health&overdue=1")).text()
    assert "Overdue by 2 working day(s) 4 h" in english  # no news from health: 18 working hours
    assert f"/followup/referrals/{day.silent_since_last_week}" not in english  # housing's
    wrong = await client.get("/followup?state=nonsense")
    assert wrong.status == 422 and 'id="state-error"' in await wrong.text()


async def test_every_action_on_a_referral_through_its_page(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    day = await team_day(client, sessions, clock)
    path = f"/followup/referrals/{day.silent_since_last_week}"
    page = await client.get(path)
    text = await page.text()
    assert page.status == 200 and "وزارة البلديات والإسكان" in text and "يحال إلى الجهة المختصة" in text
    token = await csrf_token(client, path)

    reminded = await post(client, f"{path}/remind", token, sms="1", note="نرجو الإفادة العاجلة")
    assert reminded.status == 303 and reminded.headers["Location"].startswith(f"{path}?done=remind")
    shown = await (await client.get(reminded.headers["Location"])).text()
    assert "التذكير في طريقه إلى ضباط الاتصال" in shown and "بالبريد الإلكتروني والرسائل النصية" in shown
    assert [m.recipient for m in await outbox(sessions, "followup:remind-sms:%")] == ["+966501112233"]

    empty_call = await post(client, f"{path}/call", token, note="  ")
    assert empty_call.status == 422
    assert 'id="call-note-error"' in await empty_call.text()
    assert (await post(client, f"{path}/call", token, note="اتصلت بالإدارة ووعدت بالرد غدًا")).status == 303

    escalated = await post(client, f"{path}/escalate", token, reason="تأخر الرد الأول")
    assert escalated.status == 303
    assert (await referral(sessions, day.silent_since_last_week)).escalation_level == 1
    assert "المستوى 1: رئيس الجهة (وزارة البلديات والإسكان)" in await (await client.get(path)).text()

    before = await referral(sessions, day.silent_since_last_week)
    bad = await post(client, f"{path}/extend", token, amount="عشرة", unit="working_days", reason="")
    bad_text = await bad.text()
    assert bad.status == 422 and 'id="extend-amount-error"' in bad_text and 'id="extend-reason-error"' in bad_text
    extended = await post(client, f"{path}/extend", token, amount="1", unit="working_days", reason="طلب الوزارة")
    assert extended.status == 303
    after = await referral(sessions, day.silent_since_last_week)
    assert after.extended_minutes == before.extended_minutes + 7 * 60
    assert after.solution_due_at > before.solution_due_at

    unconfirmed = await post(client, f"{path}/close", token, outcome="صرف الدعم السكني")
    assert unconfirmed.status == 422 and 'id="close-confirm-error"' in await unconfirmed.text()
    assert (await referral(sessions, day.silent_since_last_week)).state is ReferralState.SENT
    closed = await post(client, f"{path}/close", token, outcome="صرف الدعم السكني", confirm="yes")
    assert closed.status == 303 and "done=completed" in closed.headers["Location"]
    number = await tracking_number(sessions, day.silent_since_last_week)
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None and case.status is CaseStatus.COMPLETED
    [completed] = [m for m in await outbox(sessions, "stage:completed:%") if number in m.body]
    assert "صرف الدعم السكني" in completed.body

    # Closing twice: a clear message, and nothing changes.
    kinds = await events(sessions, day.silent_since_last_week)
    twice = await post(client, f"{path}/close", token, outcome="مرة أخرى", confirm="yes")
    assert twice.status == 409 and "أُغلقت هذه الإحالة" in await twice.text()
    assert await events(sessions, day.silent_since_last_week) == kinds
    assert kinds == [
        EventKind.SENT,
        EventKind.REMINDED,
        EventKind.PHONE_CALL,
        EventKind.ESCALATED,
        EventKind.EXTENDED,
        EventKind.CLOSED,
    ]


async def test_state_conflicts_and_wrong_roles_change_nothing(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    day = await team_day(client, sessions, clock)
    path = f"/followup/referrals/{day.answered}"
    token = await csrf_token(client, path)
    kinds = await events(sessions, day.answered)
    refused = await post(client, f"{path}/remind", token)
    assert refused.status == 409 and "سبق الرد على هذه الإحالة" in await refused.text()
    paused = await post(client, f"/followup/referrals/{day.waiting_for_applicant}/escalate", token, reason="x")
    assert paused.status == 409 and "بانتظار رد صاحب الطلب" in await paused.text()
    assert (await post(client, "/followup/referrals/999999/call", token, note="x")).status == 404
    assert await events(sessions, day.answered) == kinds

    # The manager reads the same pages without the forms, and may not act.
    client.session.cookie_jar.clear()
    await sign_in(client, "manager")
    page = await (await client.get(path)).text()
    assert "تمت معالجة الطلب" in page and 'id="close-form"' not in page
    token = await csrf_token(client, path)
    assert (await post(client, f"{path}/close", token, outcome="x", confirm="yes")).status == 403
    await make_staff(sessions, clock, Role.AUDIT_DESK, "desk2")
    client.session.cookie_jar.clear()
    await sign_in(client, "desk2")
    assert (await client.get("/followup")).status == 403
    assert (await client.get("/api/v1/followup")).status == 403
    assert (await referral(sessions, day.answered)).state is ReferralState.ANSWERED


async def test_a_returned_referral_is_sent_elsewhere_and_a_request_without_department_is_referred(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    day = await team_day(client, sessions, clock)
    path = f"/followup/referrals/{day.returned_alone}"
    page = await (await client.get(path)).text()
    assert 'id="refer-form"' in page and "الطلب ليس من اختصاص الإدارة" in page
    number = await tracking_number(sessions, day.returned_alone)
    token = await csrf_token(client, path)
    empty = await client.post(
        f"/followup/cases/{number}/refer", data={"csrf_token": token, "referral": str(day.returned_alone)}
    )
    text = await empty.text()
    assert empty.status == 422 and 'id="refer-departments-error"' in text and 'id="refer-directive-error"' in text
    again = await client.post(
        f"/followup/cases/{number}/refer",
        data={"csrf_token": token, "departments": "housing", "directive": "يحال إلى وزارة الإسكان للاختصاص"},
        allow_redirects=False,
    )
    assert again.status == 303 and again.headers["Location"].startswith(f"/followup/cases/{number}?done=refer")
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        states = list(await session.scalars(select(Referral.state).where(Referral.case_id == case.id)))
    # The department that returned it is done with: its referral closes, and the new one is sent.
    assert sorted(states) == sorted([ReferralState.CLOSED, ReferralState.SENT])
    shown = await (await client.get(again.headers["Location"])).text()
    assert "وزارة البلديات والإسكان" in shown and "أُرسلت الإحالة إلى كل جهة" in shown

    unreferred = await (await client.get(f"/followup/cases/{day.no_department}")).text()
    assert "لا تعمل أي جهة على هذا الطلب" in unreferred and 'id="refer-form"' in unreferred
    done = await client.post(
        f"/followup/cases/{day.no_department}/refer",
        data={"csrf_token": token, "departments": ["water", "health"], "directive": "للدراسة والإفادة"},
        allow_redirects=False,
    )
    assert done.status == 303
    listed = await (await client.get("/followup")).text()
    assert f"case-{day.no_department}" not in section(listed, "team")
    # A request not referred cannot be sent from here.
    assert (await client.get("/followup/cases/26-999999-0")).status == 404


async def api_as(client: Client, username: str) -> dict[str, str]:
    client.session.cookie_jar.clear()
    await sign_in(client, username)
    return {"X-CSRF-Token": (await (await client.get("/api/v1/session")).json())["csrf_token"]}


async def test_the_api_lists_shows_and_acts_with_clear_refusals(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    day = await team_day(client, sessions, clock)
    team = await api_as(client, "followup")
    listing = await client.get("/api/v1/followup")
    body = await listing.json()
    assert listing.status == 200 and body["counts"] == {
        "items": 10,
        "overdue": 3,
        "team_action": 4,
        "paused": 1,
        "unreferred": 1,
    }
    first = body["items"][0]
    assert first["referral_id"] is None and first["state"] == "unreferred" and first["team_action"] == "refer"
    chasing = [i for i in body["items"] if i["team_action"] is None]
    assert chasing[0]["referral_id"] == day.silent_since_last_week
    assert chasing[0]["working_minutes_left"] == -20 * 60 and chasing[0]["overdue"] is True
    assert chasing[-1]["paused"] is True
    health = await (await client.get("/api/v1/followup", params={"department": "health", "state": "returned"})).json()
    assert [i["referral_id"] for i in health["items"]] == [day.returned_alone, day.returned_beside_another]
    bad = await client.get("/api/v1/followup", params={"state": "lost"})
    assert bad.status == 422 and (await bad.json())["fields"][0]["field"] == "state"

    url = f"/api/v1/referrals/{day.no_news}"
    shown = await (await client.get(url)).json()
    assert shown["department"]["code"] == "health" and [e["kind"] for e in shown["events"]] == ["sent", "acknowledged"]
    reminded = await client.post(f"{url}/remind", headers=team, json={"sms": True})
    assert reminded.status == 200 and (await reminded.json())["events"][-1]["details"] == {"channels": "email+sms"}
    called = await client.post(f"{url}/call", headers=team, json={"note": "وعد بالرد"})
    assert (await called.json())["events"][-1]["by"]
    escalated = await client.post(f"{url}/escalate", headers=team, json={"reason": "لا أخبار منذ أسبوع"})
    assert (await escalated.json())["escalation_level"] == 1
    extended = await client.post(f"{url}/extend", headers=team, json={"amount": 3, "unit": "hours", "reason": "عطل"})
    assert (await extended.json())["extended_minutes"] == 180
    wrong = await client.post(f"{url}/extend", headers=team, json={"amount": 1, "unit": "weeks", "reason": ""})
    assert wrong.status == 422 and {f["field"] for f in (await wrong.json())["fields"]} == {"unit"}
    closed = await client.post(f"{url}/close", headers=team, json={"outcome": "تمت المعالجة"})
    assert closed.status == 200 and (await closed.json())["state"] == "closed"
    twice = await client.post(f"{url}/close", headers=team, json={"outcome": "تمت المعالجة"})
    problem = await twice.json()
    assert (
        twice.status == 409 and problem["error"] == "closed" and problem["messages"]["ar"] != problem["messages"]["en"]
    )
    missing = await client.post("/api/v1/referrals/987654/remind", headers=team, json={})
    assert missing.status == 404 and (await missing.json())["error"] == "referral_not_found"
    assert (await client.get("/api/v1/referrals/987654")).status == 404
    no_token = await client.post(f"{url}/call", json={"note": "x"})
    assert no_token.status == 403

    refer = f"/api/v1/cases/{day.no_department}/refer"
    made = await client.post(refer, headers=team, json={"departments": ["Water"], "directive": "للإفادة"})
    assert made.status == 200 and [r["department"]["code"] for r in await made.json()] == ["water"]
    again = await client.post(refer, headers=team, json={"departments": ["water"], "directive": "للإفادة"})
    assert again.status == 422 and (await again.json())["fields"][0]["code"] == "already_referred"
    unknown = await client.post(
        "/api/v1/cases/26-999999-0/refer", headers=team, json={"departments": ["water"], "directive": "x"}
    )
    assert unknown.status == 404

    manager = await api_as(client, "manager")
    assert (await client.get("/api/v1/followup")).status == 200
    refused = await client.post(f"/api/v1/referrals/{day.answered}/close", headers=manager, json={"outcome": "x"})
    assert refused.status == 403
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Referral)) == 10
    assert riyadh(11, 26, 13) == clock.now()


async def test_the_follow_up_api_is_in_the_openapi_document(client: Client) -> None:
    document = await (await client.get("/openapi.json")).json()
    validate(document)
    paths = document["paths"]
    assert paths["/api/v1/followup"]["get"]["responses"]["200"]
    for action in ("remind", "call", "escalate", "extend", "close"):
        responses = paths[f"/api/v1/referrals/{{referral_id}}/{action}"]["post"]["responses"]
        assert responses.keys() >= {"200", "401", "403", "404", "409", "422"}
    assert paths["/api/v1/cases/{tracking_number}/refer"]["post"]["requestBody"]
    assert {"FollowUpOut", "ReferralOut", "ExtendIn", "CloseIn", "ReferIn"} <= set(document["components"]["schemas"])
