"""The emergency line's monthly report by e-mail: from the 1st of a month (Riyadh), the previous month's figures to
each mission in service, in Arabic with the English below; the central consular desk's e-mail also carries the
whole ministry's figures by country, with a link to the report's page.

Each (period, mission) is sent once, as followup.mailing does: the mission_report_mailings row is written in the
same savepoint as its outbox message, and the table's unique (period, mission_id) refuses a second. A run on any
later day sends what is still owed; a second run sends nothing. The e-mail is plain text: the outbox's e-mail
channel attaches only calendar invitations, so the CSV is a download on the page.

Sent to: every active mission that is live, the central desk, and any other mission with reports in the month.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from emergency.models import MissionKind, MissionReportMailing
from emergency.monthly import EmergencyMonthly, Figures, MissionLine, monthly_report
from emergency.monthly_files import figure_lines, say, span, text_lines
from followup.periods import Period, last_complete_month
from majlis.clock import Clock
from majlis.errors import N_
from notify.outbox import enqueue

log = logging.getLogger(__name__)

PURPOSE = "emergency:monthly-report"
SUBJECT = N_("Emergency line report for {period}: {mission}")
GREETING = N_("The emergency line's report for {period}, from the first to the last day of the month, for {mission}:")
SEE_ONLINE = N_("The report for every mission, with its charts and as a CSV or XLSX file, for the ministry's staff:")
# Between the Arabic text and the English one.
_RULE = "—" * 24
LANGUAGES = ("ar", "en")


@dataclass
class MailingRun:
    """What one run did: the period, the missions sent to (their codes), those that failed."""

    period: str
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def report_link(report_url: str, period: Period) -> str:
    return f"{report_url}?{urlencode({period.parameter: period.value})}"


def _owed(line: MissionLine) -> bool:
    return line.active and (line.live or line.kind is MissionKind.CENTRAL_DESK or line.figures != Figures())


def _text(report: EmergencyMonthly, line: MissionLine, language: str, link: str) -> str:
    name = line.name(language)
    lines = [
        say(language, GREETING, period=report.period.name(language), mission=name),
        span(report, language),
        "",
        *figure_lines(line, language),
    ]
    if line.kind is MissionKind.CENTRAL_DESK:
        # The ministry's own desk gets every mission and country, and the page that draws them.
        lines += ["", *text_lines(report, language)[3:], "", say(language, SEE_ONLINE), link]
    return "\n".join(lines)


def body(report: EmergencyMonthly, line: MissionLine, link: str) -> str:
    """The e-mail's text: Arabic, a rule, English."""
    return "\n".join([_text(report, line, "ar", link), "", _RULE, "", _text(report, line, "en", link), ""])


def subject(report: EmergencyMonthly, line: MissionLine) -> str:
    return " / ".join(
        say(language, SUBJECT, period=report.period.name(language), mission=line.name(language))
        for language in LANGUAGES
    )


async def send_monthly(*, session: AsyncSession, clock: Clock, hijri: bool, report_url: str) -> MailingRun:
    """E-mails the last complete month's report to each mission owed it; flushed, not committed.

    `report_url` is the ministry's report page (/reports/emergency), linked for the month from the central desk's
    e-mail.
    """
    now = clock.now()
    period = last_complete_month(now, hijri=hijri)
    run = MailingRun(period=period.key)
    done = set(
        await session.scalars(select(MissionReportMailing.mission_id).where(MissionReportMailing.period == period.key))
    )
    report = await monthly_report(session=session, clock=clock, period=period)
    link = report_link(report_url, period)
    for line in report.missions:
        if line.mission_id in done or not _owed(line) or not line.email:
            continue
        try:
            async with session.begin_nested():
                session.add(MissionReportMailing(period=period.key, mission_id=line.mission_id, sent_at=now))
                await session.flush()
                await enqueue(
                    session=session,
                    clock=clock,
                    purpose=PURPOSE,
                    channel="email",
                    recipient=line.email,
                    language="ar",
                    body=body(report, line, link),
                    payload={"subject": subject(report, line)},
                )
        except IntegrityError:
            # Another run wrote this (period, mission) meanwhile: it is sent, once.
            log.info("emergency report %s for %s already sent by another run", period.key, line.code)
            continue
        except Exception:
            log.exception("emergency report %s for %s failed; the next run tries again", period.key, line.code)
            run.failed.append(line.code)
            continue
        run.sent.append(line.code)
    return run
