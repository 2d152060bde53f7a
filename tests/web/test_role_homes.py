"""Each role's home page (/staff, web/role_home.py): its own short work queue, nothing of another role's, and the
/reports index listing only the reports the reader's role may open."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from followup import referrals
from followup.models import ReferralSource
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.factories import PASSWORD, Client, api_payload, csrf_token, details, make_staff, sign_in
from tests.followup.arrange import add_department

Sessions = async_sessionmaker[AsyncSession]
URL = "https://majlis.example/status"

# The section each home page opens with; a home shows its own and no other's.
SECTIONS = {
    Role.INTAKE_DESK: "home-arrivals",
    Role.CALL_CENTRE: "home-calls",
    Role.AUDIT_DESK: "home-triage",
    Role.PROTOCOL: "home-week",
    Role.WOMEN_SECTION: "home-rooms",
    Role.OFFICIAL: "home-queue",
    Role.FOLLOW_UP: "home-overdue",
    Role.MANAGER: "home-reviews",
}


async def submit(client: Client, **overrides: object) -> str:
    response = await client.post("/api/v1/requests", json=api_payload(**overrides))
    assert response.status == 201, await response.text()
    return str((await response.json())["tracking_number"])


async def test_every_role_has_a_home_with_only_its_own_queue(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    for role in Role:
        await make_staff(sessions, clock, role, role.value)
    for role in Role:
        await sign_in(client, role.value)
        response = await client.get("/staff")
        assert response.status == 200, role
        page = await response.text()
        for other, section in SECTIONS.items():
            assert (f'id="{section}"' in page) is (other is role), (role, other)
        # The roles without a queue of their own keep the counts of requests by status.
        assert ('class="counts"' in page) is (role not in SECTIONS and role is not Role.ADMINISTRATOR), role


async def test_the_audit_desk_lands_on_the_requests_waiting_oldest_first(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    first = await submit(client)
    clock.advance(timedelta(minutes=5))
    second = await submit(client, applicant_phone="+966501234568", text="طلب آخر مختلف تماما عن الأول")
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    token = await csrf_token(client)
    landed = await client.post(
        "/login", data={"username": "audit", "password": PASSWORD, "csrf_token": token}, allow_redirects=False
    )
    assert landed.status == 303 and landed.headers["Location"] == "/login/enrol?next=%2Fstaff"  # then home
    await sign_in(client, "audit")
    page = await (await client.get("/staff?lang=en")).text()
    section = page[page.index('id="home-triage"') :]
    assert section.index(f"/audit/cases/{first}") < section.index(f"/audit/cases/{second}")
    assert "2 requests waiting for triage, oldest first" in page
    arabic = await (await client.get("/staff?lang=ar")).text()
    assert "طلبان بانتظار الفرز، الأقدم أولًا" in arabic
    assert f'<bdi dir="ltr" class="ltr">{first}</bdi>' in arabic


async def walk_in(sessions: Sessions, clock: FrozenClock, **overrides: object) -> str:
    """A request taken at a reception desk (the desk's own form reads it back first: tests/web/test_desk.py)."""
    async with transaction(sessions) as session:
        made = await cases.submit(
            session=session, clock=clock, details=details(channel="walk_in", **overrides), status_url=URL
        )
        return made.case.tracking_number


async def test_the_desk_sees_its_walk_ins_of_today_only(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    yesterday = await walk_in(sessions, clock)
    clock.advance(timedelta(days=1))
    today = await walk_in(sessions, clock, applicant_phone="+966501234568", text="طلب حضوري اليوم")
    portal = await submit(client, applicant_phone="+966501234569", text="طلب من البوابة اليوم")
    await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    await sign_in(client, "desk")
    page = await (await client.get("/staff?lang=en")).text()
    walk_ins = page[page.index('id="home-walk-ins"') :]
    assert today in walk_ins and yesterday not in walk_ins and portal not in walk_ins
    assert "1 request taken at the desk today" in walk_ins
    assert "0 audiences expected today" in page


async def test_the_official_sees_his_open_directives_and_follow_up_the_overdue(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number = await submit(client)
    other = await submit(client, applicant_phone="+966501234568", text="طلب ثان لجهة أخرى")
    await add_department(sessions, "housing_dept", name_ar="وزارة الإسكان", name_en="Ministry of Housing")
    official = await make_staff(sessions, clock, Role.OFFICIAL, "official")
    someone_else = await make_staff(sessions, clock, Role.OFFICIAL, "official2")
    async with transaction(sessions) as session:
        for tracking, actor in ((number, official), (other, someone_else)):
            case = await cases.find_by_tracking_number(session=session, tracking_number=tracking)
            assert case is not None
            locked = (await cases.lock_cases(session=session, case_ids=[case.id]))[case.id]
            chosen = await referrals.departments_by_code(session=session, codes=["housing_dept"])
            await referrals.refer(
                session=session,
                clock=clock,
                case=locked,
                department_ids=[d.id for d in chosen],
                directive="يُنظر في طلبه",
                source=ReferralSource.AUDIENCE,
                category_code=None,
                urgency=None,
                actor_id=actor.id,
                status_url=URL,
            )
    await make_staff(sessions, clock, Role.FOLLOW_UP, "followup")

    await sign_in(client, "official")
    page = await (await client.get("/staff?lang=en")).text()
    directives = page[page.index('id="home-directives"') :]
    assert number in directives and other not in directives  # his own, not another official's
    assert "1 directive not yet answered by its department" in directives
    assert "Ministry of Housing" in directives

    await sign_in(client, "followup")
    calm = await (await client.get("/staff?lang=en")).text()
    assert "0 referrals past their deadline" in calm and number not in calm
    clock.advance(timedelta(days=90))
    await sign_in(client, "followup")  # the earlier session has long ended
    late = await (await client.get("/staff?lang=en")).text()
    overdue = late[late.index('id="home-overdue"') :]
    assert number in overdue and other in overdue
    assert "2 referrals past their deadline" in overdue


async def test_managers_and_auditors_see_the_reports_their_role_may_open(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    await make_staff(sessions, clock, Role.AUDITOR, "auditor")
    await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    await sign_in(client, "manager")
    home = await (await client.get("/staff")).text()
    assert 'href="/reports"' in home and 'id="home-reviews-overdue"' in home
    listed = await (await client.get("/reports")).text()
    for path in ("/reports/statistics", "/reports/fairness", "/reports/access", "/quality/reviews"):
        assert f'href="{path}"' in listed, path
    for path in ("/reports/statistics", "/reports/fairness", "/reports/access", "/quality/reviews"):
        assert (await client.get(path, allow_redirects=False)).status != 403, path
    await sign_in(client, "auditor")
    listed = await (await client.get("/reports")).text()
    assert 'href="/audit/placements"' in listed and 'href="/reports/fairness"' in listed
    # Personal data's access log is the managers'; the auditor is not offered a page that would refuse him.
    assert 'href="/reports/access"' not in listed and 'href="/quality/reviews"' not in listed
    assert (await client.get("/reports/access", allow_redirects=False)).status == 403
    await sign_in(client, "desk")
    assert (await client.get("/reports", allow_redirects=False)).status == 403
