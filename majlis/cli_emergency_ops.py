"""`majlis emergency sweep|ack|solve`: the escalation sweep once, and a report acknowledged or solved from the
terminal, through the same domain calls as the pages and the job.

`--by` names a staff account: a mission's staff may act on their own mission's reports only, consular
supervisors and administrators on any. A refusal is printed in English and Arabic, as the pages word it, and the
command exits with 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as accounts
from accounts.models import StaffUser
from accounts.roles import Role
from emergency import alerts, escalation, lifecycle, timers
from emergency.models import EmergencyReport, Mission
from emergency.numbers import parse_report_number
from majlis.cli_emergency import times_at
from majlis.clock import SystemClock
from majlis.db import create_engine, session_factory, transaction
from majlis.errors import N_, DomainError, InvalidInput
from majlis.i18n import shipped_catalogs
from majlis.jobs import status_url
from majlis.settings import Settings
from web.errors import domain_message, field_message

COMMANDS = ("sweep", "ack", "solve")
ACTING_ROLES = frozenset({Role.MISSION_STAFF, Role.CONSULAR_SUPERVISOR, Role.ADMINISTRATOR})


def add_commands(each: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The three subcommands, on the parser of `majlis emergency`."""
    each.add_parser("sweep", help="escalate every report past its next rung, once (the job does it every minute)")
    ack = each.add_parser("ack", help="acknowledge a report for its mission")
    ack.add_argument("number", help="the report number, e.g. E26-000123-4")
    ack.add_argument("--by", required=True, metavar="USERNAME", help="the staff account acknowledging it")
    solve = each.add_parser("solve", help="close a report as solved, or handed over to another authority")
    solve.add_argument("number", help="the report number, e.g. E26-000123-4")
    solve.add_argument("--outcome", required=True, help="what was done; the citizen is told it by SMS")
    solve.add_argument("--handed-over", action="store_true", help="handed over to another authority")
    solve.add_argument("--by", required=True, metavar="USERNAME", help="the staff account closing it")


class NotAllowed(DomainError):
    pass


def _confined_to(user: StaffUser) -> int | None:
    """The mission a mission's staff act for, checked again once the report is locked (a supervisor may send
    it elsewhere between this command's read and its step); None for supervisors and administrators."""
    return user.mission_id if user.role is Role.MISSION_STAFF else None


async def _actor(session: AsyncSession, username: str, report: EmergencyReport) -> StaffUser:
    user = await accounts.user_by_username(session=session, username=username)
    if user is None or not user.is_active:
        raise NotAllowed("unknown_user", N_("There is no active staff account with this username."))
    if user.role not in ACTING_ROLES or (user.role is Role.MISSION_STAFF and user.mission_id != report.mission_id):
        raise NotAllowed("not_allowed", N_("This account may not act on this report."))
    return user


async def _report(session: AsyncSession, number: str) -> EmergencyReport:
    canonical = parse_report_number(number)
    found = None
    if canonical is not None:
        found = await session.scalar(select(EmergencyReport).where(EmergencyReport.number == canonical))
    if found is None:
        raise lifecycle.ReportNotFound()
    return found


async def _mission(session: AsyncSession, report: EmergencyReport) -> Mission:
    mission = await session.get(Mission, report.mission_id)
    assert mission is not None  # a report's mission is a foreign key
    return mission


async def _acknowledge(session: AsyncSession, settings: Settings, args: argparse.Namespace) -> list[str]:
    report = await _report(session, args.number)
    user = await _actor(session, args.by, report)
    done = await lifecycle.acknowledge(
        session=session,
        clock=SystemClock(),
        report_id=report.id,
        generation=None,
        by=user.full_name,
        actor_id=user.id,
        mission_id=_confined_to(user),
    )
    assert done.acknowledged_at is not None
    at = times_at(done.acknowledged_at, await _mission(session, done))
    return [f"{done.number} acknowledged by {done.acknowledged_by} at {at}"]


async def _solve(session: AsyncSession, settings: Settings, args: argparse.Namespace) -> list[str]:
    report = await _report(session, args.number)
    user = await _actor(session, args.by, report)
    done = await lifecycle.solve(
        session=session,
        clock=SystemClock(),
        report_id=report.id,
        outcome=args.outcome,
        handed_over=args.handed_over,
        by=user.full_name,
        actor_id=user.id,
        status_url=status_url(settings),
        mission_id=_confined_to(user),
    )
    assert done.solved_at is not None
    at = times_at(done.solved_at, await _mission(session, done))
    return [f"{done.number} {done.state.value.replace('_', ' ')} at {at}; the citizen is told by SMS"]


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


async def _change(settings: Settings, work: Work, args: argparse.Namespace) -> int:
    engine = create_engine(settings.database_url_value)
    try:
        async with transaction(session_factory(engine)) as session:
            lines = await work(session, settings, args)
    except (InvalidInput, DomainError) as exc:
        print("\n".join(_refusal_lines(exc)), file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    print("\n".join(lines))
    return 0


async def _sweep(settings: Settings) -> int:
    engine = create_engine(settings.database_url_value)
    try:
        report = await escalation.sweep(
            sessions=session_factory(engine),
            clock=SystemClock(),
            deputy=alerts.deputy_from(settings),
            levels=timers.levels_from(settings),
        )
    finally:
        await engine.dispose()
    print(f"escalated {report.escalated}, moved {report.rescheduled}, failed {len(report.failed)}")
    return 1 if report.failed else 0


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.emergency_command == "sweep":
        return asyncio.run(_sweep(settings))
    work: Work = _acknowledge if args.emergency_command == "ack" else _solve
    return asyncio.run(_change(settings, work, args))
