"""Dates typed in the Hijri calendar, on SQLite and PostgreSQL: every form that takes a day reads it through
majlis.hijri.read_day (a holiday, a department's day off, a report's day and period), and the date picker's
months come from GET /api/v1/calendar/month."""

from __future__ import annotations

import html
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.dates import dual_date
from majlis.hijri import DAY_EXAMPLE, NOT_A_DATE, OUT_OF_RANGE
from scheduler import calendar
from tests.factories import Client, csrf_token, make_staff, sign_in
from web.i18n import Catalogs
from worktime import editing

Sessions = async_sessionmaker[AsyncSession]
CATALOGS = Catalogs()
# 10 Rajab 1448, a Saturday: the clock's day (Tuesday 24 November 2026) is 14 Jumada al-Akhirah 1448.
RAJAB_10 = date(2026, 12, 19)


async def signed_in(client: Client, sessions: Sessions, clock: FrozenClock, role: Role) -> None:
    await make_staff(sessions, clock, role, role.value)
    await sign_in(client, role.value)


async def holidays(sessions: Sessions) -> list[date]:
    async with sessions() as session:
        return [h.day for h in await calendar.holidays(session=session)]


async def test_a_holiday_typed_in_hijri_lands_on_its_gregorian_day(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await signed_in(client, sessions, clock, Role.PROTOCOL)
    token = await csrf_token(client, "/protocol/holidays")
    added = await client.post(
        "/protocol/holidays", data={"day": "١٤٤٨-٠٧-١٠", "name": "يوم", "csrf_token": token}, allow_redirects=False
    )
    assert added.status == 303
    assert await holidays(sessions) == [RAJAB_10]
    assert dual_date(RAJAB_10, "ar") in await (await client.get("/protocol/holidays")).text()

    date_ar = CATALOGS.gettext("ar", "Date")
    for typed, message in (
        ("1448-06-30", CATALOGS.gettext("ar", NOT_A_DATE, field=date_ar)),
        ("1342-12-29", CATALOGS.gettext("ar", OUT_OF_RANGE, field=date_ar, first="1924-08-01", last="2077-11-16")),
    ):
        refused = await client.post("/protocol/holidays", data={"day": typed, "name": "يوم", "csrf_token": token})
        page = html.unescape(await refused.text())
        assert refused.status == 422 and message in page
        assert f'value="{typed}"' in page  # kept as typed, to be corrected
    assert await holidays(sessions) == [RAJAB_10]  # nothing half-saved


async def test_a_department_day_off_typed_in_hijri(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await signed_in(client, sessions, clock, Role.ADMINISTRATOR)
    token = await csrf_token(client, "/followup/calendars/government")
    page = await (await client.get("/followup/calendars/government")).text()
    assert "data-date-picker" in page and "hijri_picker.js" in page
    added = await client.post(
        "/followup/calendars/government/holidays",
        data={"day": "1448-07-10", "name": "يوم", "csrf_token": token},
        allow_redirects=False,
    )
    assert added.status == 303
    async with sessions() as session:
        [holiday] = (await editing.view(session=session, code="government")).holidays
    assert holiday.day == RAJAB_10
    refused = await client.post(
        "/followup/calendars/government/holidays", data={"day": "1448-13-01", "name": "يوم", "csrf_token": token}
    )
    assert refused.status == 422


async def test_report_days_and_periods_in_hijri(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await signed_in(client, sessions, clock, Role.MANAGER)
    day = await client.get("/reports/day?day=١٤٤٨-٠٦-١٣")
    assert day.status == 200 and dual_date(date(2026, 11, 23), "ar") in await day.text()
    wrong = await client.get("/reports/day?day=1448-06-31")
    assert wrong.status == 422 and CATALOGS.gettext("ar", DAY_EXAMPLE) in html.unescape(await wrong.text())
    period = await client.get("/reports/statistics?period=custom&from=1448-06-01&to=1448-06-13")
    page = await period.text()
    assert period.status == 200 and dual_date(date(2026, 11, 11), "ar") in page
    assert dual_date(date(2026, 11, 23), "ar") in page


async def test_the_picker_s_months(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    assert (await client.get("/api/v1/calendar/month")).status == 401
    await signed_in(client, sessions, clock, Role.AUDITOR)
    rajab = await (await client.get("/api/v1/calendar/month?calendar=hijri&year=1448&month=7")).json()
    assert (rajab["calendar"], rajab["title"]) == ("hijri", "رجب 1448 هـ")
    assert rajab["days"][9] == {
        "iso": "2026-12-19",
        "hijri": "1448-07-10",
        "gregorian_day": 19,
        "hijri_day": 10,
        "column": 6,
        "label": dual_date(RAJAB_10, "ar"),
    }
    assert (rajab["previous"], rajab["next"]) == ({"year": 1448, "month": 6}, {"year": 1448, "month": 8})
    assert rajab["today"] == "2026-11-24" and rajab["asked"] is None
    assert rajab["weekdays"][0]["short"] == "الأحد"
    around = await (await client.get("/api/v1/calendar/month?calendar=gregorian&day=١٤٤٨-٠٧-١٠")).json()
    assert (around["year"], around["month"], around["asked"], len(around["days"])) == (2026, 12, "2026-12-19", 31)
    assert around["days"][0]["column"] == 2  # 1 December 2026 is a Tuesday
    # The auditor's period of placements, typed in Hijri too.
    assert (await client.get("/audit/placements?since=١٤٤٨-٠٦-٠١&until=1448-06-13")).status == 200
    assert (await client.get("/audit/placements?since=1448-06-30")).status == 422
    today = await (await client.get("/api/v1/calendar/month")).json()
    assert (today["calendar"], today["year"], today["month"]) == ("hijri", 1448, 6)

    for query, field in (
        ("calendar=hijri&year=1501&month=1", "year"),
        ("calendar=hijri&year=1448&month=13", "month"),
        ("calendar=hijri&year=x&month=1", "year"),
        ("calendar=julian", "calendar"),
        ("calendar=hijri&day=1448-06-30", "day"),
    ):
        refused = await client.get(f"/api/v1/calendar/month?{query}")
        body = await refused.json()
        assert refused.status == 422, query
        assert body["fields"][0]["field"] == field
        assert set(body["fields"][0]["messages"]) == {"ar", "en"}
