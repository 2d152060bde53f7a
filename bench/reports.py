"""Reports benchmark: the statistics dashboard (quality.statistics.dashboard) over a year of 100,000 requests.

    .venv/bin/python -m bench.reports [--requests N] [--runs K] [--no-postgresql] [--seed S]

A year of activity is generated and written with bulk INSERTs (executemany in batches of 5,000 rows, not the ORM
one by one) to a fresh SQLite file and to a throwaway PostgreSQL server the bench starts itself
(tests/postgres_server.py): N requests (by default 100,000) with their applicants and triage; their audiences,
one seat each in a daily session per centre, held, missed or released; the confirmations asked three days before
and the messages that carried them; arrivals and the audiences' ends; referrals to departments with their
deadlines; rating invitations and ratings. The shares below are plausible, not measured.

The dashboard is timed over the year (the 365 days before the bench's moment), a month (November 2026) and a week,
cold (each run on a new engine, so new connections and the statements prepared afresh) and warm (runs on one
engine after one untimed run), K runs each (by default 5), median and best. The reference, measured in the same
run on the same database: one `SELECT count(*)` of every table the dashboard reads (a scan of each, no figure).
For the year, the slowest statements of a warm run are printed with their time, so that a slow one is named.

The rows are random but seeded: every run measures the same work.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from accounts.models import StaffUser
from audience_day.models import Arrival, HallAudience
from bench.bulk import write_rows
from bench.intake import measured_on, postgres_version
from cases.models import Applicant, Case
from followup.models import Department, Referral
from majlis.clock import RIYADH, riyadh
from majlis.db import create_engine, session_factory
from notify.models import OutboxMessage
from priority.models import Triage
from quality import statistics as quality_statistics
from quality.figures import Dashboard
from quality.models import Rating, RatingInvite
from quality.periods import Span, asked_span, week_of
from rooms.models import Room
from scheduler.models import Appointment, AudienceSession, Confirmation, Slot
from scheduler.notices import confirmation_purpose
from tests.postgres_server import PostgresServer

# The bench's moment: the year measured is the 365 days before it.
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
KINDS = {"audience_in_person": 50, "audience_video": 12, "complaint": 14, "petition": 12, "enquiry": 10,
         "suggestion": 2}  # fmt: skip
AUDIENCE_KINDS = ("audience_in_person", "audience_video")
CHANNELS = {"portal": 40, "walk_in": 20, "call_centre": 15, "whatsapp": 20, "email": 5}
APPLICANT_KINDS = {"citizen": 75, "resident": 12, "company": 13}
BRANCHES = {"riyadh": 65, "jeddah": 35}
# Urgency: share, and the median days to an audience (log-normal, σ = 0.6).
URGENCIES = {"critical": (5, 4.0), "urgent": (20, 10.0), "normal": (75, 25.0)}
WOMEN = 0.3
REFERRED = 0.25
DEPARTMENTS = 6
STAFF = 20
# The dashboard's tables, counted by the reference.
TABLES = ("cases", "applicants", "triage", "appointments", "slots", "confirmations", "outbox_messages", "referrals",
          "ratings", "arrivals", "hall_audiences")  # fmt: skip


def _pick(rng: random.Random, shares: dict[str, Any]) -> str:
    weights = [v[0] if isinstance(v, tuple) else v for v in shares.values()]
    return rng.choices(list(shares), weights=weights)[0]


def table_of(model: Any) -> Table:
    return cast(Table, model.__table__)


@dataclass
class Year:
    """The generated rows, table by table, in the order they are written (parents first)."""

    rows: dict[Table, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, model: Any, row: dict[str, Any]) -> None:
        self.rows.setdefault(table_of(model), []).append(row)

    def count(self, model: Any) -> int:
        return len(self.rows.get(table_of(model), []))


def _working_days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        if day.weekday() not in (4, 5):  # Friday and Saturday off
            yield day
        day += timedelta(days=1)


def year_of_activity(requests: int, seed: int, now: datetime = NOW) -> Year:
    """`requests` requests submitted over the 365 days before `now`, and everything that followed them."""
    rng = random.Random(seed)
    year = Year()
    start = now - timedelta(days=365)
    for n in range(1, STAFF + 1):
        year.add(StaffUser, {
            "id": n, "username": f"bench{n}", "full_name": f"Staff {n}",
            "role": "official" if n == 1 else "intake_desk", "gender": "male", "password_hash": "-",
            "is_active": True, "created_at": start, "must_change_password": False,
        })  # fmt: skip
    for n, branch in enumerate(BRANCHES, start=1):
        year.add(Room, {"id": n, "branch_code": branch, "name": f"hall {branch}", "kind": "audience_hall",
                        "capacity": 500, "wheelchair_access": True, "equipment": "", "active": True,
                        "created_at": start})  # fmt: skip
    for n in range(1, DEPARTMENTS + 1):
        year.add(Department, {"id": n, "code": f"bench{n}", "name_ar": f"جهة {n}", "name_en": f"Department {n}",
                              "calendar_id": 1, "email": f"d{n}@example.org", "active": True})  # fmt: skip
    # One session a working day per centre, from the year's first day to two months after the moment.
    sessions: dict[tuple[str, date], int] = {}
    for day in _working_days(riyadh(start).date(), riyadh(now).date() + timedelta(days=60)):
        for branch in BRANCHES:
            sessions[(branch, day)] = len(sessions) + 1
            opens = datetime.combine(day, datetime.min.time(), tzinfo=RIYADH).replace(hour=9)
            year.add(AudienceSession, {
                "id": sessions[(branch, day)], "template_id": None, "day": day, "starts_at": opens,
                "ends_at": opens + timedelta(hours=8), "mode": "in_person", "state": "planned", "locked": False,
                "cancelled_for_holiday": False, "note": "",
            })  # fmt: skip
    days = sorted({day for _, day in sessions})
    appointment = outbox = invite = 0
    for n in range(1, requests + 1):
        submitted = start + timedelta(seconds=rng.uniform(0, 365 * 86400))
        kind, channel, branch = _pick(rng, KINDS), _pick(rng, CHANNELS), _pick(rng, BRANCHES)
        applicant_kind = _pick(rng, APPLICANT_KINDS)
        gender = None if applicant_kind == "company" else ("female" if rng.random() < WOMEN else "male")
        urgency = _pick(rng, URGENCIES)
        year.add(Applicant, {
            "id": n, "kind": applicant_kind, "id_number": f"{n:010d}", "name": "-", "gender": gender,
            "phone": f"05{n:08d}", "language": "ar", "care_elderly": False, "care_wheelchair": False,
            "care_transport": False, "care_interpreter": False, "created_at": submitted, "updated_at": submitted,
        })  # fmt: skip
        case = {
            "id": n, "tracking_number": f"B-{n:07d}", "applicant_id": n, "kind": kind, "subject": "-", "text": "-",
            "branch": branch, "channel": channel, "status": "received", "phone": f"05{n:08d}",
            "applicant_name": "-", "gender": gender, "language": "ar", "care_elderly": False,
            "care_wheelchair": False, "care_transport": False, "care_interpreter": False, "submitted_at": submitted,
        }  # fmt: skip
        year.add(Case, case)
        year.add(Triage, {"case_id": n, "category_code": "general", "urgency": urgency, "urgency_reason": "",
                          "route": None, "women_section": False, "verified_at": submitted + timedelta(hours=5),
                          "queue_adjustment": 0, "updated_at": submitted})  # fmt: skip
        if channel == "walk_in":
            invite += 1
            _rated(year, rng, invite, n, "intake", "tablet", branch, None, 0, submitted + timedelta(minutes=15))
        if kind in AUDIENCE_KINDS:
            wait = rng.lognormvariate(math.log(URGENCIES[urgency][1]), 0.6)
            day = riyadh(submitted + timedelta(days=max(wait, 3))).date()
            seat_day = next((d for d in days if d >= day), None)
            if seat_day is not None:
                appointment += 1
                outbox = _audience(year, rng, appointment, outbox, case, sessions[(branch, seat_day)], now)
                if year.rows[table_of(Appointment)][-1]["state"] == "held":
                    invite += 1
                    ended = year.rows[table_of(HallAudience)][-1]["ended_at"]
                    _rated(year, rng, invite, n, "audience", "sms", branch, None, appointment, ended)
        if rng.random() < REFERRED:
            _referral(year, rng, n, submitted, now)
    return year


def _audience(
    year: Year, rng: random.Random, n: int, outbox: int, case: dict[str, Any], session_id: int, now: datetime
) -> int:
    """The seat, its confirmation and the messages that asked, and the visit if it came; the outbox's last id."""
    session = year.rows[table_of(AudienceSession)][session_id - 1]
    starts = session["starts_at"] + timedelta(minutes=rng.randrange(0, 480, 10))
    year.add(Slot, {"id": n, "session_id": session_id, "room_id": 1 if case["branch"] == "riyadh" else 2,
                    "starts_at": starts, "ends_at": starts + timedelta(minutes=10), "capacity": 1})  # fmt: skip
    past = starts < now
    roll = rng.random()
    state = ("held" if roll < 0.86 else "no_show" if roll < 0.94 else "released") if past else "confirmed"
    year.add(Appointment, {"id": n, "case_id": case["id"], "slot_id": n, "seat": 0, "state": state,
                           "placed_at": starts - timedelta(days=10), "explanation": "", "sequence": 0,
                           "release_reason": "",
                           "ended_at": starts + timedelta(minutes=10) if past else None})  # fmt: skip
    ask = starts - timedelta(days=3)
    answered = rng.random() < (0.9 if state == "held" else 0.5)
    year.add(Confirmation, {"id": n, "appointment_id": n, "case_id": case["id"], "ask_at": ask, "short_notice": False,
                            "answer": "confirmed" if answered else None,
                            "answered_at": ask + timedelta(hours=rng.uniform(0.1, 30)) if answered else None,
                            "answered_via": "whatsapp" if answered else "", "call_attempts": 0,
                            "last_call_note": ""})  # fmt: skip
    for channel in ("whatsapp", "sms") if rng.random() < 0.5 else ("sms",):
        outbox += 1
        year.add(OutboxMessage, {
            "id": outbox, "case_id": case["id"], "purpose": confirmation_purpose(n, channel), "channel": channel,
            "recipient": case["phone"], "language": "ar", "body": "-", "payload": {}, "created_at": ask,
            "due_at": ask, "next_attempt_at": ask, "status": "sent", "attempts": 1, "sent_at": ask,
        })  # fmt: skip
    if state == "held":
        arrived = starts - timedelta(minutes=rng.uniform(0, 15))
        called = max(starts, arrived + timedelta(minutes=rng.uniform(0.5, 5)))
        ended = called + timedelta(minutes=rng.lognormvariate(math.log(4), 0.4))
        year.add(Arrival, {"id": n, "appointment_id": n, "case_id": case["id"], "session_id": session_id,
                           "queue_number": n, "arrived_at": arrived, "via": "kiosk", "late": False})  # fmt: skip
        year.add(HallAudience, {"id": n, "appointment_id": n, "case_id": case["id"], "session_id": session_id,
                                "called_at": called, "called_by_id": 1, "ended_at": ended, "outcome": "answered",
                                "directive": "", "referred_to": "", "outcome_at": ended,
                                "outcome_by_id": 1})  # fmt: skip
    return outbox


