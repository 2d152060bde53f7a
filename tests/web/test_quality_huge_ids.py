"""Service quality's pages and API given an id past the database's 32-bit keys, on SQLite and PostgreSQL: a clear
4xx, never a 500 (PostgreSQL refuses such a number as a parameter, SQLite does not)."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from tests.factories import Client, csrf_token, make_staff, sign_in
from tests.web.test_rating_pages import browser

Sessions = async_sessionmaker[AsyncSession]
HUGE = "999999999999"  # 12 digits: more than any 32-bit key


async def test_huge_ids_are_refused_with_a_4xx(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    await sign_in(client, "protocol")
    token = await csrf_token(client, "/manage/desk-tablets")
    page = await client.post("/manage/desk-tablets", data={"branch": "riyadh", "name": "Desk 1", "csrf_token": token})
    link = re.search(r'href="http[^"]+(/rate-tablet/enrol/[^"]+)"', await page.text())
    assert link is not None

    revoked = await client.post(f"/manage/desk-tablets/{HUGE}/revoke", data={"csrf_token": token})
    assert revoked.status == 404  # web.hostile_input: a path's id past the keys names nothing
    for tablet in (HUGE, "2147483648", "0", "١٢"):
        paired = await client.post("/desk/tablet", data={"tablet": tablet, "csrf_token": token})
        assert paired.status == 422, tablet

    await client.post("/logout", data={"csrf_token": token})
    await sign_in(client, "manager")
    token = await csrf_token(client, "/quality/reviews")
    assert (await client.post(f"/quality/reviews/{HUGE}", data={"csrf_token": token, "note": "x"})).status == 404
    assert (await client.get(f"/quality/reviews?day={HUGE}")).status == 422
    headers = {"X-CSRF-Token": (await (await client.get("/api/v1/session")).json())["csrf_token"]}
    api = await client.post(f"/api/v1/quality/reviews/{HUGE}", json={"note": "x"}, headers=headers)
    assert api.status == 404 and (await api.json())["error"] == "not_found"
    page_month = await client.get(f"/reports/quality-monthly?department={HUGE}&month=2026-11")
    assert page_month.status == 400
    api_month = await client.get(f"/api/v1/quality/monthly?department={HUGE}&month=2026-11")
    assert api_month.status == 422 and (await api_month.json())["fields"][0]["field"] == "department"
    unknown = await client.get("/api/v1/quality/monthly?department=999999999&month=2026-11")
    assert unknown.status == 404

    # The tablet rates an invitation past the keys: the path names nothing.
    tablet_browser: TestClient = browser(client)  # type: ignore[type-arg]
    try:
        assert (await tablet_browser.get(link.group(1), allow_redirects=False)).status == 303
        form_token = await csrf_token(tablet_browser)
        rated = await tablet_browser.post(
            f"/rate-tablet/{HUGE}", data={"score": "5", "csrf_token": form_token}, allow_redirects=False
        )
        assert rated.status == 404
    finally:
        await tablet_browser.close()
