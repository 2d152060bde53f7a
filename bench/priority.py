"""Priority benchmark: score and order 100,000 waiting requests; the aim is under 1 second.

    .venv/bin/python -m bench.priority [--entries N] [--runs R] [--seed S]

The requests are random but seeded, so every run orders the same queue: urgency
5 % critical, 20 % urgent, 75 % normal; categories drawn with the shares below;
submitted at any moment of the last 60 days. `priority.score.order` is timed
(best and median of R runs), and beside it, measured in the same run on the same
requests, Python's `sorted` by a precomputed float per request: the least work
any ordering of them must do. The ratio says what scoring costs on top.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from cases.tracking import format_tracking_number
from priority.score import CATEGORY_WEIGHTS, QueueEntry, Urgency, order, sort_key

URGENCY_SHARES = MappingProxyType({Urgency.CRITICAL: 5, Urgency.URGENT: 20, Urgency.NORMAL: 75})
# Rough shares of the seeded categories: most requests are general or everyday
# matters, the grave ones few.
CATEGORY_SHARES = MappingProxyType(
    {
        "general": 30,
        "housing": 15,
        "employment": 15,
        "family_personal_status": 15,
        "humanitarian_medical": 10,
        "detention_legal": 7,
        "security": 4,
        "qisas": 4,
    }
)
assert set(CATEGORY_SHARES) == set(CATEGORY_WEIGHTS)
WINDOW = timedelta(days=60)
# A fixed moment, so the queue, and so the work, is the same on every run.
NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def make_entries(count: int, seed: int) -> list[QueueEntry]:
    """`count` random requests waiting at NOW, the same ones for the same seed."""
    rng = random.Random(seed)
    urgencies = rng.choices(list(URGENCY_SHARES), weights=list(URGENCY_SHARES.values()), k=count)
    categories = rng.choices(list(CATEGORY_SHARES), weights=list(CATEGORY_SHARES.values()), k=count)
    window_us = WINDOW // timedelta(microseconds=1)
    start = NOW - WINDOW
    return [
        QueueEntry(
            tracking_number=format_tracking_number(2026, serial),
            submitted_at=start + timedelta(microseconds=rng.randrange(window_us)),
            urgency=urgency,
            category_weight=CATEGORY_WEIGHTS[category],
        )
        for serial, urgency, category in zip(range(1, count + 1), urgencies, categories, strict=True)
    ]


def timings(work: Callable[[], object], runs: int) -> list[float]:
    """Seconds each of `runs` calls of `work` took."""
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - started)
    return seconds


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    entries = make_entries(args.entries, args.seed)
    queue = order(entries, NOW)
    # The reference must sort the same requests into the same queue.
    assert queue == sorted(entries, key=lambda entry: sort_key(entry, NOW))

    measured = timings(lambda: order(entries, NOW), args.runs)

    # The floats are worked out before the clock starts; what is timed is one
    # sort of the positions by them and picking the entries in that order, all
    # in C: no Python-level call per entry.
    floats = [sort_key(entry, NOW)[0] for entry in entries]
    reference = timings(
        lambda: list(map(entries.__getitem__, sorted(range(len(floats)), key=floats.__getitem__))), args.runs
    )

    best, median = min(measured), statistics.median(measured)
    ref_best, ref_median = min(reference), statistics.median(reference)
    command = shlex.join([".venv/bin/python", "-m", "bench.priority", *(argv if argv is not None else sys.argv[1:])])
    print(f"command: {command}")
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()} ({platform.platform()})")
    print(f"queue:   {len(entries):,} requests, seed {args.seed}, {args.runs} runs each")
    print()
    print("| what | best | median |")
    print("| --- | ---: | ---: |")
    print(f"| `order()`: score and sort | {best * 1000:.1f} ms | {median * 1000:.1f} ms |")
    print(f"| `sorted` by a precomputed float (reference) | {ref_best * 1000:.1f} ms | {ref_median * 1000:.1f} ms |")
    print(f"| ratio | {best / ref_best:.1f}× | {median / ref_median:.1f}× |")
    print()
    verdict = "under" if median < 1.0 else "OVER"
    print(f"aim: under 1 s for {len(entries):,} requests; median {median:.3f} s is {verdict} it")


if __name__ == "__main__":
    main()
