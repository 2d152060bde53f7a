"""The auditor's pages: placements explained and filtered, one request's placements, the CSV and XLSX downloads,
the chain's verification (intact, then tampered with), the request's staff page's explanation section, and
no applicant's name, national ID or phone anywhere the auditor reads."""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from fairness import chain
from fairness.models import EntryKind
from majlis.app import create_app
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.conftest import RecordingChannel, make_settings
from tests.factories import Client, make_staff, sign_in
from tests.priority.test_triage import new_case

Sessions = async_sessionmaker[AsyncSession]
# What tests/factories.py gives every applicant: none of it may reach an auditor.
PERSONAL = ("1000000008", "501234567", "نورة عبدالله", "noura@example.sa")


@pytest.fixture
def anchor_path(tmp_path: Path) -> Path:
    return tmp_path / "anchors.jsonl"


@pytest.fixture
def app(database_url: str, clock: FrozenClock, recorder: RecordingChannel, anchor_path: Path) -> web.Application:
    """The app with its own anchor file: the default one under ./var belongs to whatever database wrote it."""
    settings = make_settings(database_url, fairness_anchor_file=str(anchor_path))
    return create_app(settings, clock=clock, channels=recorder.channels())


@dataclass(frozen=True)
class Arranged:
    placed: str
    passed: str
    justified_seq: int
    unjustified_seq: int


def _seat(hour: int) -> dict[str, object]:
    return {
        "slot_id": hour,
        "seat": 1,
        "starts_at": f"2026-12-06T{hour:02d}:00:00+03:00",
        "room": "HALL-1",
        "branch": "riyadh",
        "mode": "in_person",
        "women_section": False,
        "accessible": True,
    }


async def arranged(sessions: Sessions, clock: FrozenClock) -> Arranged:
    """Two requests; three placements in the chain: by rule, a justified pass by hand, an unjustified pass."""
    placed, passed = await new_case(sessions, clock), await new_case(sessions, clock)
    protocol = await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    async with transaction(sessions) as session:
        ids = {}
        for number in (placed, passed):
            case = await cases.find_by_tracking_number(session=session, tracking_number=number)
            assert case is not None
            ids[number] = case.id
        base = {"tracking_number": placed, "score": 42.5, "base_score": 30.0, "urgency": "urgent"}
        base |= {"category": "general", "ahead": 0, "before": [], "passed": []}
        await chain.append(
            session=session,
            clock=clock,
            kind=EntryKind.PLACEMENT,
            actor_id=None,
            case_id=ids[passed],
            change={**base, "tracking_number": passed, "rule": "allocation_run", "rank": 1, "total": 1}
            | {"seat": _seat(9)},
        )
        one_pass = {"case_id": ids[passed], "tracking_number": passed, "base_score": 31.0, "score": 31.0}
        one_pass["submitted_at"] = "2026-11-20T09:00:00+00:00"
        reason = {"by": "by_hand", "reason": "health_or_safety", "text": "Surgery date fixed"}
        justified = await chain.append(
            session=session,
            clock=clock,
            kind=EntryKind.PLACEMENT,
            actor_id=protocol.id,
            case_id=ids[placed],
            change={**base, "rule": "by_hand", "rank": None, "total": None, "seat": _seat(10)}
            | {"ahead": 1, "before": [{"tracking_number": passed, "score": 31.0}]}
            | {"passed": [{**one_pass, "justification": reason}]},
            justification="Surgery date fixed",
        )
        clock.advance(timedelta(days=1))
        unjustified = await chain.append(
            session=session,
            clock=clock,
            kind=EntryKind.MOVE,
            actor_id=protocol.id,
            case_id=ids[placed],
            change={**base, "rule": "move", "rank": None, "total": None, "seat": _seat(11)}
            | {"passed": [{**one_pass, "justification": None}], "unjustified": True},
        )
    return Arranged(placed, passed, justified.seq, unjustified.seq)


async def as_auditor(client: Client, sessions: Sessions, clock: FrozenClock) -> Arranged:
    found = await arranged(sessions, clock)
    await make_staff(sessions, clock, Role.AUDITOR, "auditor")
    await sign_in(client, "auditor")
    await client.get("/lang/en")
    return found


def listed(page: str) -> str:
    """The listing's rows, without the filter form (whose choices name every rule)."""
    found = re.search(r'<table id="placements"[^>]*>(.*?)</table>', page, re.S)
    assert found is not None
    return found.group(1)


def file_anchors(path: Path, lines: str) -> None:
    """Writes the anchor file (none when no lines), as the daily anchor job and a person editing it would."""
    if lines:
        path.write_text(lines, encoding="utf-8")
    else:
        path.unlink()


def no_personal_data(body: str) -> None:
    for value in PERSONAL:
        assert value not in body


def xlsx_text(body: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(body)) as book:
        return book.read("xl/sharedStrings.xml").decode() + book.read("xl/worksheets/sheet1.xml").decode()


