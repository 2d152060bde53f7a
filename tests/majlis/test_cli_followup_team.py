"""`majlis followup list | sweep | remind | close`, through majlis's entry point (tests/command_line.py) on a
migrated SQLite file.

The referrals are made in process through the real steps: one a month old (overdue, past its first rung of
escalation) and one made now. The commands run on the machine's clock, as in production.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from accounts.roles import Role
from cases import service as cases
from cases.models import CaseStatus
from followup import referrals
from followup.models import EventKind, ReferralEvent
from majlis.clock import FrozenClock, SystemClock
from majlis.db import create_engine, session_factory
from majlis.i18n import shipped_catalogs
from tests.command_line import run_majlis
from tests.factories import make_staff
from tests.followup.arrange import add_department
from tests.followup.team_arrange import referred

MAJLIS = ["followup"]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_majlis(MAJLIS + args, env)


@dataclass(frozen=True)
class Followed:
    env: dict[str, str]
    old: int  # referred to housing a month ago, never acknowledged
    new: int  # referred to health just now
    old_number: str
    new_number: str


async def _arrange(url: str) -> tuple[int, int, str, str]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    clock = FrozenClock(SystemClock().now() - timedelta(days=30))
    try:
        await add_department(sessions, "housing")
        await add_department(sessions, "health")
        auditor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
        await make_staff(sessions, clock, Role.FOLLOW_UP, "followup")
        [old] = await referred(sessions, clock, auditor, clock.now(), "housing")
        [new] = await referred(sessions, clock, auditor, SystemClock().now(), "health")
        async with sessions() as session:
            numbers = []
            for referral_id in (old, new):
                found = await referrals.lock(session=session, referral_id=referral_id)
                case = await cases.get_case(session=session, case_id=found.case_id)
                assert case is not None
                numbers.append(case.tracking_number)
    finally:
        await engine.dispose()
    return old, new, numbers[0], numbers[1]


@pytest.fixture
def followed(tmp_path: Path) -> Followed:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAJLIS_")}
    env["MAJLIS_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    upgraded = run_majlis(["db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    old, new, old_number, new_number = asyncio.run(_arrange(env["MAJLIS_DATABASE_URL"]))
    return Followed(env=env, old=old, new=new, old_number=old_number, new_number=new_number)


async def _events(url: str, referral_id: int) -> list[EventKind]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.scalars(
                select(ReferralEvent.kind).where(ReferralEvent.referral_id == referral_id).order_by(ReferralEvent.id)
            )
            return list(rows)
    finally:
        await engine.dispose()


async def _status(url: str, number: str) -> CaseStatus:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            case = await cases.find_by_tracking_number(session=session, tracking_number=number)
            assert case is not None
            return case.status
    finally:
        await engine.dispose()


def test_the_list_the_sweep_a_reminder_and_closing(followed: Followed) -> None:
    env, url = followed.env, followed.env["MAJLIS_DATABASE_URL"]
    listed = run(["list"], env)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert "2 on the list, 1 overdue, 0 for the team" in lines[0]
    chasing = lines[lines.index("With the departments (overdue first, then least working time left):") + 1 :]
    assert followed.old_number in chasing[0] and "OVERDUE by" in chasing[0] and "housing" in chasing[0]
    assert followed.new_number in chasing[1] and "first_response due" in chasing[1] and " left " in chasing[1]
    overdue = run(["list", "--overdue"], env)
    assert followed.old_number in overdue.stdout and followed.new_number not in overdue.stdout

    # A month old, every rung of the default ladder (the solution time, +2 and +5 working days) is past, yet a
    # sweep takes one rung per referral (each rank hears in turn): the first is escalated, or held until the
    # receiving rank's working time if the machine's clock is outside it.
    swept = run(["sweep"], env)
    assert swept.returncode == 0, swept.stderr
    found = re.search(r"escalated (\d+), deferred to the receiving rank's working time (\d+)", swept.stdout)
    assert found is not None and (int(found[1]), int(found[2])) in {(1, 0), (0, 1)}, swept.stdout
    assert asyncio.run(_events(url, followed.old)).count(EventKind.ESCALATED) == int(found[1])

    reminded = run(["remind", str(followed.new), "--sms", "--by", "followup"], env)
    assert reminded.returncode == 0, reminded.stderr
    assert f"reminded health of referral {followed.new} ({followed.new_number}) by email+sms" in reminded.stdout
    wrong = run(["remind", str(followed.new), "--by", "auditor"], env)
    assert wrong.returncode == 2 and "is for follow_up or administrator accounts" in wrong.stderr

    closed = run(["close", str(followed.new), "--outcome", "صُرف الدعم المطلوب", "--by", "followup"], env)
    assert closed.returncode == 0, closed.stderr
    assert "the request is complete and the applicant is sent the outcome" in closed.stdout
    assert asyncio.run(_status(url, followed.new_number)) is CaseStatus.COMPLETED
    twice = run(["close", str(followed.new), "--outcome", "مرة أخرى", "--by", "followup"], env)
    said = {
        language: shipped_catalogs().gettext(language, "This referral is closed; nothing more can be done on it.")
        for language in ("en", "ar")
    }
    assert twice.returncode == 2 and twice.stdout == ""
    assert f"refused (closed):\n  en: {said['en']}\n  ar: {said['ar']}\n" in twice.stderr
    assert asyncio.run(_events(url, followed.new)) == [EventKind.SENT, EventKind.REMINDED, EventKind.CLOSED]
    assert run(["remind", "999999", "--by", "followup"], env).returncode == 2
    assert run(["close", "0", "--outcome", "x", "--by", "followup"], env).returncode == 2