def _referral(year: Year, rng: random.Random, case_id: int, submitted: datetime, now: datetime) -> None:
    created = submitted + timedelta(days=rng.uniform(1, 20))
    if created >= now:
        return
    due = created + timedelta(days=14)
    answered = created + timedelta(days=rng.lognormvariate(math.log(8), 0.5))
    done = answered < now
    year.add(Referral, {
        "id": year.count(Referral) + 1, "case_id": case_id, "department_id": rng.randint(1, DEPARTMENTS),
        "policy_id": 1, "source": "audit_desk", "directive": "-", "state": "answered" if done else "sent",
        "generation": 1, "created_at": created, "first_response_due_at": created + timedelta(days=3),
        "solution_due_at": due, "extended_minutes": 0, "answered_at": answered if done else None, "answer": "",
        "outcome": "", "escalation_level": 0,
    })  # fmt: skip


def _rated(
    year: Year, rng: random.Random, n: int, case_id: int, visit: str, channel: str, branch: str,
    department_id: int | None, appointment_id: int, at: datetime,
) -> None:  # fmt: skip
    """An invitation, rated seven times in ten (a face mostly 4 or 5)."""
    rated = rng.random() < 0.7
    rated_at = at + timedelta(minutes=rng.uniform(1, 600))
    staff = rng.randint(2, STAFF) if visit == "intake" else 1
    year.add(RatingInvite, {
        "id": n, "case_id": case_id, "appointment_id": appointment_id, "visit": visit, "channel": channel,
        "staff_id": staff, "branch_code": branch, "department_id": department_id, "created_at": at,
        "expires_at": at + timedelta(days=14), "used_at": rated_at if rated else None,
    })  # fmt: skip
    if rated:
        year.add(Rating, {
            "id": year.count(Rating) + 1, "invite_id": n, "case_id": case_id, "visit": visit, "staff_id": staff,
            "branch_code": branch, "department_id": department_id,
            "score": rng.choices((1, 2, 3, 4, 5), weights=(4, 4, 8, 30, 54))[0], "comment": "", "rated_at": rated_at,
        })  # fmt: skip


