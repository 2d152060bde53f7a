"""The daily anchor: the chain's head (position and hash) sent outside the database once a day.

A chain rewritten from some entry on with every hash recomputed is consistent with itself; the head held
elsewhere is not (fairness.verify). So once a day the head goes two ways, each out of reach of whoever can write
the database: a JSON line appended to the anchor file (settings.fairness_anchor_file, on the server's disk, for
`majlis audit verify`), and an e-mail through the outbox to the managers' addresses
(settings.fairness_anchor_recipients), which they keep and can give to `majlis audit verify --anchor SEQ:HASH`.

A fairness_anchors row records that the day's anchor went, so it goes once a day: the row and the e-mails are
written in one savepoint, the day's primary key refusing a second run's; the file line is written after them.
If the transaction then fails, the line stays and the next run writes another: an extra anchor is still a
true one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fairness.chain import head
from fairness.models import ChainAnchor
from fairness.verify import Anchor, anchor_from_json, moment
from majlis.clock import Clock, riyadh
from majlis.errors import N_
from majlis.i18n import shipped_catalogs
from notify.outbox import enqueue

log = logging.getLogger(__name__)

PURPOSE = "fairness:anchor"
SUBJECT = N_("Fairness record anchor for {day}: entry {seq}")
BODY = N_(
    "The fairness record's head on {day}: entry {seq}, hash {hash}. Keep this e-mail. If the record is ever "
    "rewritten, even with every hash recomputed, this command shows it:"
)
# Between the Arabic text and the English one, as the other e-mails to staff.
_RULE = "—" * 24
LANGUAGES = ("ar", "en")


class AnchorFileError(ValueError):
    """A line of the anchor file that is not an anchor: the file's name, the line's number and what is wrong."""


def _say(language: str, message: str, **params: object) -> str:
    return shipped_catalogs().gettext(language, message, **params)


def command(seq: int, value: str) -> str:
    return f"majlis audit verify --anchor {seq}:{value}"


def body(day: date, seq: int, value: str) -> str:
    """The e-mail's text: Arabic, a rule, English; the hash and the command as they are, for copying."""
    arabic, english = (_say(language, BODY, day=day.isoformat(), seq=seq, hash=value) for language in LANGUAGES)
    return "\n".join([arabic, command(seq, value), "", _RULE, "", english, command(seq, value), ""])


def subject(day: date, seq: int) -> str:
    return " / ".join(_say(language, SUBJECT, day=day.isoformat(), seq=seq) for language in LANGUAGES)


def append_line(path: Path, anchor: ChainAnchor) -> None:
    """Appends the anchor's line to the file, on the disk before it returns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"day": anchor.day.isoformat(), "seq": anchor.seq, "hash": anchor.hash, "at": moment(anchor.at)})
    with path.open("a", encoding="utf-8") as file:
        file.write(line + "\n")
        file.flush()
        os.fsync(file.fileno())


def read_file(path: Path) -> list[Anchor]:
    """Every anchor in the file, in its order; AnchorFileError on the first line that is not one."""
    anchors = []
    with path.open(encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                anchors.append(anchor_from_json(line))
            except ValueError as exc:
                raise AnchorFileError(f"{path}, line {number}: {exc}") from None
    return anchors


async def send_daily(
    *, session: AsyncSession, clock: Clock, anchor_file: Path, recipients: Sequence[str]
) -> ChainAnchor | None:
    """Sends today's anchor (Riyadh's day) unless it went already or the chain is empty; flushed, not committed."""
    now = clock.now()
    day = riyadh(now).date()
    if await session.get(ChainAnchor, day) is not None:
        return None
    last = await head(session=session)
    if last is None:
        return None
    anchor = ChainAnchor(day=day, seq=last.seq, hash=last.hash, at=now)
    try:
        async with session.begin_nested():
            session.add(anchor)
            await session.flush()
            for recipient in recipients:
                await enqueue(
                    session=session,
                    clock=clock,
                    purpose=PURPOSE,
                    channel="email",
                    recipient=recipient,
                    language="ar",
                    body=body(day, last.seq, last.hash),
                    payload={"subject": subject(day, last.seq)},
                    flush=False,
                )
            await session.flush()
    except IntegrityError:
        # Another run sent today's meanwhile.
        log.info("the fairness anchor of %s went already", day)
        return None
    # Written and synced to the disk off the event loop: a slow disk must not hold up the requests being served.
    await asyncio.to_thread(append_line, anchor_file, anchor)
    return anchor


async def recent(*, session: AsyncSession, limit: int = 10) -> list[ChainAnchor]:
    """The anchors sent last, newest first: for showing only (verification never trusts this table)."""
    return list(await session.scalars(select(ChainAnchor).order_by(ChainAnchor.day.desc()).limit(limit)))
