"""A success notice after the staff actions whose own tests do not reach them (issue 20, point 6), on SQLite and
PostgreSQL: each redirect's next page says once what was done, and the page after says nothing. The other actions
are checked in their own pages' tests (tests.web.notices_seen)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from emergency.models import DutyShift, MissionCoverage
from followup.models import DepartmentContact
from majlis.clock import FrozenClock
from majlis.dates import dual_date
from scheduler.models import AudienceSession
from tests.factories import Client, csrf_token, make_staff, sign_in
from tests.web.notices_seen import isolated, shown_once
from tests.web.test_emergency_directory import mission_form, shift_form
from tests.web.test_followup_directory import as_admin, contact_form, department_form
from tests.web.test_protocol import add_hall_and_template, protocol_client
from worktime import editing

Sessions = async_sessionmaker[AsyncSession]


async def test_a_mission_s_details_flags_coverage_and_roster_each_say_what_was_done(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.CONSULAR_SUPERVISOR, "supervisor")
    await sign_in(client, "supervisor")
    token = await csrf_token(client, "/emergency/missions")
    await client.post("/emergency/missions", data=mission_form(token, "au-sydney"))
    base = "/emergency/missions/au-sydney"
    saved = await client.post(
        base, data=mission_form(token, "au-sydney", email="new@example.org"), allow_redirects=False
    )
    await shown_once(client, saved, "حُفظت بيانات البعثة.")
    cover = {"csrf_token": token, "cover.country": "AU", "cover.city_ar": "", "cover.city_en": ""}
    await client.post(base + "/coverage", data=cover)
    await client.post(base + "/shifts", data=shift_form(token))
    async with sessions() as session:
        coverage_id = await session.scalar(select(MissionCoverage.id))
        shift_id = await session.scalar(select(DutyShift.id))
    removed = await client.post(f"{base}/coverage/{coverage_id}/remove", data=cover, allow_redirects=False)
    await shown_once(client, removed, "أُزيل المكان من نطاق تغطية البعثة.")
    dropped = await client.post(f"{base}/shifts/{shift_id}/remove", data={"csrf_token": token}, allow_redirects=False)
    await shown_once(client, dropped, "أُزيلت المناوبة من جدول المناوبات.")
    off = await client.post(base + "/active", data={"csrf_token": token, "active": "0"}, allow_redirects=False)
    await shown_once(client, off, "أُوقفت البعثة.")
    back = await client.post(base + "/active", data={"csrf_token": token, "active": "1"}, allow_redirects=False)
    await shown_once(client, back, "أُعيدت البعثة إلى الخدمة.")
    for live, said in (
        ("1", "أصبحت البعثة مفعّلة على خط الطوارئ: تصل إليها بلاغاتها الآن."),
        ("0", "أُخرجت البعثة من خط الطوارئ."),
    ):
        flag = {"csrf_token": token, "live": live}
        await shown_once(client, await client.post(base + "/live", data=flag, allow_redirects=False), said)


async def test_departments_contacts_and_calendars_each_say_what_was_done(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    token = await as_admin(client, sessions, clock)
    await client.post("/followup/departments", data=department_form(token, "health"))
    off = await client.post(
        "/followup/departments/health/active", data={"csrf_token": token, "active": "0"}, allow_redirects=False
    )
    await shown_once(client, off, "أُوقفت الجهة.")
    on = await client.post(
        "/followup/departments/health/active", data={"csrf_token": token, "active": "1"}, allow_redirects=False
    )
    await shown_once(client, on, "أُعيدت الجهة إلى الخدمة.")
    await client.post("/followup/departments/health/contacts", data=contact_form(token))
    async with sessions() as session:
        contact_id = await session.scalar(select(DepartmentContact.id))
    path = f"/followup/departments/health/contacts/{contact_id}/active"
    stopped = await client.post(path, data={"csrf_token": token, "active": "0"}, allow_redirects=False)
    await shown_once(client, stopped, "أُوقفت جهة الاتصال.")
    again = await client.post(path, data={"csrf_token": token, "active": "1"}, allow_redirects=False)
    await shown_once(client, again, "أُعيدت جهة الاتصال إلى الخدمة.")

    calendar = {"csrf_token": token, "code": "er", "name_ar": "الطوارئ", "name_en": "ER", "time_zone": "Asia/Dubai"}
    await client.post("/followup/calendars", data=calendar)
    saved = await client.post("/followup/calendars/er", data={**calendar, "name_en": "ER"}, allow_redirects=False)
    await shown_once(client, saved, "حُفظ التقويم.")
    for weekday in ("3", "4"):  # a calendar keeps some working hours: the second of two is removed
        hours_form = {"csrf_token": token, "weekday": weekday, "opens": "08:00", "closes": "14:00"}
        await client.post("/followup/calendars/er/hours", data=hours_form)
    async with sessions() as session:
        hours = (await editing.view(session=session, code="er")).hours[-1]
    removed = await client.post(
        f"/followup/calendars/er/hours/{hours.id}/remove", data={"csrf_token": token}, allow_redirects=False
    )
    await shown_once(client, removed, "أُزيلت ساعات الدوام.")


async def test_a_room_s_roster_and_use_and_a_session_s_lock_each_say_what_was_done(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    token = await protocol_client(client, sessions, clock)
    await add_hall_and_template(client, token)
    colleague = await make_staff(sessions, clock, Role.PROTOCOL, "colleague")
    duty = {"csrf_token": token, "staff": str(colleague.id), "starts": "09:00", "ends": "13:00"}
    on_duty = await client.post("/protocol/rooms/1/roster?day=2026-11-29", data=duty, allow_redirects=False)
    # The day in both calendars, as the page names days.
    day = isolated(dual_date(date(2026, 11, 29), "ar"))
    await shown_once(client, on_duty, f"كُلِّف الموظف بالمناوبة في الغرفة يوم {day}.")
    stopped = await client.post(
        "/protocol/rooms/1/active", data={"csrf_token": token, "active": "0"}, allow_redirects=False
    )
    await shown_once(client, stopped, "أُخرجت الغرفة من الاستخدام: لا تُحدَّد فيها جلسات جديدة.")
    async with sessions() as session:
        session_id = await session.scalar(select(AudienceSession.id).order_by(AudienceSession.starts_at))
    lock = f"/protocol/sessions/{session_id}/lock"
    locked = await client.post(
        lock, data={"csrf_token": token, "locked": "1", "back": "/protocol"}, allow_redirects=False
    )
    await shown_once(client, locked, "أُقفلت الجلسة: لا يغيّر التوزيع الآلي شيئًا فيها.")
    unlocked = await client.post(
        lock, data={"csrf_token": token, "locked": "0", "back": "/protocol"}, allow_redirects=False
    )
    await shown_once(client, unlocked, "فُتح قفل الجلسة.")
