"""The `majlis` command line: serve, migrate, manage staff, load demo data, run jobs, change the calendar and
check applicants in by hand (those two in majlis/cli_day.py)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from accounts import service as accounts
from accounts.roles import Role
from accounts.two_factor import REQUIRED_ROLES
from audience_day.report import day_report
from audience_day.report import text_lines as report_lines
from fairness import anchors as fairness_anchors
from majlis import (
    cli_audit,
    cli_backup,
    cli_bridge,
    cli_day,
    cli_emergency,
    cli_emergency_ops,
    cli_emergency_report,
    cli_followup,
    cli_followup_team,
    cli_missions,
    cli_quality,
    cli_quality_monthly,  # noqa: F401 (registers `majlis quality monthly` and `mail-monthly`)
    cli_quality_reviews,  # noqa: F401 (registers `majlis quality reviews`, `review` and `causes`)
    cli_quality_stats,  # noqa: F401 (registers `majlis quality stats`)
    cli_quality_tablets,  # noqa: F401 (registers `majlis quality tablets`)
    cli_report,
    cli_retention,
    cli_simulate,
    cli_two_factor,
    cli_whatsapp,
    demo,
    demo_emergency,
    demo_fairness,
    demo_quality,
    demo_two_factor,
    logs,
    migrate,
)
from majlis import serve as serving
from majlis.clock import SystemClock, riyadh
from majlis.db import create_engine, session_factory, transaction
from majlis.errors import InvalidInput
from majlis.jobs import status_url as _status_url
from majlis.settings import Settings, SettingsError, load_settings
from notify.outbox import Dispatcher, policy_from
from notify.providers import channels_for, links_for
from priority.models import ChangeReason
from scheduler import calendar, lifecycle
from scheduler.weekly import weekly_run
from web.api_models import ID_LIMIT


async def _db_upgrade(settings: Settings) -> None:
    engine = create_engine(settings.database_url_value)
    try:
        await migrate.upgrade(engine)
        print(f"database at revision {await migrate.current_revision(engine)}")
    finally:
        await engine.dispose()


async def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    # Never from an argument or a variable: those end up in shell history and `ps`.
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    engine = create_engine(settings.database_url_value)
    try:
        async with transaction(session_factory(engine)) as session:
            user = await accounts.create_user(
                session=session,
                clock=SystemClock(),
                username=args.username,
                full_name=args.name,
                role=args.role,
                gender=args.gender,
                password=password,
                department_code=args.department,
                mission_code=args.mission,
            )
            print(f"created {user.username} ({user.role.value})")
    except InvalidInput as exc:
        for error in exc.errors:
            print(f"error: {error.field}: {error.message.format(field=error.field, **error.params)}", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    return 0


async def _load_demo(settings: Settings) -> None:
    engine = create_engine(settings.database_url_value)
    try:
        async with transaction(session_factory(engine)) as session:
            loaded = await demo.load(session=session, clock=SystemClock(), status_url=_status_url(settings))
    finally:
        await engine.dispose()
    print("Demo logins (development only), password for all:", demo.DEMO_PASSWORD)
    for person in loaded.staff:
        print(f"  {person.username:<10} {person.role.value}")
    enrolled = ", ".join(person.username for person in loaded.staff if person.role in REQUIRED_ROLES)
    print(f"Two-factor sign-in ({enrolled}): add this key to an authenticator app,")
    print(f"  {demo_two_factor.DEMO_TOTP_SECRET}, or print the current code with `majlis two-factor demo-code`")
    if loaded.hall_day is not None:
        # The kiosk's device token is shown only now (only its hash is kept); every run enrols it afresh.
        base = settings.public_url.rstrip("/")
        links = links_for(settings)
        print("Audience day in the Riyadh hall: the demo kiosk's enrolment link (open it once on the tablet):")
        print(f"  {base}/kiosk/enrol/{loaded.hall_day.kiosk_token}")
        print("  still expected today (arrival code, or tracking number and the phone's last 4 digits):")
        for expected in loaded.hall_day.expected:
            code = links.arrival_code(expected.appointment_id)
            print(f"  {code:<14} {expected.tracking_number}  {expected.phone_last4}  {expected.name}")
    if loaded.followup is not None:
        shown, base = loaded.followup, settings.public_url.rstrip("/")
        page = links_for(settings).referral_page(shown.overdue_referral_id, shown.overdue_generation)
        print("Referrals to departments (overdue, on time, answered, waiting for the applicant, returned):")
        print(f"  the follow-up team's daily list (user followup): {base}/followup")
        print(f"  the overdue referral, as its department opens it from the e-mail: {page}")
        print(f"  the Ministry of Human Resources' liaison officer (user liaison): {base}/liaison")
        print(f"  the applicant asked for documents answers at {base}/status:", end=" ")
        print(f"{shown.waiting_tracking_number} with the phone {shown.waiting_phone}")
    if loaded.whatsapp is not None:
        base = settings.public_url.rstrip("/")
        print("The WhatsApp desk (user whatsapp): a conversation waits for staff in the inbox:")
        print(f"  {base}/whatsapp/{loaded.whatsapp.waiting_conversation_id}")
        print(f"  a request made by WhatsApp, the exchange in its history: {loaded.whatsapp.tracking_number}")
    if loaded.emergency is not None:
        _print_emergency(settings, loaded.emergency)
    if loaded.fairness is not None:
        await _print_fairness(settings, loaded.fairness)
    if loaded.quality is not None:
        _print_quality(settings, loaded.quality)


async def _print_fairness(settings: Settings, shown: demo_fairness.FairnessShown) -> None:
    """Sends today's anchor of the fairness chain (as the daily job would) and says where to look."""
    engine = create_engine(settings.database_url_value)
    try:
        async with transaction(session_factory(engine)) as session:
            await fairness_anchors.send_daily(
                session=session,
                clock=SystemClock(),
                anchor_file=Path(settings.fairness_anchor_file),
                recipients=settings.fairness_anchor_recipients,
            )
            [anchor] = await fairness_anchors.recent(session=session, limit=1)
    finally:
        await engine.dispose()
    base = settings.public_url.rstrip("/")
    print("The fairness record (users auditor, manager): every placement explained, the chain verified:")
    print(f"  {shown.placed} moved up the queue on a court date, placed ahead of the older {shown.passed}, with the")
    print(f"  recorded justification: {base}/audit/placements/{shown.placed}")
    print(f"  the chain and today's anchor {anchor.seq}:{anchor.hash[:16]}… ({settings.fairness_anchor_file}):")
    print(f"  {base}/audit/chain, or `majlis audit verify`")


