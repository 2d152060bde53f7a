"""`majlis emergency-report`: the emergency line's monthly report per mission, per country and for the ministry,
printed, or written as a CSV (UTF-8 with a byte-order mark) or an XLSX file, the same the ministry's page downloads.

The month is a Gregorian one (--month 2026-11) or an Umm al-Qura one (--hijri 1448-05); without either, the last
complete Gregorian month. A month that cannot be reported is refused in English and Arabic, and the command exits
with 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from emergency.monthly import EmergencyMonthly, monthly_report
from emergency.monthly_files import csv_bytes, text_lines, xlsx_bytes
from followup.periods import Period, asked_period
from majlis.clock import SystemClock
from majlis.db import create_engine, session_factory
from majlis.errors import InvalidInput
from majlis.i18n import LANGUAGES, shipped_catalogs
from majlis.settings import Settings

COMMAND = "emergency-report"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        COMMAND,
        help="the emergency line's monthly report per mission, per country and overall: printed, or as CSV or XLSX",
    )
    month = report.add_mutually_exclusive_group()
    month.add_argument("--month", metavar="YYYY-MM", help="a Gregorian month (default: the last complete month)")
    month.add_argument("--hijri", metavar="YYYY-MM", help="an Umm al-Qura Hijri month, e.g. 1448-05")
    out = report.add_mutually_exclusive_group()
    out.add_argument("--csv", metavar="FILE", type=Path, help="write the report as CSV (UTF-8, for Excel)")
    out.add_argument("--xlsx", metavar="FILE", type=Path, help="write the report as an XLSX workbook")
    report.add_argument(
        "--language",
        choices=LANGUAGES,
        default="en",
        help="the language of headings and names (default en; an Arabic sheet reads right to left)",
    )


async def _report(settings: Settings, period: Period) -> EmergencyMonthly:
    engine = create_engine(settings.database_url_value)
    try:
        async with session_factory(engine)() as session:
            return await monthly_report(session=session, clock=SystemClock(), period=period)
    finally:
        await engine.dispose()


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        period = asked_period(month=args.month, hijri=args.hijri, now=SystemClock().now(), hijri_default=False)
    except InvalidInput as exc:
        catalogs = shipped_catalogs()
        for error in exc.errors:
            for language in ("en", "ar"):
                print(f"majlis: --{error.field}: {catalogs.gettext(language, error.message)}", file=sys.stderr)
        return 2
    report = asyncio.run(_report(settings, period))
    if args.csv is not None:
        args.csv.write_bytes(csv_bytes(report, args.language))
        print(f"wrote {args.csv} ({period.name('en')})")
    elif args.xlsx is not None:
        args.xlsx.write_bytes(xlsx_bytes(report, args.language))
        print(f"wrote {args.xlsx} ({period.name('en')})")
    else:
        print("\n".join(text_lines(report, args.language)))
    return 0
