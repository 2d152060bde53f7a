"""`majlis followup-report`: the follow-up's monthly report per department and overall, printed, or written as a
CSV (UTF-8 with a byte-order mark) or an XLSX file, the same the report page downloads.

The month is a Gregorian one (--month 2026-11) or an Umm al-Qura one (--hijri 1448-05); without either, the last
complete month in the calendar the monthly e-mails use (MAJLIS_FOLLOWUP_REPORT_HIJRI). A month that cannot be
reported is refused in English and Arabic, and the command exits with 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from followup.periods import Period, asked_period
from followup.report import MonthlyReport, monthly_report
from followup.report_files import csv_bytes, text_lines, xlsx_bytes
from majlis.clock import SystemClock
from majlis.db import create_engine, session_factory
from majlis.errors import InvalidInput
from majlis.i18n import LANGUAGES, shipped_catalogs
from majlis.settings import Settings

COMMAND = "followup-report"
R = TypeVar("R")


def add_month_options(report: argparse.ArgumentParser) -> None:
    """The options every monthly report's command takes: the month, the file, the language."""
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


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        COMMAND, help="the follow-up's monthly report per department and overall: printed, or as a CSV or XLSX file"
    )
    add_month_options(report)


def period_asked(args: argparse.Namespace, *, hijri_default: bool) -> Period | None:
    """The month the options ask for; None, with the refusal printed in English and Arabic, when it cannot be."""
    try:
        return asked_period(month=args.month, hijri=args.hijri, now=SystemClock().now(), hijri_default=hijri_default)
    except InvalidInput as exc:
        catalogs = shipped_catalogs()
        for error in exc.errors:
            for language in ("en", "ar"):
                print(f"majlis: --{error.field}: {catalogs.gettext(language, error.message)}", file=sys.stderr)
        return None


def write_out(
    args: argparse.Namespace,
    period: Period,
    report: R,
    *,
    csv: Callable[[R, str], bytes],
    xlsx: Callable[[R, str], bytes],
    lines: Callable[[R, str], list[str]],
) -> int:
    """The report written where the options say (a CSV or XLSX file), or printed."""
    if args.csv is not None:
        args.csv.write_bytes(csv(report, args.language))
        print(f"wrote {args.csv} ({period.name('en')})")
    elif args.xlsx is not None:
        args.xlsx.write_bytes(xlsx(report, args.language))
        print(f"wrote {args.xlsx} ({period.name('en')})")
    else:
        print("\n".join(lines(report, args.language)))
    return 0


async def _report(settings: Settings, period: Period) -> MonthlyReport:
    engine = create_engine(settings.database_url_value)
    try:
        async with session_factory(engine)() as session:
            return await monthly_report(session=session, clock=SystemClock(), period=period)
    finally:
        await engine.dispose()


def run(settings: Settings, args: argparse.Namespace) -> int:
    period = period_asked(args, hijri_default=settings.followup_report_hijri)
    if period is None:
        return 2
    report = asyncio.run(_report(settings, period))
    return write_out(args, period, report, csv=csv_bytes, xlsx=xlsx_bytes, lines=text_lines)
