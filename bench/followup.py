"""Follow-up benchmark: the escalation sweep over 100,000 open referrals.

    .venv/bin/python -m bench.followup [--referrals N] [--due D] [--departments K]
                                       [--database-url URL | --postgresql] [--seed S]

N open referrals (by default 100,000) to K departments (a tree under one office, on the government's
Sunday–Thursday calendar, each with its head, deputy and liaison) are written straight to a fresh
database, with their deadlines and the moment of their next escalation rung: D of them (by default
1,000) due now, the rest later. The clock stands on a Sunday at 10:00 Riyadh, inside working hours.

Three timings, each a whole transaction or more, as the job runs them:

1. The sweep with nothing due (D set in the future first): what every five-minute run costs on a
   quiet day. Aim: under 2 s.
2. The sweep with D due: each escalated one by one in its savepoint, the next rank's e-mail written to
   the outbox and the next rung's moment computed in working time. Aim: under 2 s for the whole sweep.
3. Reference, in the same run: a sweep that keeps no next moment, as a first design would — read every
   open referral and compute where it stands against its clocks in working time
   (followup.timers.standing) to find the due ones. The ratios are sweep ÷ reference.
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

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.intake import code_version, load_average, machine_facts, postgres_version
from cases.models import Applicant, Case
from followup import escalation, timers
from followup.models import OPEN_REFERRAL_STATES, ContactRole, Department, DepartmentContact, Referral
from majlis import migrate
from majlis.clock import RIYADH, FrozenClock
from majlis.db import create_engine, session_factory, transaction
from notify.models import OutboxMessage
from tests.postgres_server import PostgresServer
from worktime.models import WorkingCalendar

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 12, 13, 10, 0, tzinfo=RIYADH)  # a Sunday, in working hours
CHUNK = 5000


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench.followup", description=__doc__.split("\n\n")[0])
    p.add_argument("--referrals", type=int, default=100_000)
    p.add_argument("--due", type=int, default=1_000)
    p.add_argument("--departments", type=int, default=40)
    p.add_argument("--seed", type=int, default=13)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--database-url", help="an empty, dedicated database (it is migrated and filled)")
    where.add_argument("--postgresql", action="store_true", help="a throwaway PostgreSQL server")
    return p


async def _departments(sessions: Sessions, count: int) -> list[int]:
    async with transaction(sessions) as session:
        calendar_id = await session.scalar(select(WorkingCalendar.id).where(WorkingCalendar.code == "government"))
        assert calendar_id is not None
        office = Department(
            code="office", name_ar="الديوان", name_en="Office", calendar_id=calendar_id, email="office@example.org"
        )
        session.add(office)
        await session.flush()
        made = [office]
        for n in range(count):
            department = Department(
                code=f"d{n}",
                name_ar=f"الإدارة {n}",
                name_en=f"Department {n}",
                parent_id=office.id,
                calendar_id=calendar_id,
                email=f"d{n}@example.org",
            )
            session.add(department)
            made.append(department)
        await session.flush()
        for department in made:
            for role in ContactRole:
                session.add(
                    DepartmentContact(
                        department_id=department.id,
                        role=role,
                        name=f"{role.value} {department.code}",
                        email=f"{role.value}.{department.code}@example.org",
                        phone="",
                        language="ar",
                    )
                )
        return [d.id for d in made[1:]]


async def _fill(sessions: Sessions, args: argparse.Namespace, department_ids: list[int]) -> None:
    """N applicants, requests and referrals, written in chunks straight to the tables."""
    rng = random.Random(args.seed)
    now = NOW.astimezone(UTC)
    for start in range(0, args.referrals, CHUNK):
        rows = range(start, min(start + CHUNK, args.referrals))
        async with transaction(sessions) as session:
            await session.execute(
                insert(Applicant),
                [
                    {
                        "id": n + 1,
                        "kind": "citizen",
                        "id_number": f"1{n:09d}",
                        "name": f"مراجع {n}",
                        "gender": "male",
                        "phone": f"+9665{n:08d}",
                        "language": "ar",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in rows
                ],
            )
            await session.execute(
                insert(Case),
                [
                    {
                        "id": n + 1,
                        "tracking_number": f"6-{n:06d}-26",
                        "applicant_id": n + 1,
                        "kind": "petition",
                        "subject": "طلب",
                        "text": "نص الطلب",
                        "branch": "riyadh",
                        "channel": "portal",
                        "status": "referred",
                        "phone": f"+9665{n:08d}",
                        "applicant_name": f"مراجع {n}",
                        "gender": "male",
                        "language": "ar",
                        "submitted_at": now - timedelta(days=40),
                    }
                    for n in rows
                ],
            )
            referrals = []
            for n in rows:
                if n < args.due:
                    # Ten working days of 7 hours, Sunday to Thursday, are two weeks: these reached rung 1 in the
                    # last hour.
                    created = now - timedelta(days=14, minutes=rng.uniform(1, 60))
                    due = created + timedelta(days=14)
                else:
                    created = now - timedelta(days=rng.uniform(0, 13))
                    due = created + timedelta(days=14)
                referrals.append(
                    {
                        "case_id": n + 1,
                        "department_id": department_ids[n % len(department_ids)],
                        "policy_id": 1,
                        "source": "audit_desk",
                        "directive": "يحال للدراسة وإفادة صاحبه.",
                        "state": rng.choice(["sent", "acknowledged"]),
                        "generation": 1,
                        "created_at": created,
                        "first_response_due_at": created + timedelta(days=2),  # roughly: only the list reads it
                        "solution_due_at": due,
                        "extended_minutes": 0,
                        "answer": "",
                        "outcome": "",
                        "escalation_level": 0,
                        "next_escalation_at": due,
                    }
                )
            await session.execute(insert(Referral), referrals)
        print(f"bench: {min(start + CHUNK, args.referrals)} referrals written", file=sys.stderr, flush=True)


async def _reference(sessions: Sessions, clock: FrozenClock) -> tuple[float, int]:
    """Every open referral read and stood against its clocks in working time: the due ones found the slow way."""
    started = time.perf_counter()
    async with sessions() as session:
        open_ones = list(await session.scalars(select(Referral).where(Referral.state.in_(OPEN_REFERRAL_STATES))))
        rules = await timers.rules_for(session=session, referrals=open_ones)
        overdue = sum(timers.standing(rules[r.id], r, now=clock.now()).overdue for r in open_ones)
    return time.perf_counter() - started, overdue


async def _sweep(sessions: Sessions, clock: FrozenClock) -> tuple[float, escalation.SweepReport]:
    started = time.perf_counter()
    report = await escalation.sweep(sessions=sessions, clock=clock)
    return time.perf_counter() - started, report


async def measure(args: argparse.Namespace, url: str, notes: list[str]) -> str:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        sessions = session_factory(engine)
        clock = FrozenClock(NOW)
        department_ids = await _departments(sessions, args.departments)
        await _fill(sessions, args, department_ids)
        # Fresh statistics, as a database that has lived a while has them.
        if engine.dialect.name == "postgresql":
            async with engine.connect() as connection:
                await connection.exec_driver_sql("ANALYZE")
        else:
            async with engine.begin() as connection:
                await connection.exec_driver_sql("ANALYZE")

        # 1. Nothing due: the due ones (the first D written) moved a few hours ahead for this timing, then back.
        due_ids = Referral.id <= args.due
        async with transaction(sessions) as session:
            await session.execute(
                update(Referral).where(due_ids).values(next_escalation_at=clock.now() + timedelta(hours=3))
            )
        quiet_seconds, quiet = await _sweep(sessions, clock)
        async with transaction(sessions) as session:
            await session.execute(
                update(Referral).where(due_ids).values(next_escalation_at=clock.now() - timedelta(minutes=30))
            )
        # 3 (run before 2, so it finds the same due ones). The reference.
        reference_seconds, overdue = await _reference(sessions, clock)
        # 2. D due.
        busy_seconds, busy = await _sweep(sessions, clock)
        async with sessions() as session:
            mails = int(
                await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.purpose.like("followup:escalation:%"))
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
        f"referrals open: {args.referrals:,} to {args.departments} departments; due now: {args.due:,}",
        "",
        "| run | seconds | escalated | deferred | failed | vs reference |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| sweep, nothing due | {quiet_seconds:.3f} | {quiet.escalated} | {quiet.deferred} | {len(quiet.failed)} "
        f"| {quiet_seconds / reference_seconds:.4f} |",
        f"| sweep, {args.due:,} due | {busy_seconds:.3f} | {busy.escalated} | {busy.deferred} | {len(busy.failed)} "
        f"| {busy_seconds / reference_seconds:.3f} |",
        f"| reference: every open referral stood against its clocks | {reference_seconds:.3f} | "
        f"({overdue:,} past a deadline) | | | 1 |",
        "",
        f"- escalation e-mails written: {mails:,} ({busy.escalated / busy_seconds:.0f} escalations/s)",
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
    with tempfile.TemporaryDirectory(prefix="majlis-bench-followup-") as tmp:
        notes.append("database: a new SQLite file (WAL)")
        return asyncio.run(measure(args, f"sqlite+aiosqlite:///{tmp}/bench.db", notes))


def main(argv: Sequence[str] | None = None) -> int:
    print(run(parser().parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
