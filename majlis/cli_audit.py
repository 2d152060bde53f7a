"""`majlis audit`: the fairness record's checks from the command line.

`majlis audit verify` walks the whole chain (fairness.verify) against the anchors held outside the database: the
anchor file's (settings.fairness_anchor_file, or --anchor-file) and any head typed with --anchor SEQ:HASH, as the
managers' daily e-mail gives it. Exit 0 when intact; 1 naming the first bad entry; 2 when an anchor given is not
one; 3 when intact but checked against no anchor although the database records anchors sent (a chain rewritten
with its head, the anchor file deleted, would otherwise pass). `majlis audit anchor` sends today's anchor now, as
the daily job does. `majlis audit explain TRACKING` prints one request's placements as the chain recorded them
(score, rule, seat, who went before, whom it passed and why); `majlis audit fairness` prints the live comparison
of waits at equal priority (fairness.equal_wait). Neither prints an applicant's name, national ID or phone: the
chain holds none.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from cases import service as cases
from fairness import anchors as fairness_anchors
from fairness.equal_wait import table as equal_wait_table
from fairness.explain import PlacementExplanation, placement_explanations
from fairness.verify import Anchor, Verification, parse_anchor, verify_chain
from majlis.clock import SystemClock, riyadh
from majlis.db import create_engine, session_factory, transaction
from majlis.settings import Settings
from priority.queue import fairness_report

COMMAND = "audit"


def _anchor(text: str) -> Anchor:
    try:
        return parse_anchor(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = commands.add_parser(COMMAND, help="the fairness record: verify the hash chain, send today's anchor")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify", help="check every entry of the chain, and the anchors held outside the database"
    )
    verify.add_argument(
        "--anchor-file",
        type=Path,
        metavar="FILE",
        help="the anchors' file, one JSON line a day (default: MAJLIS_FAIRNESS_ANCHOR_FILE, when it exists)",
    )
    verify.add_argument(
        "--anchor",
        type=_anchor,
        action="append",
        default=[],
        metavar="SEQ:HASH",
        help="a head as the daily e-mail gives it (any number)",
    )
    audit_commands.add_parser("anchor", help="send today's anchor now (file and e-mail), unless it went already")
    explain = audit_commands.add_parser(
        "explain", help="one request's placements as the chain recorded them: score, rule, seat, whom it passed and why"
    )
    explain.add_argument("tracking_number", help="the request's tracking number")
    audit_commands.add_parser(
        "fairness", help="the live comparison of waits at equal priority (gender, applicant kind, channel, branch)"
    )


async def _verify(settings: Settings, anchors: list[Anchor]) -> tuple[Verification, int]:
    """The verification, and how many anchors the database says were sent (to warn when none was checked)."""
    engine = create_engine(settings.database_url_value)
    try:
        async with session_factory(engine)() as session:
            sent = len(await fairness_anchors.recent(session=session, limit=1))
            return await verify_chain(session=session, anchors=anchors), sent
    finally:
        await engine.dispose()


def _anchors(settings: Settings, args: argparse.Namespace) -> tuple[list[Anchor], str] | None:
    """The anchors to check against and where they came from; None (the refusal printed) for a bad file."""
    path: Path | None = args.anchor_file
    if path is None and Path(settings.fairness_anchor_file).exists():
        path = Path(settings.fairness_anchor_file)
    anchors: list[Anchor] = list(args.anchor)
    sources = [f"{len(args.anchor)} given"] if args.anchor else []
    if path is not None:
        try:
            from_file = fairness_anchors.read_file(path)
        except OSError as exc:
            print(f"majlis: --anchor-file: cannot read {path}: {exc.strerror}", file=sys.stderr)
            return None
        except fairness_anchors.AnchorFileError as exc:
            print(f"majlis: --anchor-file: {exc}", file=sys.stderr)
            return None
        anchors += from_file
        sources.append(f"{len(from_file)} from {path}")
    return anchors, ", ".join(sources) or "none"


def _entries(count: int) -> str:
    return f"{count} entry" if count == 1 else f"{count} entries"


def verify(settings: Settings, args: argparse.Namespace) -> int:
    found = _anchors(settings, args)
    if found is None:
        return 2
    anchors, source = found
    result, sent = asyncio.run(_verify(settings, anchors))
    if result.fault is not None:
        print(f"NOT intact: {result.fault.describe()}")
        print(f"checked {_entries(result.entries)} before it; anchors: {source}")
        return 1
    if result.head_seq is None:
        print(f"intact: the chain is empty; anchors: {source}")
    else:
        print(f"intact: {_entries(result.entries)}, head {result.head_seq}:{result.head_hash}")
        print(f"anchors matched: {result.anchors_checked} ({source})")
    if sent and not anchors:
        # A chain rewritten with its head is consistent in itself: only an anchor kept elsewhere shows it.
        print(
            "NOT CHECKED against any anchor, though the database records anchors sent: a chain rewritten with its "
            "head cannot be ruled out. Give the anchor file (--anchor-file) or a head from the e-mail (--anchor).",
            file=sys.stderr,
        )
        return 3
    return 0


async def _send(settings: Settings) -> str:
    """Sends today's anchor and says what was done."""
    engine = create_engine(settings.database_url_value)
    path = Path(settings.fairness_anchor_file)
    clock = SystemClock()
    try:
        async with transaction(session_factory(engine)) as session:
            anchor = await fairness_anchors.send_daily(
                session=session, clock=clock, anchor_file=path, recipients=settings.fairness_anchor_recipients
            )
            latest = await fairness_anchors.recent(session=session, limit=1)
    finally:
        await engine.dispose()
    if anchor is not None:
        told = len(settings.fairness_anchor_recipients)
        return (
            f"anchor of {anchor.day}: {anchor.seq}:{anchor.hash}\n"
            f"written to {path}; e-mailed to {told} address(es) through the outbox"
        )
    if latest and latest[0].day == riyadh(clock.now()).date():
        return f"today's anchor went already: {latest[0].seq}:{latest[0].hash}"
    return "the chain is empty: nothing to anchor"


