"""The monthly service-quality report by e-mail: from the 1st of a month (Riyadh), the month just ended to every
active manager with an e-mail address, in Arabic with the English below.

The e-mail gives the headline figures over everything and for each branch and each active department, and links
to the printable page and the XLSX workbook of each (for staff who sign in; the e-mail itself carries no file,
since the outbox's e-mail channel attaches only calendar invitations). Everything and the branches side by side
would give back a branch's hidden figure as everything's less the other branches' (with two centres, at once):
across the branches, the figures are withheld as within one breakdown (quality.figures.withhold_across). A
manager without an address is skipped and counted. Each (period, manager) is sent once, as followup.mailing
does: the quality_report_mailings row is written in the same savepoint as the outbox message, and the table's
unique (period, staff_id) refuses a second. A run on any later day sends what is still owed; a second run sends
nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import StaffUser
from accounts.roles import Role
from followup.periods import Period, last_complete_month
from majlis.clock import Clock
from majlis.errors import N_
from notify.outbox import enqueue
from quality.figures import withhold_across
from quality.models import QualityMailing
from quality.monthly import (
    EVERYTHING_SCOPE,
    QualityMonthly,
    Scope,
    branch_scopes,
    department_scopes,
    monthly_quality,
)
from quality.monthly_files import days, say, summary_rows

log = logging.getLogger(__name__)

PURPOSE = "quality:monthly-report"
SUBJECT = N_("Service quality report for {period}")
GREETING = N_("The service quality report for {period}, from the first to the last day of the month:")
PRINTABLE = N_("Printable page")
WORKBOOK = N_("XLSX workbook")
SIGN_IN = N_("The links open for staff who sign in.")
LANGUAGES = ("ar", "en")
_RULE = "—" * 24


@dataclass
class MailingRun:
    """What one run did: the period, the managers sent to (their ids), those skipped for want of an address, and
    those that failed (tried again on the next run)."""

    period: str
    sent: list[int] = field(default_factory=list)
    without_email: int = 0
    failed: list[int] = field(default_factory=list)


def report_links(report_url: str, period: Period, scope: Scope) -> tuple[str, str]:
    """The printable page's address and the workbook's, for the month and the scope."""
    query = urlencode({**scope.query(), period.parameter: period.value})
    return f"{report_url}?{query}", f"{report_url}.xlsx?{query}"


def _text(reports: list[QualityMonthly], language: str, report_url: str) -> str:
    period = reports[0].period
    lines = [say(language, GREETING, period=period.name(language)), days(period, language), ""]
    for report in reports:
        page, workbook = report_links(report_url, period, report.scope)
        lines.append(report.scope.name(language))
        lines += [f"  {label}: {value}" for label, value in summary_rows(report, language)]
        lines += [f"  {say(language, PRINTABLE)}: {page}", f"  {say(language, WORKBOOK)}: {workbook}", ""]
    lines.append(say(language, SIGN_IN))
    return "\n".join(lines)


def body(reports: list[QualityMonthly], report_url: str) -> str:
    """The e-mail's text: Arabic, a rule, English; everything first, then each branch and department."""
    return "\n".join([_text(reports, "ar", report_url), "", _RULE, "", _text(reports, "en", report_url), ""])


async def _reports(*, session: AsyncSession, period: Period, now: datetime) -> list[QualityMonthly]:
    """Everything's report, each branch's and each department's, as the e-mail gives them side by side."""
    everything = await monthly_quality(session=session, period=period, scope=EVERYTHING_SCOPE, now=now)
    branches = [
        await monthly_quality(session=session, period=period, scope=s, now=now)
        for s in await branch_scopes(session=session)
    ]
    departments = [
        await monthly_quality(session=session, period=period, scope=s, now=now)
        for s in await department_scopes(session=session)
    ]
    # Every request has one branch: the branches part everything. Departments overlap (a request referred to
    # two), so no department's figure is everything's less the others'.
    parted = withhold_across(everything.figures, [b.figures for b in branches])
    branches = [replace(report, figures=figures) for report, figures in zip(branches, parted, strict=True)]
    return [everything, *branches, *departments]


def subject(period: Period) -> str:
    return " / ".join(say(language, SUBJECT, period=period.name(language)) for language in LANGUAGES)


async def send_monthly(*, session: AsyncSession, clock: Clock, hijri: bool, report_url: str) -> MailingRun:
    """E-mails the last complete month's report to every active manager who has not had it; flushed, not committed.

    `report_url` is the report page's address (/reports/quality-monthly).
    """
    now = clock.now()
    period = last_complete_month(now, hijri=hijri)
    run = MailingRun(period=period.key)
    done = set(await session.scalars(select(QualityMailing.staff_id).where(QualityMailing.period == period.key)))
    managers = list(
        await session.scalars(
            select(StaffUser)
            .where(StaffUser.role == Role.MANAGER, StaffUser.is_active.is_(True))
            .order_by(StaffUser.id)
        )
    )
    owed = [m for m in managers if m.id not in done and m.email]
    run.without_email = sum(1 for m in managers if m.id not in done and not m.email)
    if not owed:
        return run
    reports = await _reports(session=session, period=period, now=now)
    text, heading = body(reports, report_url), subject(period)
    for manager in owed:
        try:
            async with session.begin_nested():
                session.add(QualityMailing(period=period.key, staff_id=manager.id, sent_at=now))
                await session.flush()
                await enqueue(
                    session=session,
                    clock=clock,
                    purpose=PURPOSE,
                    channel="email",
                    recipient=manager.email or "",
                    language="ar",
                    body=text,
                    payload={"subject": heading},
                )
        except IntegrityError:
            # Another run sent this manager the month meanwhile: it is sent, once.
            log.info("quality report %s for manager %s already sent by another run", period.key, manager.id)
            continue
        except Exception:
            log.exception("quality report %s for manager %s failed; the next run tries again", period.key, manager.id)
            run.failed.append(manager.id)
            continue
        run.sent.append(manager.id)
    return run
