"""The command line's directory: `majlis departments list|add|contact-add`, `majlis calendars
list|holiday-add|holiday-remove`, `majlis policies list`, through the domain calls the pages and the API make.

Changes run in one transaction and are audited like an administrator's (with no person, as `majlis users create`
is). A refusal is printed in English and Arabic, as the pages and the API word it, and the command exits with 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from followup import contacts, directory, policies
from followup.contacts import ContactInput
from followup.directory import DepartmentInput
from followup.models import ContactRole
from majlis.clock import SystemClock
from majlis.db import create_engine, session_factory, transaction
from majlis.errors import DomainError, InvalidInput
from majlis.i18n import shipped_catalogs
from majlis.settings import Settings
from web.errors import domain_message, field_message
from worktime import editing

COMMANDS = ("departments", "calendars", "policies")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

Work = Callable[[AsyncSession], Awaitable[list[str]]]


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The three commands and their subcommands, on `majlis`'s parser."""
    departments = commands.add_parser("departments", help="the directory of departments and their people")
    each = departments.add_subparsers(dest="departments_command", required=True)
    each.add_parser("list", help="every department under its parent, with its people")
    add = each.add_parser("add", help="add a department")
    add.add_argument("--code", required=True, help="small Latin letters, digits, - or _ (it cannot change later)")
    add.add_argument("--name-ar", required=True)
    add.add_argument("--name-en", required=True)
    add.add_argument("--parent", default="", metavar="CODE", help="the department above it (none: the top)")
    add.add_argument("--calendar", default="government", metavar="CODE", help="its working calendar")
    add.add_argument("--email", required=True, help="its general e-mail, where referrals go when no liaison is named")
    contact = each.add_parser("contact-add", help="name a head, deputy or liaison officer of a department")
    contact.add_argument("--department", required=True, metavar="CODE")
    contact.add_argument("--role", required=True, choices=[r.value for r in ContactRole])
    contact.add_argument("--name", required=True)
    contact.add_argument("--email", required=True)
    contact.add_argument("--phone", default="", help="a mobile number, for reminders by SMS")
    contact.add_argument("--language", default="ar", choices=contacts.CONTACT_LANGUAGES)

    calendars = commands.add_parser("calendars", help="working calendars: hours and holidays")
    each = calendars.add_subparsers(dest="calendars_command", required=True)
    each.add_parser("list", help="every calendar with its weekly hours and holidays")
    for name, text in (("holiday-add", "add a holiday"), ("holiday-remove", "take a holiday back")):
        holiday = each.add_parser(name, help=f"{text} (not the official's: protocol's holidays page moves audiences)")
        holiday.add_argument("--calendar", required=True, metavar="CODE")
        holiday.add_argument("--day", required=True, metavar="YYYY-MM-DD")
        if name == "holiday-add":
            holiday.add_argument("--name", required=True)

    policies_parser = commands.add_parser("policies", help="service-level policies and their escalation ladders")
    each = policies_parser.add_subparsers(dest="policies_command", required=True)
    each.add_parser("list", help="every policy, its deadlines and ladder")


def run(settings: Settings, args: argparse.Namespace) -> int:
    works: dict[tuple[str, str], tuple[Work, bool]] = {
        ("departments", "list"): (_departments, False),
        ("departments", "add"): (lambda session: _add_department(session, args), True),
        ("departments", "contact-add"): (lambda session: _add_contact(session, args), True),
        ("calendars", "list"): (_calendars, False),
        ("calendars", "holiday-add"): (lambda session: _holiday(session, args, add=True), True),
        ("calendars", "holiday-remove"): (lambda session: _holiday(session, args, add=False), True),
        ("policies", "list"): (_policies, False),
    }
    work, changes = works[(args.command, getattr(args, f"{args.command}_command"))]
    return asyncio.run(_run(settings, work, changes=changes))


def _refusal_lines(exc: InvalidInput | DomainError) -> list[str]:
    catalogs = shipped_catalogs()
    if isinstance(exc, InvalidInput):
        head = "refused (" + ", ".join(f"{e.field}: {e.code}" for e in exc.errors) + "):"
        said = {lang: " ".join(field_message(catalogs, lang, e) for e in exc.errors) for lang in ("en", "ar")}
    else:
        head = f"refused ({exc.code}):"
        said = {lang: domain_message(catalogs, lang, exc) for lang in ("en", "ar")}
    return [head, *(f"  {language}: {text}" for language, text in said.items())]


