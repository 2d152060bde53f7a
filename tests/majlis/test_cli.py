"""The `majlis` command line, run as a newcomer would run it (a real process, a real SQLite file)."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from majlis.clock import riyadh

MAJLIS = [sys.executable, "-m", "majlis.cli"]


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(MAJLIS + args, env=env, capture_output=True, text=True, timeout=120, input=stdin)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAJLIS_")}
    clean["MAJLIS_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    return clean


def test_upgrade_demo_and_create_user(env: dict[str, str]) -> None:
    upgraded = run(["db", "upgrade"], env)
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

    allocated = run(["allocate"], env)
    assert allocated.returncode == 0, allocated.stderr
    # The demo already generated twelve weeks and placed its two routed requests.
    assert "0 new session(s); placed 0, still waiting 0" in allocated.stdout

    create = ["users", "create", "--password-stdin", "--username", "huda"]
    created = run([*create, "--name", "هدى", "--role", "women_section", "--gender", "female"], env, "a-long-password\n")
    assert created.returncode == 0, created.stderr
    assert "created huda (women_section)" in created.stdout

    again = run([*create, "--name", "x", "--role", "official", "--gender", "male"], env, "a-long-password\n")
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
    production = {**env, "MAJLIS_ENVIRONMENT": "production", "MAJLIS_SECRET_KEY": "p" * 40}
    demo = run(["demo"], production)
    assert demo.returncode == 2 and "development only" in demo.stderr


def test_simulate_prints_the_comparison(env: dict[str, str]) -> None:
    result = run(["simulate", "--days", "56"], env)
    assert result.returncode == 0, result.stderr
    for policy in ("first come, first served", "strict priority without aging", "Majlis's score"):
        assert policy in result.stdout
    assert "weeks" in result.stderr  # the progress bar


def test_settings_are_printed_with_secrets_masked(env: dict[str, str]) -> None:
    shown = run(["settings"], {**env, "MAJLIS_SECRET_KEY": "do-not-print-me"})
    assert shown.returncode == 0
    assert "do-not-print-me" not in shown.stdout and "majlis.db" not in shown.stdout
    assert "environment='development'" in shown.stdout
