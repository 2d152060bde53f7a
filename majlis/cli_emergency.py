"""`majlis emergency report|list|show`: a report registered from the terminal as the agent's screen registers it,
the reports listed, one shown with its steps; through the same domain calls as the pages and the API.

`--by` names the agent (an emergency agent's account, or an administrator's) the report is registered for. Every
time is printed at the mission and in Riyadh. A refusal is printed in English and Arabic, as the pages word it,
and the command exits with 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as accounts
from accounts.roles import Role
from emergency import directory, lifecycle, reports, timers
from emergency.intake import check_report
from emergency.models import EmergencyReport, Mission, ReportSource, ReportType, Severity
from majlis.clock import RIYADH, SystemClock
from majlis.db import create_engine, session_factory, transaction
from majlis.errors import N_, DomainError, InvalidInput
from majlis.i18n import shipped_catalogs
from majlis.jobs import status_url
from majlis.settings import Settings
from notify.providers import links_for
from web.errors import domain_message, field_message

COMMANDS = ("report", "list", "show")
REGISTERING_ROLES = frozenset({Role.EMERGENCY_AGENT, Role.ADMINISTRATOR})
ESCALATION_RUNGS = ("the duty officer", "the head of mission", "the consular deputy")


def add_commands(each: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The three subcommands, on the parser of `majlis emergency`."""
    report = each.add_parser("report", help="register a citizen's emergency report (the number goes to them by SMS)")
    report.add_argument("--national-id", required=True, help="the citizen's national ID (10 digits, starting with 1)")
    report.add_argument("--name", required=True, help="the caller's name")
    report.add_argument("--phone", required=True, help="a mobile number of any country, with its code: +971501234567")
    report.add_argument("--country", required=True, help="where the citizen is: ISO code (AE) or name")
    report.add_argument("--city", required=True)
    report.add_argument("--type", required=True, choices=[t.value for t in ReportType])
    report.add_argument("--severity", required=True, choices=[s.value for s in Severity])
    report.add_argument("--account", required=True, help="what happened, as the caller told it")
    report.add_argument("--language", default="ar", choices=["ar", "en"], help="the citizen's language (SMS)")
    report.add_argument("--by", required=True, metavar="USERNAME", help="the agent registering it")
    listing = each.add_parser("list", help="reports, newest first (the open queue with --open: most severe first)")
    listing.add_argument("--mission", metavar="CODE", help="one mission's reports only")
    listing.add_argument("--open", action="store_true", help="only those not yet solved or handed over")
    show = each.add_parser("show", help="one report with its deadlines and steps")
    show.add_argument("number", help="the report number, e.g. E26-000123-4")


class NotAllowed(DomainError):
    pass


def times_at(moment: datetime, mission: Mission) -> str:
    """The moment at the mission and in Riyadh: "2026-11-24 17:30 Australia/Sydney (09:30 Riyadh)"."""
    local = moment.astimezone(ZoneInfo(mission.time_zone))
    riyadh = moment.astimezone(RIYADH)
    day = "" if riyadh.date() == local.date() else f"{riyadh:%Y-%m-%d} "
    return f"{local:%Y-%m-%d %H:%M} {mission.time_zone} ({day}{riyadh:%H:%M} Riyadh)"


async def _register(session: AsyncSession, settings: Settings, args: argparse.Namespace) -> list[str]:
    agent = await accounts.user_by_username(session=session, username=args.by)
    if agent is None or not agent.is_active:
        raise NotAllowed("unknown_user", N_("There is no active staff account with this username."))
    if agent.role not in REGISTERING_ROLES:
        raise NotAllowed("not_allowed", N_("Only the contact centre's agents register emergency reports."))
    details = check_report(
        {
            "national_id": args.national_id,
            "caller_name": args.name,
            "phone": args.phone,
            "country": args.country,
            "city": args.city,
            "type": args.type,
            "severity": args.severity,
            "account": args.account,
            "language": args.language,
        }
    )
    report = await reports.register(
        session=session,
        clock=SystemClock(),
        details=details,
        actor_id=agent.id,
        source=ReportSource.AGENT,
        levels=timers.levels_from(settings),
        links=links_for(settings),
        status_url=status_url(settings),
    )
    missions = await reports.missions_by_id(session=session, ids=[report.mission_id, report.covering_mission_id])
    mission = missions[report.mission_id]
    lines = [f"registered {report.number}: {mission.name_en} ({mission.code})"]
    if report.covering_mission_id is not None:
        covering = missions[report.covering_mission_id]
        lines.append(f"  {covering.name_en} ({covering.code}) covers {details.city}, {details.country}: not live yet")
    lines.append(f"  acknowledge by {times_at(report.acknowledge_due_at, mission)}")
    lines.append(f"  the citizen is sent the number by SMS at {report.phone}")
    return lines


