"""`majlis followup-report`, run as a process on a real SQLite file: printed, as CSV, as XLSX, and refused."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from cases import service as cases
from cases.identity import luhn_check_digit
from cases.intake import check_request
from cases.models import Channel
from majlis.clock import RIYADH, FrozenClock
from majlis.db import create_engine, session_factory, transaction
from tests.followup.test_report import add_department, refer
from tests.majlis.test_cli import run
from worktime.models import WorkingCalendar


def march(day: int, hour: int = 8) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=RIYADH)


async def _march(url: str) -> None:
    """Health, March 2026: one referral answered on time in 3 working days, one left past its deadline."""
    engine = create_engine(url)
    clock = FrozenClock(march(1))
    try:
        async with transaction(session_factory(engine)) as session:
            applicant = {"kind": "citizen", "id_number": "100000077" + luhn_check_digit("100000077"), "gender": "male"}
            applicant |= {"name": "سلمان ناصر", "phone": "0503330077", "language": "ar"}
            request = {"kind": "petition", "subject": "طلب", "text": "أرجو النظر في طلبي.", "branch": "riyadh"}
            details = check_request(applicant, request, channel=Channel.PORTAL)
            case = (await cases.submit(session=session, clock=clock, details=details, status_url="")).case
            government = await session.scalar(select(WorkingCalendar.id).where(WorkingCalendar.code == "government"))
            assert government is not None
            health = await add_department(
                session, "health", "وزارة الصحة", "Ministry of Health", calendar_id=government
            )
            await refer(session, case.id, health, march(1), march(15), answered=march(3, 15))
            await refer(session, case.id, health, march(2), march(4))
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAJLIS_")}
    env["MAJLIS_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('report') / 'majlis.db'}"
    done = run(["db", "upgrade"], env)
    assert done.returncode == 0, done.stderr
    asyncio.run(_march(env["MAJLIS_DATABASE_URL"]))
    return env


def test_printed(env: dict[str, str]) -> None:
    done = run(["followup-report", "--month", "2026-03"], env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Follow-up report: March 2026"
    health = lines[lines.index("Ministry of Health") + 1 :][:6]
    assert health == [
        "  Referrals made: 2",
        "  Answered on time: 1",
        "  Answered late: 0",
        "  Open and overdue at the period's end: 1",
        "  Median working days to a solution: 3.0",
        "  Escalations: 0",
    ]
    arabic = run(["followup-report", "--month", "2026-03", "--language", "ar"], env)
    assert arabic.stdout.startswith("تقرير المتابعة: مارس 2026\n") and "  الإحالات: 2\n" in arabic.stdout


def test_csv_and_xlsx_files(env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "march.csv"
    done = run(["followup-report", "--month", "2026-03", "--csv", str(target), "--language", "ar"], env)
    assert done.returncode == 0 and done.stdout == f"wrote {target} (March 2026)\n", done.stderr
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0][:3] == ["الرمز", "الجهة", "الإحالات"]
    assert table[1] == ["health", "وزارة الصحة", "2", "1", "0", "1", "3.0", "0", "0"]

    book_path = tmp_path / "hijri.xlsx"
    # Ramadan 1447 runs from 18 February to 19 March 2026: both referrals fall in it.
    done = run(["followup-report", "--hijri", "1447-09", "--xlsx", str(book_path)], env)
    assert done.returncode == 0 and done.stdout == f"wrote {book_path} (Ramadan 1447 AH)\n", done.stderr
    book = zipfile.ZipFile(book_path)
    assert "xl/workbook.xml" in book.namelist()
    strings = book.read("xl/sharedStrings.xml").decode()
    assert ">Follow-up report: Ramadan 1447 AH<" in strings and ">Ministry of Health<" in strings
    assert "rightToLeft" not in book.read("xl/worksheets/sheet1.xml").decode()


def test_refused_in_both_languages(env: dict[str, str]) -> None:
    done = run(["followup-report", "--month", "2026-3"], env)
    assert done.returncode == 2 and done.stdout == ""
    assert "majlis: --month: Give the Gregorian month as YYYY-MM" in done.stderr
    assert "majlis: --month: اكتب الشهر الميلادي بالصيغة YYYY-MM" in done.stderr
    both = run(["followup-report", "--month", "2026-03", "--hijri", "1447-09"], env)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
