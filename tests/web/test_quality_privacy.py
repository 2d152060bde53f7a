"""A share whose hits or misses are 1 to 4 is held back with its hits on the dashboard's page, in its CSVs and in
its API (issue 19, point 6): 2 no-shows of 13 audiences would come back from 0.1538 × 13, and 11 visits of 13
within the aim would tell the other 2. Arranged with the property test's generator of records, on both databases.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases.identity import ApplicantKind
from cases.models import CaseStatus, Channel, Gender, RequestKind
from majlis.clock import RIYADH, FrozenClock
from priority.models import Route
from priority.score import Urgency
from scheduler.models import AppointmentState
from tests.factories import Client
from tests.quality.test_statistics import Appt, Request, store
from tests.web.test_quality_dashboard import NOVEMBER, chart_json, manager

Sessions = async_sessionmaker[AsyncSession]
AUDIENCES = 13
MISSED = 2


def thirteen() -> list[Request]:
    """13 requests with an audience each in November (before the clock's 24th): 2 missed; of the 11 held, 9 at
    the centre within 6 minutes and 2 longer; 13 ratings, 2 of them negative."""
    out = []
    for n in range(AUDIENCES):
        at = datetime(2026, 11, 3 + n, 10, tzinfo=RIYADH)
        missed = n < MISSED
        appt = Appt(state=AppointmentState.NO_SHOW if missed else AppointmentState.HELD, starts_at=at)
        if not missed:
            appt.arrived_at = at - timedelta(minutes=5)
            appt.ended_at = appt.arrived_at + timedelta(minutes=4 if n < AUDIENCES - 2 else 20)
        out.append(
            Request(
                kind=RequestKind.AUDIENCE_IN_PERSON,
                channel=Channel.PORTAL,
                branch="riyadh",
                gender=Gender.MALE,
                applicant=ApplicantKind.CITIZEN,
                status=CaseStatus.RECEIVED,
                submitted=at - timedelta(days=2),
                urgency=Urgency.NORMAL,
                route=Route.AUDIENCE_IN_PERSON,
                appointments=[appt],
                referrals=[],
                ratings=[(at + timedelta(hours=1), 1 if n < 2 else 5)],
            )
        )
    return out


async def test_a_hidden_count_cannot_be_recovered_from_a_rate(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    async with sessions() as session, session.begin():
        await store(session, thirteen())
    await manager(client, sessions, clock)
    await client.get("/lang/en")

    api = await (await client.get(f"/api/v1/quality/statistics?{NOVEMBER}")).json()
    # The totals are published; the 2 (or the 11 beside 13) are not, nor any share that gives them back.
    assert api["no_shows"] == {"key": "all", "total": AUDIENCES, "hits": None, "rate": None, "hidden": "fewer_than_5"}
    overall = api["satisfaction_overall"]
    assert overall["count"] == AUDIENCES and overall["negative"] is None
    time = api["service_time"]
    assert time["count"] == AUDIENCES - MISSED and time["within_aim"] is None
    assert time["median_minutes"] == 4.0

    page = await (await client.get(f"/reports/statistics?{NOVEMBER}")).text()
    for recoverable in ("15.4", "0.1538", "84.6", "81.8", "18.2", "0.8182"):
        assert recoverable not in page, recoverable
    drawn = chart_json(page)["charts"]
    audiences = next(c for c in drawn if c["key"] == "audiences")  # type: ignore[attr-defined]
    assert audiences["series"][0]["data"][0] is None

    for key, label in (("audiences", "Audiences missed (no-show)"), ("satisfaction", "The whole period")):
        response = await client.get(f"/reports/statistics/{key}.csv?{NOVEMBER}")
        rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
        row = next(r for r in rows if r[0] == label)
        assert row[1] == str(AUDIENCES), row
        # Neither the 2 nor a share of 13 that gives them back.
        assert not {"2", "11", "15.4", "84.6"} & set(row[2:]), row
    service = await client.get(f"/reports/statistics/service-time.csv?{NOVEMBER}")
    text = (await service.read()).decode("utf-8-sig")
    assert "81.8" not in text and "18.2" not in text


async def test_a_share_whose_hits_and_misses_are_five_or_more_is_published(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    requests = thirteen()
    for r in requests[MISSED : MISSED + 4]:
        r.appointments[0].state = AppointmentState.NO_SHOW  # 6 missed of 13: neither side is 1 to 4
        r.appointments[0].arrived_at = r.appointments[0].ended_at = None
    async with sessions() as session, session.begin():
        await store(session, requests)
    await manager(client, sessions, clock)
    api = await (await client.get(f"/api/v1/quality/statistics?{NOVEMBER}")).json()
    assert api["no_shows"] == {"key": "all", "total": AUDIENCES, "hits": 6, "rate": 0.4615, "hidden": None}


def cannot_tell(total: int, cells: list[int | None]) -> None:
    """A reader who adds up the shown cells and takes them from the total learns what the hidden ones add up to:
    that must be spread over two cells or more, and be 5 or more."""
    hidden = [c for c in cells if c is None]
    rest = total - sum(c for c in cells if c is not None)
    assert not hidden or (len(hidden) >= 2 and rest >= 5), (total, cells)


def _number(text: str) -> int | None:
    text = re.sub(r"<[^>]+>", "", text).strip()
    return None if text in ("fewer than 5", "withheld", "") else int(text)


def _page_counts(page: str, key: str) -> dict[str, int | None]:
    table = re.search(rf'<table class="statistics-table" id="table-{key}">(.*?)</table>', page, re.S)
    assert table is not None
    rows = re.findall(r'<tr data-key="([^"]+)"><th scope="row">.*?</th><td[^>]*>(.*?)</td>', table.group(1), re.S)
    return {row_key: _number(cell) for row_key, cell in rows}


def kinds_and_days() -> list[Request]:
    """The 13 requests: 3 petitions and 10 audiences asked for (3 alone would be 13 − 10), 2 women and 11 men;
    rated 6 on 20 November, 5 on the 21st and 2 on the 22nd (the 2 alone would be 13 − 6 − 5)."""
    requests = thirteen()
    for n, r in enumerate(requests):
        if n < 3:
            r.kind = RequestKind.PETITION
        if n < 2:
            r.gender = Gender.FEMALE
        day = 20 if n < 6 else 21 if n < 11 else 22
        r.ratings = [(datetime(2026, 11, day, 9 + n, tzinfo=RIYADH), 4)]
    return requests


async def test_the_cells_add_back_up_without_giving_a_hidden_one_back(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    async with sessions() as session, session.begin():
        await store(session, kinds_and_days())
    await manager(client, sessions, clock)
    await client.get("/lang/en")

    api = await (await client.get(f"/api/v1/quality/statistics?{NOVEMBER}")).json()
    assert api["total_requests"] == AUDIENCES
    for dimension, tallies in api["requests"].items():
        cannot_tell(AUDIENCES, [t["count"] for t in tallies])
        assert all((t["count"] is None) == (t["hidden"] is not None) for t in tallies), dimension
    kinds = {t["key"]: (t["count"], t["hidden"]) for t in api["requests"]["kind"]}
    assert kinds["petition"] == (None, "fewer_than_5") and kinds["audience_in_person"] == (None, "withheld")
    genders = {t["key"]: (t["count"], t["hidden"]) for t in api["requests"]["gender"]}
    assert genders["female"] == (None, "fewer_than_5") and genders["male"] == (None, "withheld")
    assert {t["key"]: t["count"] for t in api["requests"]["channel"]}["portal"] == AUDIENCES

    page = await (await client.get(f"/reports/statistics?{NOVEMBER}")).text()
    for key in ("kind", "channel", "branch", "gender", "applicant-kind"):
        cannot_tell(AUDIENCES, list(_page_counts(page, f"requests-{key}").values()))
    kind_rows = re.search(r'<tr data-key="audience_in_person">(.*?)</tr>', page, re.S)
    assert kind_rows is not None and 'data-hidden="withheld">withheld<' in kind_rows.group(1)
    petition = re.search(r'<tr data-key="petition">(.*?)</tr>', page, re.S)
    assert petition is not None and "fewer than 5" in petition.group(1)
    chart = next(c for c in chart_json(page)["charts"] if c["key"] == "requests-kind")  # type: ignore[attr-defined]
    assert "withheld" in chart["series"][0]["hidden"] and "fewer_than_5" in chart["series"][0]["hidden"]
    assert 10 not in chart["series"][0]["data"]

    for key in ("kind", "gender"):
        response = await client.get(f"/reports/statistics/requests-{key}.csv?{NOVEMBER}")
        rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
        assert rows[0][-1] == "suppressed"
        cannot_tell(AUDIENCES, [int(r[1]) if r[1] else None for r in rows[1:]])
        assert {r[2] for r in rows[1:] if not r[1]} == {"fewer_than_5", "withheld"}, rows

    arabic = await client.get("/lang/ar")
    assert arabic.status in (200, 303)
    page = await (await client.get(f"/reports/statistics?{NOVEMBER}")).text()
    assert "محجوب لحماية الخصوصية" in page and "أقل من 5" in page


async def test_a_lone_hidden_day_of_ratings_is_withheld_with_another(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    async with sessions() as session, session.begin():
        await store(session, kinds_and_days())
    await manager(client, sessions, clock)
    await client.get("/lang/en")
    api = await (await client.get(f"/api/v1/quality/statistics?{NOVEMBER}")).json()
    overall = api["satisfaction_overall"]
    assert (overall["count"], overall["mean"]) == (AUDIENCES, 4.0)
    days = {p["first_day"]: p for p in api["satisfaction"]}
    assert (days["2026-11-20"]["count"], days["2026-11-20"]["mean"]) == (6, 4.0)
    # The 22nd's 2 are fewer than 5; the 21st's 5 go with them, mean and share too: 13 − 6 = 7 over two days.
    assert days["2026-11-22"]["hidden"] == "fewer_than_5"
    assert {k: days["2026-11-21"][k] for k in ("count", "mean", "negative", "hidden")} == {
        "count": None,
        "mean": None,
        "negative": None,
        "hidden": "withheld",
    }
    cannot_tell(AUDIENCES, [p["count"] for p in api["satisfaction"]])

    response = await client.get(f"/reports/statistics/satisfaction.csv?{NOVEMBER}")
    rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    by_label = {r[0]: r for r in rows[1:]}
    assert by_label["21 Nov"][1:] == ["", "", "", "withheld"] and by_label["22 Nov"][-1] == "fewer_than_5"
    assert by_label["The whole period"][1] == str(AUDIENCES)
    cannot_tell(AUDIENCES, [int(r[1]) if r[1] else None for r in rows[1:-1]])
