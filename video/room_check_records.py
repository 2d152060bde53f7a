"""The record of rooms' pre-call checks: stored per room and Riyadh day, read back, and rooms with recurring problems.

A day counts as failing when the day's last check failed: staff run the check
again after fixing what it found (a light, the camera's angle), and a room
whose last check of the day passed went into its audiences working. The
problems themselves are counted on every day they showed in any check, so a
fault fixed each morning still shows as recurring.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from majlis.clock import Clock
from video import service as video
from video.analysis import Verdict
from video.models import RoomCheck


@dataclass(frozen=True)
class CheckSummary:
    """A stored check without its snapshot (lists do not carry the pictures)."""

    id: int
    room_id: int
    at: datetime
    by_id: int | None
    passed: bool
    reasons: list[str]
    measures: dict[str, Any]
    has_snapshot: bool


@dataclass(frozen=True)
class RoomProblems:
    """One room's checks over the last days: how many days were checked, which failed, and what went wrong."""

    room_id: int
    days_checked: int
    failing_days: list[date]
    # (problem code, days it showed on), most frequent first.
    problems: list[tuple[str, int]]


async def record_check(
    *, session: AsyncSession, clock: Clock, room_id: int, by_id: int | None, verdict: Verdict
) -> RoomCheck:
    """Stores a check's verdict for the room, on today's Riyadh date (flushed, not committed)."""
    check = RoomCheck(
        room_id=room_id,
        day=video.today(clock).date(),
        at=clock.now(),
        by_id=by_id,
        passed=verdict.passed,
        reasons=list(verdict.problems),
        measures=dict(verdict.measures),  # JSON-safe numbers and text
        snapshot=verdict.snapshot_jpeg,
    )
    session.add(check)
    await session.flush()
    return check


async def get_check(*, session: AsyncSession, check_id: int) -> RoomCheck | None:
    """A stored check, with its snapshot."""
    return await session.get(RoomCheck, check_id)


async def latest_checks(*, session: AsyncSession, room_id: int, day: date) -> list[CheckSummary]:
    """The room's checks of that day, newest first."""
    rows = await session.execute(
        select(
            RoomCheck.id,
            RoomCheck.room_id,
            RoomCheck.at,
            RoomCheck.by_id,
            RoomCheck.passed,
            RoomCheck.reasons,
            RoomCheck.measures,
            RoomCheck.snapshot.is_not(None),
        )
        .where(RoomCheck.room_id == room_id, RoomCheck.day == day)
        .order_by(RoomCheck.at.desc(), RoomCheck.id.desc())
    )
    return [
        CheckSummary(
            id=row[0],
            room_id=row[1],
            at=row[2],
            by_id=row[3],
            passed=row[4],
            reasons=list(row[5]),
            measures=dict(row[6]),
            has_snapshot=bool(row[7]),
        )
        for row in rows
    ]


async def recurring_problems(*, session: AsyncSession, clock: Clock, days: int = 14) -> list[RoomProblems]:
    """Rooms whose checks found problems in the last `days` Riyadh days (today included), worst first."""
    today = video.today(clock).date()
    since = today - timedelta(days=days - 1)
    rows = await session.execute(
        select(RoomCheck.room_id, RoomCheck.day, RoomCheck.passed, RoomCheck.reasons)
        .where(RoomCheck.day >= since, RoomCheck.day <= today)
        .order_by(RoomCheck.room_id, RoomCheck.day, RoomCheck.at, RoomCheck.id)
    )
    last_passed: dict[int, dict[date, bool]] = {}
    problem_days: dict[int, dict[str, set[date]]] = {}
    for room_id, day, passed, reasons in rows:
        last_passed.setdefault(room_id, {})[day] = passed  # rows are in time order: the last one stays
        for code in reasons:
            problem_days.setdefault(room_id, {}).setdefault(code, set()).add(day)
    found = []
    for room_id, by_day in last_passed.items():
        counts = Counter({code: len(on) for code, on in problem_days.get(room_id, {}).items()})
        if not counts:
            continue
        found.append(
            RoomProblems(
                room_id=room_id,
                days_checked=len(by_day),
                failing_days=sorted(day for day, passed in by_day.items() if not passed),
                problems=sorted(counts.items(), key=lambda item: (-item[1], item[0])),
            )
        )
    found.sort(key=lambda r: (-len(r.failing_days), -(r.problems[0][1] if r.problems else 0), r.room_id))
    return found