def _line(report: EmergencyReport, missions: dict[int, Mission]) -> str:
    mission = missions[report.mission_id]
    return (
        f"{report.number}  {report.state.value:<12} {report.severity.value:<16} {report.type.value:<13} "
        f"{mission.code:<14} {report.country} {report.city}  {times_at(report.created_at, mission)}"
    )


async def _list(session: AsyncSession, settings: Settings, args: argparse.Namespace) -> list[str]:
    mission_id = None
    if args.mission:
        mission_id = (await directory.mission_by_code(session=session, code=args.mission)).id
    if args.open:
        found = await reports.list_open(session=session, mission_id=mission_id)
    else:
        found = await reports.list_all(session=session, mission_id=mission_id)
    missions = await reports.missions_by_id(session=session, ids=[r.mission_id for r in found])
    return [_line(r, missions) for r in found] or ["no reports"]


async def _show(session: AsyncSession, settings: Settings, args: argparse.Namespace) -> list[str]:
    report = await reports.get_by_number(session=session, number=args.number)
    if report is None:
        raise lifecycle.ReportNotFound()
    missions = await reports.missions_by_id(session=session, ids=[report.mission_id, report.covering_mission_id])
    mission = missions[report.mission_id]
    lines = [
        f"{report.number}  {report.state.value}  {report.severity.value}  {report.type.value}",
        f"  caller: {report.caller_name}, national ID {report.national_id}, {report.phone} [{report.language}]",
        f"  place: {report.city}, {report.country}",
        f"  mission: {mission.name_en} ({mission.code})",
    ]
    if report.covering_mission_id is not None:
        covering = missions[report.covering_mission_id]
        lines.append(f"  covered by: {covering.name_en} ({covering.code}), not live yet")
    lines += [
        f"  registered: {times_at(report.created_at, mission)} ({report.source.value})",
        f"  acknowledge by: {times_at(report.acknowledge_due_at, mission)}",
        f"  solve by: {times_at(report.solve_due_at, mission)}",
    ]
    if report.acknowledged_at is not None:
        lines.append(f"  acknowledged: {times_at(report.acknowledged_at, mission)} by {report.acknowledged_by}")
    if report.solved_at is not None:
        lines.append(f"  closed: {times_at(report.solved_at, mission)}: {report.outcome}")
    rung = ESCALATION_RUNGS[min(report.escalation_level, len(ESCALATION_RUNGS) - 1)]
    upward = f", next rung {times_at(report.next_escalation_at, mission)}" if report.next_escalation_at else ""
    lines.append(f"  escalation: {rung}{upward}")
    lines.append(f"  account: {report.account}")
    steps = await reports.events(session=session, report_id=report.id)
    names = await accounts.names_by_id(session=session, ids={s.actor_id for s in steps if s.actor_id is not None})
    lines.append("  steps:")
    for step in steps:
        who = names.get(step.actor_id, "") if step.actor_id is not None else step.by
        note = f": {step.note}" if step.note else ""
        lines.append(f"    {times_at(step.at, mission)}  {step.kind.value}{f' ({who})' if who else ''}{note}")
    return lines


Work = Callable[[AsyncSession, Settings, argparse.Namespace], Awaitable[list[str]]]


def _refusal_lines(exc: InvalidInput | DomainError) -> list[str]:
    catalogs = shipped_catalogs()
    if isinstance(exc, InvalidInput):
        head = "refused (" + ", ".join(f"{e.field}: {e.code}" for e in exc.errors) + "):"
        said = {lang: " ".join(field_message(catalogs, lang, e) for e in exc.errors) for lang in ("en", "ar")}
    else:
        head = f"refused ({exc.code}):"
        said = {lang: domain_message(catalogs, lang, exc) for lang in ("en", "ar")}
    return [head, *(f"  {language}: {text}" for language, text in said.items())]


async def _run(settings: Settings, work: Work, args: argparse.Namespace, *, changes: bool) -> int:
    """Reads, or changes in one transaction; prints what was found or done, or why it was refused."""
    engine = create_engine(settings.database_url_value)
    try:
        if changes:
            async with transaction(session_factory(engine)) as session:
                lines = await work(session, settings, args)
        else:
            async with session_factory(engine)() as session:
                lines = await work(session, settings, args)
    except (InvalidInput, DomainError) as exc:
        print("\n".join(_refusal_lines(exc)), file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    print("\n".join(lines))
    return 0


def run(settings: Settings, args: argparse.Namespace) -> int:
    works: dict[str, tuple[Work, bool]] = {"report": (_register, True), "list": (_list, False), "show": (_show, False)}
    work, changes = works[args.emergency_command]
    return asyncio.run(_run(settings, work, args, changes=changes))
