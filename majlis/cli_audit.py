"""`majlis audit`: the fairness record's checks from the command line.

`majlis audit verify` walks the whole chain (fairness.verify) against the anchors held outside the database: the
anchor file's (settings.fairness_anchor_file, or --anchor-file) and any head typed with --anchor SEQ:HASH, as the
managers' daily e-mail gives it. Exit 0 when intact; 1 naming the first bad entry; 2 when an anchor given is not
one. `majlis audit anchor` sends today's anchor now, as the daily job does.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from fairness import anchors as fairness_anchors
from fairness.verify import Anchor, Verification, parse_anchor, verify_chain
from majlis.clock import SystemClock, riyadh
from majlis.db import create_engine, session_factory, transaction
from majlis.settings import Settings

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


async def _verify(settings: Settings, anchors: list[Anchor]) -> Verification:
    engine = create_engine(settings.database_url_value)
    try:
        async with session_factory(engine)() as session:
            return await verify_chain(session=session, anchors=anchors)
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
    result = asyncio.run(_verify(settings, anchors))
    if result.fault is not None:
        print(f"NOT intact: {result.fault.describe()}")
        print(f"checked {_entries(result.entries)} before it; anchors: {source}")
        return 1
    if result.head_seq is None:
        print(f"intact: the chain is empty; anchors: {source}")
    else:
        print(f"intact: {_entries(result.entries)}, head {result.head_seq}:{result.head_hash}")
        print(f"anchors matched: {result.anchors_checked} ({source})")
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


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.audit_command == "verify":
        return verify(settings, args)
    print(asyncio.run(_send(settings)))
    return 0
