"""`majlis emergency-report`, run as a process on a real SQLite file holding November 2026 as
tests/emergency/month_arrange.py plays it: printed, as CSV, as XLSX, and refused."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import zipfile
from pathlib import Path

import pytest

from majlis.db import create_engine, session_factory
from tests.emergency.month_arrange import arranged_month
from tests.majlis.test_cli import run


async def _november(url: str) -> None:
    engine = create_engine(url)
    try:
        await arranged_month(session_factory(engine))
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAJLIS_")}
    env["MAJLIS_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('emergency') / 'majlis.db'}"
    done = run(["db", "upgrade"], env)
    assert done.returncode == 0, done.stderr
    asyncio.run(_november(env["MAJLIS_DATABASE_URL"]))
    return env


def test_printed(env: dict[str, str]) -> None:
    done = run(["emergency-report", "--month", "2026-11"], env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Emergency line report: November 2026"
    # The central desk first, then by country and name.
    assert lines.index("Central consular desk") < lines.index("Consulate General in Dubai")
    abu_dhabi = lines[lines.index("Embassy in Abu Dhabi") + 1 :][:7]
    assert abu_dhabi == [
        "  Reports received: 3 (Life-threatening 2, Urgent 1, Normal 0)",
        "  Acknowledged within the service level: 2 (Life-threatening 1, Urgent 0, Normal 1)",
        "  Acknowledged late: 1 (Life-threatening 1, Urgent 0, Normal 0)",
        "  Solved or handed over within the service level: 1 (Life-threatening 1, Urgent 0, Normal 0)",
        "  Solved or handed over late: 1 (Life-threatening 1, Urgent 0, Normal 0)",
        "  Escalations: 2 (Life-threatening 2, Urgent 0, Normal 0)",
        "  Open at the month's end: 2 (Life-threatening 0, Urgent 1, Normal 1)",
    ]
    assert "By country" in lines and "United Kingdom" in lines
    assert lines[lines.index("All missions") + 1] == "  Reports received: 5 (Life-threatening 2, Urgent 2, Normal 1)"
    arabic = run(["emergency-report", "--month", "2026-11", "--language", "ar"], env)
    assert arabic.stdout.startswith("تقرير خط الطوارئ: نوفمبر 2026\n")
    assert "  البلاغات الواردة: 5 (خطر على الحياة 2، عاجلة 2، عادية 1)\n" in arabic.stdout


def test_csv_and_xlsx_files(env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "november.csv"
    done = run(["emergency-report", "--month", "2026-11", "--csv", str(target)], env)
    assert done.returncode == 0 and done.stdout == f"wrote {target} (November 2026)\n", done.stderr
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0][:5] == ["Table", "Code", "Name", "Severity", "Reports received"]
    assert ["Country", "AE", "United Arab Emirates", "All severities", "4", "3", "1", "1", "1", "2", "3"] in table

    book_path = tmp_path / "hijri.xlsx"
    done = run(["emergency-report", "--hijri", "1448-06", "--xlsx", str(book_path), "--language", "ar"], env)
    assert done.returncode == 0 and done.stdout == f"wrote {book_path} (Jumada al-Akhirah 1448 AH)\n", done.stderr
    book = zipfile.ZipFile(book_path)
    assert ">تقرير خط الطوارئ: جمادى الآخرة 1448 هـ<" in book.read("xl/sharedStrings.xml").decode()
    assert 'rightToLeft="1"' in book.read("xl/worksheets/sheet1.xml").decode()


def test_refused_in_both_languages(env: dict[str, str]) -> None:
    done = run(["emergency-report", "--month", "2026-3"], env)
    assert done.returncode == 2 and done.stdout == ""
    assert "majlis: --month: Give the Gregorian month as YYYY-MM" in done.stderr
    assert "majlis: --month: اكتب الشهر الميلادي بالصيغة YYYY-MM" in done.stderr
    both = run(["emergency-report", "--month", "2026-11", "--hijri", "1448-06"], env)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
