"""The `majlis` command line, run as a newcomer would run it (a real process, a real SQLite file)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
    assert run(["demo"], env).returncode == 0  # a second run adds nothing and does not fail

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
