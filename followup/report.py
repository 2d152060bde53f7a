"""The follow-up's monthly report: per department and overall, what was referred, answered on time or late,
left open past its deadline, how long solutions took in working days, escalations and referrals returned.

A period is a Gregorian month or an Umm al-Qura Hijri month, bounded by Riyadh midnights. The figures:

- referred: referrals created in the period;
- answered on time / late: answered in the period, by or after the solution deadline;
- overdue: at the period's end (or now, for the month under way) past the solution deadline and neither
  answered nor closed; a referral the department had returned as not theirs (and nobody had sent back), or
  one waiting for the applicant's information, is not the department's delay and is left out;
- median working days to solution, of the referrals answered in the period: the department calendar's
  working time from the referral to the answer, less the working time spent waiting for the applicant
  (from each INFORMATION_ASKED event to the INFORMATION_GIVEN that follows it), in the calendar's working days;
- escalations: ESCALATED events in the period, by the level in their details ("level");
- returned: RETURNED events in the period.

Everything is counted in grouped queries; only the referrals answered in the period are read one by one, since
a median needs each duration.
"""

from __future__ import annotations

import statistics
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from followup.models import Department, EventKind, Referral, ReferralEvent
from followup.periods import Period
from majlis.clock import Clock, riyadh
from majlis.i18n import in_language
from worktime import service as worktime
from worktime.clock import Calendar

_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class Figures:
    referred: int = 0
    answered_on_time: int = 0
    answered_late: int = 0
    overdue: int = 0
    median_working_days: float | None = None
    # ESCALATED events by the level they reached; `escalated` also counts any without a level.
    escalations: Mapping[int, int] = field(default_factory=dict)
    escalated: int = 0
    returned: int = 0

    @property
    def answered(self) -> int:
        return self.answered_on_time + self.answered_late


@dataclass(frozen=True)
class DepartmentFigures:
    department_id: int
    code: str
    name_ar: str
    name_en: str
    parent_id: int | None
    active: bool
    figures: Figures

    def name(self, language: str) -> str:
        return in_language(language, self.name_ar, self.name_en)


@dataclass(frozen=True)
class MonthlyReport:
    period: Period
    # The end of the period, or the moment of the report for the month under way: when "overdue" is judged.
    as_of: datetime
    departments: tuple[DepartmentFigures, ...]
    overall: Figures
    # Limited to some departments (a liaison's own): the overall then covers only them.
    scoped: bool = False

    @property
    def levels(self) -> list[int]:
        """Every escalation level reached in the period, for the columns of a table."""
        return sorted(
            {level for d in self.departments for level in d.figures.escalations} | set(self.overall.escalations)
        )

    def ordered(self, language: str) -> list[DepartmentFigures]:
        """The departments by their name in the reader's language."""
        return sorted(self.departments, key=lambda d: (d.name(language), d.code))


@dataclass
class _Tally:
    referred: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    days: list[float] = field(default_factory=list)
    escalations: Counter[int] = field(default_factory=Counter)
    escalated: int = 0
    returned: int = 0

    def figures(self) -> Figures:
        return Figures(
            referred=self.referred,
            answered_on_time=self.on_time,
            answered_late=self.late,
            overdue=self.overdue,
            median_working_days=statistics.median(self.days) if self.days else None,
            escalations=dict(sorted(self.escalations.items())),
            escalated=self.escalated,
            returned=self.returned,
        )

    def add(self, other: _Tally) -> None:
        self.referred += other.referred
        self.on_time += other.on_time
        self.late += other.late
        self.overdue += other.overdue
        self.days.extend(other.days)
        self.escalations.update(other.escalations)
        self.escalated += other.escalated
        self.returned += other.returned


