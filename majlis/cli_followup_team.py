"""The follow-up team's command line: `majlis followup list | sweep | remind | close`.

The list and the sweep are the ones the pages and the periodic job use (followup.daily, followup.escalation);
a reminder and a close act for the member of staff named by `--by` (follow-up or administrator), in one
transaction, and a refusal is printed in English and Arabic with exit status 2, as majlis/cli_day.py does.
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.roles import Role
from cases.models import Case, CaseStatus
from followup import daily, escalation, referrals
from followup.models import Department, Referral
from majlis import cli_day
from majlis.clock import SystemClock, riyadh
from majlis.dates import dual_date
from majlis.db import create_engine, session_factory
from majlis.jobs import status_url
from majlis.settings import Settings
from web.api_models import ID_LIMIT

TEAM_ROLES = (Role.FOLLOW_UP, Role.ADMINISTRATOR)


def _referral_id(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= ID_LIMIT:
        raise argparse.ArgumentTypeError(f"not a referral id: {text!r}")
    return int(text)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`majlis followup …` and its commands."""
    followup = commands.add_parser("followup", help="the follow-up team: the daily list, the sweep, reminders, closing")
    team = followup.add_subparsers(dest="followup_command", required=True)
    listing = team.add_parser("list", help="the daily follow-up list: the team's own work, then overdue first")
    listing.add_argument("--overdue", action="store_true", help="only what is past its deadline")
    team.add_parser("sweep", help="escalate every referral whose next rung is due, once, and print the report")
    remind = team.add_parser("remind", help="remind a referral's department by e-mail (and SMS)")
    remind.add_argument("referral_id", type=_referral_id, metavar="REFERRAL_ID")
    remind.add_argument("--sms", action="store_true", help="also by SMS to the liaison officers' mobiles")
    remind.add_argument("--note", default="", help="a note added to the reminder e-mail")
    remind.add_argument("--by", required=True, metavar="USERNAME", help="the follow-up staff (or administrator)")
    close = team.add_parser("close", help="close a referral with the outcome the applicant is told")
    close.add_argument("referral_id", type=_referral_id, metavar="REFERRAL_ID")
    close.add_argument(
        "--outcome",
        required=True,
        help="the outcome in the applicant's words; closing the last open referral completes the request and sends it",
    )
    close.add_argument("--by", required=True, metavar="USERNAME", help="the follow-up staff (or administrator)")


def working_time(amount: timedelta, working_day: timedelta | None) -> str:
    """Working time in the department's working days and hours, or hours and minutes."""
    minutes = int(abs(amount).total_seconds() // 60)
    day = int(working_day.total_seconds() // 60) if working_day else 0
    if day and minutes >= day:
        return f"{minutes // day} working day(s) {minutes % day // 60} h"
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def item_line(item: daily.Item) -> str:
    """One line of the list, as a terminal shows it."""
    where = item.department.code if item.department is not None else "-"
    state = item.state.value if item.state is not None else daily.UNREFERRED
    head = f"  {item.tracking_number}  referral {item.referral_id or '-':<6} {where:<16} {state:<19}"
    if item.action is not None:
        since = f"  waiting since {riyadh(item.waiting_since):%Y-%m-%d %H:%M}" if item.waiting_since else ""
        return f"{head} to do: {item.action.value}{since}"
    if item.left is None or item.due_at is None:
        return head
    left = working_time(item.left, item.working_day)
    due = f"{item.clock} due {riyadh(item.due_at):%Y-%m-%d %H:%M}"
    if item.paused:
        standing = f"stopped for the applicant ({left} {'overdue' if item.left < timedelta() else 'left'})"
    elif item.overdue:
        standing = f"OVERDUE by {left}"
    else:
        standing = f"{left} left"
    return f"{head} {due}  {standing}  level {item.escalation_level}"


async def _list(settings: Settings, overdue: bool) -> int:
    engine = create_engine(settings.database_url_value)
    try:
        async with session_factory(engine)() as session:
            found = await daily.daily_list(
                session=session, clock=SystemClock(), filters=daily.Filters(overdue_only=overdue)
            )
    finally:
        await engine.dispose()
    counts = found.counts
    print(
        f"Daily follow-up, {dual_date(found.now, 'en')}, {riyadh(found.now):%H:%M} Riyadh: {counts.items} on the list, "
        f"{counts.overdue} overdue, {counts.team_action} for the team, {counts.paused} waiting for the applicant, "
        f"{counts.unreferred} with no department"
    )
    print("For the team to act on:")
    print("\n".join(item_line(item) for item in found.team) or "  nothing")
    print("With the departments (overdue first, then least working time left):")
    print("\n".join(item_line(item) for item in found.chasing) or "  nothing")
    return 0


async def _sweep(settings: Settings) -> int:
    engine = create_engine(settings.database_url_value)
    try:
        report = await escalation.sweep(sessions=session_factory(engine), clock=SystemClock())
    finally:
        await engine.dispose()
    failed = f"; failed: {', '.join(str(i) for i in report.failed)} (logged; the next sweep tries again)"
    print(
        f"escalated {report.escalated}, deferred to the receiving rank's working time {report.deferred}"
        + (failed if report.failed else "")
    )
    return 1 if report.failed else 0


async def _described(session: AsyncSession, referral_id: int) -> tuple[Referral, str, str]:
    referral = await session.get_one(Referral, referral_id)
    number = await session.scalar(select(Case.tracking_number).where(Case.id == referral.case_id))
    code = await session.scalar(select(Department.code).where(Department.id == referral.department_id))
    return referral, str(number), str(code)


async def _remind(settings: Settings, args: argparse.Namespace) -> int:
    async def work(session: AsyncSession) -> list[str]:
        actor_id = await cli_day._staff(
            session=session, username=args.by, roles=TEAM_ROLES, doing="reminding a department"
        )
        event = await referrals.remind(
            session=session,
            clock=SystemClock(),
            referral_id=args.referral_id,
            actor_id=actor_id,
            by_sms=args.sms,
            note=args.note,
        )
        _, number, code = await _described(session, args.referral_id)
        return [f"reminded {code} of referral {args.referral_id} ({number}) by {event.details['channels']}"]

    return await cli_day._run(settings, work)


async def _close(settings: Settings, args: argparse.Namespace) -> int:
    async def work(session: AsyncSession) -> list[str]:
        actor_id = await cli_day._staff(session=session, username=args.by, roles=TEAM_ROLES, doing="closing a referral")
        referral = await referrals.close(
            session=session,
            clock=SystemClock(),
            referral_id=args.referral_id,
            actor_id=actor_id,
            outcome=args.outcome,
            status_url=status_url(settings),
        )
        _, number, code = await _described(session, referral.id)
        status = await session.scalar(select(Case.status).where(Case.id == referral.case_id))
        still_open = len(await referrals.open_referrals(session=session, case_id=referral.case_id))
        after = (
            "the request is complete and the applicant is sent the outcome"
            if status is CaseStatus.COMPLETED
            else f"{still_open} referral(s) of the request still open"
        )
        return [f"closed referral {referral.id} ({number} to {code}); {after}"]

    return await cli_day._run(settings, work)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    """Runs `majlis followup …`; the exit status."""
    if args.followup_command == "list":
        return await _list(settings, args.overdue)
    if args.followup_command == "sweep":
        return await _sweep(settings)
    if args.followup_command == "remind":
        return await _remind(settings, args)
    if args.followup_command == "close":
        return await _close(settings, args)
    raise AssertionError(f"unhandled followup command {args.followup_command}")
