"""Protocol's day board and the day's report as pages, on SQLite and PostgreSQL: roles, care tasks, refusals."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from audience_day.models import CareKind, CareTask, TaskState
from majlis.clock import FrozenClock
from tests.audience_day.arrange import at, check_in
from tests.audience_day.test_care import cared_day, task_of
from tests.audience_day.test_report import arranged_day
from tests.factories import Client, csrf_token, make_staff, sign_in
from tests.web.notices_seen import shown_once

Sessions = async_sessionmaker[AsyncSession]


async def signed_in_as(client: Client, sessions: Sessions, clock: FrozenClock, role: Role, username: str) -> str:
    """Signs in a new member of staff with the role (signing out whoever was in); gives a CSRF token."""
    await make_staff(sessions, clock, role, username)
    client.session.cookie_jar.clear()
    await sign_in(client, username)
    return await csrf_token(client, "/staff")


def row_of(page: str, appointment_id: int) -> str:
    match = re.search(rf'<tr id="appointment-{appointment_id}".*?</tr>', page, re.S)
    assert match, f"no row for appointment {appointment_id}"
    return match.group(0)


async def test_only_protocol_opens_the_board_and_the_report_is_for_its_readers(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await cared_day(sessions, clock)
    for role, board, report in (
        (Role.INTAKE_DESK, 403, 403),
        (Role.OFFICIAL, 403, 200),
        (Role.MANAGER, 403, 200),
        (Role.PROTOCOL, 200, 200),
    ):
        token = await signed_in_as(client, sessions, clock, role, role.value.replace("_", ""))
        page = await client.get("/protocol/day")
        assert page.status == board, role
        if board == 403:
            assert "هذه الصفحة غير مخصصة لدورك." in await page.text()
        assert (await client.get("/reports/day")).status == report, role
        async with sessions() as session:
            first = await session.scalar(select(CareTask.id).order_by(CareTask.id))
        # Before protocol opens the board no task exists: the refusal comes before any look-up.
        posted = await client.post(
            f"/protocol/day/tasks/{first or 1}/done", data={"csrf_token": token}, allow_redirects=False
        )
        assert posted.status == (403 if board == 403 else 303), role
    async with sessions() as session:
        found = list(await session.scalars(select(CareTask).order_by(CareTask.id)))
    # Protocol's look made the three tasks; only protocol's press marked one done.
    assert [t.state for t in found] == [TaskState.DONE, TaskState.OPEN, TaskState.OPEN]


async def test_protocol_sees_the_day_and_assigns_and_closes_care_tasks(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    day = await cared_day(sessions, clock)
    escort = (await make_staff(sessions, clock, Role.PROTOCOL, "escort")).id
    desk_id = (await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")).id
    clock.set(at(29, 9, 40))
    await check_in(sessions, clock, day[0].appointment_id)
    clock.set(at(29, 9, 52))
    token = await signed_in_as(client, sessions, clock, Role.PROTOCOL, "protocol")

    page = await client.get("/protocol/day")
    assert page.status == 200
    text = await page.text()
    assert 'dir="rtl"' in text and "يوم اللقاء" in text
    # The cancelled appointment is not expected today; the other three are listed.
    for i in (0, 1, 2):
        assert day[i].tracking_number in text
    assert day[3].tracking_number not in text
    first = row_of(text, day[0].appointment_id)
    # The queue number, the time of arrival and the minutes waited read left to right inside the Arabic row.
    assert '<bdi dir="ltr" class="ltr queue-number">1</bdi>' in first
    assert '<bdi dir="ltr" class="ltr">09:40</bdi>' in first and '<bdi dir="ltr" class="ltr">12</bdi> دقيقة' in first
    assert "ما زال بالانتظار" in first
    # The applicant's name is set apart from the Arabic around it (an English name would otherwise run into it).
    assert re.search(rf'<bdi>[^<]+</bdi> <bdi dir="ltr" class="ltr">{day[0].tracking_number}</bdi>', first)
    assert "مرافقة كرسي متحرك" in first and "مترجم مرافق" in first
    assert "مرافقة مراجع من كبار السن" in row_of(text, day[2].appointment_id)
    wheelchair = await task_of(sessions, day[0].appointment_id, CareKind.WHEELCHAIR)
    assert f'action="/protocol/day/tasks/{wheelchair.id}/done"' in first

    # Another branch's board shows none of them.
    assert day[0].tracking_number not in await (await client.get("/protocol/day?branch=jeddah")).text()

    # Assigned to a colleague of protocol; not to the intake desk.
    assigned = await client.post(
        f"/protocol/day/tasks/{wheelchair.id}/assign?branch=riyadh",
        data={"csrf_token": token, "staff": str(escort)},
        allow_redirects=False,
    )
    assert (assigned.status, assigned.headers["Location"]) == (303, "/protocol/day?branch=riyadh")
    await shown_once(client, assigned, "أُسندت المهمة.")
    assert (await task_of(sessions, day[0].appointment_id, CareKind.WHEELCHAIR)).assigned_to_id == escort
    assert "مسندة إلى <bdi>Staff protocol</bdi>" in row_of(
        await (await client.get("/protocol/day")).text(), day[0].appointment_id
    )
    desk = await client.post(
        f"/protocol/day/tasks/{wheelchair.id}/assign", data={"csrf_token": token, "staff": str(desk_id)}
    )
    assert desk.status == 422
    assert "لا تُسند مهام الرعاية إلا إلى موظفي المراسم الفاعلين." in await desk.text()
    assert (await task_of(sessions, day[0].appointment_id, CareKind.WHEELCHAIR)).assigned_to_id == escort

    done = await client.post(
        f"/protocol/day/tasks/{wheelchair.id}/done", data={"csrf_token": token}, allow_redirects=False
    )
    assert (done.status, done.headers["Location"]) == (303, "/protocol/day")
    await shown_once(client, done, "سُجِّلت المهمة منجزة.")
    finished = await task_of(sessions, day[0].appointment_id, CareKind.WHEELCHAIR)
    assert (finished.state, finished.done_at) == (TaskState.DONE, at(29, 9, 52))
    after = row_of(await (await client.get("/protocol/day")).text(), day[0].appointment_id)
    assert "نُفذت المهمة" in after and f'action="/protocol/day/tasks/{wheelchair.id}/done"' not in after

    # Pressed again later (another tablet, an old page): a clear answer, and nothing changes.
    clock.advance(timedelta(minutes=7))
    again = await client.post(f"/protocol/day/tasks/{wheelchair.id}/done", data={"csrf_token": token})
    assert again.status == 422
    assert "سُجل تنفيذ هذه المهمة من قبل عند الساعة 09:52." in await again.text()
    unchanged = await task_of(sessions, day[0].appointment_id, CareKind.WHEELCHAIR)
    assert (unchanged.state, unchanged.done_at, unchanged.done_by_id) == (
        TaskState.DONE,
        finished.done_at,
        finished.done_by_id,
    )

    # A task that is not there is not found, never a server error.
    for action in ("done", "assign"):
        missing = await client.post(
            f"/protocol/day/tasks/999999/{action}", data={"csrf_token": token, "staff": str(escort)}
        )
        assert missing.status == 404, action
    assert (await client.post("/protocol/day/tasks/x/done", data={"csrf_token": token})).status == 404
    # Without the form's token nothing is done.
    interpreter = await task_of(sessions, day[0].appointment_id, CareKind.INTERPRETER)
    forged = await client.post(f"/protocol/day/tasks/{interpreter.id}/done", data={})
    assert forged.status == 403
    assert (await task_of(sessions, day[0].appointment_id, CareKind.INTERPRETER)).state is TaskState.OPEN


async def test_the_days_report_page(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await arranged_day(sessions, clock)
    await signed_in_as(client, sessions, clock, Role.MANAGER, "manager")
    page = await client.get("/reports/day?day=2026-11-29")
    assert page.status == 200
    text = await page.text()
    timing = re.search(r'<dl class="summary" id="timing">.*?</dl>', text, re.S)
    counts = re.search(r'<dl class="summary" id="counts">.*?</dl>', text, re.S)
    assert timing and counts
    assert "<dd>4</dd>" in timing.group(0)  # audiences timed
    assert "6.5 دقيقة" in timing.group(0) and "6 دقيقة" in timing.group(0) and "16.8 دقيقة" in timing.group(0)
    assert "<dd>6</dd>" in counts.group(0) and "في الموعد: 3، متأخرون: 1" in counts.group(0)
    assert text.count('class="over-reference"') == 2
    assert "متوسط مدة بقاء المراجع في المركز 6 دقائق" in text
    # Today (the clock's Sunday afternoon) is the default; a day that cannot be read is said so.
    today = await (await client.get("/reports/day")).text()
    assert "6.5 دقيقة" in today and "<dd>6</dd>" in today
    bad = await client.get("/reports/day?day=29-11-2026")
    assert bad.status == 422 and "أدخل اليوم بالصيغة YYYY-MM-DD، مثل 2026-11-03" in await bad.text()
