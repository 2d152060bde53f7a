"""`majlis quality stats`: the statistics dashboard's figures on the command line, or one chart's CSV.

    majlis quality stats [--period month --value 2026-11 | --period custom --from 2026-11-01 --to 2026-11-15]
                         [--branch CODE] [--csv CHART] [--language en|ar]

Without a period, the month under way. The summary prints each chart's table as the page shows it ("fewer than 5"
where a figure is suppressed); --csv prints that chart's CSV, the file the page's "Download CSV" gives. A bad
period or an unknown centre is refused in English and Arabic, naming the option, and the command exits with 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from majlis import cli_quality
from majlis.clock import SystemClock
from majlis.db import create_engine, session_factory
from majlis.errors import InvalidInput
from majlis.i18n import LANGUAGES, shipped_catalogs
from majlis.settings import Settings
from quality.periods import KINDS, Span, asked_span
from quality.statistics import asked_branch, dashboard
from rooms import service as rooms
from web.statistics_tables import CHART_KEYS, Say, Table, csv_text, tables

# The options as the refusals name them (the API's fields are from and to).
OPTIONS = {"period": "--period", "value": "--value", "from": "--from", "to": "--to", "branch": "--branch"}


def add_stats(each: cli_quality.Subparsers) -> None:
    stats = each.add_parser("stats", help="the statistics dashboard's figures for a period, or one chart's CSV")
    stats.add_argument("--period", choices=KINDS, help="week, month, hijri, year or custom (default: this month)")
    stats.add_argument("--value", help="a day of the week (YYYY-MM-DD), a month (YYYY-MM; Hijri 1448-05), a year")
    stats.add_argument("--from", dest="first", metavar="YYYY-MM-DD", help="custom days: the first")
    stats.add_argument("--to", dest="last", metavar="YYYY-MM-DD", help="custom days: the last")
    stats.add_argument("--branch", metavar="CODE", help="one reception centre's requests (default: every centre)")
    stats.add_argument(
        "--csv", choices=CHART_KEYS, metavar="CHART", help="print this chart's CSV: " + ", ".join(CHART_KEYS)
    )
    stats.add_argument("--language", choices=LANGUAGES, default="en", help="headings and names (default en)")


def _refused(exc: InvalidInput) -> int:
    catalogs = shipped_catalogs()
    for error in exc.errors:
        for language in ("en", "ar"):
            option = OPTIONS.get(error.field, error.field)
            print(f"majlis: {option}: {catalogs.gettext(language, error.message)}", file=sys.stderr)
    return 2


def summary(span: Span, branch: str | None, charts: list[Table], language: str) -> list[str]:
    """The charts' tables as lines of text."""
    say = _say(language)
    lines = [f"{span.name(language)} ({span.first_day} – {span.last_day})" + (f", {branch}" if branch else "")]
    for table in charts:
        lines += ["", table.title, "  " + " | ".join((table.label_heading, *table.headings))]
        for row in table.rows:
            cells = [c.text(say, places) for c, places in zip(row.cells, table.places, strict=False)]
            lines.append("  " + " | ".join((row.label, *cells)))
    return lines


def _say(language: str) -> Say:
    catalogs = shipped_catalogs()

    def say(message: str, **params: object) -> str:
        return catalogs.gettext(language, message, **params)

    return say


async def _stats(settings: Settings, args: argparse.Namespace) -> int:
    now = SystemClock().now()
    engine = create_engine(settings.database_url_value)
    try:
        async with session_factory(engine)() as session:
            try:
                span = asked_span(period=args.period, value=args.value, first=args.first, last=args.last, now=now)
                branch = await asked_branch(session=session, code=args.branch)
            except InvalidInput as exc:
                return _refused(exc)
            figures = await dashboard(session=session, span=span, now=now, branch_code=branch)
            names = {site.code: site.name_in(args.language) for site in await rooms.branches(session=session)}
    finally:
        await engine.dispose()
    charts = tables(figures, _say(args.language), args.language, names)
    if args.csv is not None:
        chosen = next(t for t in charts if t.key == args.csv)
        sys.stdout.write(csv_text(chosen, _say(args.language)).removeprefix("\ufeff"))
        return 0
    print("\n".join(summary(span, branch, charts, args.language)))
    return 0


def run_stats(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_stats(settings, args))


cli_quality.register("stats", add_stats, run_stats)
