"""Emergency line benchmark: the escalation sweep over 50,000 open reports.

    .venv/bin/python -m bench.emergency [--reports N] [--due D] [--missions K]
                                        [--database-url URL | --postgresql] [--seed S]

N open reports (by default 50,000: open or acknowledged, a fifth life-threatening, three tenths urgent, the rest
normal) at K live missions (by default 30, in zones from Sydney to the Gulf and Europe, half with a Monday–Friday
week and half Sunday–Thursday, each 09:00–17:00 in its zone) are written straight to a fresh database with their
deadlines and the moment of their next rung: D of them (by default 1,000) unacknowledged and past their
acknowledgement, the rest later. The clock stands at 03:00 on a Wednesday in Sydney.

Three timings, each a whole transaction or more, as the job runs them:

1. The sweep with nothing due (D set in the future first): what every one-minute run costs on a quiet night.
   Aim: under 2 s.
2. The sweep with D due: each taken to the head of mission, who is told by e-mail, SMS and (life-threatening)
   a call, through the outbox, with the ESCALATED event and the next rung's moment. Aim: under 2 s.
3. Reference, in the same run: a sweep that keeps no next moment, as a first design would — read every open
   report and work out its next rung (emergency.timers.next_rung, in the mission's working time for normal
   reports) to find the due ones. The ratios are sweep ÷ reference.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.intake import code_version, load_average, machine_facts, postgres_version
from emergency import alerts, escalation, timers, wording
from emergency.models import EmergencyReport, Mission, MissionKind
from majlis import migrate
from majlis.clock import FrozenClock
from majlis.db import create_engine, session_factory, transaction
from notify.models import OutboxMessage
from tests.postgres_server import PostgresServer
from worktime import service as worktime
from worktime.models import WorkingCalendar, WorkingHours

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 12, 9, 3, 0, tzinfo=ZoneInfo("Australia/Sydney"))  # a Wednesday night in Sydney
CHUNK = 5000
ZONES = ("Australia/Sydney", "Asia/Dubai", "Asia/Kuwait", "Asia/Qatar", "Asia/Bahrain", "Asia/Muscat", "Europe/London")
DEPUTY = alerts.Deputy(name="Consular deputy", email="deputy@example.gov.sa", phone="+966500000999")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench.emergency", description=__doc__.split("\n\n")[0])
    p.add_argument("--reports", type=int, default=50_000)
    p.add_argument("--due", type=int, default=1_000)
    p.add_argument("--missions", type=int, default=30)
    p.add_argument("--seed", type=int, default=15)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--database-url", help="an empty, dedicated database (it is migrated and filled)")
    where.add_argument("--postgresql", action="store_true", help="a throwaway PostgreSQL server")
    return p


async def _missions(sessions: Sessions, count: int) -> list[int]:
    async with transaction(sessions) as session:
        made = []
        for n in range(count):
            zone = ZONES[n % len(ZONES)]
            calendar = WorkingCalendar(code=f"m{n}", name_ar=f"بعثة {n}", name_en=f"Mission {n}", time_zone=zone)
            session.add(calendar)
            await session.flush()
            days = (0, 1, 2, 3, 4) if n % 2 else (6, 0, 1, 2, 3)
            for day in days:
                session.add(
                    WorkingHours(calendar_id=calendar.id, weekday=day, opens=time_of_day(9), closes=time_of_day(17))
                )
            mission = Mission(
                code=f"m{n}",
                kind=MissionKind.EMBASSY,
                name_ar=f"سفارة {n}",
                name_en=f"Embassy {n}",
                country="AU",
                time_zone=zone,
                calendar_id=calendar.id,
                email=f"m{n}@example.org",
                head_name=f"Head {n}",
                head_email=f"head{n}@example.org",
                head_phone=f"+6120000{n:04d}",
                live=True,
                active=True,
            )
            session.add(mission)
            made.append(mission)
        await session.flush()
        return [m.id for m in made]


def _report(n: int, rng: random.Random, mission_id: int, now: datetime, due: bool) -> dict[str, object]:
    severity = "life_threatening" if n % 5 == 0 else ("urgent" if n % 10 < 4 else "normal")
    if due:
        # Unacknowledged, its acknowledgement missed within the last few minutes.
        severity = "life_threatening" if n % 2 else "urgent"
        created = now - timedelta(minutes=rng.uniform(125, 130))
        state, acknowledge, solve = "open", created + timedelta(minutes=120), created + timedelta(hours=72)
        next_at = acknowledge
    else:
        created = now - timedelta(minutes=rng.uniform(0, 60))
        state = rng.choice(["open", "acknowledged"])
        acknowledge = created + timedelta(hours=rng.uniform(2, 30))
        solve = created + timedelta(days=rng.uniform(2, 14))
        next_at = acknowledge if state == "open" else solve
    return {
        "number": f"E26-{n + 1:06d}-0",
        "national_id": "1000000008",
        "caller_name": f"مواطن {n}",
        "phone": f"+6141{n:07d}",
        "language": "ar",
        "country": "AU",
        "city": "Sydney",
        "type": "accident",
        "severity": severity,
        "account": "حادث سير ونُقل إلى المستشفى.",
        "source": "agent",
        "mission_id": mission_id,
        "state": state,
        "generation": 1,
        "created_at": created,
        "acknowledge_due_at": acknowledge,
        "solve_due_at": solve,
        "acknowledged_at": created + timedelta(minutes=5) if state == "acknowledged" else None,
        "acknowledged_by": "",
        "outcome": "",
        "escalation_level": 0,
        "next_escalation_at": next_at,
    }


async def _fill(sessions: Sessions, args: argparse.Namespace, mission_ids: list[int]) -> None:
    rng = random.Random(args.seed)
    now = NOW.astimezone(UTC)
    for start in range(0, args.reports, CHUNK):
        rows = range(start, min(start + CHUNK, args.reports))
        async with transaction(sessions) as session:
            await session.execute(
                insert(EmergencyReport),
                [_report(n, rng, mission_ids[n % len(mission_ids)], now, n < args.due) for n in rows],
            )
        print(f"bench: {min(start + CHUNK, args.reports)} reports written", file=sys.stderr, flush=True)


async def _reference(sessions: Sessions, clock: FrozenClock) -> tuple[float, int]:
    """Every open report read and its next rung worked out: the due ones found the slow way."""
    started = time.perf_counter()
    async with sessions() as session:
        open_ones = list(await session.scalars(select(EmergencyReport).where(EmergencyReport.state.in_(timers.OWING))))
        missions = {m.id: m for m in await session.scalars(select(Mission))}
        calendars = await worktime.load(session=session, calendar_ids={m.calendar_id for m in missions.values()})
        due = 0
        for report in open_ones:
            rung = timers.next_rung(report, calendars[missions[report.mission_id].calendar_id])
            due += rung is not None and rung.at <= clock.now()
    return time.perf_counter() - started, due


async def _sweep(sessions: Sessions, clock: FrozenClock) -> tuple[float, escalation.SweepReport]:
    started = time.perf_counter()
    report = await escalation.sweep(sessions=sessions, clock=clock, deputy=DEPUTY)
    return time.perf_counter() - started, report


async def measure(args: argparse.Namespace, url: str, notes: list[str]) -> str:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        sessions = session_factory(engine)
        clock = FrozenClock(NOW)
        mission_ids = await _missions(sessions, args.missions)
        await _fill(sessions, args, mission_ids)
        # Fresh statistics, as a database that has lived a while has them.
        if engine.dialect.name == "postgresql":
            async with engine.connect() as connection:
                await connection.exec_driver_sql("ANALYZE")
        else:
            async with engine.begin() as connection:
                await connection.exec_driver_sql("ANALYZE")

        # A running server has read Babel's Arabic and English data long before; a fresh process reads it on the
        # first country it names (about 0.4 s, once).
        for language in ("ar", "en"):
            wording.place("Sydney", "AU", language)

        # 1. Nothing due: the due ones (the first D written) moved a few hours ahead for this timing, then back.
        due_ids = EmergencyReport.id <= args.due
        async with transaction(sessions) as session:
            moved = (
                await session.execute(select(EmergencyReport.id, EmergencyReport.next_escalation_at).where(due_ids))
            ).all()
            await session.execute(
                update(EmergencyReport).where(due_ids).values(next_escalation_at=clock.now() + timedelta(hours=3))
            )
        quiet_seconds, quiet = await _sweep(sessions, clock)
        async with transaction(sessions) as session:
            for report_id, at in moved:
                await session.execute(
                    update(EmergencyReport).where(EmergencyReport.id == report_id).values(next_escalation_at=at)
                )
        # 3 (run before 2, so it finds the same due ones). The reference.
        reference_seconds, overdue = await _reference(sessions, clock)
        # 2. D due.
        busy_seconds, busy = await _sweep(sessions, clock)
        async with sessions() as session:
            messages = int(
                await session.scalar(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.purpose.like("emergency:%"))
                )
                or 0
            )
    finally:
        await engine.dispose()
    lines = [
        f"command: {shlex.join(sys.orig_argv)}",
        f"date: {datetime.now(UTC).date().isoformat()}",
        f"code: {code_version()}",
        *machine_facts(),
        *notes,
        f"reports open: {args.reports:,} at {args.missions} missions; due now: {args.due:,}",
        "",
        "| run | seconds | escalated | moved | failed | vs reference |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| sweep, nothing due | {quiet_seconds:.3f} | {quiet.escalated} | {quiet.rescheduled} | {len(quiet.failed)} "
        f"| {quiet_seconds / reference_seconds:.4f} |",
        f"| sweep, {args.due:,} due | {busy_seconds:.3f} | {busy.escalated} | {busy.rescheduled} | {len(busy.failed)} "
        f"| {busy_seconds / reference_seconds:.3f} |",
        f"| reference: every open report's next rung worked out | {reference_seconds:.3f} | "
        f"({overdue:,} due) | | | 1 |",
        "",
        f"- messages written to the outbox: {messages:,} ({busy.escalated / busy_seconds:.0f} escalations/s)",
        f"- aim: the sweep under 2 s — nothing due {'met' if quiet_seconds < 2 else 'NOT met'}, "
        f"{args.due:,} due {'met' if busy_seconds < 2 else 'NOT met'}",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> str:
    notes = [f"load average before the run: {load_average()}"]
    if args.database_url:
        notes.append("database: the one given (--database-url)")
        return asyncio.run(measure(args, args.database_url, notes))
    if args.postgresql:
        server = PostgresServer()
        try:
            server.start()
            notes.append(f"database: {postgres_version(server)}, fsync=off, synchronous_commit=off")
            return asyncio.run(measure(args, server.url("postgres"), notes))
        finally:
            server.stop()
    with tempfile.TemporaryDirectory(prefix="majlis-bench-emergency-") as tmp:
        notes.append("database: a new SQLite file (WAL)")
        return asyncio.run(measure(args, f"sqlite+aiosqlite:///{tmp}/bench.db", notes))


def main(argv: Sequence[str] | None = None) -> int:
    print(run(parser().parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
