"""Staff search benchmark: `cases.search.search` over N requests, by tracking number, ID, phone and name.

    .venv/bin/python -m bench.search [--requests N] [--repeats K] [--no-postgresql] [--seed S]

A fresh SQLite file and a throwaway PostgreSQL server the bench starts itself (tests/postgres_server.py) are migrated
to the real schema (`majlis.migrate.upgrade`, so with the real indexes) and filled with bulk INSERTs (executemany in
batches of 5,000): N requests (by default 100,000) from about N / 1.6 applicants (one to three requests each), each
with a four-part Arabic name drawn from lists of common first and family names (three in ten women), a mobile number,
a national ID or iqama number whose Luhn check digit holds, a tracking number of its year with its Damm digit, and a
triage row (one request in a hundred of the confidential category "security", so the need-to-know rule has something
to leave out). Five applicants carry a rare first name.

Each kind of query is typed as a desk types it, read by `cases.search.recognise`, and answered by
`cases.search.search` (the function the page and GET /api/v1/search/requests call): the COUNT and the first page of
20, newest first, each query in a new session on one warm engine. Two reaches (`cases.need_to_know.reach`): the audit
desk's (every request: the widest) and the WhatsApp desk's (its channel, confidential categories left out: a
narrowed one). The tracking numbers, IDs and phones differ from one repetition to the next (drawn from the data);
a name query is the same each time. K repetitions (by default 30) after one untimed; p50 and p95.

The reference, measured in the same run on the same database and reach: the tracking-number lookup (a seek on its
unique index); every kind's p50 is also printed as a ratio to it. Then the plans the database chose for a national
ID, the common name and the absent name (the page and the COUNT, for the audit desk), so a scan is named.

The rows are random but seeded: every run measures the same work.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import ColumnElement, Table, and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from accounts.roles import Role
from bench.bulk import write_rows
from bench.intake import load_average, measured_on, postgres_version
from cases.identity import luhn_check_digit
from cases.models import Applicant, Case
from cases.names import search_key
from cases.need_to_know import Reader, reach
from cases.search import PAGE_SIZE, SearchQuery, condition, recognise, search
from cases.tracking import format_tracking_number
from majlis.clock import riyadh
from majlis.db import create_engine, session_factory
from priority.models import Triage
from tests.postgres_server import PostgresServer

NOW: Final = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# Bench data: common Saudi given names and family names (Arabic literals are allowed in bench data).
MEN: Final = (
    "محمد", "عبدالله", "عبدالرحمن", "أحمد", "خالد", "فهد", "سعد", "سلطان", "عبدالعزيز", "فيصل", "ناصر", "سعود",
    "تركي", "بندر", "ماجد", "عمر", "علي", "يوسف", "إبراهيم", "حمد", "نايف", "مشعل", "بدر", "صالح", "منصور",
    "عادل", "طلال", "ياسر", "وليد", "مساعد",
)  # fmt: skip
WOMEN: Final = (
    "نورة", "فاطمة", "سارة", "مريم", "عائشة", "هيفاء", "منيرة", "لطيفة", "الجوهرة", "ريم", "أمل", "هند", "نوف",
    "حصة", "شيخة", "العنود", "مها", "دلال", "أسماء", "خلود",
)  # fmt: skip
FAMILIES: Final = (
    "القحطاني", "الغامدي", "الزهراني", "العتيبي", "الشهري", "الدوسري", "المطيري", "الحربي", "الشمري", "العنزي",
    "السبيعي", "الرشيدي", "الشهراني", "العمري", "المالكي", "الجهني", "البقمي", "السهلي", "الأحمدي", "العسيري",
    "الفيفي", "السديري", "آل الشيخ", "التميمي", "الخالدي", "الهاجري", "اليامي", "القرني", "البلوي", "الثبيتي",
    "الحارثي", "الظفيري", "العجمي", "المري", "الرويلي", "السلمي", "الزهيري", "الجبرين", "الفوزان", "العثمان",
)  # fmt: skip
# The first name of RARE applicants only (each with one to three requests).
RARE_NAME: Final = "تماضر"
RARE: Final = 5
WOMEN_SHARE: Final = 0.3
CONFIDENTIAL_SHARE: Final = 0.01
KINDS: Final = {"audience_in_person": 50, "audience_video": 12, "complaint": 14, "petition": 12, "enquiry": 10,
                "suggestion": 2}  # fmt: skip
CHANNELS: Final = {"portal": 40, "walk_in": 20, "call_centre": 15, "whatsapp": 20, "email": 5}
STATUSES: Final = {"received": 10, "awaiting_audience": 15, "scheduled": 10, "confirmed": 5, "referred": 15,
                   "completed": 40, "rejected": 5}  # fmt: skip
CATEGORIES: Final = ("general", "housing", "employment", "family_personal_status", "humanitarian_medical",
                     "detention_legal")  # fmt: skip
# Query kinds: (label, how the desk types it from a drawn request, or a fixed name).
NAME_QUERIES: Final = {
    "name, one common word (محمد)": "محمد",
    "name, two words (عبدالله القحطاني)": "عبدالله القحطاني",
    f"name, a rare first name ({RARE_NAME})": RARE_NAME,
    "name, found nowhere (زيد المهيري)": "زيد المهيري",
}


def _pick(rng: random.Random, shares: dict[str, int]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def table_of(model: Any) -> Table:
    return cast(Table, model.__table__)


@dataclass
class Data:
    """The generated rows, table by table in the order they are written, and what queries draw from."""

    rows: dict[Table, list[dict[str, Any]]] = field(default_factory=dict)
    # Per request: (tracking number, ID number, local phone), typed as a desk types them.
    typed: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, model: Any, row: dict[str, Any]) -> None:
        self.rows.setdefault(table_of(model), []).append(row)


def _identity(kind: str, n: int) -> str:
    # Eight digits from a bijection of n (7,919 is prime to 10**8), so unique per applicant; then the Luhn digit.
    body = ("1" if kind == "citizen" else "2") + f"{(n * 7_919 + 12_345_678) % 10**8:08d}"
    return body + luhn_check_digit(body)


def _phone(n: int) -> str:
    """A unique Saudi mobile number, local form (05…)."""
    return f"05{(n * 104_729 + 3_000_000) % 10**7 + (0 if n % 2 else 50_000_000):08d}"


def requests_of(requests: int, seed: int, now: datetime = NOW) -> Data:
    """`requests` requests over the 365 days before `now`, from applicants with one to three requests each."""
    rng = random.Random(seed)
    data = Data()
    start = now - timedelta(days=365)
    times = sorted(start + timedelta(seconds=rng.uniform(0, 365 * 86400)) for _ in range(requests))
    rare = set(rng.sample(range(requests), min(RARE, requests)))
    serials: dict[int, int] = {}
    order = list(range(requests))
    rng.shuffle(order)  # which request belongs to which applicant: not in time order
    applicant = 0
    remaining = 0
    owner: dict[int, tuple[int, dict[str, Any]]] = {}
    for index in order:
        if remaining == 0:
            applicant += 1
            remaining = rng.choices((1, 2, 3), weights=(55, 30, 15))[0]
            kind = "resident" if rng.random() < 0.12 else "citizen"
            woman = rng.random() < WOMEN_SHARE
            first = RARE_NAME if index in rare else rng.choice(WOMEN if woman else MEN)
            name = " ".join((first, rng.choice(MEN), rng.choice(MEN), rng.choice(FAMILIES)))
            person: dict[str, Any] = {
                "id": applicant, "kind": kind, "id_number": _identity(kind, applicant), "name": name,
                "gender": "female" if woman else "male", "phone": "+966" + _phone(applicant)[1:], "language": "ar",
                "care_elderly": False, "care_wheelchair": False, "care_transport": False, "care_interpreter": False,
                "created_at": times[index], "updated_at": times[index],
            }  # fmt: skip
            data.add(Applicant, person)
        remaining -= 1
        owner[index] = (applicant, person)
    for index, submitted in enumerate(times):
        applicant_id, person = owner[index]
        year = riyadh(submitted).year
        serials[year] = serials.get(year, 0) + 1
        tracking = format_tracking_number(year, serials[year])
        case_id = index + 1
        data.add(Case, {
            "id": case_id, "tracking_number": tracking, "applicant_id": applicant_id, "kind": _pick(rng, KINDS),
            "subject": "-", "text": "-", "branch": "riyadh" if rng.random() < 0.65 else "jeddah",
            "channel": _pick(rng, CHANNELS), "status": _pick(rng, STATUSES), "phone": person["phone"],
            "applicant_name": person["name"], "name_key": search_key(person["name"]), "gender": person["gender"],
            "language": "ar", "care_elderly": False, "care_wheelchair": False, "care_transport": False,
            "care_interpreter": False, "submitted_at": submitted,
        })  # fmt: skip
        category = "security" if rng.random() < CONFIDENTIAL_SHARE else rng.choice(CATEGORIES)
        data.add(Triage, {"case_id": case_id, "category_code": category, "urgency": "normal", "urgency_reason": "",
                          "route": None, "women_section": person["gender"] == "female", "verified_at": submitted,
                          "queue_adjustment": 0, "updated_at": submitted})  # fmt: skip
        data.typed.append((tracking, person["id_number"], "0" + person["phone"][4:]))
    # Applicants first (the cases' foreign key), then cases, then triage.
    data.rows = {table_of(m): data.rows[table_of(m)] for m in (Applicant, Case, Triage)}
    return data


async def write(engine: AsyncEngine, data: Data) -> float:
    """The rows written with bulk INSERTs into a migrated database; seconds taken (the migration not counted)."""
    return await write_rows(engine, data.rows)


def query_kinds(data: Data, rng: random.Random) -> dict[str, Callable[[], str]]:
    """Each kind's next query as typed: the lookups draw a request at random, a name is the same each time."""

    def drawn(position: int) -> Callable[[], str]:
        return lambda: rng.choice(data.typed)[position]

    kinds: dict[str, Callable[[], str]] = {
        "tracking number (reference)": drawn(0),
        "national ID / iqama": drawn(1),
        "mobile number (05…)": drawn(2),
    }
    for label, name in NAME_QUERIES.items():
        kinds[label] = _same(name)
    return kinds


