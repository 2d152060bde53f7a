"""`majlis quality tablets enrol|list|revoke`: the desk tablets where applicants rate who served them.

Through the calls /manage/desk-tablets makes (quality/tablets.py), in one transaction, audited with no person as
`majlis users create` is. `enrol` prints the enrolment link once: opened on the tablet, it becomes its cookie.
A refusal is printed in English and Arabic and the command exits with 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from majlis import cli_quality
from majlis.cli_followup import _refusal_lines
from majlis.clock import SystemClock
from majlis.db import create_engine, session_factory, transaction
from majlis.errors import DomainError, InvalidInput
from majlis.settings import Settings
from quality import tablets
from web.api_models import ID_LIMIT

NAME = "tablets"


def _tablet_id(text: str) -> int:
    """A tablet's number as `list` prints it; past the database's 32-bit keys it is refused (exit 2), never sent."""
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= ID_LIMIT:
        raise argparse.ArgumentTypeError(f"not a tablet id: {text!r}")
    return int(text)


def add_parser(each: cli_quality.Subparsers) -> None:
    parser = each.add_parser(NAME, help="desk tablets facing the applicant, for rating who served them")
    commands = parser.add_subparsers(dest="tablets_command", required=True)
    enrol = commands.add_parser("enrol", help="enrol a tablet and print its enrolment link (shown once)")
    enrol.add_argument("--branch", required=True, metavar="CODE", help="the reception centre's code")
    enrol.add_argument("--name", required=True, help="which desk it stands at")
    commands.add_parser("list", help="every tablet, its centre, state and pairing")
    revoke = commands.add_parser("revoke", help="take a tablet out of use (its link and cookie stop working)")
    revoke.add_argument("tablet_id", type=_tablet_id, metavar="ID")


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    engine = create_engine(settings.database_url_value)
    clock = SystemClock()
    try:
        async with transaction(session_factory(engine)) as session:
            if args.tablets_command == "enrol":
                tablet, token = await tablets.enrol(
                    session=session, clock=clock, branch_code=args.branch, name=args.name, actor_id=None
                )
                lines = [
                    f"tablet {tablet.id} enrolled at {tablet.branch_code}: {tablet.name}",
                    "open this link on the tablet now (it is shown only once):",
                    f"  {settings.public_url.rstrip('/')}/rate-tablet/enrol/{token}",
                ]
            elif args.tablets_command == "revoke":
                tablet = await tablets.revoke(session=session, clock=clock, tablet_id=args.tablet_id, actor_id=None)
                lines = [f"tablet {tablet.id} taken out of use"]
            else:
                lines = []
                for t in await tablets.all_tablets(session=session):
                    state = "revoked" if t.revoked_at else f"paired with staff {t.staff_id}" if t.staff_id else "free"
                    lines.append(f"{t.id}  {t.branch_code}  {t.name}  [{state}]")
                lines = lines or ["no desk tablets"]
    except (InvalidInput, DomainError) as exc:
        print("\n".join(_refusal_lines(exc)), file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    print("\n".join(lines))
    return 0


def run(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_run(settings, args))


cli_quality.register(NAME, add_parser, run)
