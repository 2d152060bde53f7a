"""The fairness report over JSON (/api/v1/audit/fairness) and from the command line (`majlis audit explain`,
`majlis audit fairness`), on SQLite and PostgreSQL: the figures of the page, no request named, no personal data,
the wrong role refused."""

from __future__ import annotations

import asyncio
import json
import os

import pytest
from openapi_spec_validator import validate

from accounts.roles import Role
from majlis.cli import main
from majlis.clock import FrozenClock
from majlis.db import create_engine, session_factory
from tests.factories import Client, make_staff, sign_in
from tests.fairness.test_record import one_seat_sundays
from tests.priority.test_triage import new_case, ready
from tests.scheduler.test_runs import IDS, run
from tests.web.test_audit_pages import Sessions, anchor_path, app, no_personal_data

__all__ = ["anchor_path", "app"]
from web.audit_fairness_api import FairnessOut


async def two_placed(sessions: Sessions, clock: FrozenClock) -> tuple[str, str]:
    """Two requests classified and placed by a run, the second after the first."""
    await one_seat_sundays(sessions, clock, weeks=2)
    desk = (await make_staff(sessions, clock, Role.AUDIT_DESK, "desk")).id
    first = await new_case(sessions, clock, applicant_national_id=IDS[0])
    second = await new_case(sessions, clock, applicant_national_id=IDS[1])
    await ready(sessions, clock, desk, first)
    await ready(sessions, clock, desk, second)
    await run(sessions, clock)
    return first, second


async def test_the_fairness_report_over_json(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    first, second = await two_placed(sessions, clock)
    assert (await client.get("/api/v1/audit/fairness")).status == 401
    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    await sign_in(client, "protocol")
    assert (await client.get("/api/v1/audit/fairness")).status == 403

    await make_staff(sessions, clock, Role.AUDITOR, "auditor")
    await sign_in(client, "auditor")
    response = await client.get("/api/v1/audit/fairness")
    assert response.status == 200
    body = await response.text()
    no_personal_data(body)
    assert first not in body and second not in body
    report = FairnessOut.model_validate(json.loads(body))
    # Two normal "general" requests of one kind: each group is shown, none tested with so few.
    compared = {(c.band, c.category, c.dimension, c.value) for c in report.equal_wait}
    assert compared == {
        ("normal", "general", "applicant_kind", "citizen"),
        ("normal", "general", "branch", "riyadh"),
        ("normal", "general", "channel", "portal"),
        ("normal", "general", "gender", "female"),
    }
    assert all(not c.flagged and c.untested == "no_other_group" and c.count == 2 for c in report.equal_wait)
    assert {w.group for w in report.waiting} >= {"urgency", "category", "gender", "applicant_kind", "channel"}
    assert report.queue_jumps == 0 and report.unjustified_jumps == 0

    document = await (await client.get("/openapi.json")).json()
    validate(document)
    assert document["paths"]["/api/v1/audit/fairness"]["get"]["security"] == [{"staffSession": []}]
    assert "FairnessOut" in document["components"]["schemas"]


@pytest.fixture
def environment(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("MAJLIS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("MAJLIS_DATABASE_URL", database_url)


def test_the_command_line_explains_a_placement_and_prints_the_comparison(
    environment: None, database_url: str, clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    async def arrange() -> tuple[str, str]:
        engine = create_engine(database_url)
        try:
            return await two_placed(session_factory(engine), clock)
        finally:
            await engine.dispose()

    first, second = asyncio.run(arrange())
    assert main(["audit", "explain", second]) == 0
    out = capsys.readouterr().out
    assert "placement by Majlis, by rule: rule allocation_run" in out
    assert "rank 2 of 2" in out and f"placed before it in the run: 1 ({first}" in out
    assert IDS[0] not in out and IDS[1] not in out

    assert main(["audit", "explain", "26-999999-1"]) == 1
    assert "no request has the tracking number 26-999999-1" in capsys.readouterr().err

    assert main(["audit", "fairness"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| band | category | by | group |")
    assert "queue jumps: 0, of which without a recorded justification: 0" in out
    assert first not in out and IDS[0] not in out