async def write(engine: AsyncEngine, year: Year) -> float:
    """The year written with bulk INSERTs into a migrated database; seconds taken."""
    return await write_rows(engine, year.rows)


def spans(now: datetime = NOW) -> dict[str, Span]:
    today = riyadh(now).date()
    first = (today - timedelta(days=365)).isoformat()
    last = (today - timedelta(days=1)).isoformat()
    return {
        "year (365 days)": asked_span(period="custom", value=None, first=first, last=last, now=now),
        "month (November 2026)": asked_span(period="month", value="2026-11", first=None, last=None, now=now),
        "week": week_of(today - timedelta(days=7)),
    }


async def dashboard_once(engine: AsyncEngine, span: Span, now: datetime = NOW) -> tuple[float, Dashboard]:
    started = time.perf_counter()
    async with session_factory(engine)() as session:
        figures = await quality_statistics.dashboard(session=session, span=span, now=now)
    return time.perf_counter() - started, figures


async def reference_once(engine: AsyncEngine) -> float:
    started = time.perf_counter()
    async with engine.connect() as connection:
        for table in TABLES:
            await connection.execute(text(f"SELECT count(*) FROM {table}"))  # noqa: S608 (names from TABLES)
    return time.perf_counter() - started


async def slowest_statements(engine: AsyncEngine, span: Span, top: int = 3) -> list[tuple[float, str]]:
    """The dashboard's slowest statements over `span` in a warm run: seconds and the statement's first words."""
    timings: list[tuple[float, str]] = []
    started: list[float] = []

    def before(*_: Any) -> None:
        started.append(time.perf_counter())

    def after(_connection: Any, _cursor: Any, statement: str, *__: Any) -> None:
        timings.append((time.perf_counter() - started.pop(), " ".join(statement.split())[:160]))

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
    try:
        await dashboard_once(engine, span)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)
        event.remove(engine.sync_engine, "after_cursor_execute", after)
    return sorted(timings, reverse=True)[:top]


