"""bench/reports.py cannot rot: its year of activity, at 300 requests, written to SQLite and read by the dashboard."""

from __future__ import annotations

from pathlib import Path

from bench import reports
from cases.models import Case
from majlis.db import create_engine


async def test_a_small_year_is_written_and_read_by_the_dashboard(tmp_path: Path) -> None:
    year = reports.year_of_activity(300, seed=7)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/bench.db")
    try:
        await reports.write(engine, year)
        shown = {}
        for name, span in reports.spans().items():
            _, shown[name] = await reports.dashboard_once(engine, span)
        assert await reports.reference_once(engine) > 0
        slowest = await reports.slowest_statements(engine, reports.spans()["year (365 days)"])
    finally:
        await engine.dispose()
    whole = shown["year (365 days)"]
    assert len(year.rows[reports.table_of(Case)]) == 300
    # Every request of the year is counted, but those submitted on the bench's own day, after the span's last day.
    assert whole.total_requests is not None and 290 <= whole.total_requests <= 300
    assert shown["month (November 2026)"].total_requests and shown["week"].total_requests is not None
    assert whole.satisfaction_overall.count and whole.satisfaction_overall.mean is not None
    assert whole.service_time.count and whole.service_time.median_minutes is not None
    assert whole.no_shows.total and whole.referrals_on_time.total
    assert len(slowest) == 3 and all(statement.startswith("SELECT") for _, statement in slowest)
