"""The audit desk's pages and API, and the managers' fairness report."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from majlis.clock import FrozenClock
from priority import duplicates
from tests.factories import Client, api_payload, csrf_token, make_staff, sign_in

Sessions = async_sessionmaker[AsyncSession]


async def submit(client: Client, **overrides: object) -> str:
    body = await (await client.post("/api/v1/requests", json=api_payload(**overrides))).json()
    return str(body["tracking_number"])


async def test_desk_classifies_verifies_and_routes_through_the_page(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number = await submit(client)
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    queue = await (await client.get("/audit")).text()
    assert f"/audit/cases/{number}" in queue
    token = await csrf_token(client, f"/audit/cases/{number}")
    base = f"/audit/cases/{number}"
    raised = await client.post(
        f"{base}/classify", data={"category": "housing", "urgency": "critical", "csrf_token": token}
    )
    assert raised.status == 422
    raised_page = await raised.text()
    assert 'id="change_reason-error"' in raised_page
    assert "يلزم ذكر سبب لرفع درجة الاستعجال فوق الدرجة التي يقتضيها التصنيف." in raised_page
    for action, data in (
        ("verify", {}),
        ("classify", {"category": "family_personal_status", "urgency": "normal"}),
        ("route", {"route": "audience_video"}),
    ):
        response = await client.post(f"{base}/{action}", data={**data, "csrf_token": token}, allow_redirects=False)
        assert response.status == 303, (action, await response.text())
    page = await (await client.get(base)).text()
    assert 'id="case-status">بانتظار' in page or "بانتظار" in page
    assert "القسم النسائي" in page  # a woman's video audience goes to the women's section
    ordered = await (await client.get("/audit/queue")).text()
    assert number in ordered
    # The category by its name, not its code; the tracking number left to right.
    assert "الأسرة والأحوال الشخصية" in ordered and "family_personal_status" not in ordered
    assert f'<bdi dir="ltr" class="ltr">{number}</bdi>' in ordered


async def test_api_is_for_the_audit_desk_only_and_needs_the_csrf_header(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number = await submit(client)
    anonymous = await client.post(f"/api/v1/triage/{number}/verify")
    assert anonymous.status == 401 and (await anonymous.json())["error"] == "unauthorized"

    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    await sign_in(client, "protocol")
    token = (await (await client.get("/api/v1/session")).json())["csrf_token"]
    refused = await client.post(f"/api/v1/triage/{number}/verify", headers={"X-CSRF-Token": token})
    assert refused.status == 403

    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    token = (await (await client.get("/api/v1/session")).json())["csrf_token"]
    forged = await client.post(f"/api/v1/triage/{number}/verify")
    assert forged.status == 403
    verified = await client.post(f"/api/v1/triage/{number}/verify", headers={"X-CSRF-Token": token})
    assert verified.status == 200 and (await verified.json())["verified"] is True

    bad = await client.post(
        f"/api/v1/triage/{number}/classify",
        json={"category": "vip", "urgency": "normal"},
        headers={"X-CSRF-Token": token},
    )
    assert bad.status == 422
    assert [f["field"] for f in (await bad.json())["fields"]] == ["category"]

    ok = await client.post(
        f"/api/v1/triage/{number}/classify",
        json={"category": "qisas", "urgency": "critical"},
        headers={"X-CSRF-Token": token},
    )
    assert (await ok.json())["urgency"] == "critical"
    routed = await client.post(
        f"/api/v1/triage/{number}/route", json={"route": "audience_in_person"}, headers={"X-CSRF-Token": token}
    )
    assert (await routed.json())["route"] == "audience_in_person"
    queue = await (await client.get("/api/v1/triage/queue")).json()
    assert [p["tracking_number"] for p in queue] == [number]

    itself = await client.post(f"/api/v1/triage/{number}/merge", json={"into": number}, headers={"X-CSRF-Token": token})
    assert itself.status == 422 and (await itself.json())["error"] == "merge_into_itself"
    missing = await client.post("/api/v1/triage/26-999999-0/verify", headers={"X-CSRF-Token": token})
    assert missing.status == 404


async def test_merge_through_the_api(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    first = await submit(client, text="أطلب مقابلة معالي الوزير بخصوص قضية حضانة أبنائي بعد تعثر التنفيذ")
    second = await submit(client, text="اطلب مقابلة معالي الوزير بخصوص قضيه حضانه ابنائي لتعثر تنفيذ الحكم")
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    token = (await (await client.get("/api/v1/session")).json())["csrf_token"]
    found = await (await client.get(f"/api/v1/triage/{second}/duplicates")).json()
    assert [d["tracking_number"] for d in found] == [first] and found[0]["same_id"]
    merged = await client.post(f"/api/v1/triage/{second}/merge", json={"into": first}, headers={"X-CSRF-Token": token})
    assert merged.status == 200 and (await merged.json())["status"] == "duplicate"
    again = await client.post(f"/api/v1/triage/{second}/merge", json={"into": first}, headers={"X-CSRF-Token": token})
    assert again.status == 409


async def test_managers_see_the_fairness_report_and_its_csv(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await submit(client)
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    await sign_in(client, "manager")
    page = await client.get("/reports/fairness")
    assert page.status == 200
    html = await page.text()
    assert 'id="queue-jumps"' in html and 'id="waiting"' in html
    csv = await client.get("/reports/fairness.csv")
    assert csv.status == 200 and csv.content_type == "text/csv"
    text = await csv.text()
    assert "section,key,value,count,median_days,p90_days,justification" in text
    assert "waiting,channel,portal,1," in text


async def test_likely_duplicates_are_flagged_on_intake(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    first = await submit(client, text="أطلب مقابلة معالي الوزير بخصوص قضية حضانة أبنائي بعد تعثر التنفيذ")
    second = await submit(client, text="اطلب مقابلة معالي الوزير بخصوص قضيه حضانه ابنائي لتعثر تنفيذ الحكم")
    async with sessions() as session:
        later = await cases.find_by_tracking_number(session=session, tracking_number=second)
        earlier = await cases.find_by_tracking_number(session=session, tracking_number=first)
        assert later is not None and earlier is not None
        flags = await duplicates.flagged(session=session, case_ids={later.id, earlier.id})
    assert [f.other_case_id for f in flags[later.id]] == [earlier.id]
    assert earlier.id not in flags  # the first request repeated nothing
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    html = await (await client.get("/audit")).text()
    assert html.count('class="badge"') == 1


async def test_managers_keep_the_list_of_categories(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    number = await submit(client)
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    await sign_in(client, "manager")
    token = await csrf_token(client, "/manage/categories")
    bad = await client.post(
        "/manage/categories",
        data={
            "code": "X Y",
            "name_ar": "",
            "name_en": "Consumer",
            "weight": "99",
            "implied_urgency": "panic",
            "csrf_token": token,
        },
    )
    assert bad.status == 422
    html = await bad.text()
    for field in ("code", "name_ar", "weight", "implied_urgency"):
        assert f'id="{field}-error"' in html
    good = await client.post(
        "/manage/categories",
        data={
            "code": "consumer_rights",
            "name_ar": "حقوق المستهلك",
            "name_en": "Consumer rights",
            "weight": "5",
            "implied_urgency": "normal",
            "csrf_token": token,
        },
        allow_redirects=False,
    )
    assert good.status == 303
    taken_out = await client.post(
        "/manage/categories/housing/active", data={"active": "0", "csrf_token": token}, allow_redirects=False
    )
    assert taken_out.status == 303
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    api_token = (await (await client.get("/api/v1/session")).json())["csrf_token"]
    listed = {c["code"] for c in await (await client.get("/api/v1/triage/categories")).json()}
    assert "consumer_rights" in listed and "housing" not in listed
    refused = await client.post(
        f"/api/v1/triage/{number}/classify",
        json={"category": "housing", "urgency": "normal"},
        headers={"X-CSRF-Token": api_token},
    )
    assert refused.status == 422


async def test_unavailable_days_are_recorded_through_the_api(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number = await submit(client)
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    token = (await (await client.get("/api/v1/session")).json())["csrf_token"]
    headers = {"X-CSRF-Token": token}
    bad = await client.post(f"/api/v1/triage/{number}/unavailable-days", json={"days": "next friday"}, headers=headers)
    assert bad.status == 422 and [f["field"] for f in (await bad.json())["fields"]] == ["days"]
    ok = await client.post(
        f"/api/v1/triage/{number}/unavailable-days", json={"days": "2026-12-06, 2026-12-13"}, headers=headers
    )
    assert ok.status == 200
    page = await (await client.get(f"/audit/cases/{number}")).text()
    assert 'value="2026-12-06, 2026-12-13"' in page