async def measure(url: str, year: Year, runs: int) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        figures: dict[str, Any] = {"write": await write(engine, year), "spans": {}}
    finally:
        await engine.dispose()
    for name, span in spans().items():
        cold = []
        for _ in range(runs):
            engine = create_engine(url)
            try:
                seconds, dashboard = await dashboard_once(engine, span)
            finally:
                await engine.dispose()
            cold.append(seconds)
        engine = create_engine(url)
        try:
            await dashboard_once(engine, span)
            warm = [(await dashboard_once(engine, span))[0] for _ in range(runs)]
            reference = [await reference_once(engine) for _ in range(runs)]
            slowest = await slowest_statements(engine, span) if name.startswith("year") else []
        finally:
            await engine.dispose()
        figures["spans"][name] = {"cold": cold, "warm": warm, "reference": reference, "slowest": slowest,
                                  "requests": dashboard.total_requests}  # fmt: skip
    return figures


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each span, cold and warm")
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--seed", type=int, default=2026)
    return parser


def run(args: argparse.Namespace) -> str:
    lines = [*measured_on(), ""]
    started = time.perf_counter()
    year = year_of_activity(args.requests, args.seed)
    generated = time.perf_counter() - started
    rows = sum(len(r) for r in year.rows.values())
    lines.append(
        f"a year of {args.requests:,} requests: {rows:,} rows generated in {generated:.1f} s ("
        + ", ".join(f"{table.name} {len(r):,}" for table, r in year.rows.items())
        + ")"
    )
    databases: list[tuple[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="majlis-bench-reports-") as tmp:
        databases.append(
            ("SQLite (WAL, a new file)", asyncio.run(measure(f"sqlite+aiosqlite:///{tmp}/bench.db", year, args.runs)))
        )
    if not args.no_postgresql:
        server = PostgresServer()
        try:
            server.start()
            databases.append(
                (
                    f"{postgres_version(server)}, fsync off",
                    asyncio.run(measure(server.url("postgres"), year, args.runs)),
                )
            )
        finally:
            server.stop()
    lines += [
        "",
        f"quality.statistics.dashboard, all branches; {args.runs} runs each, median (best); cold: a new engine each "
        "run; warm: one engine after an untimed run; reference: one SELECT count(*) of each table it reads",
        "",
        "| database | written in | span | requests shown | cold | warm | reference | warm / reference |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, figures in databases:
        for span_name, f in figures["spans"].items():
            warm, reference = statistics.median(f["warm"]), statistics.median(f["reference"])
            lines.append(
                f"| {name} | {figures['write']:.1f} s | {span_name} | {f['requests']:,} "
                f"| {statistics.median(f['cold']):.3f} s ({min(f['cold']):.3f}) "
                f"| {warm:.3f} s ({min(f['warm']):.3f}) | {reference:.3f} s | {warm / reference:.1f}× |"
            )
    for name, figures in databases:
        lines += ["", f"{name}: the year's slowest statements (warm)"]
        for f in figures["spans"].values():
            lines += [f"  {seconds * 1000:.0f} ms  {statement}" for seconds, statement in f["slowest"]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    print(run(parser().parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
