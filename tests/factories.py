"""Builders for test data: staff, request payloads, signed-in clients."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import service as accounts
from accounts import sessions as staff_sessions
from accounts.models import StaffUser
from accounts.roles import Role
from cases.intake import RequestDetails, check_request
from emergency import directory as missions
from followup import directory
from majlis.clock import Clock
from majlis.db import transaction
from web.keys import CLOCK, SESSIONS
from web.security import SESSION_COOKIE

PASSWORD = "correct-horse-battery"
TEST_DEPARTMENT = "test-department"
TEST_MISSION = "test-mission"
Client = TestClient[web.Request, web.Application]

_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def api_payload(**overrides: Any) -> dict[str, Any]:
    """A valid API request body; overrides replace top-level keys, applicant_* keys the applicant's."""
    applicant = {
        "kind": "citizen",
        "national_id": "1000000008",
        "name": "نورة عبدالله",
        "gender": "female",
        "phone": "+966501234567",
        "email": "noura@example.sa",
        "language": "ar",
    }
    body: dict[str, Any] = {
        "applicant": applicant,
        "kind": "audience_video",
        "subject": "طلب مقابلة",
        "text": "أرجو مقابلة المسؤول بخصوص قضية أسرية.",
        "branch": "riyadh",
        "channel": "portal",
    }
    for key, value in overrides.items():
        if key.startswith("applicant_"):
            applicant[key.removeprefix("applicant_")] = value
        else:
            body[key] = value
    return body


def form_data(**overrides: str) -> dict[str, str]:
    """A valid web form, field by field."""
    data = {
        "applicant.kind": "citizen",
        "applicant.id_number": "1000000008",
        "applicant.name": "نورة عبدالله",
        "applicant.gender": "female",
        "applicant.phone": "0501234567",
        "applicant.email": "",
        "applicant.language": "ar",
        "kind": "audience_in_person",
        "subject": "طلب مقابلة",
        "text": "أرجو مقابلة المسؤول بخصوص قضية أسرية.",
        "branch": "riyadh",
    }
    data.update(overrides)
    return data


def details(**overrides: Any) -> RequestDetails:
    body = api_payload(**overrides)
    applicant = dict(body["applicant"])
    applicant["id_number"] = applicant.pop("national_id", None) or applicant.pop("iqama", None)
    return check_request(applicant, body)


async def make_staff(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    role: Role,
    username: str | None = None,
    gender: str | None = None,
    department_code: str = "",
    mission_code: str = "",
) -> StaffUser:
    """A member of staff; a woman in the women's section, a man elsewhere, unless `gender` says otherwise.

    A department liaison belongs to `department_code`, by default a department made for the tests; a mission's
    staff to `mission_code`, by default a mission made for the tests.
    """
    async with transaction(sessions) as session:
        if role is Role.DEPARTMENT_LIAISON and not department_code:
            department_code = await _test_department(session, clock)
        if role is Role.MISSION_STAFF and not mission_code:
            mission_code = await _test_mission(session, clock)
        return await accounts.create_user(
            session=session,
            clock=clock,
            username=username or role.value.replace("_", ""),
            full_name=f"Staff {role.value}",
            role=role,
            gender=gender or ("female" if role is Role.WOMEN_SECTION else "male"),
            password=PASSWORD,
            department_code=department_code,
            mission_code=mission_code,
        )


async def _test_department(session: AsyncSession, clock: Clock) -> str:
    """The code of a department for liaison accounts of tests that need no particular one."""
    try:
        return (await directory.department_by_code(session=session, code=TEST_DEPARTMENT)).code
    except directory.DepartmentNotFound:
        data = directory.DepartmentInput(
            TEST_DEPARTMENT, "إدارة الاختبار", "Test department", "", "government", "tests@example.org"
        )
        return (await directory.add_department(session=session, clock=clock, actor_id=None, data=data)).code


async def _test_mission(session: AsyncSession, clock: Clock) -> str:
    """The code of a mission for mission staff accounts of tests that need no particular one."""
    try:
        return (await missions.mission_by_code(session=session, code=TEST_MISSION)).code
    except missions.MissionNotFound:
        data = missions.MissionInput(
            code=TEST_MISSION,
            kind="embassy",
            name_ar="بعثة الاختبار",
            name_en="Test mission",
            country="BH",
            time_zone="Asia/Bahrain",
            email="mission@example.org",
            head_name="Head of the test mission",
            head_email="head@example.org",
            head_phone="+97336001234",
            hours="Sun-Thu 08:00-15:00",
        )
        return (await missions.add_mission(session=session, clock=clock, actor_id=None, data=data)).code


async def csrf_token(client: Client, path: str = "/login") -> str:
    """The CSRF token of a page (which also sets the browser's CSRF cookie)."""
    response = await client.get(path)
    match = _CSRF.search(await response.text())
    assert match, f"no CSRF token on {path}"
    return match.group(1)


async def sign_in(client: Client, username: str, password: str = PASSWORD) -> None:
    token = await csrf_token(client)
    response = await client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}, allow_redirects=False
    )
    assert response.status == 303, await response.text()
    if response.headers["Location"].startswith(("/login/code", "/login/enrol")):
        await pass_second_factor(client)


async def pass_second_factor(client: Client) -> None:
    """Marks the client's waiting sign-in verified, as a right code would: tests of other pages skip the step,
    which tests/web/test_two_factor.py and tests/e2e/test_two_factor.py go through for real."""
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/")).get(SESSION_COOKIE)
    assert cookie is not None, "no session cookie after the password"
    async with transaction(client.app[SESSIONS]) as session:
        await staff_sessions.verify_session(
            session=session, clock=client.app[CLOCK], token=cookie.value, max_per_user=None
        )
