"""The monthly service-quality report's page, workbook and API on SQLite and PostgreSQL: the page's table cells and
the workbook's read back with openpyxl are the same, cell by cell; the API gives the same figures; bad months,
scopes and roles are refused with the field named, in both languages."""

from __future__ import annotations

import io
from html.parser import HTMLParser

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import StaffUser
from accounts.roles import Role
from majlis.clock import FrozenClock
from tests.factories import Client, csrf_token, make_staff, sign_in
from tests.quality.test_monthly import arranged_november

Sessions = async_sessionmaker[AsyncSession]
PAGE = "/reports/quality-monthly"


class Tables(HTMLParser):
    """The text of each table's cells, by the table's id: the heading row, then the body's rows."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs)["id"] or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._table is not None and self._cell is not None:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables_of(html: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


async def as_manager(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    await sign_in(client, "manager")


async def test_the_page_and_the_workbook_carry_the_same_numbers(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await arranged_november(sessions, clock)
    await as_manager(client, sessions, clock)
    query = "branch=riyadh&month=2026-11"
    page = await client.get(f"{PAGE}?{query}")
    assert page.status == 200
    html = await page.text()
    assert 'dir="rtl"' in html and "تقرير جودة الخدمة: نوفمبر 2026" in html and "الفرع: الرياض" in html
    assert f'href="{PAGE}.xlsx?branch=riyadh&amp;month=2026-11"' in html
    # No applicant's name, number or phone on the page.
    assert "نورة" not in html and "1000000008" not in html and "501234567" not in html
    shown = tables_of(html)
    assert list(shown) == ["summary", "requests", "waits", "confirmations", "outcomes", "satisfaction", "service_time"]
    assert shown["summary"][1:3] == [["الطلبات المقدَّمة", "6"], ["التقييمات", "6"]]

    download = await client.get(f"{PAGE}.xlsx?{query}")
    assert download.status == 200
    assert download.headers["Content-Disposition"] == 'attachment; filename="quality-branch-riyadh-2026-11.xlsx"'
    workbook = load_workbook(io.BytesIO(await download.read()))
    _cover, *sheets = workbook.worksheets
    assert all(sheet.sheet_view.rightToLeft for sheet in workbook.worksheets)
    assert [sheet["A1"].value for sheet in sheets] == [
        "الملخص",
        "الطلبات",
        "مدة الانتظار حتى المقابلة",
        "التأكيدات",
        "المقابلات والإحالات",
        "الرضا",
        "مدة البقاء في المركز",
    ]
    compared = 0
    for sheet, rows in zip(sheets, shown.values(), strict=True):
        read = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
        # A table with nothing in it says so in one cell on the page, and has no rows in the workbook.
        if len(rows) == 2 and len(rows[1]) == 1:
            assert read == rows[:1]
            continue
        assert len(read) == len(rows) and all(len(a) == len(b) for a, b in zip(read, rows, strict=True))
        for cells, texts in zip(read, rows, strict=True):
            for value, text in zip(cells, texts, strict=True):
                # A number is a number in the workbook (100.0 reads back as 100), text on the page.
                if isinstance(value, int | float):
                    assert float(text) == value, (sheet.title, text, value)
                else:
                    assert value == text, (sheet.title, text, value)
                compared += 1
    assert compared > 40
    numbers = [c.value for row in sheets[0].iter_rows(min_row=3) for c in row[1:]]
    assert numbers[:3] == [6, 6, 3.5]


async def test_a_department_suppression_and_the_api(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    month = await arranged_november(sessions, clock)
    await as_manager(client, sessions, clock)
    jeddah = tables_of(await (await client.get(f"{PAGE}?branch=jeddah&month=2026-11")).text())
    assert jeddah["summary"][1] == ["الطلبات المقدَّمة", "أقل من 5"]

    api = await client.get(f"/api/v1/quality/monthly?department={month.health}&month=2026-11")
    assert api.status == 200
    body = await api.json()
    assert (body["period"], body["kind"], body["department"], body["branch"]) == (
        "2026-11",
        "gregorian",
        month.health,
        None,
    )
    assert body["scope_name_en"] == "Department: Ministry of Health" and body["scope_name_ar"] == "الجهة: وزارة الصحة"
    assert body["total_requests"] == 5 and body["satisfaction_overall"]["mean"] == 4.0
    page = tables_of(await (await client.get(f"{PAGE}?department={month.health}&month=2026-11")).text())
    assert page["summary"][1:4] == [["الطلبات المقدَّمة", "5"], ["التقييمات", "5"], ["متوسط الرضا (من 1 إلى 5)", "4.0"]]
    jeddah_api = await (await client.get("/api/v1/quality/monthly?branch=jeddah&month=2026-11")).json()
    assert jeddah_api["total_requests"] is None and jeddah_api["satisfaction_overall"]["count"] is None

    # A Hijri month, and the default: the last complete month.
    hijri = await client.get("/api/v1/quality/monthly?hijri=1448-05")
    assert hijri.status == 200 and (await hijri.json())["period"] == "h1448-05"
    assert (await (await client.get("/api/v1/quality/monthly")).json())["period"] == "2026-11"
    document = await (await client.get("/openapi.json")).json()
    assert "/api/v1/quality/monthly" in document["paths"]
    assert "QualityMonthlyOut" in document["components"]["schemas"]


async def test_bad_months_scopes_and_roles_are_refused(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await as_manager(client, sessions, clock)
    for query, field, arabic in (
        ("month=2026-13", "month", "اكتب الشهر الميلادي"),
        ("hijri=14480-5", "hijri", "اكتب الشهر الهجري"),
        ("month=2027-01", "month", "لم يبدأ"),
        ("month=2026-10&hijri=1448-05", "hijri", "لا كليهما"),
        ("department=health", "department", "أدخل رقم الجهة"),
        ("branch=riyadh&department=1", "department", "اختر فرعًا أو جهة"),
    ):
        api = await client.get(f"/api/v1/quality/monthly?{query}")
        assert api.status == 422, query
        body = await api.json()
        assert [f["field"] for f in body["fields"]] == [field], query
        assert arabic in body["fields"][0]["messages"]["ar"] and body["fields"][0]["messages"]["en"]
        page = await client.get(f"{PAGE}?{query}")
        assert page.status == 400 and arabic in await page.text(), query
        assert (await client.get(f"{PAGE}.xlsx?{query}")).status == 400
    for query, arabic, english in (
        ("branch=mecca", "لا يوجد مركز استقبال بهذا الرمز.", "There is no reception centre with this code."),
        ("department=99999", "لا توجد جهة بهذا الرقم.", "There is no department with this number."),
    ):
        api = await client.get(f"/api/v1/quality/monthly?{query}")
        assert api.status == 404
        assert (await api.json())["messages"] == {"ar": arabic, "en": english}
        page = await client.get(f"{PAGE}?{query}")
        assert page.status == 404 and arabic in await page.text()
        assert (await client.get(f"{PAGE}.xlsx?{query}")).status == 404

    await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    await client.post("/logout", data={})
    await sign_in(client, "desk")
    for path in (PAGE, f"{PAGE}.xlsx", "/api/v1/quality/monthly"):
        assert (await client.get(path)).status == 403, path


async def test_an_administrator_gives_a_manager_an_address(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    await sign_in(client, "admin")
    token = await csrf_token(client, "/admin/users")
    form = {"full_name": "مدير", "role": "manager", "gender": "male", "password": "a-long-password-2026"}
    for bad in ("not-an-address", "a@b", "x" * 250 + "@example.gov.sa"):
        refused = await client.post(
            "/admin/users", data={**form, "username": "boss", "email": bad, "csrf_token": token}
        )
        assert refused.status == 422
        assert "قيمة حقل «البريد الإلكتروني» ليست عنوان بريد إلكتروني صحيحًا." in await refused.text()
    async with sessions() as session:
        assert await session.scalar(select(StaffUser).where(StaffUser.username == "boss")) is None
    for username, email in (("boss", " Boss@Example.gov.sa "), ("deputy", "")):
        created = await client.post(
            "/admin/users",
            data={**form, "username": username, "email": email, "csrf_token": token},
            allow_redirects=False,
        )
        assert created.status == 303
    async with sessions() as session:
        found = {u.username: u.email for u in await session.scalars(select(StaffUser))}
    assert found["boss"] == "boss@example.gov.sa" and found["deputy"] is None