async def test_the_placements_listed_filtered_and_explained(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    found = await as_auditor(client, sessions, clock)
    response = await client.get("/audit/placements")
    page = await response.text()
    assert response.status == 200
    assert page.count('<tr class="unjustified">') == 1 and "Moved by hand" in page and "Placed by hand" in page
    assert "The weekly allocation, in priority order" in page and found.placed in page
    # A tracking number is isolated left to right and never wraps (it read backwards in Arabic, broken at its
    # hyphens); a cell's time is short, its Hijri day on a line below; on a phone each row is a card.
    assert f'<bdi dir="ltr" class="ltr">{found.placed}</bdi>' in page
    assert '<span class="moment">6\u00a0Dec\u00a02026 9:00' in page and '<small class="hijri">' in page
    assert 'class="stack listing"' in page and 'data-label="Tracking number"' in page
    no_personal_data(page)

    page = listed(await (await client.get("/audit/placements?unjustified=1")).text())
    assert f">{found.unjustified_seq}</bdi>" in page and "Placed by hand" not in page
    page = listed(await (await client.get("/audit/placements?passed=1&rule=by_hand")).text())
    assert "Placed by hand" in page and "Moved by hand" not in page and "The weekly allocation" not in page
    # The period is in Riyadh days: the move was recorded the day after.
    page = listed(await (await client.get("/audit/placements?until=2026-11-24")).text())
    assert "Moved by hand" not in page and "Placed by hand" in page

    response = await client.get(f"/audit/placements/{found.placed}")
    page = await response.text()
    assert response.status == 200
    assert "Risk to health or safety: Surgery date fixed" in page and "No justification recorded" in page
    assert f'id="entry-{found.justified_seq}"' in page and "Staff protocol" in page and "HALL-1" in page
    # The category's and the centre's names, not their codes; the seat's internal number is not shown.
    assert "<dd>General</dd>" in page and "— Riyadh" in page and "general" not in page and "riyadh" not in page
    assert "seat</" not in page and "seat <" not in page
    # Nobody placed before it in the run is said in words; one before it as one request.
    assert "None was placed before it in this run." in page and "One request, higher in priority order." in page
    assert f'<bdi dir="ltr"><span class="tracking">{found.passed}</span> (31.00)</bdi>' in page
    await client.get("/lang/ar")
    page = await (await client.get(f"/audit/placements/{found.placed}")).text()
    assert "<dd>عام</dd>" in page and "— الرياض" in page and "لم يُسكَّن قبله أي طلب في هذه الدورة." in page
    assert f'<bdi dir="ltr" class="tracking-number small tracking">{found.placed}</bdi>' in page
    await client.get("/lang/en")
    no_personal_data(page)
    assert (await client.get("/audit/placements/26-999999-1")).status == 404


async def test_bad_filters_are_named_and_nothing_breaks(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await as_auditor(client, sessions, clock)
    response = await client.get("/audit/placements?since=yesterday&rule=favour")
    page = html.unescape(await response.text())
    assert response.status == 422
    assert "The period's first day must be a date, YYYY-MM-DD, Gregorian or Hijri." in page
    assert "The rule is not one of those offered." in page
    response = await client.get("/audit/placements?since=2026-12-01&until=2026-11-01")
    assert response.status == 422
    assert "The period's last day is before its first day." in html.unescape(await response.text())
    await client.get("/lang/ar")
    response = await client.get("/audit/placements.csv?since=x")
    assert response.status == 422 and "يجب أن يكون اليوم الأول من الفترة تاريخًا" in await response.text()


async def test_csv_and_xlsx_read_back(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    found = await as_auditor(client, sessions, clock)
    response = await client.get("/audit/placements.csv")
    body = (await response.read()).decode("utf-8")
    assert response.status == 200 and body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert rows[0][:4] == ["Entry", "Recorded at", "Tracking number", "Rule"]
    by_seq = {row[0]: row for row in rows[1:]}
    assert len(by_seq) == 3
    moved = by_seq[str(found.unjustified_seq)]
    assert moved[3] == "Moved by hand" and moved[14] == "Yes" and f"{found.passed}: No justification" in moved[13]
    assert by_seq[str(found.justified_seq)][15] == "Staff protocol"
    # The category's and the centre's names in the reader's language, as on the page.
    assert moved[7] == "General" and moved[11] == "Riyadh"
    no_personal_data(body)

    await client.get("/lang/ar")
    response = await client.get("/audit/placements.xlsx?unjustified=1")
    assert response.status == 200
    sheet = xlsx_text(await response.read())
    assert 'rightToLeft="1"' in sheet and "نُقل يدويًا" in sheet and found.passed in sheet
    no_personal_data(sheet)


async def test_the_verification_downloaded_as_csv_and_xlsx(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    found = await as_auditor(client, sessions, clock)
    async with sessions() as session:
        head = await chain.head(session=session)
    assert head is not None
    page = await (await client.get(f"/audit/chain?anchor={head.seq}:{head.hash}")).text()
    assert f'href="/audit/chain.csv?anchor={head.seq}%3A{head.hash}"' in page
    body = (await (await client.get(f"/audit/chain.csv?anchor={head.seq}:{head.hash}")).read()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["What", "Value"] and ["Result", "Intact"] in rows and ["Entries checked", "3"] in rows
    assert ["Head of the chain (latest entry)", f"{head.seq}:{head.hash}"] in rows and ["Anchors matched", "1"] in rows
    assert (await client.get("/audit/chain.csv?anchor=3:nothex")).status == 422

    async with transaction(sessions) as session:
        await session.execute(
            text("UPDATE fairness_chain SET justification = 'by my own hand' WHERE seq = :seq"),
            {"seq": found.justified_seq},
        )
    await client.get("/lang/ar")
    response = await client.get("/audit/chain.xlsx")
    assert response.status == 200
    book = await response.read()
    written = xlsx_text(book)
    assert "جرى العبث بالسجل." in written and "The record was tampered with" not in written
    with zipfile.ZipFile(io.BytesIO(book)) as opened:
        assert 'rightToLeft="1"' in opened.read("xl/worksheets/sheet1.xml").decode()
    await client.get("/lang/en")
    rows = list(csv.reader(io.StringIO((await (await client.get("/audit/chain.csv")).read()).decode("utf-8-sig"))))
    assert ["Result", "The record was tampered with."] in rows
    altered = f"Entry {found.justified_seq} was altered: what it holds no longer gives its hash."
    assert ["The first bad entry", altered] in rows


async def test_the_chain_verified_then_caught_tampered(
    client: Client, sessions: Sessions, clock: FrozenClock, anchor_path: Path
) -> None:
    found = await as_auditor(client, sessions, clock)
    response = await client.get("/audit/chain")
    page = await response.text()
    assert response.status == 200 and "Intact: 3 entries checked." in page
    async with sessions() as session:
        head = await chain.head(session=session)
    assert head is not None and head.hash in page
    assert "Head of the chain (latest entry)" in page
    assert f'<bdi dir="ltr"><code class="hash">{head.hash}</code></bdi>' in page
    page = await (await client.get(f"/audit/chain?anchor={head.seq}:{head.hash}")).text()
    assert "1 anchors matched." in page
    await client.get("/lang/ar")
    page = await (await client.get("/audit/chain")).text()
    assert "رأس السلسلة (آخر قيد)" in page and "رئيس الجهة" not in page
    await client.get("/lang/en")
    response = await client.get("/audit/chain?anchor=3:nothex")
    assert response.status == 422 and "SEQ:HASH" in await response.text()

    no_personal_data(page)

    # The anchor file, outside the database, is checked too; a line that is not an anchor is named.
    file_anchors(anchor_path, f'{{"day": "2026-11-25", "seq": {head.seq}, "hash": "{head.hash}", "at": "x"}}\n')
    page = await (await client.get("/audit/chain")).text()
    assert "Intact: 3 entries checked." in page and "1 anchors matched." in page
    file_anchors(anchor_path, f'{{"day": "2026-11-25", "seq": 2, "hash": "{head.hash}"}}\n')
    page = html.unescape(await (await client.get("/audit/chain")).text())
    assert "The chain was rewritten at or before entry 2: its hash is not the one anchored on 2026-11-25." in page
    file_anchors(anchor_path, "not an anchor\n")
    page = await (await client.get("/audit/chain")).text()
    assert "The anchor file cannot be read:" in page and "line 1" in page and "Intact: 3 entries checked." in page
    file_anchors(anchor_path, "")

    async with transaction(sessions) as session:
        await session.execute(
            text("UPDATE fairness_chain SET justification = 'by my own hand' WHERE seq = :seq"),
            {"seq": found.justified_seq},
        )
    page = await (await client.get("/audit/chain")).text()
    assert "The record was tampered with." in page
    assert f"Entry {found.justified_seq} was altered: what it holds no longer gives its hash." in page


async def test_the_request_page_explains_its_placements(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    found = await arranged(sessions, clock)
    await make_staff(sessions, clock, Role.AUDIT_DESK, "desk")
    await sign_in(client, "desk")
    await client.get("/lang/en")
    page = await (await client.get(f"/cases?tracking_number={found.placed}")).text()
    assert "Placement explanation" in page and "Risk to health or safety: Surgery date fixed" in page


async def test_the_auditor_is_refused_staff_pages_and_starts_at_placements(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    found = await as_auditor(client, sessions, clock)
    home = await (await client.get("/staff")).text()
    assert 'href="/audit/placements"' in home and 'href="/audit/chain"' in home and 'href="/cases"' not in home
    for path in (f"/cases?tracking_number={found.placed}", f"/audit/cases/{found.placed}", "/audit/queue", "/desk"):
        assert (await client.get(path, allow_redirects=False)).status == 403, path
