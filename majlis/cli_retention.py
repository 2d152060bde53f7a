"""`majlis retention [--dry-run]`: anonymise the personal data of requests closed more than retention_years ago.

The nightly job does the same (majlis/jobs.py); the command lets an operator see first what a run would change
(`--dry-run` changes nothing) and run it by hand.
"""

from __future__ import annotations

import argparse
import asyncio

from cases import retention
from majlis.clock import Clock, SystemClock
from majlis.db import create_engine, session_factory, transaction
from majlis.settings import Settings

COMMAND = "retention"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        COMMAND, help="anonymise the personal data of requests closed more than retention_years ago"
    )
    command.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")


def describe(found: retention.RetentionPlan, *, dry_run: bool) -> list[str]:
    """The lines the command prints: what was (or would be) anonymised."""
    verb = "would be anonymised" if dry_run else "anonymised"
    lines = [
        f"Requests closed before {found.cutoff.date().isoformat()}: {len(found.case_ids)} {verb}, "
        f"{len(found.applicant_ids)} applicant record(s), {found.attachments} attachment(s) removed"
    ]
    lines.extend(f"  {number}" for number in found.tracking_numbers)
    verb = "would be deleted" if dry_run else "deleted"
    lines.append(
        f"WhatsApp conversations silent since before then, of phones with no request still kept: "
        f"{len(found.conversation_ids)} {verb}, with {found.desk_messages} message(s) and {found.desk_media} file(s)"
    )
    return lines


async def _run(settings: Settings, *, dry_run: bool, clock: Clock) -> retention.RetentionPlan:
    engine = create_engine(settings.database_url_value)
    try:
        async with transaction(session_factory(engine)) as session:
            if dry_run:
                return await retention.plan(session=session, clock=clock, years=settings.retention_years)
            return await retention.anonymise(session=session, clock=clock, years=settings.retention_years)
    finally:
        await engine.dispose()


def run(settings: Settings, args: argparse.Namespace, clock: Clock | None = None) -> int:
    found = asyncio.run(_run(settings, dry_run=args.dry_run, clock=clock or SystemClock()))
    for line in describe(found, dry_run=args.dry_run):
        print(line)
    return 0
