"""The emergency line's monthly report over HTTP: the ministry's page with its charts and tables by country and by
mission in Arabic and English, the CSV and XLSX downloads, the JSON, a bad month named, and other roles refused."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest

from accounts.roles import Role
from majlis.clock import FrozenClock
from tests.emergency.month_arrange import Arranged, Sessions, arranged_month, at
from tests.factories import Client, make_staff, sign_in

NOVEMBER = "/reports/emergency?month=2026-11"


async def arranged(
    client: Client, sessions: Sessions, clock: FrozenClock, role: Role = Role.CONSULAR_SUPERVISOR
) -> Arranged:
    month = await arranged_month(sessions)
    clock.set(at(12, 2, 9))
    await make_staff(sessions, clock, role, "reader")
    await sign_in(client, "reader")
    return month


def row(page: str, row_id: str) -> list[str]:
    """The numbers of one row, as the table shows them."""
    found = re.search(rf'<tr id="{row_id}">(.*?)</tr>', page, re.S)
    assert found is not None, row_id
    return re.findall(r'<bdi dir="ltr"(?: class="(?:ltr|number)")?>([^<]*)</bdi>', found.group(1))


async def test_the_page_in_arabic_with_its_charts(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await arranged(client, sessions, clock)
    response = await client.get(NOVEMBER)
    page = await response.text()
    assert response.status == 200, page
    assert "<h1>تقرير خط الطوارئ: نوفمبر 2026</h1>" in page
    # received, acknowledged in time, late, solved in time, late, escalations, open at the end
    assert row(page, "mission-ae-abu-dhabi") == ["3", "2", "1", "1", "1", "2", "2"]
    assert row(page, "mission-ae-dubai") == ["1", "1", "0", "0", "0", "0", "1"]
    assert row(page, "mission-gb-london") == ["0"] * 7
    assert "ليست مفعّلة بعد" in re.search(r'<tr id="mission-gb-london">(.*?)</tr>', page, re.S).group(1)  # type: ignore[union-attr]
    assert row(page, "country-AE") == ["4", "3", "1", "1", "1", "2", "3"]
    assert row(page, "country-GB") == ["1", "0", "0", "0", "0", "0", "1"]
    assert "<bdi>الإمارات العربية المتحدة</bdi>" in page and "<bdi>المملكة المتحدة</bdi>" in page
    assert row(page, "overall-all") == ["5", "3", "1", "1", "1", "2", "4"]
    assert row(page, "overall-life_threatening")[0] == "2" and row(page, "overall-normal")[0] == "1"

    for chart_id in ("country-chart", "mission-chart"):
        svg = re.search(rf'<svg id="{chart_id}".*?</svg>', page, re.S)
        assert svg is not None, chart_id
        chart = svg.group(0)
        assert 'role="img"' in chart and 'direction="rtl"' in chart
        assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in chart
    country_chart = re.search(r'<svg id="country-chart".*?</svg>', page, re.S).group(0)  # type: ignore[union-attr]
    # The UAE's bar: 1 solved in time, 1 late, 3 open, 5 in all; mirrored from the names' column on the right.
    bar = re.search(r"<title>الإمارات العربية المتحدة, [^<]*</title>(.*?)</g>", country_chart, re.S)
    assert bar is not None
    assert re.findall(r"<rect [^>]*fill=\"(#[0-9a-f]+)\"", bar.group(1)) == ["#2e7d32", "#f2b705", "#b3261e"]
    assert re.findall(r'font-weight="bold">(\d+)</text>', bar.group(1)) == ["5"]
    first = re.search(r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', bar.group(1))
    assert first is not None and float(first.group(1)) + float(first.group(2)) == 760 - 250
    assert (
        'href="/reports/emergency.csv?month=2026-11"' in page and 'href="/reports/emergency.xlsx?month=2026-11"' in page
    )
    assert '<option value="2026-11" selected>نوفمبر 2026</option>' in page


async def test_the_page_in_english_for_a_hijri_month_and_a_bad_one(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await arranged(client, sessions, clock, Role.MANAGER)
    await client.get("/lang/en")
    page = await (await client.get(NOVEMBER)).text()
    assert "<h1>Emergency line report: November 2026</h1>" in page and "<bdi>United Arab Emirates</bdi>" in page
    assert 'direction="ltr"' in page and "Not live yet" in page
    # Without a month: the last complete one.
    assert "<h1>Emergency line report: November 2026</h1>" in await (await client.get("/reports/emergency")).text()
    hijri = await (await client.get("/reports/emergency?hijri=1448-06")).text()
    assert "Jumada al-Akhirah 1448 AH" in hijri and row(hijri, "overall-all")[0] == "3"
    bad = await client.get("/reports/emergency?month=2026-13")
    assert bad.status == 422 and "Give the Gregorian month as YYYY-MM" in await bad.text()
    future = await client.get("/reports/emergency?month=2027-02")
    assert future.status == 422 and "This month has not begun yet." in await future.text()


async def test_csv_xlsx_and_json(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await arranged(client, sessions, clock)
    response = await client.get("/reports/emergency.csv?month=2026-11")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert 'filename="emergency-2026-11.csv"' in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert table[0][:4] == ["الجدول", "الرمز", "الاسم", "درجة الخطورة"]
    assert ["الوزارة", "*", "جميع البعثات", "جميع درجات الخطورة", "5", "3", "1", "1", "1", "2", "4"] in table

    xlsx = await client.get("/reports/emergency.xlsx?month=2026-11")
    assert xlsx.status == 200
    with zipfile.ZipFile(io.BytesIO(await xlsx.read())) as book:
        assert 'rightToLeft="1"' in book.read("xl/worksheets/sheet1.xml").decode()

    data = await (await client.get("/api/v1/reports/emergency?month=2026-11")).json()
    assert data["period"] == "2026-11" and data["kind"] == "gregorian"
    assert (data["starts_at"], data["as_of"]) == ("2026-11-01T00:00:00+03:00", "2026-12-01T00:00:00+03:00")
    missions = {m["code"]: m for m in data["missions"]}
    assert data["missions"][0]["code"] == "central-desk"
    ad = missions["ae-abu-dhabi"]
    assert (ad["received"], ad["acknowledged_late"], ad["escalations"], ad["open_at_end"]) == (3, 1, 2, 2)
    assert ad["escalations_by_level"] == [{"level": 1, "count": 1}, {"level": 2, "count": 1}]
    assert ad["by_severity"]["life_threatening"]["received"] == 2 and ad["by_severity"]["normal"]["open_at_end"] == 1
    assert not missions["gb-london"]["live"] and missions["ae-dubai"]["kind"] == "consulate"
    countries = {c["country"]: c for c in data["countries"]}
    assert countries["GB"]["name_en"] == "United Kingdom" and countries["GB"]["received"] == 1
    assert data["overall"]["received"] == 5 and data["overall"]["open_at_end"] == 4

    bad = await client.get("/api/v1/reports/emergency?month=11-2026")
    assert bad.status == 422
    body = await bad.json()
    assert [f["field"] for f in body["fields"]] == ["month"]
    assert body["fields"][0]["messages"]["ar"].startswith("اكتب الشهر الميلادي بالصيغة YYYY-MM")


async def test_the_openapi_document_lists_the_report(client: Client) -> None:
    document = await (await client.get("/openapi.json")).json()
    assert "/api/v1/reports/emergency" in document["paths"]
    schemas = document["components"]["schemas"]
    assert {"EmergencyMonthlyOut", "MonthlyMissionOut", "MonthlyCountryOut", "MonthlyLineOut"} <= set(schemas)
    reply = document["paths"]["/api/v1/reports/emergency"]["get"]["responses"]["200"]
    assert reply["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/EmergencyMonthlyOut"}


@pytest.mark.parametrize("role", [Role.MISSION_STAFF, Role.EMERGENCY_AGENT, Role.FOLLOW_UP])
async def test_other_roles_are_refused(role: Role, client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, role, "other")
    await sign_in(client, "other")
    for path in ("/reports/emergency", "/reports/emergency.csv", "/api/v1/reports/emergency"):
        assert (await client.get(path)).status == 403, path
