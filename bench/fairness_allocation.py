"""Part (c) of bench/fairness.py: an allocation run with the fairness chain's recording against the same run without.

W requests waiting (made through the services: submitted, verified, classified with their category's own urgency,
routed to an audience in person) and three weeks of Sunday sessions of 8-minute slots, 4 seats each; the nearest
Sunday falls inside the three days' notice, so the run fills two (120 seats). The scenario is built once and
copied (a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL), so that every run starts alike; runs
with and without the chain alternate, twice each, and the best of each is kept.

"Without" is the same code with the placement's record (`scheduler.service.record_placement`: its explanation and
its chain entry) and the run's context for it (`scheduler.placement_chain.context`) replaced by nothing, in this
process only.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases.identity import luhn_check_digit
from fairness.models import ChainEntry, EntryKind
from majlis import migrate
from majlis.clock import RIYADH, FrozenClock
from majlis.db import create_engine, session_factory, transaction
from priority.models import Category
from scheduler import calendar, placement_chain
from scheduler import service as scheduling
from tests.postgres_server import PostgresServer
from tests.priority.test_triage import desk, new_case, ready
from tests.rooms.test_rooms import add_room
from tests.scheduler.test_calendar import add as add_template
from tests.scheduler.test_calendar import template

Sessions = async_sessionmaker[AsyncSession]
# The seeded categories' shares (bench.priority's).
CATEGORIES = {
    "general": 30,
    "housing": 15,
    "employment": 15,
    "family_personal_status": 15,
    "humanitarian_medical": 10,
    "detention_legal": 7,
    "security": 4,
    "qisas": 4,
}


def _pick(rng: random.Random, shares: dict[str, int]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


async def allocation_scenario(sessions: Sessions, clock: FrozenClock, waiting: int) -> None:
    """Two Sundays of 8-minute slots, 4 seats each (120 seats), and `waiting` requests routed to an audience."""
    hall = await add_room(sessions, clock, name="قاعة المجلس", kind="audience_hall", capacity="40")
    await add_template(sessions, clock, template((hall.id,), capacity="4"))
    async with transaction(sessions) as session:
        # Three weeks ahead: the nearest Sunday is inside the three days' notice once the requests are in.
        await calendar.generate_sessions(session=session, clock=clock, weeks=3)
    actor = await desk(sessions, clock)
    async with sessions() as session:
        # Each category's own urgency: another would be a hand-made override, which needs its reason.
        implied = {c.code: c.implied_urgency.value for c in await session.scalars(select(Category))}
    rng = random.Random(5)
    for n in range(waiting):
        clock.advance(timedelta(minutes=37))
        body = f"1{n + 100:08d}"
        number = await new_case(
            sessions, clock, applicant_national_id=body + luhn_check_digit(body), applicant_phone=f"+96655{n:07d}"
        )
        category = _pick(rng, CATEGORIES)
        await ready(sessions, clock, actor, number, category=category, urgency=implied[category])


def without_the_chain() -> Callable[[], None]:
    """Replaces the placement's record and its run context with nothing; gives back the undoing."""
    saved = (scheduling.record_placement, placement_chain.context)

    async def no_record(**_: Any) -> None:
        return None

    async def no_context(**_: Any) -> Any:
        return SimpleNamespace(seats={})

    scheduling.record_placement = no_record
    placement_chain.context = no_context

    def undo() -> None:
        scheduling.record_placement, placement_chain.context = saved

    return undo


async def build_scenario(url: str, waiting: int) -> datetime:
    """A migrated database holding the scenario of (c); the moment it was made by (the run's clock)."""
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        clock = FrozenClock(datetime(2026, 11, 24, 9, 30, tzinfo=RIYADH))
        await allocation_scenario(session_factory(engine), clock, waiting)
    finally:
        await engine.dispose()
    return clock.now()


async def allocation_run(url: str, now: datetime, *, chained: bool) -> tuple[float, int]:
    """Seconds of one allocation run on a copy of the scenario, and how many it placed."""
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        undo = None if chained else without_the_chain()
        try:
            started = time.perf_counter()
            async with transaction(sessions) as session:
                report = await scheduling.run_allocation(
                    session=session,
                    clock=FrozenClock(now),
                    actor_id=None,
                    status_url="https://majlis.example.sa/status",
                )
            seconds = time.perf_counter() - started
        finally:
            if undo is not None:
                undo()
        async with sessions() as session:
            placements = select(func.count()).select_from(ChainEntry).where(ChainEntry.kind == EntryKind.PLACEMENT)
            entries = int(await session.scalar(placements) or 0)
        assert entries == (report.placed if chained else 0), (entries, report)
    finally:
        await engine.dispose()
    return seconds, report.placed


async def copy_database(server: PostgresServer, name: str, template: str) -> None:
    connection = await asyncpg.connect(host="127.0.0.1", port=server.port, user=server.user, database="postgres")
    try:
        await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await connection.close()


def allocation_pairs(copy: Callable[[str], str], now: datetime) -> dict[str, tuple[float, int]]:
    """Runs with and without the chain, alternately, twice each on fresh copies; the best of each."""
    best: dict[str, tuple[float, int]] = {}
    for attempt in range(2):
        for name, chained in (("with", True), ("without", False)):
            seconds, placed = asyncio.run(allocation_run(copy(f"{name}{attempt}"), now, chained=chained))
            if name not in best or seconds < best[name][0]:
                best[name] = (seconds, placed)
    return best
