"""Need to know on the pages and the API: a request outside the reader's reach is not found (404, never 403),
each view inside it is logged, and managers read the log as a page and CSV. On SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import PersonalDataAccess
from accounts.roles import Role
from majlis.clock import FrozenClock
from tests.audience_day.arrange import at, check_in
from tests.audience_day.test_care import cared_day
from tests.factories import Client, make_staff, sign_in
from tests.priority.test_triage import new_case, ready
from tests.scheduler.test_runs import IDS
from tests.web.referring import department, refer

Sessions = async_sessionmaker[AsyncSession]
NAME = "نورة"


async def views(sessions: Sessions) -> list[tuple[int, int, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(PersonalDataAccess.staff_id, PersonalDataAccess.case_id, PersonalDataAccess.via).order_by(
                PersonalDataAccess.id
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_pages_hide_requests_outside_the_readers_reach_and_log_each_view(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    auditor = await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")
    follow_up = await make_staff(sessions, clock, Role.FOLLOW_UP, "followup")
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    await department(sessions, "health", "وزارة الصحة", "Ministry of Health")
    received = await new_case(sessions, clock, applicant_name=NAME)
    [referred] = await refer(
        sessions, clock, "health", tracking_number=await new_case(sessions, clock, applicant_national_id=IDS[1])
    )
    # A confidential request referred to a department: the follow-up team does not read it, the audit desk does.
    secret = await new_case(sessions, clock, applicant_national_id=IDS[2])
    await ready(
        sessions,
        clock,
        auditor.id,
        secret,
        category="security",
        urgency="critical",
        route="written_referral",
        departments="health",
    )

    await sign_in(client, "followup")
    assert (await client.get(f"/followup/cases/{referred.tracking_number}")).status == 200
    for hidden in (received, secret):
        assert (await client.get(f"/followup/cases/{hidden}")).status == 404
        assert (await client.get("/cases", params={"tracking_number": hidden})).status == 404
    assert (await client.get(f"/api/v1/referrals/{referred.referral_id}")).status == 200

    await sign_in(client, "auditor")
    page = await client.get(f"/audit/cases/{received}")
    assert page.status == 200 and NAME in await page.text()
    assert (await client.get(f"/audit/cases/{secret}")).status == 200
    assert (await client.get(f"/api/v1/requests/{received}/identity")).status == 200

    # Administrators manage accounts, not requests: every request is "not found" to them.
    await sign_in(client, "admin")
    for path in (f"/audit/cases/{received}", f"/followup/cases/{referred.tracking_number}"):
        response = await client.get(path)
        assert response.status == 404 and NAME not in await response.text(), path
    assert (await client.get(f"/api/v1/requests/{received}/identity")).status == 404
    assert (await client.get(f"/api/v1/referrals/{referred.referral_id}")).status == 404

    logged = await views(sessions)
    assert [(staff, via) for staff, _, via in logged] == [
        (follow_up.id, "GET /followup/cases/{tracking_number}"),
        (follow_up.id, "GET /api/v1/referrals/{referral_id}"),
        (auditor.id, "GET /audit/cases/{tracking_number}"),
        (auditor.id, "GET /audit/cases/{tracking_number}"),
        (auditor.id, "GET /api/v1/requests/{tracking_number}/identity"),
    ]

    # Managers read who saw what, on the page and in the CSV.
    await sign_in(client, "manager")
    report = await (await client.get("/reports/access", params={"lang": "en"})).text()
    assert report.count("Staff audit_desk") == 3 and report.count("Staff follow_up") == 2
    assert received in report and "GET /audit/cases/{tracking_number}" in report
    csv = await client.get("/reports/access.csv")
    lines = (await csv.text()).lstrip("\ufeff").splitlines()
    assert csv.status == 200 and lines[0] == "at_utc,username,full_name,role,tracking_number,via"
    assert len(lines) == 1 + len(logged) and any(f"auditor,Staff audit_desk,audit_desk,{received}" in x for x in lines)

    # Lists too: the audit desk's queue names the applicants it may see, and logs each; none for administrators.
    await sign_in(client, "admin")
    assert NAME not in await (await client.get("/audit")).text()
    await sign_in(client, "auditor")
    assert NAME in await (await client.get("/audit")).text()
    assert (auditor.id, "GET /audit") in {(staff, via) for staff, _, via in await views(sessions)}
    assert len(await views(sessions)) == len(logged) + 1  # the one request still waiting for the desk


async def test_the_day_lists_show_protocol_its_audiences_and_administrators_none(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    day = await cared_day(sessions, clock)
    protocol = await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    clock.set(at(29, 9, 40))
    await check_in(sessions, clock, day[0].appointment_id)
    await sign_in(client, "admin")
    for path in ("/protocol/day", "/desk/arrivals?branch=riyadh", "/api/v1/hall/sessions", "/official/hall"):
        page = await (await client.get(path)).text()
        assert not any(appointment.tracking_number in page for appointment in day), path
    assert await views(sessions) == []
    await sign_in(client, "protocol")
    page = await (await client.get("/protocol/day")).text()
    assert all(appointment.tracking_number in page for appointment in day[:3])
    logged = await views(sessions)
    assert len(logged) == 3 and {(staff, via) for staff, _, via in logged} == {(protocol.id, "GET /protocol/day")}
    # The desk's search and the hall's line show protocol the one who arrived.
    assert day[0].tracking_number in await (await client.get("/desk/arrivals?branch=riyadh")).text()
    assert day[0].tracking_number in await (await client.get("/api/v1/hall/sessions")).text()


async def test_the_access_report_refuses_a_period_it_does_not_offer(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    await sign_in(client, "manager")
    assert (await client.get("/reports/access")).status == 200
    assert (await client.get("/reports/access.csv", params={"days": "30"})).status == 200
    for days in ("2", "", "abc", "9" * 40, "٣٠"):
        for path in ("/reports/access", "/reports/access.csv"):
            for lang, words in (("en", "The period must be one of those offered"), ("ar", "إحدى المدد المعروضة")):
                response = await client.get(path, params={"days": days, "lang": lang})
                assert response.status == 400 and words in await response.text(), (path, days, lang)
