"""The monthly report by e-mail: from the 1st of a month (Riyadh), the previous month's figures to each active
department's head, and the overall report to the official's office (the top-level departments).

Each (period, scope) is sent once: its report_mailings row is written in the same transaction (and savepoint) as
its outbox messages, and the table's unique (period, scope) refuses a second. A run on any later day sends what
is still owed, so a missed day sends later; a second run sends nothing. The e-mail is plain text (the e-mail
channel attaches only calendar invitations): the figures, and a link to the report's page with its charts and
its CSV and XLSX downloads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from followup.models import ContactRole, Department, DepartmentContact, ReportMailing
from followup.periods import Period, last_complete_month
from followup.report import MonthlyReport, monthly_report
from followup.report_files import say, text_lines
from majlis.clock import Clock
from majlis.errors import N_
from notify.outbox import enqueue

log = logging.getLogger(__name__)

# The scope of the overall report in report_mailings.
OVERALL = "*"
PURPOSE = "followup:monthly-report"
DEPARTMENT_SUBJECT = N_("Follow-up report for {period}: {department}")
OVERALL_SUBJECT = N_("Follow-up report for {period}: all departments")
GREETING = N_("The follow-up report for {period}, from the first to the last day of the month:")
SEE_ONLINE = N_("The report with its charts, and as a CSV or XLSX file, for staff who sign in:")


@dataclass(frozen=True)
class Recipient:
    email: str
    language: str


@dataclass
class MailingRun:
    """What one run did: the period, the scopes sent (department codes, "*" for the overall), those that failed."""

    period: str
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    messages: int = 0


def report_link(report_url: str, period: Period) -> str:
    return f"{report_url}?{urlencode({period.parameter: period.value})}"


async def _heads(*, session: AsyncSession, departments: list[Department]) -> dict[int, Recipient]:
    """Each department's active head (the first named), else the department's own address in Arabic."""
    found: dict[int, Recipient] = {d.id: Recipient(d.email, "ar") for d in departments}
    named: set[int] = set()
    for contact in await session.scalars(
        select(DepartmentContact)
        .where(
            DepartmentContact.department_id.in_(found),
            DepartmentContact.role == ContactRole.HEAD,
            DepartmentContact.active.is_(True),
        )
        .order_by(DepartmentContact.id)
    ):
        if contact.department_id not in named and contact.email:
            named.add(contact.department_id)
            found[contact.department_id] = Recipient(contact.email, contact.language)
    return found


def _body(report: MonthlyReport, language: str, link: str, *, department_id: int | None) -> str:
    lines = text_lines(report, language, department_id=department_id)
    while lines and not lines[-1]:
        lines.pop()
    # The title is the subject already; the greeting says which days.
    greeting = say(language, GREETING, period=report.period.name(language))
    return "\n".join([greeting, *lines[1:], "", say(language, SEE_ONLINE), link, ""])


async def send_monthly(*, session: AsyncSession, clock: Clock, hijri: bool, report_url: str) -> MailingRun:
    """E-mails the last complete month's report to whoever has not had it yet; flushed, not committed.

    `report_url` is the report page's address (/reports/followup); the e-mails link to it for the month.
    """
    now = clock.now()
    period = last_complete_month(now, hijri=hijri)
    run = MailingRun(period=period.key)
    done = set(await session.scalars(select(ReportMailing.scope).where(ReportMailing.period == period.key)))
    departments = list(
        await session.scalars(select(Department).where(Department.active.is_(True)).order_by(Department.id))
    )
    tops = [d for d in departments if d.parent_id is None]
    owed = [d for d in departments if d.code not in done]
    if not owed and (OVERALL in done or not tops):
        return run
    report = await monthly_report(session=session, clock=clock, period=period)
    heads = await _heads(session=session, departments=departments)
    link = report_link(report_url, period)

    async def send(scope: str, recipients: list[Recipient], department: Department | None) -> None:
        try:
            async with session.begin_nested():
                session.add(ReportMailing(period=period.key, scope=scope, sent_at=now))
                await session.flush()
                for recipient in recipients:
                    language = recipient.language if recipient.language in ("ar", "en") else "ar"
                    name = period.name(language)
                    subject = (
                        say(language, DEPARTMENT_SUBJECT, period=name, department=department.name_in(language))
                        if department is not None
                        else say(language, OVERALL_SUBJECT, period=name)
                    )
                    await enqueue(
                        session=session,
                        clock=clock,
                        purpose=PURPOSE,
                        channel="email",
                        recipient=recipient.email,
                        language=language,
                        body=_body(report, language, link, department_id=department.id if department else None),
                        payload={"subject": subject},
                    )
        except IntegrityError:
            # Another run wrote this (period, scope) meanwhile: it is sent, once.
            log.info("monthly report %s for %s already sent by another run", period.key, scope)
            return
        except Exception:
            log.exception("monthly report %s for %s failed; the next run tries again", period.key, scope)
            run.failed.append(scope)
            return
        run.sent.append(scope)
        run.messages += len(recipients)

    for department in owed:
        await send(department.code, [heads[department.id]], department)
    if tops and OVERALL not in done:
        # Two top-level departments with one head address get the overall report once.
        recipients = list(dict.fromkeys(heads[d.id] for d in tops))
        await send(OVERALL, recipients, None)
    return run