async def _run(settings: Settings, work: Work, *, changes: bool) -> int:
    """Reads, or changes in one transaction; prints what was found or done, or why it was refused."""
    engine = create_engine(settings.database_url_value)
    try:
        if changes:
            async with transaction(session_factory(engine)) as session:
                lines = await work(session)
        else:
            async with session_factory(engine)() as session:
                lines = await work(session)
    except (InvalidInput, DomainError) as exc:
        print("\n".join(_refusal_lines(exc)), file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    print("\n".join(lines))
    return 0


async def _departments(session: AsyncSession) -> list[str]:
    lines = []
    for row in await directory.tree(session=session):
        d = row.department
        state = "" if d.active else "  (deactivated)"
        indent = "  " * row.depth
        lines.append(f"{indent}{d.code}: {d.name_en} / {d.name_ar}  [{row.calendar_code}] <{d.email}>{state}")
        for c in await contacts.contacts(session=session, department_id=d.id):
            phone = f" {c.phone}" if c.phone else ""
            gone = "  (deactivated)" if not c.active else ""
            lines.append(f"{indent}    {c.role.value}: {c.name} <{c.email}>{phone} [{c.language}]{gone}")
    return lines or ["no departments"]


async def _add_department(session: AsyncSession, args: argparse.Namespace) -> list[str]:
    data = DepartmentInput(args.code, args.name_ar, args.name_en, args.parent, args.calendar, args.email)
    made = await directory.add_department(session=session, clock=SystemClock(), actor_id=None, data=data)
    parent = f" under {args.parent.strip().lower()}" if args.parent.strip() else " at the top of the tree"
    return [f"added department {made.code}{parent}"]


async def _add_contact(session: AsyncSession, args: argparse.Namespace) -> list[str]:
    data = ContactInput(args.role, args.name, args.email, args.phone, args.language)
    made = await contacts.add_contact(
        session=session, clock=SystemClock(), actor_id=None, department_code=args.department, data=data
    )
    return [f"added {made.role.value} {made.name} to {args.department.strip().lower()} (contact {made.id})"]


async def _calendars(session: AsyncSession) -> list[str]:
    lines = []
    for calendar in await editing.calendars(session=session):
        view = await editing.view(session=session, code=calendar.code)
        open_all = "  round the clock" if calendar.always_open else ""
        lines.append(f"{calendar.code}: {calendar.name_en} / {calendar.name_ar}  {calendar.time_zone}{open_all}")
        for h in view.hours:
            night = " (next day)" if h.closes <= h.opens else ""
            lines.append(f"    {WEEKDAYS[h.weekday]} {h.opens:%H:%M}-{h.closes:%H:%M}{night}")
        for holiday in view.holidays:
            lines.append(f"    holiday {holiday.day.isoformat()} {holiday.name}")
    return lines


async def _holiday(session: AsyncSession, args: argparse.Namespace, *, add: bool) -> list[str]:
    clock = SystemClock()
    if add:
        made = await editing.add_holiday(
            session=session, clock=clock, actor_id=None, code=args.calendar, day=args.day, name=args.name
        )
        return [f"added holiday {made.day.isoformat()} ({made.name}) to {args.calendar.strip().lower()}"]
    await editing.remove_holiday(session=session, clock=clock, actor_id=None, code=args.calendar, day=args.day)
    return [f"took holiday {args.day.strip()} off {args.calendar.strip().lower()}"]


def _duration(minutes: int | None) -> str:
    if minutes is None:
        return "none"
    amount, unit = policies.as_duration(minutes)
    return f"{amount} {'working days' if unit is policies.DurationUnit.WORKING_DAYS else 'hours'}"


async def _policies(session: AsyncSession) -> list[str]:
    lines = []
    for view in await policies.policies(session=session):
        p = view.policy
        scope = f"category {p.category_code or 'any'}, urgency {p.urgency.value if p.urgency else 'any'}"
        flags = ("  round the clock" if p.round_the_clock else "") + ("" if p.active else "  (deactivated)")
        lines.append(f"{p.id}: {p.name} ({scope}){flags}")
        lines.append(
            f"    first response {_duration(p.first_response_minutes)}, updates {_duration(p.update_minutes)}, "
            f"solution {_duration(p.solution_minutes)}"
        )
        for level in view.levels:
            extra = f" + {_duration(level.extra_minutes)}" if level.extra_minutes else ""
            lines.append(
                f"    level {level.level}: {level.percent_of_solution}%{extra} -> the {level.contact_role.value}, "
                f"{level.rank} rank(s) up"
            )
    return lines
