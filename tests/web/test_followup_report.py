"""The follow-up's monthly report over HTTP: the page with its chart in both languages and both calendars, the CSV
and XLSX downloads, the JSON, a liaison confined to their department, and roles refused."""

from __future__ import annotations

import csv
import io
import re
import zipfile

from sqlalchemy import select, update

from accounts.models import StaffUser
from accounts.roles import Role
from followup.models import Department
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.factories import Client, make_staff, sign_in
from tests.followup.test_report import Month, Sessions, arranged_month, at

NOVEMBER = "/reports/followup?month=2026-11"


async def arranged(client: Client, sessions: Sessions, clock: FrozenClock, role: Role = Role.MANAGER) -> Month:
    month = await arranged_month(sessions, clock)
    clock.set(at(12, 2, 9))
    await make_staff(sessions, clock, role, "reader")
    await sign_in(client, "reader")
    return month


def row(page: str, code: str) -> list[str]:
    """The numbers of one department's row, as the table shows them."""
    found = re.search(rf'<tr id="department-{code}">(.*?)</tr>', page, re.S)
    assert found is not None, code
    return re.findall(r'<bdi dir="ltr"(?: class="(?:ltr|number)")?>([^<]*)</bdi>', found.group(1))


async def test_the_page_in_arabic_with_its_chart(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await arranged(client, sessions, clock)
    response = await client.get(NOVEMBER)
    page = await response.text()
    assert response.status == 200
    assert "<h1>تقرير المتابعة: نوفمبر 2026</h1>" in page
    assert "الأحد، 1 نوفمبر 2026 م، الموافق 21 جمادى الأولى 1448 هـ" in page
    # referred, on time, late, overdue, median, escalations, level 1, level 2, returned
    assert row(page, "health") == ["9", "2", "1", "4", "5.0", "3", "1", "2", "2"]
    assert row(page, "water") == ["2", "1", "1", "0", "3.5", "0", "0", "0", "0"]
    assert "—" in re.search(r'<tr id="department-roads">(.*?)</tr>', page, re.S).group(1)  # type: ignore[union-attr]
    assert 'id="department-archive"' not in page and "جهة غير نشطة" in page  # "old" is listed, marked inactive
    assert '<th scope="col">التصعيدات، المستوى 2</th>' in page

    svg = re.search(r"<svg id=\"chart\".*?</svg>", page, re.S)
    assert svg is not None
    chart = svg.group(0)
    assert 'role="img"' in chart and 'aria-labelledby="chart-title chart-desc"' in chart and 'direction="rtl"' in chart
    assert '<title id="chart-title">الإجابات والتأخير لكل جهة، نوفمبر 2026</title>' in chart
    assert '<desc id="chart-desc">' in chart
    assert "وزارة الصحة</text>" in chart
    legend = re.search(r'<ul class="legend">(.*?)</ul>', page, re.S)
    assert legend is not None and "</svg> أُجيبت في الموعد</li>" in legend.group(1)
    # Health's bar: 2 on time, 1 late, 4 overdue, their total 7 written after it; it is the longest bar.
    bar = re.search(r"<title>وزارة الصحة, [^<]*</title>(.*?)</g>", chart, re.S)
    assert bar is not None
    assert re.findall(r"<rect [^>]*fill=\"(#[0-9a-f]+)\"", bar.group(1)) == ["#2e7d32", "#f2b705", "#b3261e"]
    assert re.findall(r'font-weight="bold">(\d+)</text>', bar.group(1)) == ["7"]
    # Mirrored in Arabic: the bars grow leftwards from the names' column on the right.
    first = re.search(r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', bar.group(1))
    assert first is not None and float(first.group(1)) + float(first.group(2)) == 760 - 250
    assert (
        'href="/reports/followup.csv?month=2026-11"' in page and 'href="/reports/followup.xlsx?month=2026-11"' in page
    )
    assert '<option value="2026-11" selected>نوفمبر 2026</option>' in page


async def test_the_page_in_english_and_for_a_hijri_month(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await arranged(client, sessions, clock)
    await client.get("/lang/en")
    page = await (await client.get(NOVEMBER)).text()
    assert "<h1>Follow-up report: November 2026</h1>" in page
    assert 'direction="ltr"' in page and "Ministry of Health</text>" in page
    assert row(page, "health") == ["9", "2", "1", "4", "5.0", "3", "1", "2", "2"]
    bar = re.search(r"<title>Ministry of Health, [^<]*</title>(.*?)</g>", page, re.S)
    assert bar is not None
    first = re.search(r'<rect x="([\d.]+)"', bar.group(1))
    assert first is not None and first.group(1) == "250.0"  # left to right from the names' column

    hijri = await client.get("/reports/followup?hijri=1448-05")
    page = await hijri.text()
    assert hijri.status == 200 and "<h1>Follow-up report: Jumada al-Ula 1448 AH</h1>" in page
    assert '<option value="1448-05" selected>Jumada al-Ula 1448 AH</option>' in page
    assert row(page, "health")[:4] == ["8", "2", "0", "3"]
    assert 'href="/reports/followup.xlsx?hijri=1448-05"' in page


async def test_a_month_that_cannot_be_reported_is_named(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await arranged(client, sessions, clock)
    wrong = await client.get("/reports/followup?month=2026-13")
    page = await wrong.text()
    assert wrong.status == 422
    assert "اكتب الشهر الميلادي بالصيغة YYYY-MM" in page
    assert "<h1>تقرير المتابعة: نوفمبر 2026</h1>" in page  # the last complete month instead
    assert (await client.get("/reports/followup?month=2027-01")).status == 422
    assert (await client.get("/reports/followup.csv?hijri=14xx-05")).status == 422
    refused = await client.get("/api/v1/reports/followup?month=2026-11&hijri=1448-05")
    body = await refused.json()
    assert refused.status == 422 and [f["field"] for f in body["fields"]] == ["hijri"]
    assert body["fields"][0]["messages"]["en"] == "Give either a Gregorian month or a Hijri month, not both."


async def test_csv_with_a_byte_order_mark_and_arabic_headings(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    month = await arranged(client, sessions, clock)
    async with transaction(sessions) as session:
        await session.execute(update(Department).where(Department.id == month.ids["roads"]).values(name_ar="=1+1"))
    response = await client.get("/reports/followup.csv?month=2026-11")
    assert response.status == 200 and response.content_type == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="followup-2026-11.csv"'
    raw = await response.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0] == [
        "الرمز",
        "الجهة",
        "الإحالات",
        "أُجيبت في الموعد",
        "أُجيبت بعد الموعد",
        "مفتوحة ومتأخرة في نهاية الفترة",
        "وسيط أيام العمل حتى الحل",
        "التصعيدات",
        "التصعيدات، المستوى 1",
        "التصعيدات، المستوى 2",
        "أُعيدت لعدم الاختصاص",
    ]
    lines = {line[0]: line[1:] for line in table[1:]}
    assert lines["health"] == ["وزارة الصحة", "9", "2", "1", "4", "5.0", "3", "1", "2", "2"]
    assert lines["roads"] == ["'=1+1", "0", "0", "0", "0", "", "0", "0", "0", "0"]  # never a formula
    assert lines["*"] == ["جميع الجهات", "12", "3", "2", "4", "5.0", "3", "1", "2", "2"]
    assert list(lines)[-1] == "*"


async def test_xlsx_is_a_workbook_right_to_left_in_arabic(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    month = await arranged(client, sessions, clock)
    async with transaction(sessions) as session:
        await session.execute(update(Department).where(Department.id == month.ids["roads"]).values(name_ar="=1+1"))
    response = await client.get("/reports/followup.xlsx?month=2026-11")
    assert response.status == 200
    assert response.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"] == 'attachment; filename="followup-2026-11.xlsx"'
    book = zipfile.ZipFile(io.BytesIO(await response.read()))
    assert {"[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"} <= set(
        book.namelist()
    )
    assert 'name="2026-11"' in book.read("xl/workbook.xml").decode()
    strings = book.read("xl/sharedStrings.xml").decode()
    for text in ("تقرير المتابعة: نوفمبر 2026", "الإحالات", "وسيط أيام العمل حتى الحل", "وزارة الصحة", "جميع الجهات"):
        assert f">{text}<" in strings
    assert ">=1+1<" in strings
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert 'rightToLeft="1"' in sheet and "<f>" not in sheet
    # The overall row, below the title, the days and the headings: numbers as numbers.
    assert re.search(r'<c r="C9"[^>]*><v>12</v></c>', sheet) and re.search(r'<c r="G9"[^>]*><v>5</v></c>', sheet)

    await client.get("/lang/en")
    english = zipfile.ZipFile(io.BytesIO(await (await client.get("/reports/followup.xlsx?month=2026-11")).read()))
    assert "rightToLeft" not in english.read("xl/worksheets/sheet1.xml").decode()
    assert ">Median working days to a solution<" in english.read("xl/sharedStrings.xml").decode()


async def test_the_json_report(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await arranged(client, sessions, clock, Role.FOLLOW_UP)
    response = await client.get("/api/v1/reports/followup?month=2026-11")
    body = await response.json()
    assert response.status == 200
    assert (body["period"], body["kind"], body["first_day"], body["last_day"]) == (
        "2026-11",
        "gregorian",
        "2026-11-01",
        "2026-11-30",
    )
    assert body["starts_at"] == "2026-11-01T00:00:00+03:00" and body["as_of"] == "2026-12-01T00:00:00+03:00"
    assert body["overall"] == {
        "referred": 12,
        "answered_on_time": 3,
        "answered_late": 2,
        "overdue": 4,
        "median_working_days": 5.0,
        "escalated": 3,
        "escalations": [{"level": 1, "count": 1}, {"level": 2, "count": 2}],
        "returned": 2,
    }
    roads = next(d for d in body["departments"] if d["code"] == "roads")
    assert roads["median_working_days"] is None and roads["referred"] == 0 and roads["name_ar"] == "إدارة الطرق"
    hijri = await (await client.get("/api/v1/reports/followup?hijri=1448-05")).json()
    assert (hijri["period"], hijri["starts_at"]) == ("h1448-05", "2026-10-12T00:00:00+03:00")
    document = await (await client.get("/openapi.json")).json()
    operation = document["paths"]["/api/v1/reports/followup"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/FollowupReportOut"
    }
    assert "FollowupReportOut" in document["components"]["schemas"]


async def test_a_liaison_sees_their_own_department_only(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    month = await arranged(client, sessions, clock, Role.DEPARTMENT_LIAISON)
    # An account linked to no department (the accounts service refuses to make one): nothing to see.
    async with transaction(sessions) as session:
        await session.execute(update(StaffUser).where(StaffUser.username == "reader").values(department_id=None))
    unlinked = await client.get(NOVEMBER)
    assert unlinked.status == 409 and "حسابك غير مرتبط بأي جهة" in await unlinked.text()
    assert (await client.get("/api/v1/reports/followup")).status == 409
    async with transaction(sessions) as session:
        await session.execute(
            update(StaffUser).where(StaffUser.username == "reader").values(department_id=month.ids["water"])
        )
    page = await (await client.get(NOVEMBER)).text()
    assert row(page, "water")[:5] == ["2", "1", "1", "0", "3.5"]
    assert (
        "وزارة الصحة" not in page
        and 'id="department-health"' not in page
        and '<h2 id="overall-heading">جهتك</h2>' in page
    )
    body = await (await client.get("/api/v1/reports/followup?month=2026-11")).json()
    assert [d["code"] for d in body["departments"]] == ["water"] and body["overall"]["referred"] == 2
    table = (await (await client.get("/reports/followup.csv?month=2026-11")).read()).decode("utf-8-sig")
    assert "water" in table and "health" not in table


async def test_other_roles_are_refused(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await arranged(client, sessions, clock, Role.AUDIT_DESK)
    for path in (NOVEMBER, "/reports/followup.csv", "/reports/followup.xlsx", "/api/v1/reports/followup"):
        response = await client.get(path)
        assert response.status == 403, path
    async with sessions() as session:
        assert await session.scalar(select(StaffUser.role).where(StaffUser.username == "reader")) == Role.AUDIT_DESK