def explanation_lines(p: PlacementExplanation) -> list[str]:
    """One placement in plain English lines, as `majlis audit explain` prints it."""
    who = "Majlis, by rule" if p.actor_id is None else f"staff member {p.actor_id}"
    rank = "" if p.rank is None else f", rank {p.rank} of {p.total}"
    lines = [
        f"entry {p.seq} ({p.hash[:16]}…), {riyadh(p.at):%Y-%m-%d %H:%M} Riyadh, {p.kind.value} by {who}: rule {p.rule}",
        f"  score {p.score:.1f} (by rule alone {p.base_score:.1f}), {p.urgency}, {p.category}{rank}",
        f"  seat: {p.seat.mode}, {p.seat.branch}, {p.seat.room}, {p.seat.starts_at}, seat {p.seat.seat}",
        f"  placed before it in the run: {p.ahead}"
        + ("" if not p.before else " (" + ", ".join(f"{b.tracking_number} {b.score:.1f}" for b in p.before) + ")"),
    ]
    for passed in p.passed:
        why = passed.justification
        if why is None:
            because = "NO JUSTIFICATION"
        elif why.field:
            because = f"{why.by} ({why.field} {why.before}→{why.after}, {why.reason}: {why.text})"
        else:
            because = why.by
        lines.append(f"  passed {passed.tracking_number} (by rule {passed.base_score:.1f}): {because}")
    if p.justification:
        lines.append(f"  justification: {p.justification}")
    return lines


async def _explain(settings: Settings, tracking_number: str) -> list[PlacementExplanation] | None:
    engine = create_engine(settings.database_url_value)
    try:
        async with session_factory(engine)() as session:
            case = await cases.find_by_tracking_number(session=session, tracking_number=tracking_number)
            if case is None:
                return None
            return await placement_explanations(session=session, case_id=case.id)
    finally:
        await engine.dispose()


def explain(settings: Settings, args: argparse.Namespace) -> int:
    found = asyncio.run(_explain(settings, args.tracking_number))
    if found is None:
        print(f"majlis: no request has the tracking number {args.tracking_number}", file=sys.stderr)
        return 1
    if not found:
        print(f"{args.tracking_number}: never placed")
        return 0
    for placement in found:
        print("\n".join(explanation_lines(placement)))
    return 0


async def _fairness(settings: Settings) -> str:
    engine = create_engine(settings.database_url_value)
    try:
        async with session_factory(engine)() as session:
            report = await fairness_report(session=session, clock=SystemClock())
    finally:
        await engine.dispose()
    unjustified = sum(1 for jump in report.jumps if jump.justification is None)
    return (
        equal_wait_table(report.equal_wait)
        + f"\n\nqueue jumps: {len(report.jumps)}, of which without a recorded justification: {unjustified}"
    )


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.audit_command == "verify":
        return verify(settings, args)
    if args.audit_command == "explain":
        return explain(settings, args)
    if args.audit_command == "fairness":
        print(asyncio.run(_fairness(settings)))
        return 0
    print(asyncio.run(_send(settings)))
    return 0