def _print_quality(settings: Settings, shown: demo_quality.QualityShown) -> None:
    base = settings.public_url.rstrip("/")
    print(f"Service quality: {shown.ratings} rated visits over four weeks; the rating tablets' enrolment links (each")
    print("  run enrols them afresh; the Riyadh one is paired with user desk and shows a visit waiting to be rated):")
    for branch, token in sorted(shown.tablet_tokens.items()):
        print(f"  {branch:<8} {base}/rate-tablet/enrol/{token}")
    print(f"  the day's review queue (user manager), {shown.negative_today} negative today, {shown.overdue} overdue:")
    print(f"  {base}/quality/reviews; the statistics: {base}/reports/statistics; each one's own: {base}/me/ratings")


def _print_emergency(settings: Settings, shown: demo_emergency.EmergencyShown) -> None:
    base = settings.public_url.rstrip("/")
    print("The emergency line: the central desk, the GCC and Australia live, London and Cairo not yet, rosters for the")
    print("week ahead; users agent (the contact centre), mission (the embassy in Abu Dhabi), consular (supervisors):")
    for key, what in (
        ("life", "life-threatening, acknowledged by the duty officer in Abu Dhabi"),
        ("urgent", "urgent, not acknowledged in Sydney, escalated to the head of mission"),
        ("solved", "normal, solved by the embassy in Kuwait"),
        ("desk", "normal, from London (not live yet) at the central desk"),
    ):
        if key in shown.numbers:
            print(f"  {shown.numbers[key]}  {what}")
    print(f"  this month's report (users consular, manager): {base}/reports/emergency?month={shown.month}")


