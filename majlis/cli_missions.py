"""The command line's missions directory and duty rosters: `majlis missions list|add|coverage-add|live` and
`majlis roster list|add|gaps`, through the domain calls the pages and the API make.

Changes run in one transaction and are audited with no person, as `majlis users create` is. Shift times are
typed in the mission's local time. A refusal is printed in English and Arabic and the command exits with 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from emergency import checks, coverage, directory, roster, roster_gaps
from emergency.coverage import CoverageInput
from emergency.directory import MissionInput
from emergency.models import MissionKind
from emergency.roster import ShiftInput
from majlis.clock import RIYADH, SystemClock
from majlis.db import create_engine, session_factory, transaction
from majlis.errors import DomainError, InvalidInput
from majlis.i18n import shipped_catalogs
from majlis.settings import Settings
from web.errors import domain_message, field_message

COMMANDS = ("missions", "roster")
Work = Callable[[AsyncSession], Awaitable[list[str]]]


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The two commands and their subcommands, on `majlis`'s parser."""
    missions = commands.add_parser("missions", help="the emergency line's missions abroad and what they cover")
    each = missions.add_subparsers(dest="missions_command", required=True)
    each.add_parser("list", help="every mission: zone, local time, live or not, coverage, who is on duty")
    add = each.add_parser("add", help="add a mission (with its own working calendar from --hours)")
    add.add_argument("--code", required=True, help="small Latin letters, digits, - or _ (it cannot change later)")
    add.add_argument("--kind", required=True, choices=[k.value for k in MissionKind])
    add.add_argument("--name-ar", required=True)
    add.add_argument("--name-en", required=True)
    add.add_argument("--country", required=True, help="ISO code, e.g. AU")
    add.add_argument("--time-zone", required=True, help="IANA zone, e.g. Australia/Sydney")
    week = add.add_mutually_exclusive_group(required=True)
    week.add_argument("--hours", help='e.g. "Sun-Thu 08:00-15:00" or "Mon-Fri 09:00-17:00"')
    week.add_argument("--calendar", metavar="CODE", help="an existing working calendar of the same zone")
    add.add_argument("--email", required=True)
    add.add_argument("--head-name", required=True)
    add.add_argument("--head-email", required=True)
    add.add_argument("--head-phone", required=True, help="international form, e.g. +61412345678")
    add.add_argument("--live", action="store_true", help="put it on the emergency line at once")
    cover = each.add_parser("coverage-add", help="the mission covers a country, or one city of it")
    cover.add_argument("--mission", required=True, metavar="CODE")
    cover.add_argument("--country", required=True)
    cover.add_argument("--city-ar", default="")
    cover.add_argument("--city-en", default="")
    live = each.add_parser("live", help="put a mission on the emergency line, or take it off (--off)")
    live.add_argument("--mission", required=True, metavar="CODE")
    live.add_argument("--off", action="store_true")

    rosters = commands.add_parser("roster", help="a mission's on-call duty roster")
    each = rosters.add_subparsers(dest="roster_command", required=True)
    for name, text in (
        ("list", "the shifts ahead, in the mission's time and Riyadh's"),
        ("gaps", "stretches ahead with nobody on duty"),
    ):
        shown = each.add_parser(name, help=text)
        shown.add_argument("--mission", required=True, metavar="CODE")
        shown.add_argument("--days", type=int, default=14, choices=range(1, 63), metavar="1-62")
    shift = each.add_parser("add", help="add a shift (times in the mission's local time)")
    shift.add_argument("--mission", required=True, metavar="CODE")
    shift.add_argument("--starts", required=True, metavar="'YYYY-MM-DD HH:MM'")
    shift.add_argument("--ends", required=True, metavar="'YYYY-MM-DD HH:MM'")
    shift.add_argument("--officer", required=True, help="the duty officer's name")
    shift.add_argument("--phone", required=True, help="international form, takes SMS")
    shift.add_argument("--email", required=True)
    shift.add_argument("--languages", default="ar,en", help="language codes, e.g. ar,en")


