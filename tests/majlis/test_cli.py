"""The `majlis` command line on a real SQLite file: the first commands as a newcomer runs them (a real process), the
rest through the same entry point in this process (tests/command_line.py)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import StaffUser
from cases import service as cases
from cases.identity import luhn_check_digit
from cases.intake import check_request
from cases.models import Channel
from majlis.clock import SystemClock, riyadh
from majlis.db import create_engine, session_factory, transaction
from majlis.errors import FieldError
from majlis.i18n import shipped_catalogs
from priority import service as triage
from rooms.models import Room, RoomKind
from scheduler.models import Appointment, AppointmentState, AudienceMode, AudienceSession, SessionState, Slot
from tests.command_line import run_majlis
from web.errors import field_message

MAJLIS = [sys.executable, "-m", "majlis.cli"]


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """In this process (tests/command_line.py): a real process costs three seconds of imports a command."""
    return run_majlis(args, env, stdin)


def run_process(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """As a newcomer runs it: `python -m majlis.cli`, its exit code as a shell sees it."""
    return subprocess.run(MAJLIS + args, env=env, capture_output=True, text=True, timeout=120, input=stdin)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAJLIS_")}
    clean["MAJLIS_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    # The demo writes today's anchor of the fairness chain: into the test's folder, not the project's var/.
    clean["MAJLIS_FAIRNESS_ANCHOR_FILE"] = str(tmp_path / "fairness-anchors.jsonl")
    return clean


def test_upgrade_demo_and_create_user(env: dict[str, str]) -> None:
    upgraded = run_process(["db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "database at revision" in upgraded.stdout

    demo = run(["demo"], env)
    assert demo.returncode == 0, demo.stderr
    assert "majlis-demo-2026" in demo.stdout
    for username in ("desk", "calls", "audit", "protocol", "women", "official", "followup", "admin"):
        assert f"  {username} " in demo.stdout
    first_link = _kiosk_link(demo.stdout)
    day = _audience_day(env)
    again = run(["demo"], env)
    assert again.returncode == 0, again.stderr  # a second run adds nothing and does not fail
    # The kiosk's token can only be shown when it is made: each run enrols the demo kiosk afresh.
    assert _kiosk_link(again.stdout) != first_link
    assert _audience_day(env) == day
    # Three applicants still expected, each with an arrival code, tracking number and the phone's last 4 digits.
    assert len(re.findall(r"^  \d+-\d{8} +\d\d-\d{6}-\d  \d{4}  ", again.stdout, re.MULTILINE)) == 3
    # The referred requests' pages: the same on every run, since the referrals are made once.
    referral_lines = [line for line in demo.stdout.splitlines() if "/followup" in line or "/r/" in line]
    assert len(referral_lines) == 2 and re.search(r"http://127\.0\.0\.1:8080/r/\d+\.1\.[\w-]+$", referral_lines[1])
    assert referral_lines == [line for line in again.stdout.splitlines() if "/followup" in line or "/r/" in line]
    assert re.search(r"/status: \d\d-\d{6}-\d with the phone \+9665\d{8}$", again.stdout, re.MULTILINE)
    # The fairness record's pass and today's anchor, written once: the second run finds it sent.
    assert re.search(r"^  (\d\d-\d{6}-\d) moved up the queue on a court date", demo.stdout, re.MULTILINE)
    anchors = (Path(env["MAJLIS_FAIRNESS_ANCHOR_FILE"])).read_text().splitlines()
    assert len(anchors) == 1 and f"today's anchor {json.loads(anchors[0])['seq']}:" in again.stdout

    allocated = run(["allocate"], env)
    assert allocated.returncode == 0, allocated.stderr
    # The demo already generated twelve weeks and placed its two routed requests.
    assert "0 new session(s); placed 0, still waiting 0" in allocated.stdout

    create = ["users", "create", "--password-stdin", "--username", "huda"]
    created = run([*create, "--name", "هدى", "--role", "women_section", "--gender", "female"], env, "a-long-password\n")
    assert created.returncode == 0, created.stderr
    assert "created huda (women_section)" in created.stdout

    again = run_process([*create, "--name", "x", "--role", "official", "--gender", "male"], env, "a-long-password\n")
    assert again.returncode == 2 and "already taken" in again.stderr


def _kiosk_link(stdout: str) -> str:
    found = re.findall(r"http://127\.0\.0\.1:8080/kiosk/enrol/[\w-]{40,}", stdout)
    assert len(found) == 1, stdout
    return str(found[0])


def _audience_day(env: dict[str, str]) -> dict[str, object]:
    """What the demo put in place for today's audience day in the Riyadh hall, read from the SQLite file."""
    path = env["MAJLIS_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as db:
        [hall_session] = db.execute(
            "SELECT id FROM audience_sessions WHERE note = 'demo hall' AND mode = 'in_person'"
        ).fetchall()
        states = db.execute(
            "SELECT a.state, count(*) FROM appointments a JOIN slots s ON s.id = a.slot_id"
            " WHERE s.session_id = ? GROUP BY a.state",
            hall_session,
        ).fetchall()
        arrivals = db.execute(
            "SELECT queue_number, late, via FROM arrivals WHERE session_id = ? ORDER BY queue_number", hall_session
        ).fetchall()
        heard = db.execute(
            "SELECT h.outcome, c.status FROM hall_audiences h JOIN cases c ON c.id = h.case_id WHERE h.session_id = ?",
            hall_session,
        ).fetchall()
        care = db.execute("SELECT kind, count(*) FROM care_tasks GROUP BY kind").fetchall()
        kiosks = db.execute(
            "SELECT branch_code, count(*) FROM kiosks WHERE revoked_at IS NULL GROUP BY branch_code"
        ).fetchall()
    # Six appointments: one heard, two arrived (one late), three still expected; one live kiosk at Riyadh.
    assert dict(states) == {"held": 1, "arrived": 2, "confirmed": 3}
    assert arrivals[:2] == [(1, 0, "kiosk"), (2, 0, "kiosk")] and arrivals[2][::2] == (3, "desk")
    # Late, except in the half hour after midnight, when nobody can have come late yet.
    assert arrivals[2][1] == 1 or riyadh(datetime.now(UTC)).time() < time(0, 35)
    assert heard == [("answered", "completed")]
    # Care tasks: wheelchair and transport for one, elderly for one in the hall and for the video audience's.
    assert dict(care) == {"elderly": 2, "transport": 1, "wheelchair": 1}
    assert kiosks == [("riyadh", 1)]
    return {"session": hall_session, "states": states, "arrivals": arrivals, "heard": heard, "care": care}


def test_production_refuses_the_default_secret_and_demo_data(env: dict[str, str]) -> None:
    refused = run(["settings"], {**env, "MAJLIS_ENVIRONMENT": "production"})
    assert refused.returncode == 2 and "MAJLIS_SECRET_KEY" in refused.stderr
    production = {
        **env,
        "MAJLIS_ENVIRONMENT": "production",
        "MAJLIS_SECRET_KEY": "p" * 40,
        "MAJLIS_EMERGENCY_CONSULAR_DEPUTY_EMAIL": "deputy@mofa.example.sa",
        "MAJLIS_EMERGENCY_CONSULAR_DEPUTY_PHONE": "+966501234567",
    }
    demo = run(["demo"], production)
    assert demo.returncode == 2 and "development only" in demo.stderr


def test_simulate_prints_the_comparison(env: dict[str, str]) -> None:
    result = run(["simulate", "--days", "56", "--permutations", "100"], env)
    assert result.returncode == 0, result.stderr
    for policy in ("first come, first served", "strict priority without aging", "Majlis's score"):
        assert policy in result.stdout
    # Then the load sweep and the equal-priority comparison (issue 18).
    assert "## Load sweep: 70%, 90%, 100%, 110% effective load" in result.stdout
    assert "## Equal priority, equal wait" in result.stdout
    assert "weeks" in result.stderr  # the progress bar


def test_settings_are_printed_with_secrets_masked(env: dict[str, str]) -> None:
    shown = run(["settings"], {**env, "MAJLIS_SECRET_KEY": "do-not-print-me"})
    assert shown.returncode == 0
    assert "do-not-print-me" not in shown.stdout and "majlis.db" not in shown.stdout
    assert "environment='development'" in shown.stdout


# --- changes by hand and the desk: `majlis move`, `place` and `check-in` ------------------------------------------


@dataclass(frozen=True)
class DayDatabase:
    """A database with the demo loaded and what the tests of the day's commands work on."""

    env: dict[str, str]
    demo: str  # what `majlis demo` printed: the applicants still expected in the hall today
    soon: int  # a free slot in the Riyadh hall two hours from now: inside the three days
    later: int  # a free slot there in five days
    moving: int  # the demo's applicant in a wheelchair: his appointment at the weekly audience
    waiting: str  # a request routed to an audience in person, holding none

    def rows(self, query: str, *params: object) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.env["MAJLIS_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")) as db:
            return db.execute(query, params).fetchall()


