"""Migration 0015 (centres as data) on a database holding requests, on SQLite and PostgreSQL: existing requests
keep their branch, now a foreign key to branches; branches gain a time zone, an official's calendar and an active
flag; a new centre can take requests; the downgrade restores the two-value CHECK and refuses to lose a new centre."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from majlis import migrate
from majlis.db import create_engine
from tests.majlis.test_migration_0007 import applicants, cases, empty_url, insert

__all__ = ["empty_url"]  # the fixture, shared with 0007's test

BEFORE = "7d3b9e2a6c14"
AFTER = "5c1e8a3f7b20"
CREATED = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
CARE = dict.fromkeys(("care_elderly", "care_wheelchair", "care_transport", "care_interpreter"), False)
branches = sa.table(
    "branches",
    *(sa.column(n) for n in ("code", "name_ar", "name_en", "address_ar", "address_en", "time_zone")),
    sa.column("official_calendar_url"),
    sa.column("is_official_seat", sa.Boolean()),
    sa.column("active", sa.Boolean()),
)


def case_row(n: int, applicant: int, branch: str) -> dict[str, object]:
    return {
        "tracking_number": f"MJ-2026-0000{n}",
        "applicant_id": applicant,
        "kind": "petition",
        "subject": "Subject",
        "text": "Text",
        "branch": branch,
        "channel": "portal",
        "status": "received",
        "phone": "+966500000001",
        "applicant_name": "Applicant",
        "gender": "female",
        "language": "ar",
        "email": None,
        "submitted_at": CREATED,
        "entered_by_id": None,
        **CARE,
    }


async def test_requests_keep_their_branch_which_becomes_a_foreign_key(empty_url: str) -> None:
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
                created_at=CREATED,
                updated_at=CREATED,
                **CARE,
            )
            for n, branch in enumerate(("riyadh", "jeddah", "riyadh"), start=1):
                await insert(connection, cases, **case_row(n, applicant, branch))
        await migrate.upgrade(engine, AFTER)
        assert await migrate.current_revision(engine) == AFTER
        async with engine.connect() as connection:
            kept = (await connection.execute(sa.text("SELECT branch FROM cases ORDER BY id"))).scalars().all()
            sites = (
                await connection.execute(
                    sa.text("SELECT code, time_zone, official_calendar_url, active FROM branches ORDER BY code")
                )
            ).all()
        assert kept == ["riyadh", "jeddah", "riyadh"]
        assert [(c, z, u, bool(a)) for c, z, u, a in sites] == [
            ("jeddah", "Asia/Riyadh", "", True),
            ("riyadh", "Asia/Riyadh", "", True),
        ]
        # No centre of that code: the foreign key refuses the request (the old CHECK's job, now the table's).
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await insert(connection, cases, **case_row(4, applicant, "dammam"))
        async with engine.begin() as connection:
            await connection.execute(
                sa.insert(branches).values(
                    code="dammam",
                    name_ar="الدمام",
                    name_en="Dammam",
                    address_ar="",
                    address_en="",
                    time_zone="Asia/Riyadh",
                    official_calendar_url="",
                    is_official_seat=False,
                    active=True,
                )
            )
            dammam = await insert(connection, cases, **case_row(5, applicant, "dammam"))
        # The old schema knows two centres only: the downgrade refuses rather than drop a request's branch.
        with pytest.raises(RuntimeError, match="branches added after 0015"):
            await migrate.downgrade(engine, BEFORE)
        async with engine.begin() as connection:
            await connection.execute(sa.delete(cases).where(cases.c.id == dammam))
        await migrate.downgrade(engine, BEFORE)
        assert await migrate.current_revision(engine) == BEFORE
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await insert(connection, cases, **case_row(6, applicant, "dammam"))
        await migrate.upgrade(engine, AFTER)
        async with engine.connect() as connection:
            kept = (await connection.execute(sa.text("SELECT branch FROM cases ORDER BY id"))).scalars().all()
        assert kept == ["riyadh", "jeddah", "riyadh"]
    finally:
        await engine.dispose()