async def _allocate(settings: Settings) -> None:
    engine = create_engine(settings.database_url_value)
    try:
        report = await weekly_run(
            sessions=session_factory(engine),
            clock=SystemClock(),
            actor_id=None,
            status_url=_status_url(settings),
            horizon=settings.allocation_horizon,
        )
    finally:
        await engine.dispose()
    print(
        f"{report.new_sessions} new session(s); placed {report.run.placed}, still waiting {report.run.unplaced}"
        + (f", {report.run.lost_races} taken meanwhile by another run" if report.run.lost_races else "")
    )


async def _end_sessions(settings: Settings) -> None:
    engine = create_engine(settings.database_url_value)
    try:
        async with transaction(session_factory(engine)) as session:
            report = await lifecycle.end_past_sessions(
                session=session,
                clock=SystemClock(),
                policy=lifecycle.policy_from(settings),
                status_url=_status_url(settings),
            )
    finally:
        await engine.dispose()
    print(
        f"no-shows {report.no_shows} (waiting again {report.returned}, closed {report.closed}); "
        f"not reached {report.not_reached} (placed again {report.placed_again})"
    )


async def _day_report(settings: Settings, day: str | None) -> int:
    """Prints the day's report (today in Riyadh unless a day is given)."""
    try:
        chosen = date.fromisoformat(day) if day else riyadh(SystemClock().now()).date()
    except ValueError:
        print(f"majlis: the day must be YYYY-MM-DD, not {day!r}", file=sys.stderr)
        return 2
    engine = create_engine(settings.database_url_value)
    try:
        async with session_factory(engine)() as session:
            report = await day_report(session=session, day=chosen)
    finally:
        await engine.dispose()
    print("\n".join(report_lines(report)))
    return 0


def _dispatcher(settings: Settings, engine: AsyncEngine) -> Dispatcher:
    return Dispatcher(
        sessions=session_factory(engine),
        clock=SystemClock(),
        channels=channels_for(settings),
        links=links_for(settings),
        policy=policy_from(settings),
        organizer=settings.mail_from,
        days_off=calendar.days_off,
    )


async def _send_outbox(settings: Settings) -> None:
    engine = create_engine(settings.database_url_value)
    dispatcher = _dispatcher(settings, engine)
    try:
        report = await dispatcher.run_once()
    finally:
        await dispatcher.close()
        await engine.dispose()
    print(f"sent {report.sent} message(s); {report.retried} to try again, {report.failed} failed")


async def _work(settings: Settings) -> None:
    """The outbox worker: sends due messages until SIGTERM or SIGINT, finishing the batch in hand."""
    engine = create_engine(settings.database_url_value)
    dispatcher = _dispatcher(settings, engine)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    logging.getLogger(__name__).info("worker started (%s)", settings.notify_backend)
    try:
        await dispatcher.run_forever(stop, idle_seconds=min(settings.outbox_interval_seconds, 1.0))
    finally:
        await dispatcher.close()
        await engine.dispose()


def _record_id(text: str) -> int:
    """A row's id as typed: a positive whole number within the database's integer keys."""
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= ID_LIMIT:
        raise argparse.ArgumentTypeError(f"not an id: {text!r}")
    return int(text)


def _by_hand_arguments(command: argparse.ArgumentParser) -> None:
    """What a move or a placement by hand takes, as protocol's calendar page does."""
    command.add_argument("--slot", type=_record_id, required=True, help="the slot chosen (its id)")
    command.add_argument(
        "--reason",
        choices=[r.value for r in ChangeReason],
        help="the fairness record's reason (not with --directive: the reason is then the directive)",
    )
    command.add_argument("--text", required=True, help="the words of the reason, or of the official's directive")
    command.add_argument(
        "--directive",
        action="store_true",
        help="on the official's directive: inside the three days (today included); the applicant is also called",
    )
    command.add_argument("--by", required=True, metavar="USERNAME", help="the protocol staff (or administrator)")


