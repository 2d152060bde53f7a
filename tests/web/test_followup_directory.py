"""The directory through its pages and its JSON API, on SQLite and PostgreSQL: administrators keep departments,
people, working calendars and policies; follow-up reads them; other roles are refused."""

from __future__ import annotations

import re
from typing import Any

from openapi_spec_validator import validate
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry, StaffUser
from accounts.roles import Role
from followup import contacts, directory
from followup.models import ContactRole, Department, EscalationLevel, SlaPolicy
from majlis.clock import FrozenClock
from tests.factories import Client, csrf_token, make_staff, sign_in
from tests.web.notices_seen import isolated, shown_once
from web.followup_directory_models import DIRECTORY_OPERATIONS
from worktime import editing

Sessions = async_sessionmaker[AsyncSession]


async def as_admin(client: Client, sessions: Sessions, clock: FrozenClock) -> str:
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    await sign_in(client, "admin")
    return await csrf_token(client, "/followup/departments")


def department_form(token: str, code: str, parent: str = "", **overrides: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "code": code,
        "name_ar": f"جهة {code}",
        "name_en": f"{code} agency",
        "parent": parent,
        "calendar": "government",
        "email": f"{code}@example.org",
    }
    form.update(overrides)
    return form


def contact_form(token: str) -> dict[str, str]:
    """A department's deputy, as the contact form sends him."""
    return {
        "csrf_token": token,
        "contact.role": "deputy",
        "contact.name": "سلمان العمري",
        "contact.email": "salman@example.org",
        "contact.phone": "0551234567",
        "contact.language": "ar",
    }


def field_error(html: str, field: str) -> str:
    found = re.search(rf'id="{re.escape(field)}-error" role="alert">([^<]*)<', html)
    assert found, f"no error shown for {field}"
    return found.group(1)


async def test_administrators_keep_departments_and_their_people(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    token = await as_admin(client, sessions, clock)
    for code, parent in (("office", ""), ("health", "office"), ("hospitals", "health")):
        added = await client.post(
            "/followup/departments", data=department_form(token, code, parent), allow_redirects=False
        )
        assert added.status == 303 and added.headers["Location"] == f"/followup/departments/{code}"
        await shown_once(client, added, f"أُضيفت الجهة {isolated('جهة ' + code)}.")
    tree = await (await client.get("/followup/departments")).text()
    assert tree.index("جهة office") < tree.index("جهة health") < tree.index("جهة hospitals")
    assert 'class="depth-2"' in tree

    bad = await client.post(
        "/followup/departments", data=department_form(token, "Health!", "office", name_ar=" ", email="nobody")
    )
    assert bad.status == 422
    html = await bad.text()
    assert field_error(html, "code").startswith("يجب أن تتكون قيمة حقل «الرمز»")
    assert field_error(html, "name_ar") == "حقل «الاسم بالعربية» مطلوب."
    assert "ليست عنوان بريد إلكتروني صحيحًا" in field_error(html, "email")

    # The office under its own grandchild: refused in place, nothing moved.
    cycle = await client.post("/followup/departments/office", data=department_form(token, "office", "hospitals"))
    assert cycle.status == 422
    assert field_error(await cycle.text(), "parent") == "لا يجوز أن تُتبَع الجهة لنفسها أو لإحدى الجهات التابعة لها."
    refused = await client.post("/followup/departments/office/active", data={"csrf_token": token, "active": "0"})
    assert refused.status == 422 and "health" in await refused.text()
    renamed = await client.post(
        "/followup/departments/hospitals",
        data=department_form(token, "ignored", "office", name_en="Hospitals cluster"),
        allow_redirects=False,
    )
    await shown_once(client, renamed, "حُفظت بيانات الجهة.")

    person = contact_form(token)
    wrong = await client.post("/followup/departments/health/contacts", data={**person, "contact.phone": "12"})
    assert wrong.status == 422
    assert "ليست رقم جوال صحيحًا" in field_error(await wrong.text(), "contact.phone")
    person_added = await client.post("/followup/departments/health/contacts", data=person, allow_redirects=False)
    await shown_once(client, person_added, "أُضيفت جهة الاتصال.")
    async with sessions() as session:
        health = await directory.department_by_code(session=session, code="health")
        [deputy] = await contacts.contacts(session=session, department_id=health.id)
        hospitals = await directory.department_by_code(session=session, code="hospitals")
        office = await directory.department_by_code(session=session, code="office")
    assert (deputy.phone, hospitals.parent_id, hospitals.name_en) == ("+966551234567", office.id, "Hospitals cluster")
    editing_page = await (await client.get(f"/followup/departments/health?contact={deputy.id}")).text()
    assert f'action="/followup/departments/health/contacts/{deputy.id}"' in editing_page
    changed = await client.post(
        f"/followup/departments/health/contacts/{deputy.id}",
        data={**person, "contact.role": "head"},
        allow_redirects=False,
    )
    await shown_once(client, changed, "حُفظت بيانات جهة الاتصال.")
    async with sessions() as session:
        head = await contacts.contact_for(session=session, department_id=health.id, role=ContactRole.DEPUTY)
        audited = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("department.%"))
        )
    assert head.email == "salman@example.org"
    assert audited == 6  # three departments, one moved, one person added and changed
    assert (await client.get("/followup/departments/nowhere")).status == 404


