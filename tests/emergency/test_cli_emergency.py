"""`majlis emergency report | list | show`, through majlis's entry point (tests/command_line.py) on a
migrated SQLite file, on the machine's clock."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from accounts.roles import Role
from emergency.models import EmergencyReport
from emergency.numbers import parse_report_number
from majlis.clock import SystemClock
from majlis.db import create_engine, session_factory
from notify.models import OutboxMessage
from tests.command_line import run_majlis
from tests.emergency.arrange import add_agent, add_missions
from tests.factories import make_staff

MAJLIS = ["emergency"]
REPORT = [
    "report",
    "--national-id",
    "1000000008",
    "--name",
    "Saad Alotaibi",
    "--phone",
    "+971 50 123 4567",
    "--type",
    "accident",
    "--severity",
    "urgent",
    "--account",
    "Car accident; taken to Rashid Hospital",
]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_majlis(MAJLIS + args, env)


async def _arrange(url: str) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        await add_missions(sessions)
        await add_agent(sessions, SystemClock())
        await make_staff(sessions, SystemClock(), Role.CONSULAR_SUPERVISOR, "supervisor")
    finally:
        await engine.dispose()


async def _saved(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            return (
                await session.scalar(select(func.count()).select_from(EmergencyReport)) or 0,
                await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
            )
    finally:
        await engine.dispose()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAJLIS_")}
    url = clean["MAJLIS_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    upgraded = run_majlis(["db", "upgrade"], clean)
    assert upgraded.returncode == 0, upgraded.stderr
    asyncio.run(_arrange(url))
    return clean


def test_register_list_and_show_from_the_terminal(env: dict[str, str]) -> None:
    made = run([*REPORT, "--country", "AE", "--city", "Dubai", "--by", "agent"], env)
    assert made.returncode == 0, made.stderr
    first, *rest = made.stdout.splitlines()
    number = first.split()[1].rstrip(":")
    assert parse_report_number(number) == number
    assert first == f"registered {number}: The consulate in Dubai (dubai)"
    assert rest[0].startswith("  acknowledge by ") and "Asia/Dubai (" in rest[0] and "Riyadh)" in rest[0]

    desk = run([*REPORT, "--country", "united kingdom", "--city", "Leeds", "--by", "agent", "--language", "en"], env)
    assert desk.returncode == 0, desk.stderr
    assert ": The central consular desk (central-desk)" in desk.stdout
    assert "  The embassy in London (london) covers Leeds, GB: not live yet" in desk.stdout

    listed = run(["list"], env).stdout.splitlines()
    assert len(listed) == 2 and listed[1].startswith(number)
    only_dubai = run(["list", "--mission", "dubai", "--open"], env)
    assert only_dubai.returncode == 0 and only_dubai.stdout.split()[0] == number

    shown = run(["show", number.lower().replace("-", " ")], env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"{number}  open  urgent  accident")
    assert "  mission: The consulate in Dubai (dubai)" in shown.stdout
    assert "  caller: Saad Alotaibi, national ID 1000000008, +971501234567 [ar]" in shown.stdout
    assert "registered (Staff emergency_agent)" in shown.stdout and "alerted" in shown.stdout


def test_refusals_are_bilingual_and_save_nothing(env: dict[str, str], tmp_path: Path) -> None:
    bad = run(
        [*REPORT[:6], "+61 2 9374 4000", *REPORT[7:], "--country", "Atlantis", "--city", "X", "--by", "agent"], env
    )
    assert bad.returncode == 2 and bad.stdout == ""
    head, english, arabic = bad.stderr.splitlines()
    assert head == "refused (phone: invalid_phone, country: invalid_country):"
    assert english.startswith("  en: Mobile number must be a mobile number of any country")
    assert arabic.startswith("  ar: ") and "«الدولة»" in arabic

    nowhere = run([*REPORT, "--country", "FJ", "--city", "Suva", "--by", "agent"], env)
    assert nowhere.returncode == 2 and nowhere.stderr.startswith("refused (country: unknown_country):")
    assert "AE, AU, GB, JP" in nowhere.stderr
    city = run([*REPORT, "--country", "JP", "--city", "Kyoto", "--by", "agent"], env)
    assert city.returncode == 2 and "refused (city: city_not_covered)" in city.stderr
    not_agent = run([*REPORT, "--country", "AE", "--city", "Dubai", "--by", "supervisor"], env)
    assert not_agent.returncode == 2 and "refused (not_allowed)" in not_agent.stderr
    assert asyncio.run(_saved(env["MAJLIS_DATABASE_URL"])) == (0, 0)

    unknown = run(["show", "E26-999999-9"], env)
    assert unknown.returncode == 2 and "refused (report_not_found)" in unknown.stderr
    no_mission = run(["list", "--mission", "atlantis"], env)
    assert no_mission.returncode == 2 and no_mission.stderr.startswith("refused (")
