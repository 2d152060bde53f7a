"""`majlis emergency sweep | ack | solve`, through majlis's entry point (tests/command_line.py) on a migrated
SQLite file, on the machine's clock.

An urgent report registered three hours ago at the embassy in Sydney (past its two hours): the sweep takes it to
the head of mission; a member of another mission's staff is refused, Sydney's own acknowledges it (once), then
hands it over and the citizen is told.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from accounts.models import StaffUser
from accounts.roles import Role
from emergency.models import EmergencyReport, ReportState, Severity
from majlis.clock import FrozenClock, SystemClock
from majlis.db import create_engine, session_factory, transaction
from notify.models import OutboxMessage
from tests.command_line import run_majlis
from tests.emergency.levels_arrange import add_mission, add_report
from tests.factories import make_staff

MAJLIS = ["emergency"]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_majlis(MAJLIS + args, env)


async def _arrange(url: str) -> str:
    engine = create_engine(url)
    sessions = session_factory(engine)
    clock = FrozenClock(SystemClock().now() - timedelta(hours=3))
    try:
        sydney = await add_mission(sessions, "sydney")
        kuwait = await add_mission(sessions, "kuwait")
        report_id = await add_report(sessions, clock, sydney, Severity.URGENT)
        for username, mission_id in (("sydneystaff", sydney), ("kuwaitstaff", kuwait)):
            user_id = (await make_staff(sessions, clock, Role.MISSION_STAFF, username)).id
            async with transaction(sessions) as session:
                user = await session.get(StaffUser, user_id)
                assert user is not None
                user.mission_id = mission_id
        async with sessions() as session:
            return str(await session.scalar(select(EmergencyReport.number).where(EmergencyReport.id == report_id)))
    finally:
        await engine.dispose()


async def _state(url: str) -> tuple[EmergencyReport, list[str]]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            report = await session.scalar(select(EmergencyReport))
            assert report is not None
            told = list(
                await session.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == report.phone))
            )
            return report, told
    finally:
        await engine.dispose()


def test_sweep_acknowledge_and_hand_over_from_the_terminal(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAJLIS_")}
    url = env["MAJLIS_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    upgraded = run_majlis(["db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    number = asyncio.run(_arrange(url))

    swept = run(["sweep"], env)
    assert swept.returncode == 0, swept.stderr
    assert "escalated 1," in swept.stdout
    assert "escalated 0," in run(["sweep"], env).stdout

    refused = run(["ack", number, "--by", "kuwaitstaff"], env)
    assert refused.returncode == 2
    assert "refused (not_allowed)" in refused.stderr and "ar: " in refused.stderr
    acknowledged = run(["ack", number.lower(), "--by", "sydneystaff"], env)
    assert acknowledged.returncode == 0, acknowledged.stderr
    assert f"{number} acknowledged by Staff mission_staff" in acknowledged.stdout
    again = run(["ack", number, "--by", "sydneystaff"], env)
    assert again.returncode == 2 and "refused (acknowledged)" in again.stderr
    unknown = run(["ack", "E26-999999-9", "--by", "sydneystaff"], env)
    assert unknown.returncode == 2 and "refused (report_not_found)" in unknown.stderr

    outcome = "Handed to the Sydney police, who found him"
    solved = run(["solve", number, "--outcome", outcome, "--handed-over", "--by", "sydneystaff"], env)
    assert solved.returncode == 0, solved.stderr
    report, told = asyncio.run(_state(url))
    assert (report.state, report.escalation_level, report.next_escalation_at) == (ReportState.HANDED_OVER, 1, None)
    assert any(outcome in body for body in told)
