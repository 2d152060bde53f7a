"""Migration 0007 (audience day) on a database holding rows: past appointments are settled, future ones kept,
arrived appointments count as live, and the downgrade maps the new states back."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from majlis import migrate
from majlis.db import UTCDateTime, create_engine
from tests.postgres_server import PostgresServer

BEFORE = "7d2b9e4f1a63"
AFTER = "4b8e2f6a9c17"
SETTLED_NOTE = "The audience date passed before attendance could be recorded; the request waits again."
OUTCOME_AT = datetime(2020, 3, 3, 6, 12, 30, tzinfo=UTC)
# (a) held over video with an outcome, (b) never attended, both past; (c) in 2099.
CASES = (
    ("a", "confirmed", "audience_video"),
    ("b", "scheduled", "audience_in_person"),
    ("c", "confirmed", "audience_in_person"),
)
_names = itertools.count()

T = UTCDateTime()
applicants = sa.table(
    "applicants",
    *(sa.column(n) for n in ("id", "kind", "id_number", "name", "gender", "phone", "email", "language")),
    *(sa.column(n, sa.Boolean()) for n in ("care_elderly", "care_wheelchair", "care_transport", "care_interpreter")),
    sa.column("created_at", T),
    sa.column("updated_at", T),
)
cases = sa.table(
    "cases",
    *(sa.column(n) for n in ("id", "tracking_number", "applicant_id", "kind", "subject", "text", "branch")),
    *(sa.column(n) for n in ("channel", "status", "phone", "applicant_name", "gender", "language", "email")),
    *(sa.column(n, sa.Boolean()) for n in ("care_elderly", "care_wheelchair", "care_transport", "care_interpreter")),
    sa.column("submitted_at", T),
    sa.column("entered_by_id"),
)
rooms = sa.table(
    "rooms",
    *(sa.column(n) for n in ("id", "branch_code", "name", "kind", "capacity", "equipment")),
    sa.column("wheelchair_access", sa.Boolean()),
    sa.column("active", sa.Boolean()),
    sa.column("created_at", T),
)
sessions = sa.table(
    "audience_sessions",
    *(sa.column(n) for n in ("id", "template_id", "mode", "state", "note")),
    sa.column("day", sa.Date()),
    sa.column("starts_at", T),
    sa.column("ends_at", T),
    sa.column("locked", sa.Boolean()),
    sa.column("cancelled_for_holiday", sa.Boolean()),
)
slots = sa.table(
    "slots",
    *(sa.column(n) for n in ("id", "session_id", "room_id", "capacity", "blocked_by")),
    sa.column("starts_at", T),
    sa.column("ends_at", T),
)
appointments = sa.table(
    "appointments",
    *(sa.column(n) for n in ("id", "case_id", "slot_id", "seat", "state", "placed_by_id", "explanation", "sequence")),
    sa.column("placed_at", T),
    sa.column("released_at", T),
    sa.column("release_reason"),
    sa.column("ended_at", T),  # from 0007 on
)
video_audiences = sa.table(
    "video_audiences",
    *(sa.column(n) for n in ("id", "appointment_id", "case_id", "room_id", "state", "ended_by", "reconnections")),
    *(sa.column(n) for n in ("connected_seconds", "outcome", "directive", "outcome_by_id")),
    *(sa.column(n, T) for n in ("checked_in_at", "started_at", "ended_at", "outcome_at")),
)
status_changes = sa.table(
    "status_changes",
    *(sa.column(n) for n in ("id", "case_id", "from_status", "to_status", "actor_id", "note", "note_key")),
    sa.column("at", T),
)


@pytest.fixture
async def empty_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database of the test's backend with no schema at all."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrating.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"migration_0007_{next(_names)}"
    admin_dsn = server.url("postgres").replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(admin_dsn)
    await conn.execute(f"CREATE DATABASE {name}")
    await conn.close()
    yield server.url(name)
    conn = await asyncpg.connect(admin_dsn)
    await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await conn.close()


async def insert(connection: AsyncConnection, table: sa.TableClause, **values: Any) -> int:
    return int((await connection.execute(sa.insert(table).values(**values).returning(table.c.id))).scalar_one())


async def arrange(connection: AsyncConnection) -> dict[str, int]:
    """Rows as 7d2b9e4f1a63 knew them: two past appointments (one held over video), one future."""
    created = datetime(2020, 1, 1, 8, 0, tzinfo=UTC)
    care = dict.fromkeys(("care_elderly", "care_wheelchair", "care_transport", "care_interpreter"), False)
    ids: dict[str, int] = {}
    for n, (key, status, kind) in enumerate(CASES, start=1):
        applicant = await insert(
            connection,
            applicants,
            kind="citizen",
            id_number=f"100000000{n}",
            name=f"Applicant {key}",
            gender="female",
            phone=f"+96650000000{n}",
            email=None,
            language="ar",
            created_at=created,
            updated_at=created,
            **care,
        )
        ids[f"case_{key}"] = await insert(
            connection,
            cases,
            tracking_number=f"MJ-2020-0000{n}",
            applicant_id=applicant,
            kind=kind,
            subject="Subject",
            text="Text",
            branch="riyadh",
            channel="portal",
            status=status,
            phone=f"+96650000000{n}",
            applicant_name=f"Applicant {key}",
            gender="female",
            language="ar",
            email=None,
            submitted_at=created,
            entered_by_id=None,
            **care,
        )
    room = {"branch_code": "riyadh", "capacity": 4, "equipment": "", "wheelchair_access": True, "active": True}
    hall = await insert(connection, rooms, name="Hall", kind="audience_hall", created_at=created, **room)
    video = await insert(connection, rooms, name="Women's video", kind="women_video", created_at=created, **room)

    async def slot(day: date, mode: str, room_id: int) -> int:
        starts = datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC)
        ends = datetime(day.year, day.month, day.day, 8, 0, tzinfo=UTC)
        session = await insert(
            connection,
            sessions,
            template_id=None,
            day=day,
            starts_at=starts,
            ends_at=ends,
            mode=mode,
            state="planned",
            locked=False,
            cancelled_for_holiday=False,
            note="",
        )
        return await insert(
            connection,
            slots,
            session_id=session,
            room_id=room_id,
            starts_at=starts,
            ends_at=starts.replace(minute=30),
            capacity=4,
            blocked_by=None,
        )

    ids["past_video_slot"] = await slot(date(2020, 3, 3), "video", video)
    ids["past_hall_slot"] = await slot(date(2020, 3, 4), "in_person", hall)
    ids["future_slot"] = await slot(date(2099, 3, 3), "in_person", hall)

    placed = {"placed_at": created, "placed_by_id": None, "explanation": "", "sequence": 0, "released_at": None}
    for key, slot_key, state in (
        ("a", "past_video_slot", "confirmed"),
        ("b", "past_hall_slot", "scheduled"),
        ("c", "future_slot", "confirmed"),
    ):
        ids[f"appointment_{key}"] = await insert(
            connection,
            appointments,
            case_id=ids[f"case_{key}"],
            slot_id=ids[slot_key],
            seat=1,
            state=state,
            release_reason="",
            **placed,
        )
    await insert(
        connection,
        video_audiences,
        appointment_id=ids["appointment_a"],
        case_id=ids["case_a"],
        room_id=video,
        state="ended",
        ended_by="official",
        reconnections=0,
        connected_seconds=600,
        outcome="answered",
        directive="Answered.",
        outcome_by_id=None,
        checked_in_at=datetime(2020, 3, 3, 5, 50, tzinfo=UTC),
        started_at=datetime(2020, 3, 3, 6, 0, tzinfo=UTC),
        ended_at=datetime(2020, 3, 3, 6, 10, tzinfo=UTC),
        outcome_at=OUTCOME_AT,
    )
    return ids


async def appointment(connection: AsyncConnection, appointment_id: int) -> sa.Row[Any]:
    columns = [appointments.c.state, appointments.c.released_at, appointments.c.release_reason]
    return (await connection.execute(sa.select(*columns).where(appointments.c.id == appointment_id))).one()


async def case_status(connection: AsyncConnection, case_id: int) -> str:
    return str((await connection.execute(sa.select(cases.c.status).where(cases.c.id == case_id))).scalar_one())


async def changes(connection: AsyncConnection, case_id: int) -> list[sa.Row[Any]]:
    columns = [status_changes.c.from_status, status_changes.c.to_status, status_changes.c.note_key]
    query = sa.select(*columns).where(status_changes.c.case_id == case_id)
    return list((await connection.execute(query)).all())


async def test_upgrade_settles_past_appointments_and_downgrade_maps_states_back(empty_url: str) -> None:
    engine = create_engine(empty_url)
    try:
        await migrate.upgrade(engine, BEFORE)
        async with engine.begin() as connection:
            ids = await arrange(connection)

        await migrate.upgrade(engine, AFTER)
        assert await migrate.current_revision(engine) == AFTER
        async with engine.connect() as connection:
            held = (
                await connection.execute(
                    sa.select(appointments.c.state, appointments.c.ended_at, appointments.c.released_at).where(
                        appointments.c.id == ids["appointment_a"]
                    )
                )
            ).one()
            assert held == ("held", OUTCOME_AT, None)
            assert await case_status(connection, ids["case_a"]) == "confirmed"
            assert await changes(connection, ids["case_a"]) == []

            released = await appointment(connection, ids["appointment_b"])
            assert released.state == "released"
            assert released.release_reason == "settled_at_upgrade"
            assert released.released_at is not None and released.released_at.tzinfo is not None
            assert await case_status(connection, ids["case_b"]) == "awaiting_audience"
            assert await changes(connection, ids["case_b"]) == [("scheduled", "awaiting_audience", SETTLED_NOTE)]

            future = await appointment(connection, ids["appointment_c"])
            assert tuple(future) == ("confirmed", None, "")
            assert await case_status(connection, ids["case_c"]) == "confirmed"
            assert await changes(connection, ids["case_c"]) == []

        # An arrived appointment is live: it holds its seat, and its request cannot be placed again.
        # (Cases a and b hold no live appointment any more, so each refusal has one cause.)
        placed = {"slot_id": ids["future_slot"], "placed_at": datetime(2099, 1, 1, tzinfo=UTC), "explanation": ""}
        placed |= {"sequence": 0, "release_reason": ""}
        async with engine.begin() as connection:
            arrived = await insert(connection, appointments, case_id=ids["case_a"], seat=2, state="arrived", **placed)
        with pytest.raises(IntegrityError, match=r"appointments\.seat|uq_appointments_live_seat"):
            async with engine.begin() as connection:
                await insert(connection, appointments, case_id=ids["case_b"], seat=2, state="arrived", **placed)
        with pytest.raises(IntegrityError, match=r"appointments\.case_id|uq_appointments_live_case"):
            async with engine.begin() as connection:
                await insert(connection, appointments, case_id=ids["case_a"], seat=4, state="arrived", **placed)
        async with engine.begin() as connection:
            in_audience = await insert(
                connection, appointments, case_id=ids["case_b"], seat=3, state="in_audience", **placed
            )

        await migrate.downgrade(engine, BEFORE)
        assert await migrate.current_revision(engine) == BEFORE
        async with engine.connect() as connection:
            assert (await appointment(connection, ids["appointment_a"])).state == "released"
            assert (await appointment(connection, ids["appointment_b"])).state == "released"
            assert (await appointment(connection, ids["appointment_c"])).state == "confirmed"
            assert (await appointment(connection, arrived)).state == "confirmed"
            assert (await appointment(connection, in_audience)).state == "confirmed"
        # The live indexes are still partial and unique: a released appointment may share a live one's seat
        # and request, a second live one for the request may not.
        async with engine.begin() as connection:
            await insert(connection, appointments, case_id=ids["case_c"], seat=2, state="released", **placed)
        with pytest.raises(IntegrityError, match=r"appointments\.case_id|uq_appointments_live_case"):
            async with engine.begin() as connection:
                await insert(connection, appointments, case_id=ids["case_c"], seat=9, state="scheduled", **placed)

        await migrate.upgrade(engine, AFTER)
        assert await migrate.current_revision(engine) == AFTER
    finally:
        await engine.dispose()
