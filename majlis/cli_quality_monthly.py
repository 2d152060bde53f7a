"""`majlis quality monthly` and `majlis quality mail-monthly`: the monthly service-quality report printed or written
as the XLSX workbook the report page downloads, and the managers' e-mail of the month just ended sent by hand.

    majlis quality monthly [--branch CODE | --department N] [--month 2026-11 | --hijri 1448-05] [--xlsx FILE]
    majlis quality mail-monthly [--hijri]

Without a month, the last complete one in the calendar the monthly e-mails use (MAJLIS_FOLLOWUP_REPORT_HIJRI, shared
with the follow-up's monthly report: both are the month the office reports on). A month, branch or department
that cannot be reported is refused in English and Arabic, and the command exits with 2. The e-mails go through the
outbox as the daily job's do; a second run the same month sends nothing new.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from followup.periods import Period
from majlis import cli_quality, jobs
from majlis.cli_report import period_asked
from majlis.clock import SystemClock
from majlis.db import create_engine, session_factory, transaction
from majlis.errors import DomainError, InvalidInput
from majlis.i18n import LANGUAGES, shipped_catalogs
from majlis.settings import Settings
from quality import monthly_files, monthly_mailing
from quality.monthly import asked_scope, monthly_quality
from rooms import service as rooms
from web.quality_monthly import names_in


def add_report(each: cli_quality.Subparsers) -> None:
    report = each.add_parser(
        "monthly",
        help="the monthly service-quality report, overall or for a branch or department: printed, or as XLSX",
    )
    scope = report.add_mutually_exclusive_group()
    scope.add_argument("--branch", metavar="CODE", help="a branch's code: that reception centre's requests")
    scope.add_argument("--department", metavar="N", help="a department's number: the requests referred to it")
    month = report.add_mutually_exclusive_group()
    month.add_argument("--month", metavar="YYYY-MM", help="a Gregorian month (default: the last complete month)")
    month.add_argument("--hijri", metavar="YYYY-MM", help="an Umm al-Qura Hijri month, e.g. 1448-05")
    report.add_argument("--xlsx", metavar="FILE", type=Path, help="write the report as an XLSX workbook")
    report.add_argument(
        "--language",
        choices=LANGUAGES,
        default="en",
        help="the language of headings and names (default en; an Arabic workbook reads right to left)",
    )


def _refused(field: str, message: str, **params: str) -> None:
    catalogs = shipped_catalogs()
    for language in ("en", "ar"):
        print(f"majlis: --{field}: {catalogs.gettext(language, message, **params)}", file=sys.stderr)


async def _write(settings: Settings, args: argparse.Namespace, period: Period) -> int:
    engine = create_engine(settings.database_url_value)
    try:
        async with session_factory(engine)() as session:
            try:
                scope = await asked_scope(session=session, branch=args.branch, department=args.department)
            except InvalidInput as exc:
                for error in exc.errors:
                    _refused(error.field, error.message, **error.params)
                return 2
            except DomainError as exc:
                _refused("branch" if args.branch is not None else "department", exc.message, **exc.params)
                return 2
            report = await monthly_quality(session=session, period=period, scope=scope, now=SystemClock().now())
            branches = {site.code: site.name_in(args.language) for site in await rooms.branches(session=session)}
    finally:
        await engine.dispose()
    names = names_in(args.language, branches, shipped_catalogs().gettext)
    if args.xlsx is not None:
        args.xlsx.write_bytes(monthly_files.xlsx_bytes(report, args.language, names))
        print(f"wrote {args.xlsx} ({scope.name('en')}, {period.name('en')})")
    else:
        print("\n".join(monthly_files.text_lines(report, args.language, names)))
    return 0


def run_report(settings: Settings, args: argparse.Namespace) -> int:
    period = period_asked(args, hijri_default=settings.followup_report_hijri)
    if period is None:
        return 2
    return asyncio.run(_write(settings, args, period))


def add_mailing(each: cli_quality.Subparsers) -> None:
    mail = each.add_parser(
        "mail-monthly",
        help="e-mail the last complete month's report to every active manager who has not had it (as the daily job)",
    )
    mail.add_argument(
        "--hijri",
        action="store_true",
        help="the last complete Umm al-Qura month (default: as MAJLIS_FOLLOWUP_REPORT_HIJRI says)",
    )


async def _mail(settings: Settings, hijri: bool) -> monthly_mailing.MailingRun:
    engine = create_engine(settings.database_url_value)
    try:
        async with transaction(session_factory(engine)) as session:
            return await monthly_mailing.send_monthly(
                session=session, clock=SystemClock(), hijri=hijri, report_url=jobs.quality_report_url(settings)
            )
    finally:
        await engine.dispose()


def run_mailing(settings: Settings, args: argparse.Namespace) -> int:
    run = asyncio.run(_mail(settings, args.hijri or settings.followup_report_hijri))
    print(
        f"quality report {run.period}: sent to {len(run.sent)} manager(s), "
        f"{run.without_email} without an e-mail address, {len(run.failed)} failed"
    )
    return 1 if run.failed else 0


cli_quality.register("monthly", add_report, run_report)
cli_quality.register("mail-monthly", add_mailing, run_mailing)
