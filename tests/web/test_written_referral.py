"""The audit desk's written referral, on its page and over the API: departments ticked (or listed by code) and the
referral text, each missing or unknown part named in place, nothing sent until all is right; on SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases.models import CaseStatus
from followup.models import Referral, ReferralSource
from majlis.clock import FrozenClock
from tests.factories import Client, api_payload, csrf_token, make_staff, sign_in
from tests.followup.arrange import add_department

Sessions = async_sessionmaker[AsyncSession]
TEXT = "يحال إلى الجهة المختصة لدراسة الطلب وإفادة صاحبه"


async def submit(client: Client) -> str:
    body = await (await client.post("/api/v1/requests", json=api_payload())).json()
    return str(body["tracking_number"])


async def departments(sessions: Sessions) -> None:
    await add_department(sessions, "moj", name_ar="وزارة العدل", name_en="Ministry of Justice")
    await add_department(sessions, "enforcement", name_ar="محكمة التنفيذ", name_en="Enforcement Court", parent="moj")
    await add_department(sessions, "housing", name_ar="وزارة الإسكان", name_en="Ministry of Housing")


async def referred(sessions: Sessions) -> list[Referral]:
    async with sessions() as session:
        return list(await session.scalars(select(Referral).order_by(Referral.id)))


async def test_the_desk_refers_in_writing_from_the_case_page(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number = await submit(client)
    await departments(sessions)
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    base = f"/audit/cases/{number}"
    token = await csrf_token(client, base)
    for action, data in (("verify", {}), ("classify", {"category": "housing", "urgency": "normal"})):
        done = await client.post(f"{base}/{action}", data={**data, "csrf_token": token}, allow_redirects=False)
        assert done.status == 303, action

    page = await (await client.get(base)).text()
    # The departments and the text show with the route form; plain JavaScript hides them for other routes.
    assert 'data-shown-when="route=written_referral"' in page and "shown_when.js" in page
    assert re.search(r'class="check depth-0"><input type="checkbox" name="departments" value="moj"', page)
    assert re.search(r'class="check depth-1"><input type="checkbox" name="departments" value="enforcement"', page)
    assert '<textarea id="referral_text" name="referral_text"' in page

    bare = await client.post(f"{base}/route", data={"csrf_token": token, "route": "written_referral"})
    assert bare.status == 422
    text = await bare.text()
    assert 'id="departments-error"' in text and 'id="referral_text-error"' in text
    assert "اختر جهة واحدة على الأقل." in text

    unknown = await client.post(
        f"{base}/route",
        data=[
            ("csrf_token", token),
            ("route", "written_referral"),
            ("departments", "moj"),
            ("departments", "vip"),
            ("referral_text", TEXT),
        ],
    )
    assert unknown.status == 422
    text = await unknown.text()
    # Named in place, under the departments; what was chosen and typed stays.
    assert re.search(r'id="departments-error" role="alert">[^<]*vip', text)
    assert 'value="moj" checked' in text and TEXT in text
    assert await referred(sessions) == []

    sent = await client.post(
        f"{base}/route",
        data=[
            ("csrf_token", token),
            ("route", "written_referral"),
            ("departments", "moj"),
            ("departments", "enforcement"),
            ("referral_text", TEXT),
        ],
        allow_redirects=False,
    )
    assert sent.status == 303, await sent.text()
    made = await referred(sessions)
    assert [(r.source, r.directive) for r in made] == [(ReferralSource.AUDIT_DESK, TEXT)] * 2
    page = await (await client.get(f"{base}?lang=en")).text()
    assert 'id="case-status">Referred' in page
    assert page.count("Referred to the department") == 2
    assert "Ministry of Justice" in page and "Enforcement Court" in page


async def test_the_api_routes_to_a_written_referral_by_codes(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number = await submit(client)
    await departments(sessions)
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    headers = {"X-CSRF-Token": (await (await client.get("/api/v1/session")).json())["csrf_token"]}
    listed = await (await client.get("/api/v1/triage/departments")).json()
    assert [(d["code"], d["parent"], d["depth"]) for d in listed] == [
        ("housing", None, 0),
        ("moj", None, 0),
        ("enforcement", "moj", 1),
    ]
    assert listed[1]["name_en"] == "Ministry of Justice" and listed[1]["name_ar"] == "وزارة العدل"
    base = f"/api/v1/triage/{number}"
    await client.post(f"{base}/verify", headers=headers)
    await client.post(f"{base}/classify", json={"category": "housing", "urgency": "normal"}, headers=headers)

    async def route(body: dict[str, object]) -> tuple[int, Any]:
        answer = await client.post(f"{base}/route", json=body, headers=headers)
        return answer.status, await answer.json()

    status, body = await route({"route": "written_referral"})
    assert status == 422 and [f["field"] for f in body["fields"]] == ["departments", "referral_text"]
    status, body = await route({"route": "written_referral", "departments": "housing", "referral_text": TEXT})
    assert status == 422 and [f["field"] for f in body["fields"]] == ["departments"]
    status, body = await route({"route": "written_referral", "departments": ["housing", "vip"], "referral_text": TEXT})
    assert status == 422
    [problem] = body["fields"]
    assert problem["field"] == "departments" and "vip" in problem["messages"]["en"]
    assert await referred(sessions) == []

    status, body = await route({"route": "written_referral", "departments": ["housing", "MOJ"], "referral_text": TEXT})
    assert status == 200 and body["route"] == "written_referral" and body["status"] == CaseStatus.REFERRED.value
    assert len(await referred(sessions)) == 2
    # Sent again to a department that has it: refused by name, nothing more is sent.
    status, body = await route({"route": "written_referral", "departments": ["housing"], "referral_text": TEXT})
    assert status == 422 and "وزارة الإسكان" in body["fields"][0]["messages"]["en"]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Referral)) == 2
    document = await (await client.get("/openapi.json")).json()
    route_in = document["components"]["schemas"]["RouteIn"]["properties"]
    assert route_in["departments"]["type"] == "array" and "referral_text" in route_in
    assert "/api/v1/triage/departments" in document["paths"]