@pytest.fixture(scope="module")
def day_db(tmp_path_factory: pytest.TempPathFactory) -> DayDatabase:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAJLIS_")}
    folder = tmp_path_factory.mktemp("day")
    env["MAJLIS_DATABASE_URL"] = f"sqlite+aiosqlite:///{folder / 'majlis.db'}"
    env["MAJLIS_FAIRNESS_ANCHOR_FILE"] = str(folder / "fairness-anchors.jsonl")
    for command in (["db", "upgrade"], ["demo"]):
        done = run(command, env)
        assert done.returncode == 0, done.stderr
    return asyncio.run(_day_setup(env, demo=done.stdout))


async def _day_setup(env: dict[str, str], *, demo: str) -> DayDatabase:
    """Two free slots (two hours and five days away) and a waiting request, made in process on the demo's data."""
    engine = create_engine(env["MAJLIS_DATABASE_URL"])
    clock = SystemClock()
    try:
        async with transaction(session_factory(engine)) as session:
            hall = await session.scalar(
                select(Room.id).where(Room.kind == RoomKind.AUDIENCE_HALL, Room.branch_code == "riyadh")
            )
            assert hall is not None
            soon = await _one_slot_session(session, hall, clock.now() + timedelta(hours=2))
            later = await _one_slot_session(session, hall, clock.now() + timedelta(days=5))
            moving = await session.scalar(
                select(Appointment.id)
                .join(Slot, Slot.id == Appointment.slot_id)
                .join(AudienceSession, AudienceSession.id == Slot.session_id)
                .where(
                    AudienceSession.template_id.is_not(None),
                    AudienceSession.mode == AudienceMode.IN_PERSON,
                    Appointment.state == AppointmentState.SCHEDULED,
                )
            )
            auditor = await session.scalar(select(StaffUser.id).where(StaffUser.username == "audit"))
            assert moving is not None and auditor is not None
            applicant = {"kind": "citizen", "id_number": "100000099" + luhn_check_digit("100000099"), "gender": "male"}
            applicant |= {"name": "سلمان ناصر الشمري", "phone": "0503330099", "language": "ar"}
            request = {
                "kind": "audience_in_person",
                "subject": "طلب مقابلة",
                "text": "أرجو مقابلة معاليه.",
                "branch": "riyadh",
            }
            details = check_request(applicant, request, channel=Channel.PORTAL)
            case = (await cases.submit(session=session, clock=clock, details=details, status_url="")).case
            number = case.tracking_number
            await triage.verify(session=session, clock=clock, tracking_number=number, actor_id=auditor)
            await triage.classify(
                session=session,
                clock=clock,
                tracking_number=number,
                actor_id=auditor,
                category="housing",
                urgency="normal",
            )
            await triage.route(
                session=session,
                clock=clock,
                tracking_number=number,
                actor_id=auditor,
                to="audience_in_person",
                status_url="",
            )
    finally:
        await engine.dispose()
    return DayDatabase(env=env, demo=demo, soon=soon, later=later, moving=moving, waiting=case.tracking_number)


