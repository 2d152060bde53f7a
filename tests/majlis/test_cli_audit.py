"""`majlis audit verify` and `majlis audit anchor`, called in-process (majlis.cli.main) on SQLite and PostgreSQL:
intact (exit 0) with the head, tampering named in plain English (exit 1), anchors from the file and typed."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from fairness.models import ChainEntry
from majlis.cli import main
from majlis.clock import FrozenClock, SystemClock, riyadh
from majlis.db import create_engine, session_factory, transaction
from tests.fairness.test_chain import appended

ANCHORS = "fairness-anchors.jsonl"


@pytest.fixture
def environment(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The process's settings: this test's database and an anchor file in its own folder."""
    for key in [k for k in os.environ if k.startswith("MAJLIS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("MAJLIS_DATABASE_URL", database_url)
    monkeypatch.setenv("MAJLIS_FAIRNESS_ANCHOR_FILE", str(tmp_path / ANCHORS))
    monkeypatch.setenv("MAJLIS_FAIRNESS_ANCHOR_RECIPIENTS", '["manager@majlis.example.gov.sa"]')
    return tmp_path / ANCHORS


def arrange(database_url: str, clock: FrozenClock, count: int, *statements: object) -> list[ChainEntry]:
    async def work() -> list[ChainEntry]:
        engine = create_engine(database_url)
        try:
            sessions = session_factory(engine)
            entries = await appended(sessions, clock, count) if count else []
            if statements:
                async with transaction(sessions) as session:
                    for statement in statements:
                        await session.execute(statement)  # type: ignore[call-overload]
            return entries
        finally:
            await engine.dispose()

    return asyncio.run(work())


def test_verify_an_intact_chain_and_anchor_it(
    environment: Path, database_url: str, clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out == "intact: the chain is empty; anchors: none\n"
    assert main(["audit", "anchor"]) == 0
    assert capsys.readouterr().out == "the chain is empty: nothing to anchor\n"

    entries = arrange(database_url, clock, 3)
    head = f"3:{entries[2].hash}"
    assert main(["audit", "verify", "--anchor", f"2:{entries[1].hash.upper()}"]) == 0
    assert capsys.readouterr().out == f"intact: 3 entries, head {head}\nanchors matched: 1 (1 given)\n"

    assert main(["audit", "anchor"]) == 0
    today = riyadh(SystemClock().now()).date().isoformat()
    assert capsys.readouterr().out == (
        f"anchor of {today}: {head}\nwritten to {environment}; e-mailed to 1 address(es) through the outbox\n"
    )
    assert json.loads(environment.read_text())["seq"] == 3
    assert main(["audit", "anchor"]) == 0
    assert capsys.readouterr().out == f"today's anchor went already: {head}\n"
    # The anchor file of the settings is read without being named.
    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out.endswith(f"anchors matched: 1 (1 from {environment})\n")
    # The file gone (as whoever rewrote the chain with its head would delete it): intact in itself, but not
    # checked against any anchor although the database records one sent — said, and exit 3.
    environment.unlink()
    assert main(["audit", "verify"]) == 3
    said = capsys.readouterr()
    assert said.out.startswith("intact: 3 entries") and "NOT CHECKED against any anchor" in said.err


def test_verify_names_the_first_bad_entry(
    environment: Path, database_url: str, clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = arrange(database_url, clock, 5, update(ChainEntry).where(ChainEntry.seq == 3).values(case_id=1))
    assert main(["audit", "verify"]) == 1
    assert capsys.readouterr().out == (
        "NOT intact: Entry 3 was altered: what it holds no longer gives its hash.\n"
        "checked 2 entries before it; anchors: none\n"
    )
    arrange(database_url, clock, 0, delete(ChainEntry).where(ChainEntry.seq >= 3))
    assert main(["audit", "verify"]) == 0
    capsys.readouterr()
    # The head removed with the bad entry: only the anchor, as the managers' e-mail gives it, tells.
    assert main(["audit", "verify", "--anchor", f"5:{entries[4].hash}"]) == 1
    assert capsys.readouterr().out.startswith(
        "NOT intact: The chain was rewritten at or before entry 5: the chain ends at entry 2, but the anchor of 5:"
    )


def test_a_bad_anchor_is_refused(environment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["audit", "verify", "--anchor", "3:abc"])
    assert exit_.value.code == 2
    assert "an anchor's hash is 64 hexadecimal digits, not 'abc'" in capsys.readouterr().err
    environment.write_text("{}\n")
    assert main(["audit", "verify"]) == 2
    assert capsys.readouterr().err == (
        f'majlis: --anchor-file: {environment}, line 1: a line is {{"day": …, "seq": …, "hash": …, "at": …}}\n'
    )
    assert main(["audit", "verify", "--anchor-file", str(environment.parent / "none.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
