"""`majlis quality stats` on a real SQLite file: the summary, one chart's CSV equal to the page's, and refusals in
both languages with exit 2. Through majlis.cli.main in the test's process."""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
from pathlib import Path

import pytest

from majlis.cli import main
from majlis.db import create_engine, session_factory, transaction
from tests.quality.test_statistics import generate, store


async def _arrange(url: str) -> None:
    engine = create_engine(url)
    try:
        async with transaction(session_factory(engine)) as session:
            await store(session, generate(19, 120))
    finally:
        await engine.dispose()


@pytest.fixture
def database(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "majlis.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(_arrange(url))
    monkeypatch.setenv("MAJLIS_DATABASE_URL", url)
    return url


def test_the_figures_printed_as_csv_and_refused(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quality", "stats", "--period", "month", "--value", "2026-11"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "November 2026 (2026-11-01 – 2026-11-30)"
    assert "Requests by kind" in lines and "Days from submission to the first audience, by urgency" in lines
    assert any(line.startswith("  Mean (minutes) | ") for line in lines)

    assert main(["quality", "stats", "--period", "month", "--value", "2026-11", "--csv", "requests-channel"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["Channel", "Requests", "suppressed"]
    assert {row[0] for row in rows[1:]} == {"Portal", "Walk-in at the desk", "Call centre", "WhatsApp", "E-mail"}

    arguments = ["--period", "custom", "--from", "2026-11-01", "--to", "2026-11-15", "--branch", "riyadh"]
    assert main(["quality", "stats", *arguments, "--language", "ar"]) == 0
    assert "الطلبات حسب النوع" in capsys.readouterr().out

    for refused, english, arabic in (
        (["--period", "month", "--value", "2026-13"], "--value: Give the Gregorian month", "الشهر الميلادي"),
        (
            ["--period", "custom", "--from", "2026-11-10", "--to", "2026-11-01"],
            "--to: The last day comes",
            "اليوم الأخير",
        ),
        (["--branch", "mecca"], "--branch: There is no reception centre with this code.", "لا يوجد مركز استقبال"),
    ):
        assert main(["quality", "stats", *refused]) == 2, refused
        errors = capsys.readouterr().err
        assert english in errors and arabic in errors, errors