def _same(name: str) -> Callable[[], str]:
    return lambda: name


@dataclass
class Timing:
    seconds: list[float]
    found: list[int]

    @property
    def p50(self) -> float:
        return statistics.median(self.seconds)

    @property
    def p95(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[max(0, round(0.95 * len(ordered)) - 1)]  # nearest rank


async def timed(engine: AsyncEngine, query: SearchQuery, within: ColumnElement[bool]) -> tuple[float, int]:
    started = time.perf_counter()
    async with session_factory(engine)() as session:
        found = await search(session=session, query=query, within=within)
    seconds = time.perf_counter() - started
    if query.kind.value != "name" and not found.cases and found.total:
        raise AssertionError("a page with nothing on it")
    return seconds, found.total


async def plans(engine: AsyncEngine, data: Data, within: ColumnElement[bool]) -> list[str]:
    """How the database runs a national ID's, the common name's and the absent name's page and COUNT (EXPLAIN; on
    SQLite EXPLAIN QUERY PLAN): whether an index serves them."""
    explain = "EXPLAIN" if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
    typed = {"national ID / iqama": data.typed[0][1]} | {
        label: NAME_QUERIES[label] for label in (next(iter(NAME_QUERIES)), list(NAME_QUERIES)[-1])
    }
    lines = []
    async with engine.connect() as connection:
        for label, raw in typed.items():
            where = and_(condition(recognise(raw)), within)
            statements = {
                "page": select(Case.id)
                .where(where)
                .order_by(Case.submitted_at.desc(), Case.id.desc())
                .limit(PAGE_SIZE),
                "count": select(func.count()).select_from(Case).where(where),
            }
            for part, statement in statements.items():
                sql = str(statement.compile(engine.sync_engine, compile_kwargs={"literal_binds": True}))
                rows = (await connection.execute(text(f"{explain} {sql}"))).all()
                steps = " / ".join(" ".join(str(row[-1]).split()) for row in rows)
                lines.append(f"  {label}, {part}: {steps}")
    return lines


READERS: Final = {
    "audit desk (every request)": Reader(staff_id=1, role=Role.AUDIT_DESK),
    "WhatsApp desk (its channel, no confidential)": Reader(staff_id=2, role=Role.WHATSAPP_DESK),
}


async def measure(url: str, data: Data, repeats: int, seed: int) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        figures: dict[str, Any] = {"write": await write(engine, data), "reaches": {}}
        for reader_name, reader in READERS.items():
            within = reach(reader, now=NOW)
            kinds = query_kinds(data, random.Random(seed))
            timings: dict[str, Timing] = {}
            for label, next_query in kinds.items():
                await timed(engine, recognise(next_query()), within)  # untimed: statements prepared, pages cached
                timing = Timing([], [])
                for _ in range(repeats):
                    query = recognise(next_query())
                    seconds, total = await timed(engine, query, within)
                    timing.seconds.append(seconds)
                    timing.found.append(total)
                timings[label] = timing
            figures["reaches"][reader_name] = timings
        figures["plans"] = await plans(engine, data, reach(next(iter(READERS.values())), now=NOW))
    finally:
        await engine.dispose()
    return figures


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=30, help="timed queries of each kind and reach")
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--seed", type=int, default=2026)
    return parser