async def _one_slot_session(session: AsyncSession, room_id: int, starts: datetime) -> int:
    """A session added by hand (not locked) of one slot of one seat; the slot's id."""
    dated = AudienceSession(
        template_id=None,
        day=riyadh(starts).date(),
        starts_at=starts,
        ends_at=starts + timedelta(minutes=10),
        mode=AudienceMode.IN_PERSON,
        state=SessionState.PLANNED,
        locked=False,
        cancelled_for_holiday=False,
        note="test_cli",
    )
    session.add(dated)
    await session.flush()
    slot = Slot(session_id=dated.id, room_id=room_id, starts_at=starts, ends_at=dated.ends_at, capacity=1)
    session.add(slot)
    await session.flush()
    return slot.id


def _in_both(message: str, **params: str) -> dict[str, str]:
    return {language: shipped_catalogs().gettext(language, message, **params) for language in ("en", "ar")}


def _refused(done: subprocess.CompletedProcess[str], code: str, said: dict[str, str]) -> None:
    """Exit 2, nothing on stdout, the rule's code and its message in English and in Arabic."""
    assert done.returncode == 2 and done.stdout == "", (done.stdout, done.stderr)
    assert said["en"] != said["ar"]
    assert f"refused ({code}):\n  en: {said['en']}\n  ar: {said['ar']}\n" in done.stderr, done.stderr


