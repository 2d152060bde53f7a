"""Fairness benchmark: the chain's verification, the equal-priority comparison and the chain's cost per placement.

    .venv/bin/python -m bench.fairness [--entries N] [--requests R] [--waiting W] [--runs K] [--no-postgresql]
                                       [--seed S]

Each part prints its figures beside a reference measured in the same run, and their ratio:

(a) `fairness.verify.verify_chain` over N entries (by default 100,000), written straight to a fresh SQLite file and
    to a throwaway PostgreSQL server, intact, so the walk goes to the end. Each entry's change is shaped like a
    placement's (scores, rule, seat, those placed before it). The reference hashes the same canonical bytes with
    hashlib alone (no database, no JSON): the least any check of the chain must do. While the walk runs, a
    coroutine ticks every 10 ms on the same event loop; how late its ticks came (median and longest) is what
    another request would wait on the page's server while the chain is checked.
(b) `fairness.equal_wait.compare` as the live report runs it (999 relabellings) over R live-shaped requests (by
    default 10,000; the shares below), beside the medians and 90th percentiles of the same groups and their rests
    alone (no test, no interval): what the statistics cost on top of the figures themselves.
(c) An allocation run with the chain's recording against the same run without it (bench/fairness_allocation.py):
    W waiting requests (by default 150) into two Sundays' seats (120), on copies of one database. Beside it, K
    transactions each appending one placement-shaped entry with `fairness.chain.append`, against K empty
    transactions: the append alone.

The requests and entries are random but seeded: every run measures the same work.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import json
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.fairness_allocation import CATEGORIES, allocation_pairs, build_scenario, copy_database
from bench.intake import _create_database, measured_on, postgres_version
from fairness import chain, verify
from fairness.equal_wait import DIMENSIONS, WaitRecord, compare
from fairness.models import ChainEntry, EntryKind
from majlis import migrate
from majlis.clock import FrozenClock
from majlis.db import create_engine, session_factory, transaction
from priority.queue import LIVE_PERMUTATIONS
from tests.postgres_server import PostgresServer

Sessions = async_sessionmaker[AsyncSession]
TABLE = cast(Table, ChainEntry.__table__)
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

# Urgency bands: share of requests and the median wait in days (log-normal, σ = 0.6).
BANDS = {"critical": (5, 4.0), "urgent": (20, 10.0), "normal": (75, 25.0)}
CHANNELS = {"portal": 40, "walk_in": 20, "call_centre": 15, "whatsapp": 20, "email": 5}
KINDS = {"citizen": 75, "resident": 12, "company": 13}
BRANCHES = {"riyadh": 65, "jeddah": 35}
WOMEN = 0.26


def _pick(rng: random.Random, shares: dict[str, Any]) -> str:
    weights = [v[0] if isinstance(v, tuple) else v for v in shares.values()]
    return rng.choices(list(shares), weights=weights)[0]


def live_records(count: int, seed: int) -> list[WaitRecord]:
    """`count` classified requests shaped like the live report's: a company has no gender."""
    rng = random.Random(seed)
    records = []
    for _ in range(count):
        band = _pick(rng, BANDS)
        kind = _pick(rng, KINDS)
        dimensions = {"applicant_kind": kind, "channel": _pick(rng, CHANNELS), "branch": _pick(rng, BRANCHES)}
        if kind != "company":
            dimensions["gender"] = "female" if rng.random() < WOMEN else "male"
        wait = rng.lognormvariate(math.log(BANDS[band][1]), 0.6)
        records.append(WaitRecord(band, _pick(rng, CATEGORIES), dimensions, round(wait, 3)))
    return records


