"""The emergency line's monthly report: per mission, per country and for the whole ministry, what was received,
acknowledged and solved within the service level or late, how often a report was escalated, and what was still
open when the month ended; each of them also by severity.

A period is a Gregorian month (or an Umm al-Qura one) bounded by Riyadh midnights, as the follow-up's report has
it (followup.periods). The figures:

- received: reports registered in the period;
- acknowledged in time / late: acknowledged in the period, by or after the acknowledgement deadline;
- solved in time / late: solved or handed over in the period, by or after the solution deadline;
- escalations: ESCALATED events in the period, by the rung their params name ("rung": 1 the head of mission,
  2 the consular deputy, as emergency.alerts.alert_rung writes it); the deputy's daily reminders about a report
  still unsolved ("reminder") are not escalations and are left out;
- open at the period's end (or now, for the month under way): registered before then and not solved or handed
  over by then.

A report counts for the mission it is with now (after a reassignment, the new one), and for the country where
the citizen is: a report from a country whose mission is not live yet is the central desk's, under its country.
Everything is counted in grouped queries keyed by (mission, country, severity), added up here three ways.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from babel import Locale
from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from emergency.models import (
    EmergencyReport,
    Mission,
    MissionCoverage,
    MissionKind,
    ReportEvent,
    ReportEventKind,
    Severity,
)
from followup.periods import Period
from majlis.clock import Clock, riyadh
from majlis.i18n import in_language

# The severities as the tables order them, the gravest first.
SEVERITIES = (Severity.LIFE_THREATENING, Severity.URGENT, Severity.NORMAL)
_Key = tuple[int, str, Severity]


@dataclass(frozen=True)
class Figures:
    received: int = 0
    acknowledged_in_time: int = 0
    acknowledged_late: int = 0
    solved_in_time: int = 0
    solved_late: int = 0
    escalations: int = 0
    open_at_end: int = 0
    # ESCALATED events by the rung they reached (1 the head of mission, 2 the consular deputy).
    escalations_by_level: Mapping[int, int] = field(default_factory=dict)

    @property
    def acknowledged(self) -> int:
        return self.acknowledged_in_time + self.acknowledged_late

    @property
    def solved(self) -> int:
        return self.solved_in_time + self.solved_late


@dataclass(frozen=True)
class Line:
    """One mission's, one country's or the ministry's figures, in all and by severity (every severity present)."""

    figures: Figures
    by_severity: Mapping[Severity, Figures]


@dataclass(frozen=True)
class MissionLine(Line):
    mission_id: int = 0
    code: str = ""
    kind: MissionKind = MissionKind.EMBASSY
    country: str = ""
    name_ar: str = ""
    name_en: str = ""
    live: bool = False
    active: bool = True
    email: str = ""

    def name(self, language: str) -> str:
        return in_language(language, self.name_ar, self.name_en)


@dataclass(frozen=True)
class CountryLine(Line):
    country: str = ""

    def name(self, language: str) -> str:
        return country_name(self.country, language)


@dataclass(frozen=True)
class EmergencyMonthly:
    period: Period
    # The end of the period, or the moment of the report for the month under way: when "open" is judged.
    as_of: datetime
    missions: tuple[MissionLine, ...]
    countries: tuple[CountryLine, ...]
    overall: Line

    def ordered_missions(self, language: str) -> list[MissionLine]:
        """The central desk first, then the missions by country and name in the reader's language."""
        return sorted(
            self.missions,
            key=lambda m: (m.kind is not MissionKind.CENTRAL_DESK, country_name(m.country, language), m.name(language)),
        )

    def ordered_countries(self, language: str) -> list[CountryLine]:
        return sorted(self.countries, key=lambda c: (c.name(language), c.country))

    def mission(self, mission_id: int) -> MissionLine | None:
        return next((m for m in self.missions if m.mission_id == mission_id), None)

    @property
    def levels(self) -> list[int]:
        """Every rung reached in the period, for the columns of a table."""
        return sorted(self.overall.figures.escalations_by_level)


def country_name(code: str, language: str) -> str:
    """The country's name in the language (Babel's territory names), the code itself when Babel has none."""
    territories: Mapping[str, str] = Locale.parse(language if language in ("ar", "en") else "en").territories
    return territories.get(code, code)


@dataclass
class _Tally:
    received: int = 0
    ack_in_time: int = 0
    ack_late: int = 0
    solved_in_time: int = 0
    solved_late: int = 0
    escalations: int = 0
    open_at_end: int = 0
    levels: Counter[int] = field(default_factory=Counter)

    def add(self, other: _Tally) -> None:
        self.received += other.received
        self.ack_in_time += other.ack_in_time
        self.ack_late += other.ack_late
        self.solved_in_time += other.solved_in_time
        self.solved_late += other.solved_late
        self.escalations += other.escalations
        self.open_at_end += other.open_at_end
        self.levels.update(other.levels)

    def figures(self) -> Figures:
        return Figures(
            received=self.received,
            acknowledged_in_time=self.ack_in_time,
            acknowledged_late=self.ack_late,
            solved_in_time=self.solved_in_time,
            solved_late=self.solved_late,
            escalations=self.escalations,
            open_at_end=self.open_at_end,
            escalations_by_level=dict(sorted(self.levels.items())),
        )


