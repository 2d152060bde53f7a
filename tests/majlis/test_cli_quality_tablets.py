"""`majlis quality tablets enrol|list|revoke` through majlis's own entry point (in this process, for speed) on a
real SQLite file. The enrolment link is printed once; a refusal is said in English and Arabic and exits with 2."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from majlis.cli import main

Run = Callable[[list[str]], tuple[int, str, str]]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    for name in [k for k in os.environ if k.startswith("MAJLIS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MAJLIS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'majlis.db'}")

    def once(args: list[str]) -> tuple[int, str, str]:
        code = main(args)
        out, err = capsys.readouterr()
        return code, out, err

    assert once(["db", "upgrade"])[0] == 0
    return once


def test_tablets_are_enrolled_listed_and_revoked(run: Run) -> None:
    code, out, err = run(["quality", "tablets", "enrol", "--branch", "riyadh", "--name", "Desk 4"])
    assert code == 0, err
    head, said, link = out.splitlines()
    assert head == "tablet 1 enrolled at riyadh: Desk 4" and "only once" in said
    assert link.strip().startswith("http") and "/rate-tablet/enrol/" in link
    assert run(["quality", "tablets", "list"])[1].strip() == "1  riyadh  Desk 4  [free]"

    code, out, err = run(["quality", "tablets", "enrol", "--branch", "nowhere", "--name", " "])
    assert code == 2 and out == ""
    first, english, arabic = err.splitlines()
    assert first == "refused (name: required, branch: invalid):"
    assert "Choose the reception centre." in english and arabic.startswith("  ar: ") and "اختر" in arabic

    assert run(["quality", "tablets", "revoke", "1"])[1].strip() == "tablet 1 taken out of use"
    assert run(["quality", "tablets", "list"])[1].strip() == "1  riyadh  Desk 4  [revoked]"
    code, _, err = run(["quality", "tablets", "revoke", "1"])
    assert code == 2 and err.splitlines()[0] == "refused (tablet_revoked):"
    with pytest.raises(SystemExit) as huge:  # past the 32-bit keys: refused before the database sees it
        run(["quality", "tablets", "revoke", "999999999999"])
    assert huge.value.code == 2