def test_move_and_place_by_hand(day_db: DayDatabase) -> None:
    env = day_db.env
    move = ["move", "--appointment", str(day_db.moving), "--reason", "new_information", "--text", "a later day"]
    # The fairness record needs a person of protocol (or an administrator): not the intake desk.
    desk = run([*move, "--slot", str(day_db.later), "--by", "desk"], env)
    assert desk.returncode == 2 and "is for protocol or administrator accounts; desk is intake_desk" in desk.stderr
    unknown = run([*move, "--slot", "999999", "--by", "protocol"], env)
    slot_error = FieldError("to_slot", "unknown", "{field} is not one of the slots.")
    _refused(
        unknown,
        "to_slot: unknown",
        {lang: field_message(shipped_catalogs(), lang, slot_error) for lang in ("en", "ar")},
    )

    moved = run([*move, "--slot", str(day_db.later), "--by", "admin"], env)
    assert moved.returncode == 0, moved.stderr
    day = riyadh(datetime.now(UTC) + timedelta(days=5)).date().isoformat()
    assert re.fullmatch(
        rf"moved \S+ from appointment {day_db.moving} to \w+ {day} \d\d:\d\d \(Riyadh\), slot {day_db.later}, .+: "
        r"new appointment \d+\nthe applicant is told by SMS\n",
        moved.stdout,
    )

    # Inside the three days only on the official's directive: refused naming the rule, then placed and called.
    place = ["place", "--tracking-number", day_db.waiting, "--slot", str(day_db.soon), "--by", "protocol"]
    notice = "The seat is less than three days away; only the official's directive allows an appointment this soon."
    soon = run([*place, "--reason", "health_or_safety", "--text", "to be seen soon"], env)
    _refused(soon, "notice", _in_both(notice))
    placed = run([*place, "--directive", "--text", "يُقابَل اليوم بتوجيه معاليه"], env)
    assert placed.returncode == 0, placed.stderr
    assert placed.stdout.startswith(f"placed {day_db.waiting} at ")
    assert placed.stdout.endswith("on the official's directive: the applicant is told by SMS and called\n")
    recorded = day_db.rows(
        "SELECT m.reason, u.username FROM manual_changes m JOIN staff_users u ON u.id = m.actor_id"
        " WHERE m.field = 'appointment' ORDER BY m.id"
    )
    assert recorded == [("new_information", "admin"), ("official_directive", "protocol")]
    told = day_db.rows(
        "SELECT DISTINCT o.channel FROM outbox_messages o JOIN cases c ON c.id = o.case_id WHERE c.tracking_number = ?",
        day_db.waiting,
    )
    assert {"sms", "voice"} <= {channel for (channel,) in told}


def test_check_in_at_the_desk(day_db: DayDatabase) -> None:
    env = day_db.env
    expected = re.findall(r"^  (\d+)-(\d{8}) +(\d\d-\d{6}-\d)  (\d{4})  ", day_db.demo, re.MULTILINE)
    assert len(expected) == 3, day_db.demo
    (appointment, mac, number, last4), (other, *_) = expected[:2]
    # The demo's hall has had three arrivals: the next is number 4 (late or not as the clock has it).
    came = run(["check-in", "--branch", "riyadh", "--code", f"{appointment}-{mac}", "--by", "desk"], env)
    assert came.returncode == 0, came.stderr
    at = re.match(rf"checked in {number} at (\d\d:\d\d) \(Riyadh\): queue number 4, (in time|late)", came.stdout)
    assert at is not None, came.stdout
    by_number = ["--tracking-number", number, "--phone-last4", last4, "--by", "protocol"]
    twice = run(["check-in", "--branch", "riyadh", *by_number], env)
    already = "Already checked in at {time}, queue number {number}."
    _refused(twice, "already_arrived", _in_both(already, time=at.group(1), number="4"))
    elsewhere = run(["check-in", "--branch", "jeddah", "--appointment", other, "--by", "desk"], env)
    _refused(elsewhere, "wrong_branch", _in_both("This appointment is at another reception centre."))
    assert day_db.rows("SELECT count(*) FROM arrivals WHERE appointment_id IN (?, ?)", appointment, other) == [(1,)]
