"""The administrator's audit log: labels and values instead of codes and JSON, 50 entries a page, newest first."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import audit
from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.factories import Client, make_staff, sign_in

Sessions = async_sessionmaker[AsyncSession]
ROW = re.compile(r'<tr id="entry-(\d+)">')


async def logged(sessions: Sessions, clock: FrozenClock, count: int, actor_id: int) -> None:
    async with transaction(sessions) as session:
        for i in range(count):
            clock.advance(timedelta(minutes=1))
            await audit.record(
                session=session,
                clock=clock,
                actor_id=actor_id,
                action="calendar.session.lock",
                target_type="audience_session",
                target_id=i + 1,
            )


async def test_an_entry_reads_as_labels_and_values_with_old_and_new(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    admin = await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    async with transaction(sessions) as session:
        await audit.record(
            session=session,
            clock=clock,
            actor_id=admin.id,
            action="triage.classify",
            target_type="case",
            target_id="6-000005-26",
            details={
                "before": {"category": "housing", "urgency": None},
                "after": {"category": "qisas", "urgency": "critical"},
                "name_ar": "قاعة الاستقبال",
                "active": True,
            },
        )
        await audit.record(
            session=session, clock=clock, actor_id=None, action="a.new_action", target_type="thing", target_id=7
        )
    await sign_in(client, "admin")
    page = await (await client.get("/admin/audit")).text()
    assert "تصنيف طلب" in page and "الطلب" in page  # the action and the record, in words
    assert '<bdi dir="ltr" class="ltr">6-000005-26</bdi>' in page
    assert "درجة الاستعجال" in page and "حرجة" in page  # the urgency field's label and its value's
    assert "قاعة الاستقبال" in page and "\\u" not in page and "&#34;" not in page  # no JSON, no escapes
    assert "الاسم بالعربية" in page and "نعم" in page  # a field's label; a yes/no value
    # Old → new, each category by its name rather than its code ("housing").
    assert re.search(r"<dd><bdi>الإسكان</bdi> <span[^>]*>←</span> <bdi>قضايا القصاص</bdi></dd>", page)
    assert "triage.classify" not in page
    # An action not named yet is shown as its code rather than hidden; nobody's action is the system's.
    assert '<bdi dir="ltr" class="ltr">a.new_action</bdi>' in page and "النظام" in page


async def test_fifty_entries_a_page_newest_first_with_links_both_ways(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    admin = await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    await sign_in(client, "admin")  # the sign-in is logged too
    await logged(sessions, clock, 110, admin.id)
    first = await (await client.get("/admin/audit")).text()
    ids = [int(i) for i in ROW.findall(first)]
    assert len(ids) == 50 and ids == sorted(ids, reverse=True)
    assert 'href="/admin/audit?page=2"' in first and 'rel="prev"' not in first
    second = await (await client.get("/admin/audit?page=2")).text()
    later = [int(i) for i in ROW.findall(second)]
    assert len(later) == 50 and max(later) < min(ids)
    assert 'rel="prev" href="/admin/audit"' in second and 'href="/admin/audit?page=3"' in second
    last = await (await client.get("/admin/audit?page=3")).text()
    rest = [int(i) for i in ROW.findall(last)]
    assert 1 <= len(rest) <= 50 and len(ids) + len(later) + len(rest) >= 111 and 'rel="next"' not in last
    assert "الصفحة" in last and '<bdi dir="ltr" class="ltr">3</bdi>' in last
    await client.get("/lang/en?next=/admin/audit")
    english = await (await client.get("/admin/audit?page=2")).text()
    assert "Newer entries" in english and "Older entries" in english and "Session locked" in english


async def test_a_page_that_is_not_a_number_is_refused_by_name(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    await sign_in(client, "admin")
    for bad in ("0", "-1", "abc", "٣", "9" * 12):
        response = await client.get("/admin/audit", params={"page": bad})
        assert response.status == 400, bad
        assert "الصفحة" in await response.text()
    # Past the last page (the link was real before the list changed): the last page (web/pagination.py).
    beyond = await client.get("/admin/audit?page=999")
    text = await beyond.text()
    assert beyond.status == 200 and ROW.search(text) and '<bdi dir="ltr" class="ltr">1</bdi>' in text


async def test_only_the_administrator_reads_the_log(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    await sign_in(client, "manager")
    assert (await client.get("/admin/audit", allow_redirects=False)).status == 403