def _found(timing: Timing) -> str:
    low, high = min(timing.found), max(timing.found)
    return f"{low:,}" if low == high else f"{low:,}–{high:,}"


def run(args: argparse.Namespace) -> str:
    lines = [*measured_on(), ""]
    started = time.perf_counter()
    data = requests_of(args.requests, args.seed)
    generated = time.perf_counter() - started
    lines.append(
        f"{args.requests:,} requests generated in {generated:.1f} s ("
        + ", ".join(f"{table.name} {len(r):,}" for table, r in data.rows.items())
        + ")"
    )
    databases: list[tuple[str, dict[str, Any], str]] = []
    with tempfile.TemporaryDirectory(prefix="majlis-bench-search-") as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        figures = asyncio.run(measure(url, data, args.repeats, args.seed))
        databases.append(("SQLite (WAL, a new file)", figures, load_average()))
    if not args.no_postgresql:
        server = PostgresServer()
        try:
            server.start()
            figures = asyncio.run(measure(server.url("postgres"), data, args.repeats, args.seed))
            databases.append((f"{postgres_version(server)}, fsync off", figures, load_average()))
        finally:
            server.stop()
    lines += [
        "",
        f"cases.search.search: COUNT and the first page of 20, newest first, a new session per query on a warm "
        f"engine; {args.repeats} queries of each kind after one untimed; reference: the tracking-number lookup "
        "(a seek on its unique index) in the same run, database and reach",
    ]
    for name, figures, load_after in databases:
        lines += [
            "",
            f"{name}: written in {figures['write']:.1f} s; load average after: {load_after}",
            "",
            "| reach | query | found | p50 | p95 | p50 / reference |",
            "| --- | --- | ---: | ---: | ---: | ---: |",
        ]
        for reader_name, timings in figures["reaches"].items():
            reference = timings["tracking number (reference)"].p50
            for label, timing in timings.items():
                lines.append(
                    f"| {reader_name} | {label} | {_found(timing)} | {timing.p50 * 1000:.1f} ms "
                    f"| {timing.p95 * 1000:.1f} ms | {timing.p50 / reference:.1f}× |"
                )
        lines += ["", f"{name}: plans of three queries for the audit desk", *figures["plans"]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    print(run(parser().parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