def medians_alone(records: Sequence[WaitRecord]) -> int:
    """The reference of (b): every group's and its rest's median and p90, as compare groups them, and no test."""
    cells: dict[tuple[str, str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        for dimension in DIMENSIONS:
            value = record.dimension_values.get(dimension)
            if value is not None:
                cells[(record.band, record.category, dimension)][value].append(record.wait_days)
    figures = 0
    for by_value in cells.values():
        arrays = {value: np.asarray(waits) for value, waits in by_value.items()}
        for value, waits in arrays.items():
            rest = [other for name, other in arrays.items() if name != value]
            for values in (waits, np.concatenate(rest) if rest else waits):
                np.median(values)
                np.quantile(values, 0.9)
                figures += 2
    return figures


def placement_change(rng: random.Random, seq: int) -> dict[str, Any]:
    """A change shaped like a placement's (scheduler.placement_chain): no personal data, as in the chain."""
    score = round(rng.uniform(10, 400), 2)
    return {
        "tracking_number": f"MJ-2026-{seq:06d}",
        "score": score,
        "base_score": score,
        "urgency": _pick(rng, BANDS),
        "category": _pick(rng, CATEGORIES),
        "rank": rng.randint(1, 120),
        "total": 120,
        "rule": "allocation_run",
        "seat": {
            "slot_id": rng.randint(1, 5000),
            "seat": rng.randint(1, 4),
            "starts_at": (NOW + timedelta(days=rng.randint(3, 30))).isoformat(timespec="seconds"),
            "room": "main_hall",
            "branch": _pick(rng, BRANCHES),
            "mode": "in_person",
            "womens_section": False,
            "accessible": False,
        },
        "before": rng.randint(0, 119),
        "first_before": [
            {"tracking_number": f"MJ-2026-{rng.randint(1, seq + 1):06d}", "score": round(rng.uniform(score, 500), 2)}
            for _ in range(3)
        ],
        "passed": [],
    }


def chain_rows(count: int, seed: int) -> tuple[list[dict[str, Any]], list[bytes]]:
    """`count` linked entries, and the canonical bytes each one's hash is of (for the reference)."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    bodies: list[bytes] = []
    prev_hash = chain.GENESIS
    for seq in range(1, count + 1):
        at = NOW + timedelta(seconds=seq * 7)
        change = chain.canonical(placement_change(rng, seq))
        actor_id = None if seq % 5 else 3
        justification = "" if seq % 5 else "توجيه المسؤول"
        fields: dict[str, Any] = {
            "seq": seq,
            "at": at,
            "actor_id": actor_id,
            "kind": "placement",
            "case_id": seq,
            "change": change,
            "justification": justification,
            "prev_hash": prev_hash,
        }
        digest = chain.entry_hash(**fields)
        body = {**fields, "at": at.isoformat(timespec="microseconds"), "change": json.loads(change)}
        bodies.append(chain.canonical(body).encode("utf-8"))
        rows.append({**fields, "hash": digest})
        prev_hash = digest
    return rows, bodies


async def _ticker(stop: asyncio.Event, lags: list[float]) -> None:
    """Ticks every 10 ms; records how late each tick was (the event loop held by something else)."""
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.01)
        lags.append(time.perf_counter() - started - 0.01)


async def verify_timed(sessions: Sessions) -> tuple[float, list[float], verify.Verification]:
    """One verification: seconds, how late each tick of the event loop was meanwhile, and the result."""
    stop = asyncio.Event()
    lags: list[float] = []
    ticking = asyncio.create_task(_ticker(stop, lags))
    started = time.perf_counter()
    async with sessions() as session:
        result = await verify.verify_chain(session=session)
    seconds = time.perf_counter() - started
    stop.set()
    await ticking
    return seconds, lags, result


async def chain_figures(url: str, rows: list[dict[str, Any]], runs: int) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        sessions = session_factory(engine)
        async with transaction(sessions) as session:
            for start in range(0, len(rows), 5_000):
                await session.execute(insert(TABLE), rows[start : start + 5_000])
        walks = [await verify_timed(sessions) for _ in range(2)]
        append_seconds, bare_seconds = await append_figures(sessions, runs)
    finally:
        await engine.dispose()
    seconds = [walk[0] for walk in walks]
    assert all(walk[2].intact and walk[2].entries == len(rows) for walk in walks)
    return {
        "verify": min(seconds),
        "verify_median": statistics.median(seconds),
        "stall": max(max(walk[1], default=0.0) for walk in walks),
        "late": statistics.median([lag for walk in walks for lag in walk[1]] or [0.0]),
        "append": append_seconds,
        "bare": bare_seconds,
    }


async def append_figures(sessions: Sessions, runs: int) -> tuple[float, float]:
    """(c): seconds per transaction appending one placement-shaped entry, and per transaction appending nothing."""
    rng = random.Random(7)
    clock = FrozenClock(NOW + timedelta(days=400))
    started = time.perf_counter()
    for n in range(runs):
        async with transaction(sessions) as session:
            await chain.append(
                session=session,
                clock=clock,
                kind=EntryKind.PLACEMENT,
                actor_id=None,
                case_id=n,
                change=placement_change(rng, n),
            )
    with_chain = (time.perf_counter() - started) / runs
    started = time.perf_counter()
    for n in range(runs):
        async with transaction(sessions) as session:
            placement_change(rng, n)
            await session.flush()
    return with_chain, (time.perf_counter() - started) / runs


def reference_hashing(bodies: list[bytes]) -> float:
    started = time.perf_counter()
    for body in bodies:
        hashlib.sha256(body).hexdigest()
    return time.perf_counter() - started


def timed(work: Any, runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - started)
    return seconds


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--waiting", type=int, default=150, help="requests waiting for the allocation run in (c)")
    parser.add_argument("--runs", type=int, default=200, help="transactions appending one entry, timed in (c)")
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--seed", type=int, default=2026)
    return parser


def run(args: argparse.Namespace) -> str:
    lines = [*measured_on(), ""]
    # (b) first: no database.
    records = live_records(args.requests, args.seed)
    measured = timed(lambda: compare(records, permutations=LIVE_PERMUTATIONS), 3)
    reference = timed(lambda: medians_alone(records), 3)
    rows = compare(records, permutations=LIVE_PERMUTATIONS)
    tested = sum(r.tested for r in rows)
    lines += [
        f"(b) equal-priority comparison: {args.requests:,} live-shaped requests, {len(rows)} groups, {tested} tested, "
        f"{LIVE_PERMUTATIONS} relabellings and resamples; best and median of 3",
        "",
        "| what | best | median |",
        "| --- | ---: | ---: |",
        f"| `compare` (sequential permutation test, bootstrap interval) | {min(measured):.3f} s "
        f"| {statistics.median(measured):.3f} s |",
        f"| reference: medians and p90s of the same groups alone | {min(reference):.3f} s "
        f"| {statistics.median(reference):.3f} s |",
        f"| ratio | {min(measured) / min(reference):.1f}× | "
        f"{statistics.median(measured) / statistics.median(reference):.1f}× |",
        "",
    ]
    chain_entries, bodies = chain_rows(args.entries, args.seed)
    # The benchmark's own 100,000 rows and bodies are no server's: kept out of the collector's sweeps, which would
    # otherwise stall the event loop for a tenth of a second or more while they are traversed, and be counted
    # against the walk.
    gc.freeze()
    hashing = min(timed(lambda: reference_hashing(bodies), 3))
    size = sum(map(len, bodies)) / len(bodies)
    databases: list[tuple[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="majlis-bench-fairness-") as tmp:
        figures = asyncio.run(chain_figures(f"sqlite+aiosqlite:///{tmp}/bench.db", chain_entries, args.runs))
        now = asyncio.run(build_scenario(f"sqlite+aiosqlite:///{tmp}/scenario.db", args.waiting))

        def sqlite_copy(name: str) -> str:
            shutil.copyfile(f"{tmp}/scenario.db", f"{tmp}/{name}.db")
            return f"sqlite+aiosqlite:///{tmp}/{name}.db"

        figures.update(allocation_pairs(sqlite_copy, now))
        databases.append(("SQLite (WAL, a new file)", figures))
    if not args.no_postgresql:
        server = PostgresServer()
        try:
            server.start()
            figures = asyncio.run(chain_figures(server.url("postgres"), chain_entries, args.runs))
            asyncio.run(_create_database(server, "scenario"))
            now = asyncio.run(build_scenario(server.url("scenario"), args.waiting))

            def postgres_copy(name: str) -> str:
                asyncio.run(copy_database(server, name, "scenario"))
                return server.url(name)

            figures.update(allocation_pairs(postgres_copy, now))
            databases.append((f"{postgres_version(server)}, fsync off", figures))
        finally:
            server.stop()
    lines += [
        f"(a) verify_chain over {args.entries:,} intact entries (canonical form {size:.0f} bytes on average); "
        "best of 2 walks; how late a 10 ms tick on the same event loop came meanwhile",
        "",
        "| database | verify_chain | per entry | reference: hashlib alone | ratio | a 10 ms tick's median delay "
        "| its longest |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, figures in databases:
        lines.append(
            f"| {name} | {figures['verify']:.2f} s | {figures['verify'] / args.entries * 1e6:.1f} µs "
            f"| {hashing:.3f} s | {figures['verify'] / hashing:.0f}× | {figures['late'] * 1000:.0f} ms "
            f"| {figures['stall'] * 1000:.0f} ms |"
        )
    lines += [
        "",
        f"(c) an allocation run of {args.waiting} waiting requests into the seats of two Sundays, with the chain's "
        "recording (each placement explained and appended) and without it (reference), on copies of one database; "
        "best of 2 each, run alternately",
        "",
        "| database | placed | with the chain | without (reference) | per placement | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, figures in databases:
        (with_seconds, placed), (without_seconds, _) = figures["with"], figures["without"]
        lines.append(
            f"| {name} | {placed} | {with_seconds:.2f} s | {without_seconds:.2f} s "
            f"| {(with_seconds - without_seconds) / max(placed, 1) * 1000:.1f} ms "
            f"| {with_seconds / without_seconds:.2f}× |"
        )
    lines += [
        "",
        f"and the append alone: {args.runs} transactions each appending one placement-shaped entry, beside the same "
        "transactions appending nothing",
        "",
        "| database | with the append | without (reference) | the append's own cost | ratio |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, figures in databases:
        lines.append(
            f"| {name} | {figures['append'] * 1000:.2f} ms | {figures['bare'] * 1000:.2f} ms "
            f"| {(figures['append'] - figures['bare']) * 1000:.2f} ms | {figures['append'] / figures['bare']:.1f}× |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    print(run(parser().parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
