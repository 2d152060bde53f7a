"""An emergency report as its pages show it: names in the reader's language, every moment at the mission and in
Riyadh, its deadlines seen from now, and its events in order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.lists import format_list
from sqlalchemy import select
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
# Whom an alert told, as the events' params name them (emergency/alerts.py), and by which channels.
PEOPLE: Mapping[str, str] = {
    "duty_officer": N_("The duty officer"),
    "head_of_mission": N_("The head of mission"),
    "consular_deputy": N_("The ministry's consular deputy"),
}
CHANNELS: Mapping[str, str] = {"sms": N_("SMS"), "voice": N_("Voice call"), "email": N_("E-mail")}
WHY: Mapping[str, str] = {
    "not_acknowledged": N_("Not acknowledged in time"),
    "solution_overdue": N_("Not solved in time"),
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
    # What the step's params say, in words: who was alerted and how, where the report went, on time or late.
    details: list[str]


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

    def details(self, params: Mapping[str, Any], missions: Mapping[str, Mission]) -> list[str]:
        said = []

        def named(code: object) -> str:
            found = missions.get(str(code))
            return found.name_in(self.language) if found is not None else str(code)

        for told in params.get("told") or []:
            if isinstance(told, dict):
                who = self._(PEOPLE.get(str(told.get("role")), N_("The duty officer")))
                ways = [self._(CHANNELS.get(str(c), str(c))) for c in told.get("channels") or []]
                channels = format_list(ways, locale=self.language) if ways else "—"
                text = N_("Told: {who} ({name}), by {channels}")
                said.append(
                    self.catalogs.gettext(self.language, text, who=who, name=told.get("name", ""), channels=channels)
                )
        if params.get("nobody_on_duty"):
            said.append(self._(N_("Nobody was on the duty roster: the head of mission was told.")))
        if params.get("reason") in WHY:
            said.append(self._(WHY[str(params["reason"])]))
        if "from" in params and "to" in params:
            text = N_("From {from_mission} to {to_mission}")
            said.append(
                self.catalogs.gettext(
                    self.language, text, from_mission=named(params["from"]), to_mission=named(params["to"])
                )
            )
        if "covering" in params:
            text = N_("Through the central desk for {mission}")
            said.append(self.catalogs.gettext(self.language, text, mission=named(params["covering"])))
        if "within_service_level" in params:
            on_time = bool(params["within_service_level"])
            said.append(self._(N_("Within the service level") if on_time else N_("Past the service level")))
        return said

    def event(
        self, event: ReportEvent, mission: Mission, names: Mapping[int, str], missions: Mapping[str, Mission]
    ) -> EventLine:
        by = names.get(event.actor_id, "") if event.actor_id is not None else ""
        return EventLine(
            kind=event.kind.value,
            label=self._(labels.REPORT_EVENTS[event.kind]),
            at=self.times(event.at, mission),
            by=by or event.by,
            note=event.note,
            details=self.details(event.params or {}, missions),
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
    codes = {str(e.params[key]) for e in found for key in ("from", "to", "covering") if key in (e.params or {})}
    named: dict[str, Mission] = {}
    if codes:
        named = {m.code: m for m in await session.scalars(select(Mission).where(Mission.code.in_(codes)))}
    return [words.event(e, mission, names, named) for e in found]
