"""Migration 0019 on a database holding a request's history, on SQLite and PostgreSQL: the allocator's older notes
(its explanation in English, with no catalog message) become the catalog message with the score and the rank, so the
history reads in the reader's language; a member of staff's own words and a system note that already has its message
are left as they were."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from majlis import migrate
from majlis.db import create_engine
from scheduler.service import PLACED_IN_ORDER
from tests.majlis.test_migration_0007 import applicants, cases, empty_url, insert
from tests.majlis.test_migration_0015 import CARE, case_row

__all__ = ["empty_url"]  # the fixture, shared with 0007's test

BEFORE = "5c2e8a4f7b13"
AFTER = "8e4a1c6d2f90"
AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
changes = sa.table(
    "status_changes",
    *(sa.column(n) for n in ("case_id", "from_status", "to_status", "at", "actor_id", "note", "note_key")),
    sa.column("note_params", sa.JSON),
)
EXPLAINED = "score 110.0, rank 1 of 3; earliest compatible seat: Sunday 08:00; nothing placed before it"
SHORT_NOTICE = "offered at short notice (a seat freed by the applicant before): score 87.5, rank 2 of 2; seat"


def test_the_migration_writes_the_message_the_code_writes() -> None:
    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0019_history_notes_in_words.py"
    spec = importlib.util.spec_from_file_location("migration_0019", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.PLACED_IN_ORDER == PLACED_IN_ORDER


async def test_the_allocators_english_notes_become_its_message(empty_url: str) -> None:
    engine = create_engine(empty_url)
    try:
        await migrate.upgrade(engine, BEFORE)
        async with engine.begin() as connection:
            applicant = await insert(
                connection,
                applicants,
                kind="citizen",
                id_number="1000000001",
                name="Applicant",
                gender="female",
                phone="+966500000001",
                email=None,
                language="ar",
                created_at=AT,
                updated_at=AT,
                **CARE,
            )
            case = await insert(connection, cases, **case_row(1, applicant, "riyadh"))
            step = {
                "case_id": case,
                "from_status": "awaiting_audience",
                "to_status": "scheduled",
                "at": AT,
                "actor_id": None,
            }
            for note, key in (
                (EXPLAINED, ""),
                (SHORT_NOTICE, ""),
                ("National Day", ""),  # a holiday's name, as protocol typed it
                (EXPLAINED, "Given a seat that became free, in priority order."),
            ):
                await connection.execute(sa.insert(changes).values(**step, note=note, note_key=key, note_params={}))
            await connection.execute(
                sa.insert(changes).values(
                    **{**step, "to_status": "confirmed", "from_status": "scheduled"},
                    note=EXPLAINED,
                    note_key="",
                    note_params={},
                )
            )
        await migrate.upgrade(engine, AFTER)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.select(changes.c.note, changes.c.note_key, changes.c.note_params).order_by(sa.text("id"))
                )
            ).all()
        assert [tuple(row) for row in rows] == [
            (EXPLAINED, PLACED_IN_ORDER, {"score": "110.0", "rank": "1"}),
            (SHORT_NOTICE, PLACED_IN_ORDER, {"score": "87.5", "rank": "2"}),
            ("National Day", "", {}),
            (EXPLAINED, "Given a seat that became free, in priority order.", {}),
            (EXPLAINED, "", {}),  # not a placement: left alone
        ]
        await migrate.downgrade(engine, BEFORE)
        assert await migrate.current_revision(engine) == BEFORE
    finally:
        await engine.dispose()