def _line(tallies: Iterable[tuple[_Key, _Tally]]) -> tuple[Figures, dict[Severity, Figures]]:
    total = _Tally()
    severities = {severity: _Tally() for severity in SEVERITIES}
    for (_mission, _country, severity), tally in tallies:
        total.add(tally)
        severities[severity].add(tally)
    return total.figures(), {s: t.figures() for s, t in severities.items()}


def _within(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def _level(value: object) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isascii() and text.isdigit() else None


def _reminder(value: object) -> bool:
    # A JSON true read as a string: "true" on PostgreSQL, "1" or "true" on SQLite.
    return value is not None and str(value).strip().lower() in ("true", "1")


_KEY = (EmergencyReport.mission_id, EmergencyReport.country, EmergencyReport.severity)


async def monthly_report(*, session: AsyncSession, clock: Clock, period: Period) -> EmergencyMonthly:
    """The period's figures for every mission (active ones even with nothing; others only with something)."""
    start, end = period.starts_at, period.ends_at
    as_of = riyadh(max(start, min(end, clock.now())))
    tallies: defaultdict[_Key, _Tally] = defaultdict(_Tally)

    received = select(*_KEY, func.count()).where(_within(EmergencyReport.created_at, start, end)).group_by(*_KEY)
    for mission_id, country, severity, count in await session.execute(received):
        tallies[(mission_id, country, severity)].received = count

    def late(done: Any, due: Any) -> Any:
        return func.sum(case((done > due, 1), else_=0))

    acknowledged = (
        select(*_KEY, func.count(), late(EmergencyReport.acknowledged_at, EmergencyReport.acknowledge_due_at))
        .where(_within(EmergencyReport.acknowledged_at, start, end))
        .group_by(*_KEY)
    )
    for mission_id, country, severity, count, behind in await session.execute(acknowledged):
        tally = tallies[(mission_id, country, severity)]
        tally.ack_late = int(behind or 0)
        tally.ack_in_time = count - tally.ack_late

    solved = (
        select(*_KEY, func.count(), late(EmergencyReport.solved_at, EmergencyReport.solve_due_at))
        .where(_within(EmergencyReport.solved_at, start, end))
        .group_by(*_KEY)
    )
    for mission_id, country, severity, count, behind in await session.execute(solved):
        tally = tallies[(mission_id, country, severity)]
        tally.solved_late = int(behind or 0)
        tally.solved_in_time = count - tally.solved_late

    still_open = (
        select(*_KEY, func.count())
        .where(
            EmergencyReport.created_at < as_of,
            or_(EmergencyReport.solved_at.is_(None), EmergencyReport.solved_at >= as_of),
        )
        .group_by(*_KEY)
    )
    for mission_id, country, severity, count in await session.execute(still_open):
        tallies[(mission_id, country, severity)].open_at_end = count

    level = ReportEvent.params["rung"].as_string()
    reminder = ReportEvent.params["reminder"].as_string()
    escalated = (
        select(*_KEY, level, reminder, func.count())
        .join(EmergencyReport, EmergencyReport.id == ReportEvent.report_id)
        .where(ReportEvent.kind == ReportEventKind.ESCALATED, _within(ReportEvent.at, start, end))
        .group_by(*_KEY, level, reminder)
    )
    for mission_id, country, severity, reached, reminded, count in await session.execute(escalated):
        if _reminder(reminded):
            continue
        tally = tallies[(mission_id, country, severity)]
        tally.escalations += count
        if (rung := _level(reached)) is not None:
            tally.levels[rung] += count

    missions = list(await session.scalars(select(Mission).order_by(Mission.id)))
    by_mission: defaultdict[int, list[tuple[_Key, _Tally]]] = defaultdict(list)
    by_country: defaultdict[str, list[tuple[_Key, _Tally]]] = defaultdict(list)
    for key, tally in tallies.items():
        by_mission[key[0]].append((key, tally))
        by_country[key[1]].append((key, tally))

    mission_lines: list[MissionLine] = []
    for mission in missions:
        if mission.id not in by_mission and not mission.active:
            continue
        figures, severities = _line(by_mission[mission.id])
        mission_lines.append(
            MissionLine(
                figures=figures,
                by_severity=severities,
                mission_id=mission.id,
                code=mission.code,
                kind=mission.kind,
                country=mission.country,
                name_ar=mission.name_ar,
                name_en=mission.name_en,
                live=mission.live,
                active=mission.active,
                email=mission.email,
            )
        )
    # Every country a mission in service covers is listed, even with nothing in the month.
    covered = await session.scalars(
        select(MissionCoverage.country).join(Mission, Mission.id == MissionCoverage.mission_id).where(Mission.active)
    )
    for country in set(covered):
        by_country.setdefault(country, [])
    country_lines = [CountryLine(*_line(items), country=country) for country, items in sorted(by_country.items())]
    overall = Line(*_line(tallies.items()))
    return EmergencyMonthly(
        period=period,
        as_of=as_of,
        missions=tuple(mission_lines),
        countries=tuple(country_lines),
        overall=overall,
    )
