"""The ministry's consular supervisors' view of the emergency line (/emergency/supervision): every open report
across missions, filtered by mission, country, severity or lateness; those escalated; and the gaps flagged in
the missions' duty rosters before they start. A report is sent to another mission from its own page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from emergency import reports, roster
from emergency.checks import country_choices
from emergency.directory import missions
from emergency.models import EmergencyReport, Severity
from majlis.errors import N_, FieldError, invalid_choice
from web import labels
from web.auth import requires
from web.emergency_access import SUPERVISORS
from web.emergency_agent import bilingual_errors, words
from web.emergency_view import ReportLine, lines
from web.keys import DB, LANGUAGE
from web.pages import render

routes = web.RouteTableDef()


@dataclass(frozen=True)
class Filters:
    mission_id: int | None = None
    country: str = ""
    severity: Severity | None = None
    overdue: bool = False

    def keeps(self, line: ReportLine) -> bool:
        report: EmergencyReport = line.report
        return (
            (self.mission_id is None or report.mission_id == self.mission_id)
            and (not self.country or report.country == self.country)
            and (self.severity is None or report.severity is self.severity)
            and (not self.overdue or line.overdue)
        )


def read_filters(
    query: Mapping[str, str], mission_codes: Mapping[str, int], countries: set[str]
) -> tuple[Filters, list[FieldError]]:
    """The filters asked for; an unknown mission, country or severity is named, and that filter left out."""
    errors: list[FieldError] = []
    mission = query.get("mission", "").strip()
    country = query.get("country", "").strip().upper()
    severity_typed = query.get("severity", "").strip()
    if mission and mission not in mission_codes:
        errors.append(invalid_choice("mission", sorted(mission_codes)))
    if country and country not in countries:
        errors.append(
            FieldError(
                "country", "unknown_country", N_("{field} must be a country's two-letter code, such as AU or AE.")
            )
        )
    severity = None
    if severity_typed:
        try:
            severity = Severity(severity_typed)
        except ValueError:
            errors.append(invalid_choice("severity", (s.value for s in Severity)))
    filters = Filters(
        mission_id=mission_codes.get(mission),
        country=country if country in countries else "",
        severity=severity,
        overdue=query.get("overdue") == "1",
    )
    return filters, errors


@routes.get("/emergency/supervision")
@requires(*SUPERVISORS)
async def supervision(request: web.Request) -> web.Response:
    session, said, language = request[DB], words(request), request[LANGUAGE]
    every_mission = await missions(session=session)
    by_id = {m.id: m for m in every_mission}
    countries = country_choices(language)
    filters, errors = read_filters(request.query, {m.code: m.id for m in every_mission}, {c for c, _ in countries})
    everything = await lines(session, said, await reports.list_open(session=session))
    shown = [line for line in everything if filters.keeps(line)]
    gaps = [
        (by_id[g.mission_id], said.times(g.starts_at, by_id[g.mission_id]), said.times(g.ends_at, by_id[g.mission_id]))
        for g in await roster.open_gaps(session=session)
        if g.mission_id in by_id
    ]
    context: dict[str, Any] = {
        "open": shown,
        "escalated": [line for line in shown if line.report.escalation_level > 0],
        "gaps": gaps,
        "figures": {
            "open": len(everything),
            "overdue": sum(1 for line in everything if line.overdue),
            "escalated": sum(1 for line in everything if line.report.escalation_level > 0),
            "gaps": len(gaps),
        },
        "missions": [(m.code, m.name_in(language)) for m in every_mission],
        "countries": countries,
        "labels": labels,
        "values": {key: request.query.get(key, "") for key in ("mission", "country", "severity", "overdue")},
        "errors": {field: messages[language] for field, messages in bilingual_errors(request, errors).items()},
    }
    return render(request, "emergency/supervision.html", context, status=422 if errors else 200)