def _within(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def _scoped(query: _Query, department_ids: Collection[int] | None) -> _Query:
    return query if department_ids is None else query.where(Referral.department_id.in_(department_ids))


def _last(kind: EventKind, before: datetime) -> Any:
    """The moment of the referral's last event of this kind before `before` (correlated; NULL for none)."""
    return (
        select(func.max(ReferralEvent.at))
        .where(ReferralEvent.referral_id == Referral.id, ReferralEvent.kind == kind, ReferralEvent.at < before)
        .scalar_subquery()
    )


def still_owed(as_of: datetime) -> ColumnElement[bool]:
    """A referral its department still owes an answer at `as_of`: neither answered nor closed by then, not returned
    as not theirs (unless sent to them again since), and not waiting for the applicant's information (their clock
    is stopped). Past its deadline, it is overdue; the statistics dashboard counts it late (quality.statistics)."""
    return and_(
        or_(Referral.answered_at.is_(None), Referral.answered_at >= as_of),
        or_(Referral.closed_at.is_(None), Referral.closed_at >= as_of),
        or_(
            _last(EventKind.RETURNED, as_of).is_(None),
            _last(EventKind.SENT, as_of) > _last(EventKind.RETURNED, as_of),
        ),
        or_(
            _last(EventKind.INFORMATION_ASKED, as_of).is_(None),
            _last(EventKind.INFORMATION_GIVEN, as_of) >= _last(EventKind.INFORMATION_ASKED, as_of),
        ),
    )


def _level(value: object) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isascii() and text.isdigit() else None


async def monthly_report(
    *,
    session: AsyncSession,
    clock: Clock,
    period: Period,
    department_ids: Collection[int] | None = None,
) -> MonthlyReport:
    """The period's figures for every department (active ones even with nothing; others only with something)."""
    start, end = period.starts_at, period.ends_at
    as_of = riyadh(max(start, min(end, clock.now())))
    tallies: defaultdict[int, _Tally] = defaultdict(_Tally)

    referred = select(Referral.department_id, func.count()).where(_within(Referral.created_at, start, end))
    for department_id, count in await session.execute(
        _scoped(referred, department_ids).group_by(Referral.department_id)
    ):
        tallies[department_id].referred = count

    answered_rows = list(
        await session.execute(
            _scoped(
                select(
                    Referral.id,
                    Referral.department_id,
                    Referral.created_at,
                    Referral.answered_at,
                    Referral.solution_due_at,
                ).where(_within(Referral.answered_at, start, end)),
                department_ids,
            )
        )
    )
    waits = await _waits(session=session, start=start, end=end, department_ids=department_ids)

    overdue = (
        select(Referral.department_id, func.count())
        .where(
            Referral.created_at < as_of,
            Referral.solution_due_at < as_of,
            still_owed(as_of),
        )
        .group_by(Referral.department_id)
    )
    for department_id, count in await session.execute(_scoped(overdue, department_ids)):
        tallies[department_id].overdue = count

    level = ReferralEvent.details["level"].as_string()
    happened = (
        select(Referral.department_id, ReferralEvent.kind, level, func.count())
        .join(Referral, Referral.id == ReferralEvent.referral_id)
        .where(
            ReferralEvent.kind.in_((EventKind.ESCALATED, EventKind.RETURNED)),
            _within(ReferralEvent.at, start, end),
        )
        .group_by(Referral.department_id, ReferralEvent.kind, level)
    )
    for department_id, kind, reached, count in await session.execute(_scoped(happened, department_ids)):
        tally = tallies[department_id]
        if kind == EventKind.RETURNED:
            tally.returned += count
            continue
        tally.escalated += count
        if (number := _level(reached)) is not None:
            tally.escalations[number] += count

    chosen = select(Department).order_by(Department.id)
    if department_ids is not None:
        chosen = chosen.where(Department.id.in_(department_ids))
    departments = list(await session.scalars(chosen))
    calendar_of = {d.id: d.calendar_id for d in departments}
    calendars = await worktime.load(
        session=session, calendar_ids={calendar_of[row.department_id] for row in answered_rows}
    )
    # One walk over each calendar's working time for all its referrals, from the oldest referral to the last answer.
    spans: dict[int, tuple[datetime, datetime]] = {}
    for row in answered_rows:
        calendar_id = calendar_of[row.department_id]
        first, last = spans.get(calendar_id, (row.created_at, row.answered_at))
        spans[calendar_id] = (min(first, row.created_at), max(last, row.answered_at))
    timelines = {i: WorkingTimeline(calendars[i], first, last) for i, (first, last) in spans.items()}
    for row in answered_rows:
        tally = tallies[row.department_id]
        if row.answered_at <= row.solution_due_at:
            tally.on_time += 1
        else:
            tally.late += 1
        days = _working_days(
            timelines[calendar_of[row.department_id]], row.created_at, row.answered_at, waits.get(row.id, ())
        )
        if days is not None:
            tally.days.append(days)

    overall = _Tally()
    listed: list[DepartmentFigures] = []
    for department in departments:
        if department.id not in tallies and not department.active:
            continue
        tally = tallies[department.id]
        overall.add(tally)
        listed.append(
            DepartmentFigures(
                department_id=department.id,
                code=department.code,
                name_ar=department.name_ar,
                name_en=department.name_en,
                parent_id=department.parent_id,
                active=department.active,
                figures=tally.figures(),
            )
        )
    return MonthlyReport(
        period=period,
        as_of=as_of,
        departments=tuple(listed),
        overall=overall.figures(),
        scoped=department_ids is not None,
    )


async def _waits(
    *, session: AsyncSession, start: datetime, end: datetime, department_ids: Collection[int] | None
) -> dict[int, list[tuple[datetime, datetime | None]]]:
    """Each answered referral's waits for the applicant: (asked, given), given None when never answered."""
    events = _scoped(
        select(ReferralEvent.referral_id, ReferralEvent.kind, ReferralEvent.at)
        .join(Referral, Referral.id == ReferralEvent.referral_id)
        .where(
            _within(Referral.answered_at, start, end),
            ReferralEvent.kind.in_((EventKind.INFORMATION_ASKED, EventKind.INFORMATION_GIVEN)),
        )
        .order_by(ReferralEvent.referral_id, ReferralEvent.at, ReferralEvent.id),
        department_ids,
    )
    waits: dict[int, list[tuple[datetime, datetime | None]]] = {}
    for referral_id, kind, at in await session.execute(events):
        pairs = waits.setdefault(referral_id, [])
        waiting = bool(pairs) and pairs[-1][1] is None
        if kind == EventKind.INFORMATION_ASKED and not waiting:
            pairs.append((at, None))
        elif kind == EventKind.INFORMATION_GIVEN and waiting:
            pairs[-1] = (pairs[-1][0], at)
    return waits


class WorkingTimeline:
    """The working time of one calendar between two moments, asked of many spans inside them.

    working_between walks the calendar's days on every call; a month's report asks it for thousands of referrals
    over the same weeks. The timeline walks them once and answers each span with two bisections: the working
    time elapsed from the start to each end, subtracted.
    """

    def __init__(self, calendar: Calendar, start: datetime, end: datetime) -> None:
        self.day = calendar.working_day
        self._start, self._end = start, end
        self._opens: list[datetime] = []
        self._closes: list[datetime] = []
        self._before: list[timedelta] = []
        elapsed = timedelta()
        for opens, closes in calendar.intervals(start, end):
            self._opens.append(opens)
            self._closes.append(closes)
            self._before.append(elapsed)
            elapsed += closes - opens

    def _elapsed(self, moment: datetime) -> timedelta:
        moment = min(max(moment, self._start), self._end)
        index = bisect_right(self._opens, moment) - 1
        if index < 0:
            return timedelta()
        return self._before[index] + min(moment, self._closes[index]) - self._opens[index]

    def between(self, start: datetime, end: datetime) -> timedelta:
        """working_between(calendar, start, end), for moments within the timeline's two."""
        return max(self._elapsed(end) - self._elapsed(start), timedelta())


def _working_days(
    timeline: WorkingTimeline,
    created: datetime,
    answered: datetime,
    waits: Iterable[tuple[datetime, datetime | None]],
) -> float | None:
    """Working days from referral to answer, less the working time spent waiting for the applicant."""
    if timeline.day <= timedelta():
        return None
    worked = timeline.between(created, answered)
    for asked, given in waits:
        worked -= timeline.between(max(asked, created), min(given or answered, answered))
    return max(worked, timedelta()) / timeline.day
