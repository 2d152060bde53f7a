"""`majlis quality monthly` and `majlis quality mail-monthly` on a real SQLite file: the report printed and as a
workbook, refusals in both languages with exit 2, and the managers' e-mail sent once. Through majlis.cli.main in
the test's process (a process of its own takes seconds to start), and once as the installed command."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from accounts.models import StaffUser
from accounts.roles import Role
from followup.periods import last_complete_month
from majlis.cli import main
from majlis.clock import FrozenClock, SystemClock
from majlis.db import create_engine, session_factory, transaction
from notify.models import OutboxMessage
from quality import monthly_mailing
from tests.factories import make_staff
from tests.majlis.test_cli import env, run
from tests.quality.test_monthly import arranged_november, nov

__all__ = ["env"]


async def _arrange(url: str) -> None:
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        clock = FrozenClock(nov(1))
        await arranged_november(sessions, clock)
        manager = await make_staff(sessions, clock, Role.MANAGER, "manager")
        await make_staff(sessions, clock, Role.MANAGER, "another")
        async with transaction(sessions) as session:
            account = await session.get(StaffUser, manager.id)
            assert account is not None
            account.email = "manager@example.gov.sa"
    finally:
        await engine.dispose()


async def _mailed(url: str) -> list[OutboxMessage]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            query = select(OutboxMessage).where(OutboxMessage.purpose == monthly_mailing.PURPOSE)
            return list(await session.scalars(query))
    finally:
        await engine.dispose()


@pytest.fixture
def database(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated SQLite file with November arranged, named by MAJLIS_DATABASE_URL for main()."""
    path = tmp_path / "majlis.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(_arrange(url))
    monkeypatch.setenv("MAJLIS_DATABASE_URL", url)
    return url


def test_the_report_printed_written_and_refused(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["quality", "monthly", "--branch", "riyadh", "--month", "2026-11"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["Service quality report: November 2026", "Branch: Riyadh"]
    assert "  Requests submitted | 6" in lines and "  Ratings | 6" in lines

    workbook_file = tmp_path / "riyadh.xlsx"
    arguments = ["--branch", "riyadh", "--hijri", "1448-05", "--xlsx", str(workbook_file), "--language", "ar"]
    assert main(["quality", "monthly", *arguments]) == 0
    written = capsys.readouterr().out
    assert "wrote" in written and "Jumada al-Ula 1448 AH" in written
    workbook = load_workbook(workbook_file)
    assert workbook.worksheets[0].sheet_view.rightToLeft
    assert workbook.worksheets[1]["A1"].value == "الملخص"

    for refused, english, arabic in (
        (["--department", "99999"], "--department: There is no department with this number.", "لا توجد جهة"),
        (["--department", "health"], "--department: Give the department as its number", "أدخل رقم الجهة"),
        (["--department", "999999999999"], "--department: Give the department as its number", "أدخل رقم الجهة"),
        (["--month", "2026-13"], "--month: Give the Gregorian month as YYYY-MM", "اكتب الشهر الميلادي"),
        (["--hijri", "1600-01"], "--hijri: Give the Hijri month as YYYY-MM", "اكتب الشهر الهجري"),
    ):
        assert main(["quality", "monthly", *refused]) == 2, refused
        errors = capsys.readouterr().err
        assert english in errors and arabic in errors, errors


def test_the_managers_are_mailed_once(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    period = last_complete_month(SystemClock().now(), hijri=False).key
    assert main(["quality", "mail-monthly"]) == 0
    assert capsys.readouterr().out.strip() == (
        f"quality report {period}: sent to 1 manager(s), 1 without an e-mail address, 0 failed"
    )
    assert main(["quality", "mail-monthly"]) == 0
    assert "sent to 0 manager(s), 1 without" in capsys.readouterr().out
    [message] = asyncio.run(_mailed(database))
    assert message.recipient == "manager@example.gov.sa"


def test_the_installed_command_refuses_an_unknown_branch(env: dict[str, str], database: str) -> None:
    refused = run(["quality", "monthly", "--branch", "mecca"], env | {"MAJLIS_DATABASE_URL": database})
    assert refused.returncode == 2
    assert "--branch: There is no reception centre with this code." in refused.stderr
    assert "لا يوجد مركز استقبال بهذا الرمز." in refused.stderr
