"""`majlis emergency-report`: the emergency line's monthly report per mission, per country and for the ministry,
printed, or written as a CSV (UTF-8 with a byte-order mark) or an XLSX file, the same the ministry's page downloads.

The month is a Gregorian one (--month 2026-11) or an Umm al-Qura one (--hijri 1448-05); without either, the last
complete Gregorian month. A month that cannot be reported is refused in English and Arabic, and the command exits
with 2.
"""

from __future__ import annotations

import argparse
import asyncio

from emergency.monthly import EmergencyMonthly, monthly_report
from emergency.monthly_files import csv_bytes, text_lines, xlsx_bytes
from followup.periods import Period
from majlis.cli_report import add_month_options, period_asked, write_out
from majlis.clock import SystemClock
from majlis.db import create_engine, session_factory
from majlis.settings import Settings

COMMAND = "emergency-report"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        COMMAND,
        help="the emergency line's monthly report per mission, per country and overall: printed, or as CSV or XLSX",
    )
    add_month_options(report)


async def _report(settings: Settings, period: Period) -> EmergencyMonthly:
    engine = create_engine(settings.database_url_value)
    try:
        async with session_factory(engine)() as session:
            return await monthly_report(session=session, clock=SystemClock(), period=period)
    finally:
        await engine.dispose()


def run(settings: Settings, args: argparse.Namespace) -> int:
    period = period_asked(args, hijri_default=False)
    if period is None:
        return 2
    report = asyncio.run(_report(settings, period))
    return write_out(args, period, report, csv=csv_bytes, xlsx=xlsx_bytes, lines=text_lines)
