"""The statistics dashboard's page, CSVs and API: small groups suppressed everywhere, bad periods and unknown
centres refused with the field named, other roles refused, and the chart library served from Majlis itself."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from tests.factories import Client, make_staff, sign_in
from tests.priority.test_triage import new_case
from web import vendor

Sessions = async_sessionmaker[AsyncSession]
NOVEMBER = "period=month&value=2026-11"


async def manager(client: Client, sessions: Sessions, clock: FrozenClock, role: Role = Role.MANAGER) -> None:
    await make_staff(sessions, clock, role, "reader")
    await sign_in(client, "reader")


def chart_json(page: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="statistics-data">(.*?)</script>', page, re.S)
    assert found is not None
    loaded: dict[str, object] = json.loads(found.group(1))
    return loaded


async def test_three_requests_are_fewer_than_five_on_the_page_in_the_csv_and_in_the_api(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    for _ in range(3):
        await new_case(sessions, clock)
    await manager(client, sessions, clock)
    await client.get("/lang/en")

    api = await (await client.get(f"/api/v1/quality/statistics?{NOVEMBER}")).json()
    assert api["total_requests"] is None
    kinds = {t["key"]: (t["count"], t["hidden"]) for t in api["requests"]["kind"]}
    assert kinds["audience_video"] == (None, "fewer_than_5") and kinds["petition"] == (0, None)
    assert api["span"] == {"kind": "month", "value": "2026-11", "first_day": "2026-11-01", "last_day": "2026-11-30"}

    response = await client.get(f"/reports/statistics?{NOVEMBER}")
    assert response.status == 200
    page = await response.text()
    assert 'id="statistics-summary"' in page and "fewer than 5" in page
    data = chart_json(page)
    kind_chart = next(c for c in data["charts"] if c["key"] == "requests-kind")  # type: ignore[attr-defined]
    # Null in the chart's data: Chart.js leaves a gap, never a bar of 3.
    assert None in kind_chart["series"][0]["data"] and 3 not in kind_chart["series"][0]["data"]
    assert data["rtl"] is False

    response = await client.get(f"/reports/statistics/requests-kind.csv?{NOVEMBER}")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert rows[0] == ["Kind", "Requests", "suppressed"]
    by_label = {row[0]: row[1:] for row in rows[1:]}
    # Empty, and why: a column of numbers stays numbers.
    assert by_label["Audience by video"] == ["", "fewer_than_5"] and by_label["Written petition"] == ["0", ""]
    assert ["3", ""] not in by_label.values()


async def test_the_page_is_arabic_first_and_every_chart_has_its_csv(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await manager(client, sessions, clock)
    page = await (await client.get("/reports/statistics")).text()
    assert 'dir="rtl"' in page
    data = chart_json(page)
    assert data["rtl"] is True and data["locale"] == "ar-u-nu-latn"
    assert vendor.url("chart.umd.min.js") in page and "<script>" not in page
    for chart in data["charts"]:  # type: ignore[attr-defined]
        response = await client.get(f"/reports/statistics/{chart['key']}.csv?{NOVEMBER}")
        assert response.status == 200, chart["key"]
    assert (await client.get(f"/reports/statistics/nothing.csv?{NOVEMBER}")).status == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=fortnight", "period"),
        ("period=month&value=2026-13", "value"),
        ("period=month&value=2031-01", "value"),
        ("period=custom&from=2026-11-10&to=2026-11-01", "to"),
        ("period=month&value=2026-11&branch=NOWHERE", "branch"),
    ],
)
async def test_a_bad_period_or_an_unknown_centre_is_refused_naming_the_field(
    client: Client, sessions: Sessions, clock: FrozenClock, query: str, field: str
) -> None:
    await manager(client, sessions, clock)
    api = await client.get(f"/api/v1/quality/statistics?{query}")
    assert api.status == 422
    body = await api.json()
    assert [f["field"] for f in body["fields"]] == [field]
    assert body["fields"][0]["messages"]["ar"] != body["fields"][0]["messages"]["en"]

    page = await client.get(f"/reports/statistics?{query}")
    assert page.status == 400
    text = await page.text()
    assert 'id="statistics-error"' in text and "statistics-data" not in text
    assert (await client.get(f"/reports/statistics/waits.csv?{query}")).status == 400


@pytest.mark.parametrize("role", [Role.INTAKE_DESK, Role.FOLLOW_UP, Role.DEPARTMENT_LIAISON])
async def test_other_roles_are_refused(client: Client, sessions: Sessions, clock: FrozenClock, role: Role) -> None:
    await manager(client, sessions, clock, role)
    for path in ("/reports/statistics", "/reports/statistics/waits.csv", "/api/v1/quality/statistics"):
        assert (await client.get(path, allow_redirects=False)).status == 403, path


async def test_the_auditor_reads_it(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await manager(client, sessions, clock, Role.AUDITOR)
    assert (await client.get("/reports/statistics")).status == 200


async def test_the_chart_library_is_served_from_majlis_with_a_long_cache(client: Client) -> None:
    response = await client.get(vendor.url("chart.umd.min.js"))
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert b"Chart" in await response.read()
    assert (await client.get("/static/vendor/../package.json")).status == 404
    assert (await client.get("/static/vendor/other.js")).status == 404


async def test_a_missing_npm_install_is_a_clear_404(
    client: Client, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(vendor, "NODE_MODULES", tmp_path)
    response = await client.get("/static/vendor/chart.umd.min.js")
    assert response.status == 404
    assert "npm ci" in await response.text()


async def test_the_api_is_in_the_openapi_document(client: Client) -> None:
    document = await (await client.get("/openapi.json")).json()
    assert "/api/v1/quality/statistics" in document["paths"]
    assert "StatisticsOut" in document["components"]["schemas"]