def run(settings: Settings, args: argparse.Namespace) -> int:
    works: dict[tuple[str, str], tuple[Work, bool]] = {
        ("missions", "list"): (_missions, False),
        ("missions", "add"): (lambda session: _add_mission(session, args), True),
        ("missions", "coverage-add"): (lambda session: _add_coverage(session, args), True),
        ("missions", "live"): (lambda session: _live(session, args, settings), True),
        ("roster", "list"): (lambda session: _roster(session, args, gaps_only=False), False),
        ("roster", "gaps"): (lambda session: _roster(session, args, gaps_only=True), False),
        ("roster", "add"): (lambda session: _add_shift(session, args), True),
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


def _at(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


async def _missions(session: AsyncSession) -> list[str]:
    now = SystemClock().now()
    every = await directory.missions(session=session)
    places: dict[int, list[str]] = {}
    for row in await coverage.coverage(session=session):
        places.setdefault(row.mission.id, []).append(coverage.place_name(row.coverage, "en"))
    duty = await roster.on_duty_at_missions(session=session, mission_ids=[m.id for m in every], at=now)
    lines = []
    for m in every:
        state = ("live" if m.live else "not live") + ("" if m.active else ", deactivated")
        lines.append(f"{m.code}: {m.name_en} / {m.name_ar} ({m.kind.value}, {m.country}) [{state}]")
        lines.append(f"    {m.time_zone}, now {_at(now, ZoneInfo(m.time_zone))} (Riyadh {_at(now, RIYADH)})")
        lines.append(f"    covers: {', '.join(places.get(m.id, [])) or 'nothing yet'}")
        on = duty.get(m.id)
        lines.append(f"    on duty: {on.officer_name} {on.phone}" if on else "    on duty: nobody")
    return lines or ["no missions"]


async def _add_mission(session: AsyncSession, args: argparse.Namespace) -> list[str]:
    data = MissionInput(
        args.code,
        args.kind,
        args.name_ar,
        args.name_en,
        args.country,
        args.time_zone,
        args.email,
        args.head_name,
        args.head_email,
        args.head_phone,
        args.hours or "",
        args.calendar or "",
    )
    made = await directory.add_mission(session=session, clock=SystemClock(), actor_id=None, data=data, live=args.live)
    return [f"added mission {made.code} ({'live' if made.live else 'not live yet'})"]


async def _add_coverage(session: AsyncSession, args: argparse.Namespace) -> list[str]:
    data = CoverageInput(args.country, args.city_ar, args.city_en)
    made = await coverage.add_coverage(
        session=session, clock=SystemClock(), actor_id=None, mission_code=args.mission, data=data
    )
    return [f"{args.mission.strip().lower()} now covers {coverage.place_name(made, 'en')} (coverage {made.id})"]


async def _live(session: AsyncSession, args: argparse.Namespace, settings: Settings) -> list[str]:
    # Put on the line, its roster is looked at at once: a gap from now is told before the hourly run.
    mission = await directory.set_live_watched(
        session=session,
        clock=SystemClock(),
        actor_id=None,
        code=args.mission,
        live=not args.off,
        watch=roster_gaps.watch_from(settings),
    )
    return [f"{mission.code} is {'live on' if mission.live else 'off'} the emergency line"]


async def _roster(session: AsyncSession, args: argparse.Namespace, *, gaps_only: bool) -> list[str]:
    mission = await directory.mission_by_code(session=session, code=args.mission)
    zone = ZoneInfo(mission.time_zone)
    now = SystemClock().now()
    end = now + timedelta(days=args.days)
    lines = []
    if not gaps_only:
        for s in await roster.shifts(session=session, mission_id=mission.id, start=now, end=end):
            lines.append(
                f"{s.id}: {_at(s.starts_at, zone)} - {_at(s.ends_at, zone)} {mission.time_zone} "
                f"(Riyadh {_at(s.starts_at, RIYADH)} - {_at(s.ends_at, RIYADH)}) "
                f"{s.officer_name} {s.phone} <{s.email}> [{', '.join(s.languages)}]"
            )
    for starts, ends in await roster.gaps(session, mission.id, now, end):
        lines.append(
            f"GAP: {_at(starts, zone)} - {_at(ends, zone)} {mission.time_zone} "
            f"(Riyadh {_at(starts, RIYADH)} - {_at(ends, RIYADH)}): nobody on duty"
        )
    return lines or [f"no gaps in the next {args.days} days" if gaps_only else "no shifts"]


async def _add_shift(session: AsyncSession, args: argparse.Namespace) -> list[str]:
    mission = await directory.mission_by_code(session=session, code=args.mission)
    data = ShiftInput(
        args.starts, args.ends, args.officer, args.phone, args.email, checks.split_languages(args.languages)
    )
    made = await roster.add_shift(session=session, clock=SystemClock(), actor_id=None, mission_id=mission.id, data=data)
    zone = ZoneInfo(mission.time_zone)
    return [
        f"added shift {made.id} to {mission.code}: "
        f"{_at(made.starts_at, zone)} - {_at(made.ends_at, zone)} {mission.time_zone}"
    ]