def _checked(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """The rules between arguments that argparse cannot state; a usage error (exit 2) for the first broken."""
    if args.command in ("move", "place"):
        if args.directive and args.reason not in (None, ChangeReason.OFFICIAL_DIRECTIVE.value):
            parser.error("with --directive the reason recorded is the official's directive: leave out --reason")
        if not args.directive and args.reason is None:
            parser.error("--reason is required (unless --directive)")
    if args.command == "check-in" and (args.tracking_number is None) != (args.phone_last4 is None):
        parser.error("--tracking-number and --phone-last4 go together")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="majlis", description="The open-door audience platform.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve Majlis over HTTP")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--workers",
        type=int,
        help="processes answering on the port (SO_REUSEPORT); PostgreSQL only above 1. "
        "Default: the core count in production on PostgreSQL, 1 otherwise",
    )

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply every migration not yet applied")

    users = commands.add_parser("users", help="staff accounts")
    users_commands = users.add_subparsers(dest="users_command", required=True)
    create = users_commands.add_parser("create", help="create a staff account (the password is asked for)")
    create.add_argument("--username", required=True)
    create.add_argument("--name", required=True, help="full name as shown to colleagues")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--gender", required=True, choices=["male", "female"])
    create.add_argument(
        "--department", default="", metavar="CODE", help="a department liaison's department (that role only)"
    )
    create.add_argument(
        "--mission", default="", metavar="CODE", help="a mission's staff account's mission (that role only)"
    )
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    commands.add_parser("demo", help="load demo staff and requests (development only)")
    commands.add_parser("allocate", help="generate the coming sessions and place the waiting requests")
    commands.add_parser(
        "end-sessions", help="end the appointments of sessions that are over: no-shows, applicants not reached"
    )
    cli_simulate.add_parser(commands)
    day = commands.add_parser(
        "day-report", help="the day's audiences: time per audience against the 6 minutes, arrivals, no-shows"
    )
    day.add_argument("--day", help="the Riyadh date, YYYY-MM-DD (default today)")
    move = commands.add_parser(
        "move", help="move an appointment by hand to another slot (inside the three days on the official's directive)"
    )
    move.add_argument("--appointment", type=_record_id, required=True, help="the appointment to move (its id)")
    _by_hand_arguments(move)
    place = commands.add_parser(
        "place", help="place a waiting request by hand in a slot (inside the three days on the official's directive)"
    )
    place.add_argument("--tracking-number", required=True)
    _by_hand_arguments(place)
    check_in = commands.add_parser("check-in", help="check an applicant in at the desk of a reception centre")
    check_in.add_argument("--branch", required=True, help="the desk's branch code (e.g. riyadh)")
    who = check_in.add_mutually_exclusive_group(required=True)
    who.add_argument("--code", help="the arrival code of the confirmation message")
    who.add_argument("--tracking-number", help="the request's tracking number, with --phone-last4")
    who.add_argument("--appointment", type=_record_id, help="the appointment (its id)")
    check_in.add_argument("--phone-last4", metavar="DDDD", help="the last 4 digits of the request's phone")
    check_in.add_argument("--by", required=True, metavar="USERNAME", help="the desk's staff (intake desk or protocol)")
    cli_report.add_parser(commands)
    cli_two_factor.add_commands(commands)
    cli_retention.add_parser(commands)
    cli_followup.add_commands(commands)
    cli_followup_team.add_commands(commands)
    cli_whatsapp.add_parser(commands)
    cli_missions.add_commands(commands)
    cli_emergency_report.add_parser(commands)
    cli_backup.add_commands(commands)
    cli_bridge.add_parser(commands)
    cli_audit.add_parser(commands)
    cli_quality.add_parser(commands)
    emergency = commands.add_parser("emergency", help="the emergency line for citizens abroad")
    # Each module of the emergency line adds its own subcommands here.
    emergency_commands = emergency.add_subparsers(dest="emergency_command", required=True)
    cli_emergency.add_commands(emergency_commands)
    cli_emergency_ops.add_commands(emergency_commands)
    commands.add_parser("settings", help="print the settings in force, secrets masked")

    out = commands.add_parser("outbox", help="the message outbox")
    out_commands = out.add_subparsers(dest="outbox_command", required=True)
    out_commands.add_parser("send", help="send the messages that are due, once")
    commands.add_parser("worker", help="send due messages continuously (any number of workers may run)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _checked(parser, args)
    try:
        overrides = {}
        if args.command == "serve":
            overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
        settings = load_settings(**overrides)
    except SettingsError as exc:
        print(f"majlis: settings refused: {exc}", file=sys.stderr)
        return 2
    # Once for every command: JSON lines with the request id, or development's readable text (majlis.logs).
    logs.configure(settings.log_format)

    if args.command == "serve":
        workers = args.workers if args.workers is not None else serving.default_workers(settings)
        try:
            return serving.serve(settings, workers=workers)
        except serving.WorkersRefused as exc:
            print(f"majlis: {exc}", file=sys.stderr)
            return 2
    if args.command == "db":
        asyncio.run(_db_upgrade(settings))
        return 0
    if args.command == "users":
        return asyncio.run(_create_user(settings, args))
    if args.command == "demo":
        if not settings.is_development:
            print("majlis: demo data is for development only", file=sys.stderr)
            return 2
        asyncio.run(_load_demo(settings))
        return 0
    if args.command == "allocate":
        asyncio.run(_allocate(settings))
        return 0
    if args.command == "end-sessions":
        asyncio.run(_end_sessions(settings))
        return 0
    if args.command == cli_simulate.COMMAND:
        return cli_simulate.run(args)
    if args.command == "day-report":
        return asyncio.run(_day_report(settings, args.day))
    if args.command == "move":
        return asyncio.run(cli_day.move(settings, args))
    if args.command == "place":
        return asyncio.run(cli_day.place(settings, args))
    if args.command == "check-in":
        return asyncio.run(cli_day.check_in(settings, args))
    if args.command in cli_two_factor.COMMANDS:
        return cli_two_factor.run(settings, args)
    if args.command == cli_report.COMMAND:
        return cli_report.run(settings, args)
    if args.command == cli_retention.COMMAND:
        return cli_retention.run(settings, args)
    if args.command in cli_followup.COMMANDS:
        return cli_followup.run(settings, args)
    if args.command == "followup":
        return asyncio.run(cli_followup_team.run(settings, args))
    if args.command == cli_whatsapp.COMMAND:
        return cli_whatsapp.run(settings, args)
    if args.command in cli_missions.COMMANDS:
        return cli_missions.run(settings, args)
    if args.command == cli_emergency_report.COMMAND:
        return cli_emergency_report.run(settings, args)
    if args.command == "emergency" and args.emergency_command in cli_emergency.COMMANDS:
        return cli_emergency.run(settings, args)
    if args.command == "emergency" and args.emergency_command in cli_emergency_ops.COMMANDS:
        return cli_emergency_ops.run(settings, args)
    if args.command == cli_quality.COMMAND:
        return cli_quality.run(settings, args)
    if args.command == cli_audit.COMMAND:
        return cli_audit.run(settings, args)
    if args.command == cli_bridge.COMMAND:
        return cli_bridge.run(settings, args)
    if args.command in cli_backup.COMMANDS:
        return cli_backup.run(settings, args)
    if args.command == "settings":
        print(settings)
        return 0
    if args.command == "outbox":
        asyncio.run(_send_outbox(settings))
        return 0
    if args.command == "worker":
        asyncio.run(_work(settings))
        return 0
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
