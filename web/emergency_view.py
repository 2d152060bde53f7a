"""An emergency report as its pages show it: names in the reader's language, every moment at the mission and in
Riyadh, its deadlines seen from now, and its events in order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as accounts
from emergency import reports
from emergency.checks import country_name
from emergency.models import EmergencyReport, Mission, ReportEvent, ReportState, Severity
from majlis.errors import N_
from majlis.i18n import Catalogs
from web import labels
from web.emergency_times import BothTimes, Standing, both_times, span_text, standing

# Who the report's alerts reach at each rung of the ladder.
RUNGS: Mapping[int, str] = {
    0: N_("The duty officer"),
    1: N_("The head of mission"),
    2: N_("The ministry's consular deputy"),
}
CLOSED = frozenset({ReportState.SOLVED, ReportState.HANDED_OVER})
# Life-threatening first, then urgent, then normal: the order of every queue.
SEVERITY_ORDER: Mapping[Severity, int] = {Severity.LIFE_THREATENING: 0, Severity.URGENT: 1, Severity.NORMAL: 2}


@dataclass(frozen=True)
class Deadline:
    label: str
    at: BothTimes
    standing: Standing | None  # None once met (or no longer owed)
    met_at: BothTimes | None


@dataclass(frozen=True)
class EventLine:
    kind: str
    label: str
    at: BothTimes
    by: str
    note: str


@dataclass(frozen=True)
class ReportLine:
    """What a list shows of one report."""

    report: EmergencyReport
    mission: str
    country: str
    type: str
    severity: str
    state: str
    registered: BothTimes
    since: str  # time since registration
    deadlines: list[Deadline]
    overdue: bool
    rung: str

    @property
    def number(self) -> str:
        return self.report.number

    @property
    def closed(self) -> bool:
        return self.report.state in CLOSED


class Words:
    """The reader's language and now, to put reports into words."""

    def __init__(self, catalogs: Catalogs, language: str, now: datetime) -> None:
        self.catalogs = catalogs
        self.language = language
        self.now = now

    def _(self, message: str) -> str:
        return self.catalogs.gettext(self.language, message)

    def times(self, moment: datetime, mission: Mission) -> BothTimes:
        return both_times(moment, mission.time_zone, self.language)

    def deadlines(self, report: EmergencyReport, mission: Mission) -> list[Deadline]:
        """The acknowledgement and the solution, each with when it is due and whether it was met or is late."""
        closed = report.state in CLOSED
        acknowledged = report.acknowledged_at
        out = []
        for label, due, met in (
            (N_("Acknowledgement due"), report.acknowledge_due_at, acknowledged),
            (N_("Solution due"), report.solve_due_at, report.solved_at),
        ):
            # A closed report owes nothing more, whether or not it was acknowledged on the way.
            owed = met is None and not closed
            out.append(
                Deadline(
                    label=self._(label),
                    at=self.times(due, mission),
                    standing=standing(self.catalogs, self.language, due, self.now) if owed else None,
                    met_at=self.times(met, mission) if met is not None else None,
                )
            )
        return out

    def line(self, report: EmergencyReport, mission: Mission) -> ReportLine:
        deadlines = self.deadlines(report, mission)
        return ReportLine(
            report=report,
            mission=mission.name_in(self.language),
            country=country_name(report.country, self.language),
            type=self._(labels.REPORT_TYPES[report.type]),
            severity=self._(labels.SEVERITIES[report.severity]),
            state=self._(labels.REPORT_STATES[report.state]),
            registered=self.times(report.created_at, mission),
            since=span_text(self.catalogs, self.language, self.now - report.created_at),
            deadlines=deadlines,
            overdue=any(d.standing is not None and d.standing.overdue for d in deadlines),
            rung=self._(RUNGS.get(report.escalation_level, RUNGS[2])),
        )

    def event(self, event: ReportEvent, mission: Mission, names: Mapping[int, str]) -> EventLine:
        by = names.get(event.actor_id, "") if event.actor_id is not None else ""
        return EventLine(
            kind=event.kind.value,
            label=self._(labels.REPORT_EVENTS[event.kind]),
            at=self.times(event.at, mission),
            by=by or event.by,
            note=event.note,
        )


async def lines(session: AsyncSession, words: Words, listed: Iterable[EmergencyReport]) -> list[ReportLine]:
    """Each report as a list shows it, in the order given."""
    found = list(listed)
    missions = await reports.missions_by_id(session=session, ids=[r.mission_id for r in found])
    return [words.line(r, missions[r.mission_id]) for r in found]


async def event_lines(
    session: AsyncSession, words: Words, events: Iterable[ReportEvent], mission: Mission
) -> list[EventLine]:
    found = list(events)
    names = await accounts.names_by_id(session=session, ids={e.actor_id for e in found if e.actor_id is not None})
    return [words.event(e, mission, names) for e in found]
