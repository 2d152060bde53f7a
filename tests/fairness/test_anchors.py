"""The daily anchor on SQLite and PostgreSQL: the head appended to the anchor file and e-mailed to the managers'
addresses through the outbox, once a Riyadh day; the hourly job sends it; the file reads back as anchors that
catch a rewrite."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select, update

from fairness import anchors, chain, verify
from fairness.models import ChainAnchor, ChainEntry
from fairness.verify import verify_chain
from majlis import jobs
from majlis.clock import RIYADH, FrozenClock
from majlis.db import transaction
from notify.models import OutboxMessage
from tests.conftest import make_settings
from tests.fairness.test_chain import Sessions, appended, chain_sessions

__all__ = ["chain_sessions"]

MANAGERS = ("manager@majlis.example.gov.sa", "deputy.manager@majlis.example.gov.sa")


async def send(sessions: Sessions, clock: FrozenClock, path: Path) -> ChainAnchor | None:
    async with transaction(sessions) as session:
        return await anchors.send_daily(session=session, clock=clock, anchor_file=path, recipients=MANAGERS)


async def mails(sessions: Sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.purpose == anchors.PURPOSE).order_by(OutboxMessage.id)
        return list(await session.scalars(query))


async def test_the_head_goes_to_the_file_and_the_managers_once_a_day(
    chain_sessions: Sessions, clock: FrozenClock, tmp_path: Path
) -> None:
    path = tmp_path / "anchors" / "fairness.jsonl"
    assert await send(chain_sessions, clock, path) is None  # an empty chain has no head to send
    assert not path.exists()
    entries = await appended(chain_sessions, clock, 3)
    clock.set(datetime(2026, 11, 25, 0, 10, tzinfo=RIYADH))
    sent = await send(chain_sessions, clock, path)
    assert sent is not None and (sent.day, sent.seq, sent.hash) == (date(2026, 11, 25), 3, entries[2].hash)
    assert await send(chain_sessions, clock, path) is None  # once a day
    assert json.loads(path.read_text().splitlines()[0]) == {
        "day": "2026-11-25",
        "seq": 3,
        "hash": entries[2].hash,
        "at": "2026-11-24T21:10:00+00:00",
    }
    messages = await mails(chain_sessions)
    assert [(m.channel, m.recipient) for m in messages] == [("email", address) for address in MANAGERS]
    body = messages[0].body
    assert f"majlis audit verify --anchor 3:{entries[2].hash}" in body
    # The head copied out of the Arabic text, its direction marks with it, still reads.
    copied = body.split("القيد ")[1].split("،")[0] + ":" + body.split("وبصمته ")[1].split(".")[0]
    assert "\u2066" in copied and verify.parse_anchor(copied) == verify.Anchor(3, entries[2].hash)
    assert "رأس سجل العدالة في ⁦2026-11-25⁩: القيد 3" in body and "The fairness record's head on 2026-11-25" in body
    assert messages[0].payload["subject"] == (
        "مرساة سجل العدالة ليوم ⁦2026-11-25⁩: القيد 3 / Fairness record anchor for 2026-11-25: entry 3"
    )

    await appended(chain_sessions, clock, 2)
    clock.advance(timedelta(days=1))
    again = await send(chain_sessions, clock, path)
    assert again is not None and again.seq == 5
    read = anchors.read_file(path)
    assert [(a.day, a.seq) for a in read] == [(date(2026, 11, 25), 3), (date(2026, 11, 26), 5)]
    async with chain_sessions() as session:
        assert [a.seq for a in await anchors.recent(session=session)] == [5, 3]
        assert (await verify_chain(session=session, anchors=read)).anchors_checked == 2


async def test_the_file_catches_a_rewrite_the_table_would_hide(
    chain_sessions: Sessions, clock: FrozenClock, tmp_path: Path
) -> None:
    path = tmp_path / "fairness.jsonl"
    entries = await appended(chain_sessions, clock, 2)
    assert await send(chain_sessions, clock, path) is not None
    # The head rewritten with a consistent hash, and the anchors table with it: only the file still tells.
    second = entries[1]
    forged = chain.entry_hash(
        seq=2,
        at=second.at,
        actor_id=second.actor_id,
        kind=second.kind.value,
        case_id=second.case_id,
        change="{}",
        justification="",
        prev_hash=second.prev_hash,
    )
    async with transaction(chain_sessions) as session:
        await session.execute(
            update(ChainEntry).where(ChainEntry.seq == 2).values(change="{}", justification="", hash=forged)
        )
        await session.execute(update(ChainAnchor).values(hash=forged))
    async with chain_sessions() as session:
        assert (await verify_chain(session=session)).intact
        result = await verify_chain(session=session, anchors=anchors.read_file(path))
    assert result.fault is not None and result.fault.seq == 2


def test_a_bad_line_of_the_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "fairness.jsonl"
    good = {"day": "2026-11-25", "seq": 3, "hash": "a" * 64, "at": "2026-11-24T21:10:00+00:00"}
    path.write_text(json.dumps(good) + "\n\n" + json.dumps(good | {"hash": "xyz"}) + "\n")
    with pytest.raises(anchors.AnchorFileError, match=r"fairness.jsonl, line 3: an anchor's hash is 64 hexadecimal"):
        anchors.read_file(path)
    path.write_text("{not json\n")
    with pytest.raises(anchors.AnchorFileError, match="line 1: not JSON"):
        anchors.read_file(path)


async def test_the_hourly_job_sends_the_day_s_anchor(
    chain_sessions: Sessions, clock: FrozenClock, tmp_path: Path, database_url: str
) -> None:
    await appended(chain_sessions, clock, 1)
    path = tmp_path / "fairness.jsonl"
    settings = make_settings(database_url, fairness_anchor_file=str(path), fairness_anchor_recipients=MANAGERS)
    runner = jobs.start(settings=settings, sessions=chain_sessions, clock=clock)
    try:
        job = runner.get_job("fairness_anchor")
        assert job is not None and isinstance(job.trigger, CronTrigger)
        assert str(job.trigger) == "cron[minute='10']" and str(job.trigger.timezone) == "Asia/Riyadh"
        await job.func()
        await job.func()
    finally:
        runner.shutdown(wait=False)
    assert len(path.read_text().splitlines()) == 1
    assert len(await mails(chain_sessions)) == 2