async def test_calendars_hours_and_holidays_through_the_pages(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    token = await as_admin(client, sessions, clock)
    made = await client.post(
        "/followup/calendars",
        data={"csrf_token": token, "code": "er", "name_ar": "الطوارئ", "name_en": "ER", "time_zone": "Asia/Dubai"},
        allow_redirects=False,
    )
    assert made.status == 303 and made.headers["Location"] == "/followup/calendars/er#hours"
    await shown_once(client, made, f"أُضيف التقويم {isolated('الطوارئ')}. حدِّد ساعات الدوام فيه أدناه.")
    bad = await client.post(
        "/followup/calendars/er/hours", data={"csrf_token": token, "weekday": "6", "opens": "08:00", "closes": "08:00"}
    )
    assert bad.status == 422
    assert "منتصف الليل" in field_error(await bad.text(), "closes")
    night = {"csrf_token": token, "weekday": "4", "opens": "20:00", "closes": "04:00"}
    await shown_once(
        client,
        await client.post("/followup/calendars/er/hours", data=night, allow_redirects=False),
        "أُضيفت ساعات الدوام.",
    )
    page = await (await client.get("/followup/calendars/er")).text()
    assert "الخميس" in page and "(في اليوم التالي)" in page
    holiday = {"csrf_token": token, "day": "2027-02-22", "name": "يوم التأسيس"}
    holiday_added = await client.post("/followup/calendars/er/holidays", data=holiday, allow_redirects=False)
    await shown_once(client, holiday_added, "أُضيفت الإجازة.")
    again = await client.post("/followup/calendars/er/holidays", data=holiday)
    assert again.status == 422
    removed = await client.post(
        "/followup/calendars/er/holidays/2027-02-22/remove", data={"csrf_token": token}, allow_redirects=False
    )
    await shown_once(client, removed, "أُزيلت الإجازة.")
    # The official's days off stay with protocol's page, which also moves the audiences of that day.
    official = await client.post("/followup/calendars/audiences/holidays", data=holiday)
    assert official.status == 409 and "صفحة الإجازات لدى المراسم" in await official.text()
    async with sessions() as session:
        view = await editing.view(session=session, code="er")
        assert [(h.weekday, h.opens.hour, h.closes.hour) for h in view.hours] == [(4, 20, 4)]
        assert view.holidays == [] and view.calendar.time_zone == "Asia/Dubai"
        assert await editing.view(session=session, code="audiences") is not None


async def test_policies_and_their_ladder_through_the_pages(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    token = await as_admin(client, sessions, clock)
    listing = await (await client.get("/followup/policies")).text()
    # The seeded policy's name is the catalog's in Arabic; a name the team typed is shown as typed, set apart.
    assert "<bdi>الافتراضي</bdi>" in listing and "أيام عمل: 10" in listing and "ساعات: 24" in listing
    policy = {
        "csrf_token": token,
        "name": "الإسكان",
        "category_code": "housing",
        "urgency": "",
        "first_response_amount": "1",
        "first_response_unit": "working_days",
        "update_amount": "",
        "update_unit": "working_days",
        "solution_amount": "15",
        "solution_unit": "working_days",
    }
    twice = await client.post("/followup/policies", data={**policy, "category_code": ""})
    assert twice.status == 422 and "توجد سياسة لهذا التصنيف" in field_error(await twice.text(), "category_code")
    made = await client.post("/followup/policies", data=policy, allow_redirects=False)
    await shown_once(client, made, "أُضيفت السياسة. حدِّد مستويات التصعيد أدناه.")
    policy_path = made.headers["Location"].removesuffix("#levels")
    page = await (await client.get(policy_path)).text()
    assert 'name="rows" value="1"' in page

    def row(number: int, percent: str, extra: str, rank: str, role: str = "head") -> dict[str, str]:
        key = f"levels.{number}."
        return {
            key + "percent_of_solution": percent,
            key + "extra_amount": extra,
            key + "extra_unit": "working_days",
            key + "rank": rank,
            key + "contact_role": role,
        }

    ladder = {"csrf_token": token, "rows": "3", **row(1, "100", "", "0"), **row(2, "100", "", "1", "deputy")}
    ladder.update(row(3, "", "", ""))
    late = await client.post(policy_path + "/levels", data=ladder)
    assert late.status == 422
    assert field_error(await late.text(), "levels.2.percent_of_solution").startswith(
        "يجب أن يحل المستوى 2 بعد المستوى 1"
    )
    ladder.update(row(2, "100", "3", "1", "deputy"))
    levels_saved = await client.post(policy_path + "/levels", data=ladder, allow_redirects=False)
    await shown_once(client, levels_saved, "حُفظت مستويات التصعيد.")
    # Removing the first row keeps the second, now level 1.
    ladder.update({"rows": "3", "levels.1.remove": "1"})
    assert (await client.post(policy_path + "/levels", data=ladder, allow_redirects=False)).status == 303
    await shown_once(client, await client.post(policy_path, data=policy, allow_redirects=False), "حُفظت السياسة.")
    for active, said in (("0", "أُوقف العمل بالسياسة."), ("1", "أُعيد العمل بالسياسة.")):
        flag = {"csrf_token": token, "active": active}
        await shown_once(client, await client.post(policy_path + "/active", data=flag, allow_redirects=False), said)
    shorter = await client.post(policy_path, data={**policy, "solution_amount": "0"})
    assert shorter.status == 422 and field_error(await shorter.text(), "solution_amount")
    async with sessions() as session:
        made_policy = await session.scalar(select(SlaPolicy).where(SlaPolicy.category_code == "housing"))
        assert made_policy is not None and made_policy.solution_minutes == 15 * 420
        levels = list(await session.scalars(select(EscalationLevel).where(EscalationLevel.policy_id == made_policy.id)))
    assert [(lv.level, lv.extra_minutes, lv.rank) for lv in levels] == [(1, 3 * 420, 1)]
    default_off = await client.post("/followup/policies/1/active", data={"csrf_token": token, "active": "0"})
    assert default_off.status == 422


async def test_follow_up_reads_and_other_roles_are_refused(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    async with sessions.begin() as session:
        await directory.add_department(
            session=session,
            clock=clock,
            actor_id=None,
            data=directory.DepartmentInput("office", "ديوان المجلس", "The office", "", "government", "o@example.org"),
        )
    await make_staff(sessions, clock, Role.FOLLOW_UP, "followup")
    await sign_in(client, "followup")
    for path in ("/followup/departments", "/followup/departments/office", "/followup/calendars/government",
                 "/followup/policies", "/followup/policies/1"):  # fmt: skip
        response = await client.get(path)
        assert response.status == 200, path
        html = await response.text()
        assert 'method="post" action="/followup' not in html, path
    token = await csrf_token(client, "/followup/departments")
    refused = await client.post("/followup/departments", data=department_form(token, "health"))
    assert refused.status == 403
    api = await client.get("/api/v1/departments")
    assert api.status == 200 and [d["code"] for d in await api.json()] == ["office"]
    headers = {"X-CSRF-Token": (await (await client.get("/api/v1/session")).json())["csrf_token"]}
    posted = await client.post("/api/v1/policies", json={"name": "x"}, headers=headers)
    assert posted.status == 403

    await client.post("/logout", data={"csrf_token": token})
    await make_staff(sessions, clock, Role.DEPARTMENT_LIAISON, "liaison")
    await sign_in(client, "liaison")
    assert (await client.get("/followup/departments")).status == 403
    assert (await client.get("/api/v1/calendars")).status == 403


async def api_headers(client: Client, sessions: Sessions, clock: FrozenClock) -> dict[str, str]:
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    await sign_in(client, "admin")
    return {"X-CSRF-Token": (await (await client.get("/api/v1/session")).json())["csrf_token"]}


async def test_the_directory_over_json(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    headers = await api_headers(client, sessions, clock)

    async def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = await client.request(method, path, json=body, headers=headers)
        return response.status, (await response.json() if response.status != 204 else None)

    office = {"code": "office", "name_ar": "الديوان", "name_en": "The office", "email": "office@example.org"}
    assert (await call("POST", "/api/v1/departments", office))[0] == 201
    status, health = await call(
        "POST", "/api/v1/departments", {**office, "code": "health", "name_ar": "الصحة", "parent": "office"}
    )
    assert status == 201 and health["parent"] == "office" and health["depth"] == 1
    status, cycle = await call("PATCH", "/api/v1/departments/office", {"parent": "health"})
    assert status == 422 and [(f["field"], f["code"]) for f in cycle["fields"]] == [("parent", "cycle")]
    assert cycle["fields"][0]["messages"]["en"].startswith("A department cannot be placed under itself")
    status, top = await call("PATCH", "/api/v1/departments/health", {"parent": None, "email": "h@example.org"})
    assert status == 200 and (top["parent"], top["depth"], top["email"]) == (None, 0, "h@example.org")
    assert (await call("PATCH", "/api/v1/departments/nowhere", {"email": "x@example.org"}))[0] == 404
    status, extra = await call("PATCH", "/api/v1/departments/health", {"code": "other"})
    assert status == 422 and extra["fields"][0]["field"] == "code"

    person = {
        "role": "liaison",
        "name": "Sara",
        "email": "sara@example.org",
        "phone": "+966501234567",
        "language": "en",
    }
    status, sara = await call("POST", "/api/v1/departments/health/contacts", person)
    assert status == 201 and sara["phone"] == "+966501234567"
    status, changed = await call(
        "PATCH", f"/api/v1/departments/health/contacts/{sara['id']}", {"role": "head", "active": False}
    )
    assert status == 200 and (changed["role"], changed["active"], changed["name"]) == ("head", False, "Sara")
    assert (await call("PATCH", f"/api/v1/departments/office/contacts/{sara['id']}", {"name": "x"}))[0] == 404
    status, listed = await call("GET", "/api/v1/departments/health/contacts")
    assert status == 200 and [c["id"] for c in listed] == [sara["id"]]

    week = [{"weekday": d, "opens": "07:30", "closes": "14:30"} for d in (6, 0, 1, 2, 3)]
    calendar = {
        "code": "embassy",
        "name_ar": "سفارة",
        "name_en": "Embassy",
        "time_zone": "Europe/London",
        "hours": week,
    }
    status, made = await call("POST", "/api/v1/calendars", calendar)
    assert (
        status == 201
        and len(made["hours"]) == 5
        and made["hours"][0] == {"weekday": 6, "opens": "07:30", "closes": "14:30"}
    )
    odd_day = {"weekday": 9, "opens": "08:00", "closes": "12:00"}
    status, wrong = await call(
        "PATCH", "/api/v1/calendars/embassy", {"time_zone": "Mars/Base", "hours": [week[0], week[0], odd_day]}
    )
    assert status == 422
    problems = {f["field"]: f["messages"] for f in wrong["fields"]}
    assert set(problems) == {"time_zone", "hours.2.opens", "hours.3.weekday"}
    assert "«ساعات الدوام، الصف 3: " in problems["hours.3.weekday"]["ar"]
    status, night = await call(
        "PATCH", "/api/v1/calendars/embassy", {"hours": [{"weekday": 4, "opens": "22:00", "closes": "06:00"}]}
    )
    assert status == 200 and night["hours"] == [{"weekday": 4, "opens": "22:00", "closes": "06:00"}]
    assert (await call("POST", "/api/v1/calendars/embassy/holidays", {"day": "2026-12-24", "name": "Closed"}))[0] == 201
    assert (await call("DELETE", "/api/v1/calendars/embassy/holidays/2026-12-24"))[0] == 204
    assert (await call("DELETE", "/api/v1/calendars/embassy/holidays/2026-12-24"))[0] == 422
    status, official = await call("POST", "/api/v1/calendars/audiences/holidays", {"day": "2026-12-24", "name": "x"})
    assert status == 409 and official["error"] == "audience_days_elsewhere"
    assert (await call("PATCH", "/api/v1/departments/health", {"calendar": "embassy"}))[0] == 200

    policy = {
        "name": "Health, urgent",
        "category_code": "humanitarian_medical",
        "urgency": "urgent",
        "first_response_amount": 4,
        "first_response_unit": "hours",
        "solution_amount": 3,
        "levels": [
            {"percent_of_solution": 100, "contact_role": "head"},
            {"percent_of_solution": 100, "extra_amount": 1, "rank": 1, "contact_role": "deputy"},
        ],
    }
    status, made_policy = await call("POST", "/api/v1/policies", policy)
    assert status == 201
    assert (made_policy["first_response_minutes"], made_policy["solution_minutes"]) == (240, 3 * 420)
    assert [lv["extra_minutes"] for lv in made_policy["levels"]] == [0, 420]
    path = f"/api/v1/policies/{made_policy['id']}"
    status, bad_ladder = await call("PATCH", path, {"levels": [{"percent_of_solution": 0, "contact_role": "liaison"}]})
    assert status == 422 and {f["field"] for f in bad_ladder["fields"]} == {
        "levels.1.percent_of_solution",
        "levels.1.contact_role",
    }
    status, patched = await call("PATCH", path, {"solution_amount": 30, "solution_unit": "hours", "active": False})
    assert status == 200 and (patched["solution_minutes"], patched["active"]) == (1800, False)
    assert patched["first_response_minutes"] == 240 and len(patched["levels"]) == 2
    status, every = await call("GET", "/api/v1/policies")
    assert status == 200 and [p["id"] for p in every][:1] == [1]
    async with sessions() as session:
        health_row = await session.scalar(select(Department).where(Department.code == "health"))
        assert health_row is not None and health_row.parent_id is None


async def test_liaison_accounts_are_made_for_one_department(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    token = await as_admin(client, sessions, clock)
    await client.post("/followup/departments", data=department_form(token, "housing", name_ar="وزارة الإسكان"))
    account = {
        "csrf_token": token,
        "username": "liaison.housing",
        "full_name": "ماجد الشمري",
        "role": "department_liaison",
        "gender": "male",
        "password": "a-long-password",
        "department": "",
    }
    missing = await client.post("/admin/users", data=account)
    assert missing.status == 422 and field_error(await missing.text(), "department") == "حقل «الجهة» مطلوب."
    other_role = await client.post("/admin/users", data={**account, "role": "follow_up", "department": "housing"})
    assert other_role.status == 422 and "ضابط اتصال" in field_error(await other_role.text(), "department")
    made = await client.post("/admin/users", data={**account, "department": "housing"}, allow_redirects=False)
    assert made.status == 303
    listing = await (await client.get("/admin/users")).text()
    assert "أُنشئ الحساب \u2068liaison.housing\u2069." in listing  # the notice the redirect left
    row = re.search(r'<tr id="user-liaison.housing">.*?</tr>', listing, re.S)
    assert row is not None and "وزارة الإسكان" in row.group(0) and "ضابط اتصال الجهة" in row.group(0)
    async with sessions() as session:
        user = await session.scalar(select(StaffUser).where(StaffUser.username == "liaison.housing"))
        housing = await directory.department_by_code(session=session, code="housing")
    assert user is not None and user.department_id == housing.id


async def test_the_openapi_document_describes_the_directory(client: Client) -> None:
    document = await (await client.get("/openapi.json")).json()
    # The directory's own paths, checked on their own (the whole document is checked in tests/web/test_api.py).
    mine = {path for _method, path, *_rest in DIRECTORY_OPERATIONS}
    document["paths"] = {path: item for path, item in document["paths"].items() if path in mine}
    assert len(document["paths"]) == len(mine) == 10
    validate(document)
    assert set(document["paths"]["/api/v1/departments/{code}"]) == {"patch"}
    assert document["paths"]["/api/v1/calendars/{code}/holidays/{day}"]["delete"]["responses"]["204"]
    assert "LevelIn" in document["components"]["schemas"]
