"""`majlis departments`, `majlis calendars`, `majlis policies` and liaison accounts through majlis's own entry
point (in this process, tests/command_line.py) on a real SQLite file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.command_line import run_majlis


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_majlis(args, env, stdin)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAJLIS_")}
    clean["MAJLIS_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}"
    upgraded = run(["db", "upgrade"], clean)
    assert upgraded.returncode == 0, upgraded.stderr
    return clean


def test_departments_and_their_people(env: dict[str, str]) -> None:
    office = ["departments", "add", "--code", "office", "--name-ar", "ديوان المجلس", "--name-en", "The office"]
    added = run([*office, "--email", "office@example.org"], env)
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added department office at the top of the tree"
    health = ["departments", "add", "--code", "Health", "--name-ar", "وزارة الصحة", "--name-en", "Health"]
    assert run([*health, "--parent", "office", "--email", "moh@example.org"], env).returncode == 0

    refused = run(
        [
            "departments",
            "add",
            "--code",
            "x",
            "--name-ar",
            " ",
            "--name-en",
            "X",
            "--email",
            "x",
            "--parent",
            "nowhere",
        ],
        env,
    )
    assert refused.returncode == 2 and refused.stdout == ""
    head, english, arabic = refused.stderr.splitlines()
    assert head == "refused (code: invalid, name_ar: missing, email: invalid_email, parent: unknown):"
    assert english.startswith("  en: Code must be 2 to 40 small Latin letters") and "Parent department" in english
    assert arabic.startswith("  ar: ") and "«الجهة الأعلى»" in arabic

    person = ["departments", "contact-add", "--department", "health", "--role", "liaison", "--name", "Sara"]
    made = run([*person, "--email", "sara@example.org", "--phone", "0501234567", "--language", "en"], env)
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("added liaison Sara to health (contact ")
    wrong = run([*person, "--email", "sara@example.org", "--phone", "123"], env)
    assert wrong.returncode == 2 and "phone: invalid_phone" in wrong.stderr
    missing = run(
        [
            "departments",
            "contact-add",
            "--department",
            "nowhere",
            "--role",
            "head",
            "--name",
            "x",
            "--email",
            "x@example.org",
        ],
        env,
    )
    assert missing.returncode == 2 and "refused (department_not_found)" in missing.stderr

    listed = run(["departments", "list"], env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "office: The office / ديوان المجلس  [government] <office@example.org>",
        "  health: Health / وزارة الصحة  [government] <moh@example.org>",
        "      liaison: Sara <sara@example.org> +966501234567 [en]",
    ]

    create = ["users", "create", "--password-stdin", "--username", "majed", "--name", "ماجد", "--gender", "male"]
    no_department = run([*create, "--role", "department_liaison"], env, "a-long-password\n")
    assert no_department.returncode == 2 and "department" in no_department.stderr
    liaison = run([*create, "--role", "department_liaison", "--department", "health"], env, "a-long-password\n")
    assert liaison.returncode == 0, liaison.stderr
    assert "created majed (department_liaison)" in liaison.stdout


def test_calendars_holidays_and_policies(env: dict[str, str]) -> None:
    add = ["calendars", "holiday-add", "--calendar", "government", "--day", "2027-02-22", "--name", "يوم التأسيس"]
    added = run(add, env)
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added holiday 2027-02-22 (يوم التأسيس) to government"
    again = run(add, env)
    assert again.returncode == 2 and "day: taken" in again.stderr
    official = run([*add[:2], "--calendar", "audiences", *add[4:]], env)
    assert official.returncode == 2 and "refused (audience_days_elsewhere)" in official.stderr
    assert "protocol's holidays page" in official.stderr and "المراسم" in official.stderr

    listed = run(["calendars", "list"], env)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    government = lines.index("government: Government working hours / الدوام الحكومي  Asia/Riyadh")
    assert lines[government + 1 : government + 7] == [
        "    Sun 08:00-15:00",
        "    Mon 08:00-15:00",
        "    Tue 08:00-15:00",
        "    Wed 08:00-15:00",
        "    Thu 08:00-15:00",
        "    holiday 2027-02-22 يوم التأسيس",
    ]
    removed = run(["calendars", "holiday-remove", "--calendar", "government", "--day", "2027-02-22"], env)
    assert removed.returncode == 0 and "took holiday 2027-02-22 off government" in removed.stdout
    not_there = run(["calendars", "holiday-remove", "--calendar", "government", "--day", "2027-02-22"], env)
    assert not_there.returncode == 2 and "day: unknown" in not_there.stderr

    policies = run(["policies", "list"], env)
    assert policies.returncode == 0, policies.stderr
    assert policies.stdout.splitlines()[:5] == [
        "1: Default (category any, urgency any)",
        "    first response 2 working days, updates 5 working days, solution 10 working days",
        "    level 1: 100% -> the head, 0 rank(s) up",
        "    level 2: 100% + 2 working days -> the deputy, 1 rank(s) up",
        "    level 3: 100% + 5 working days -> the head, 9 rank(s) up",
    ]
    assert "2: Critical (category any, urgency critical)  round the clock" in policies.stdout
