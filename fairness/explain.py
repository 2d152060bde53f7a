"""The placements read back from the fairness chain: each one's score, rule, seat, who went before it, and
whom it passed, with the justification that allows each pass.

The chain's change of a placement (written by `scheduler.placement_chain`) is built to explain itself, so this
module only reads: it never recomputes a placement from today's rows, which may have changed since. An
auditor reads what was hashed at the time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from fairness.chain import canonical, change_of
from fairness.models import ChainEntry, EntryKind

# The kinds whose entries give a request a seat: a placement, and a move by hand to another seat.
PLACING_KINDS: Final = (EntryKind.PLACEMENT, EntryKind.MOVE)
# Entries read per query when scanning the whole chain.
_BATCH: Final = 2000


@dataclass(frozen=True)
class Justification:
    """Why a pass is allowed.

    `by`: "raised" (a hand-made change raised this request: urgency or queue position), "lowered" (a
    hand-made change lowered the passed request: urgency or queue position), "by_hand" (protocol chose the
    seat by hand, or on the official's directive), "one_appointment" (the passed applicant already held, or
    was given in the same run, an appointment: the allocator's rule of one live appointment per applicant),
    "session_cancelled" and "not_reached" (the applicants of a cancelled session, and those who came and
    were not reached,
    are owed a new date at once, ahead of the queue).
    """

    by: str
    field: str = ""
    before: str = ""
    after: str = ""
    reason: str = ""
    text: str = ""
    manual_change_id: int | None = None


@dataclass(frozen=True)
class Passed:
    """An older request of at least this one's rule-based score that could have sat in the seat, and did not."""

    case_id: int
    tracking_number: str
    base_score: float
    score: float
    submitted_at: str
    justification: Justification | None


@dataclass(frozen=True)
class Before:
    """A request placed earlier in the same run (all higher in priority order)."""

    tracking_number: str
    score: float


@dataclass(frozen=True)
class Seat:
    slot_id: int
    seat: int
    starts_at: str
    room_id: int | None
    room: str
    branch: str
    mode: str
    women_section: bool
    accessible: bool


@dataclass(frozen=True)
class PlacementExplanation:
    """One placement (or move) as the chain recorded it."""

    seq: int
    hash: str
    at: datetime
    actor_id: int | None
    kind: EntryKind
    case_id: int | None
    tracking_number: str
    appointment_id: int | None
    # allocation_run, urgent_on_routing, urgent_after_no_show, displacement_refill, session_cancelled, not_reached,
    # rescheduled, backfill, by_hand, directive, demo (the kind says whether it was a move)
    rule: str
    score: float
    base_score: float
    urgency: str
    category: str
    # Place in the run's priority order and the run's size; None for a placement by hand or a move.
    rank: int | None
    total: int | None
    seat: Seat
    ahead: int
    before: tuple[Before, ...]
    passed: tuple[Passed, ...]
    justification: str
    explanation: str

    @property
    def unjustified(self) -> bool:
        """Whether it passed someone with no justification recorded."""
        return any(p.justification is None for p in self.passed)


def _justification(value: Any) -> Justification | None:
    if not isinstance(value, Mapping):
        return None
    return Justification(
        by=str(value.get("by", "")),
        field=str(value.get("field", "")),
        before=str(value.get("before", "")),
        after=str(value.get("after", "")),
        reason=str(value.get("reason", "")),
        text=str(value.get("text", "")),
        manual_change_id=value.get("manual_change_id"),
    )


def _seat(value: Mapping[str, Any]) -> Seat:
    return Seat(
        slot_id=int(value.get("slot_id", 0)),
        seat=int(value.get("seat", 0)),
        starts_at=str(value.get("starts_at", "")),
        room_id=value.get("room_id"),
        room=str(value.get("room", "")),
        branch=str(value.get("branch", "")),
        mode=str(value.get("mode", "")),
        women_section=bool(value.get("women_section", False)),
        accessible=bool(value.get("accessible", False)),
    )


def explanation_of(entry: ChainEntry) -> PlacementExplanation:
    """The typed reading of one placement or move entry."""
    if entry.kind not in PLACING_KINDS:
        raise ValueError(f"entry {entry.seq} is a {entry.kind.value}, not a placement")
    change = change_of(entry)
    return PlacementExplanation(
        seq=entry.seq,
        hash=entry.hash,
        at=entry.at,
        actor_id=entry.actor_id,
        kind=entry.kind,
        case_id=entry.case_id,
        tracking_number=str(change.get("tracking_number", "")),
        appointment_id=change.get("appointment_id"),
        rule=str(change.get("rule", "")),
        score=float(change.get("score", 0.0)),
        base_score=float(change.get("base_score", 0.0)),
        urgency=str(change.get("urgency") or ""),
        category=str(change.get("category") or ""),
        rank=change.get("rank"),
        total=change.get("total"),
        seat=_seat(change.get("seat") or {}),
        ahead=int(change.get("ahead", 0)),
        before=tuple(
            Before(str(b.get("tracking_number", "")), float(b.get("score", 0.0))) for b in change.get("before", [])
        ),
        passed=tuple(
            Passed(
                case_id=int(p.get("case_id", 0)),
                tracking_number=str(p.get("tracking_number", "")),
                base_score=float(p.get("base_score", 0.0)),
                score=float(p.get("score", 0.0)),
                submitted_at=str(p.get("submitted_at", "")),
                justification=_justification(p.get("justification")),
            )
            for p in change.get("passed", [])
        ),
        justification=entry.justification,
        explanation=str(change.get("explanation", "")),
    )


# What reading a change that is not what chain.append wrote raises (an entry altered behind Majlis's back).
_UNREADABLE = (ValueError, TypeError, KeyError, AttributeError)


def _readable(entries: Iterable[ChainEntry]) -> list[PlacementExplanation]:
    """The entries' explanations, leaving out any whose change cannot be read: such an entry was altered, and
    the chain's verification (fairness.verify) names it; the listings go on showing the others."""
    found = []
    for entry in entries:
        try:
            found.append(explanation_of(entry))
        except _UNREADABLE:
            continue
    return found


def _placing() -> Select[ChainEntry]:
    return select(ChainEntry).where(ChainEntry.kind.in_(PLACING_KINDS)).order_by(ChainEntry.seq)


async def placement_explanations(*, session: AsyncSession, case_id: int) -> list[PlacementExplanation]:
    """Every placement and move of one request, oldest first."""
    rows = await session.scalars(_placing().where(ChainEntry.case_id == case_id))
    return _readable(rows)


async def all_placements(
    *,
    session: AsyncSession,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
    rule: str | None = None,
    passed_someone: bool = False,
) -> list[PlacementExplanation]:
    """The placements and moves recorded in [since, until), newest first, at most `limit`; only those of `rule`,
    and only those that passed someone, when asked.

    Both filters are read in the stored canonical JSON (keys sorted, no spaces: chain.canonical), so they
    narrow the query before the limit rather than the page after it: an older match is never hidden behind
    newer entries that do not match. A text staff wrote cannot imitate them: its quotes are escaped.
    """
    query = select(ChainEntry).where(ChainEntry.kind.in_(PLACING_KINDS))
    if rule is not None:
        query = query.where(ChainEntry.change.contains(canonical({"rule": rule})[1:-1], autoescape=True))
    if passed_someone:
        query = query.where(ChainEntry.change.not_like('%"passed":[]%'))
    if since is not None:
        query = query.where(ChainEntry.at >= since)
    if until is not None:
        query = query.where(ChainEntry.at < until)
    rows = await session.scalars(query.order_by(ChainEntry.seq.desc()).limit(limit))
    return _readable(rows)


async def unjustified(*, session: AsyncSession) -> list[PlacementExplanation]:
    """Every placement or move that passed an older request of at least its rule-based score with no
    justification, oldest first.

    Reads the passes themselves, not the entry's "unjustified" flag, so an entry whose flag was written
    wrongly is still caught. Only entries that passed someone are read: the canonical JSON of one that
    passed nobody holds `"passed":[]`.
    """
    found: list[PlacementExplanation] = []
    after = 0
    while True:
        batch: Sequence[ChainEntry] = list(
            await session.scalars(
                _placing().where(ChainEntry.seq > after, ChainEntry.change.not_like('%"passed":[]%')).limit(_BATCH)
            )
        )
        if not batch:
            return found
        found.extend(explained for explained in _readable(batch) if explained.unjustified)
        after = batch[-1].seq
