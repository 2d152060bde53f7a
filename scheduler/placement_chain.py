"""The fairness chain's entries for placements, moves and displacements: built so that each explains itself.

The scheduler builds them from its own data and priority's (read through priority's functions) and hands
plain data to `fairness.chain.append`: `fairness` imports neither.

Each entry says the request's score (the effective one the queue ordered by) and its base score (the
rule's alone: the urgency its category implies, the category's weight, the waiting; no hand-made
change), the rule that placed it, the seat, the requests placed before it in the same run, and
`passed`: the OLDER requests waiting at that moment whose base score is at least this one's, that could
have sat in that seat (the allocator's `seat_refusal`, their other appointments aside) and did not get a
seat at least as early, each with the justification that allows it.

**Why only hand-made changes can make a pass within a run.** The allocator takes the requests in
effective-score order (ties to the older) and gives each its earliest compatible free seat. Let R take
seat S and Q be older with base(Q) >= base(R), S compatible with Q. If R was not raised by hand
(effective(R) <= base(R)) and Q not lowered by hand (effective(Q) >= base(Q)), then effective(Q) >=
base(Q) >= base(R) >= effective(R), and Q, older, comes first in the order. When Q's turn came S was free
(R took it later), so Q took S or an earlier seat: no pass. The exceptions are exactly a raise of R, a
lowering of Q (both ManualChange rows), or Q's applicant already holding (or just given) an appointment,
the allocator's rule of one live appointment per applicant. So in a whole run only the requests lowered
by hand and those whose applicant holds (or was just given) an appointment are looked at when R was not
raised, which keeps runs fast; the latter are listed with the justification "one_appointment". The
justification of a raise is R's latest hand-made change that RAISED it (a later lowering that left it
raised still is not one), of a lowering Q's latest change that lowered it.

**Only a whole run.** The argument needs every waiting request to take part, in priority order. A run
of a few (`only`: those owed a date; `ahead_of`: a request and those ahead of it) or a placement outside
a run puts its requests before everyone left out, so for those every waiting request is looked at; this
is decided from the run (`whole_run`: its length against everyone waiting), never from its rule's name.
Only the runs for a date Majlis owes (`OWED_RULES`: a cancelled session, a visitor who came and was not
reached) justify passing by their rule; a request whose applicant asked for another date is placed
through an `ahead_of` run under the rule "rescheduled", which passes nobody it should not, and any pass it
made anyway would show as unjustified. A pass found with none of these justifications is still recorded,
marked `"unjustified": true` (a queue adjustment written behind the record's back, for instance).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from cases import service as cases
from cases.models import Case
from fairness import chain
from fairness.models import ChainEntry, EntryKind
from majlis.clock import Clock
from priority import service as triage_service
from priority.chain_record import changes_of
from priority.models import ManualChange
from priority.queue import QueuePlace
from priority.score import URGENCY_POINTS, Urgency, priority_score
from scheduler.allocation import MIN_NOTICE, OpenSeat, Waiting, seat_refusal
from scheduler.models import Appointment

# Score differences below this are rounding, not a hand-made change.
EPSILON: Final = 1e-6
# How many of the requests placed before it in the run an entry names.
FIRST_BEFORE: Final = 5
_RAISING = {"urgency", "queue_position"}
# The runs that place only requests owed a new date (`scheduler.service.run_allocation(only=…)`).
OWED_RULES: Final = frozenset({"session_cancelled", "not_reached"})


def stamp(moment: datetime) -> str:
    """A moment as the chain writes it: ISO 8601 in UTC, to the second."""
    return moment.isoformat(timespec="seconds")


@dataclass(frozen=True)
class Given:
    """A placement made in this run: whose, when its seat starts, its score."""

    case_id: int
    applicant_id: int
    starts_at: datetime
    tracking_number: str
    score: float


@dataclass
class PlacementContext:
    """What the chain needs to explain the placements of one run (or one placement by hand) at `now`."""

    rule: str
    now: datetime
    waiting: Sequence[Waiting]
    places: Mapping[int, QueuePlace]
    notice: timedelta = MIN_NOTICE
    # The run's priority order's length; None for a placement by hand.
    total: int | None = None
    changes: Mapping[int, list[ManualChange]] = field(default_factory=dict)
    given: list[Given] = field(default_factory=list)
    # The run's open seats by (slot id, seat), so each placement need not read its seat again.
    seats: Mapping[tuple[int, int], OpenSeat] = field(default_factory=dict)

    def raised(self, case_id: int) -> bool:
        place = self.places.get(case_id)
        return place is not None and place.score > place.base_score + EPSILON

    def lowered(self, case_id: int) -> bool:
        place = self.places.get(case_id)
        return place is not None and place.score < place.base_score - EPSILON


async def context(
    *,
    session: AsyncSession,
    rule: str,
    now: datetime,
    waiting: Sequence[Waiting],
    places: Mapping[int, QueuePlace],
    notice: timedelta = MIN_NOTICE,
    total: int | None = None,
    also: set[int] | None = None,
) -> PlacementContext:
    """The context of a run: the hand-made changes of every request whose effective score differs from its
    base score (and of `also`, the request placed by hand or moved) read once."""
    built = PlacementContext(rule=rule, now=now, waiting=waiting, places=places, notice=notice, total=total)
    adjusted = {w.case_id for w in waiting if built.raised(w.case_id) or built.lowered(w.case_id)} | (also or set())
    built.changes = await changes_of(session=session, case_ids=adjusted, fields=_RAISING)
    return built


async def place_of(*, session: AsyncSession, clock: Clock, case: Case) -> QueuePlace | None:
    """A request's scores now, as the queue reckons them (`priority.queue.awaiting_audience`), whatever its
    status: for a request moved by hand, which holds an appointment and so is not in the queue."""
    triage = (await triage_service.triages(session=session, case_ids={case.id})).get(case.id)
    if triage is None or triage.urgency is None or triage.category_code is None:
        return None
    category = await triage_service.category(session=session, code=triage.category_code)
    weight = category.weight if category else 0
    waited = clock.now() - case.submitted_at
    score = priority_score(urgency=triage.urgency, category_weight=weight, waited=waited)
    implied = category.implied_urgency if category else triage.urgency
    base = priority_score(urgency=implied, category_weight=weight, waited=waited)
    return QueuePlace(case, triage.urgency, triage.category_code, base, score + triage.queue_adjustment)


def by_hand(*, directive: bool, reason: str, text: str) -> dict[str, Any]:
    """The justification of a seat chosen by hand (or on the official's directive): it allows any pass."""
    return {"by": "directive" if directive else "by_hand", "reason": reason, "text": text}


def _manual(change: ManualChange, by: str) -> dict[str, Any]:
    return {
        "by": by,
        "field": change.field.value,
        "before": change.before,
        "after": change.after,
        "reason": change.reason.value,
        "text": change.reason_text,
        "manual_change_id": change.id,
    }


def _direction(change: ManualChange) -> int:
    """+1 when the change raised the request in the queue, -1 when it lowered it, 0 otherwise."""
    try:
        if change.field.value == "urgency":
            before, after = float(URGENCY_POINTS[Urgency(change.before)]), float(URGENCY_POINTS[Urgency(change.after)])
        else:
            before, after = float(change.before or 0), float(change.after or 0)
    except ValueError:
        return 0
    return (after > before) - (after < before)


def _latest(changes: Sequence[ManualChange], direction: int) -> ManualChange | None:
    """The latest change (they come latest first) that moved the request that way."""
    return next((c for c in changes if _direction(c) == direction), None)


def whole_run(ctx: PlacementContext) -> bool:
    """True when the placements come from a run over everyone waiting, in priority order: only then does the
    module docstring's argument hold. A run of a few (`only`, `ahead_of`) or one placement outside a run
    can put its requests before anyone left out, whatever the rule is called."""
    return ctx.total is not None and ctx.total >= len(ctx.waiting)


def _passes(
    ctx: PlacementContext,
    *,
    case_id: int,
    submitted_at: datetime,
    base_score: float,
    seat: OpenSeat,
    by_hand: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    """The older requests of at least this base score that could have had the seat, with their justification."""
    raised = ctx.raised(case_id)
    own = ctx.changes.get(case_id, [])
    given = {g.case_id: g.starts_at for g in ctx.given}
    given_applicants = {g.applicant_id for g in ctx.given}
    # In a whole run only a raise of this request, a lowering of the passed one, or the passed one's applicant
    # holding an appointment can make a pass (the module's docstring), so only those are looked at; a raise,
    # a seat chosen by hand, or a run of a few looks at everyone waiting.
    wide = raised or by_hand is not None or not whole_run(ctx)
    candidates = (
        ctx.waiting
        if wide
        else [
            w
            for w in ctx.waiting
            if ctx.lowered(w.case_id) or w.has_live_appointment or w.applicant_id in given_applicants
        ]
    )
    found = []
    for other in candidates:
        place = ctx.places.get(other.case_id)
        if other.case_id == case_id or place is None or other.submitted_at >= submitted_at:
            continue
        if place.base_score < base_score - EPSILON:
            continue
        got = given.get(other.case_id)
        if got is not None and got <= seat.starts_at:
            continue
        free = dataclasses.replace(other, has_live_appointment=False)
        if seat_refusal(seat, free, ctx.now, notice=ctx.notice) is not None:
            continue
        justification: dict[str, Any] | None = by_hand
        raising = _latest(own, +1) if raised else None
        if justification is None and raising is not None:
            justification = _manual(raising, "raised")
        lowering = _latest(ctx.changes.get(other.case_id, []), -1) if ctx.lowered(other.case_id) else None
        if justification is None and lowering is not None:
            justification = _manual(lowering, "lowered")
        if justification is None and (other.has_live_appointment or other.applicant_id in given_applicants):
            justification = {"by": "one_appointment"}
        if justification is None and ctx.rule in OWED_RULES:
            # Owed a new date at once, before anyone else: a cancelled session's applicants, or those who
            # came and were not reached. Asking for another date ("rescheduled") is not such a debt.
            justification = {"by": ctx.rule}
        found.append(
            {
                "case_id": other.case_id,
                "tracking_number": other.tracking_number,
                "base_score": round(place.base_score, 3),
                "score": round(place.score, 3),
                "submitted_at": stamp(other.submitted_at),
                "justification": justification,
            }
        )
    return found


async def placement(
    *,
    session: AsyncSession,
    clock: Clock,
    ctx: PlacementContext,
    kind: EntryKind = EntryKind.PLACEMENT,
    case_id: int,
    applicant_id: int,
    tracking_number: str,
    submitted_at: datetime,
    subject: QueuePlace | None,
    appointment_id: int,
    seat: OpenSeat,
    room_id: int | None,
    room: str,
    actor_id: int | None,
    rank: int | None,
    explanation: str,
    by_hand: dict[str, Any] | None = None,
    justification: str = "",
) -> ChainEntry:
    """Appends the placement (or move) and remembers it in the context, for the run's later placements."""
    score = subject.score if subject else 0.0
    base = subject.base_score if subject else 0.0
    passed = _passes(ctx, case_id=case_id, submitted_at=submitted_at, base_score=base, seat=seat, by_hand=by_hand)
    change = {
        "tracking_number": tracking_number,
        "appointment_id": appointment_id,
        "rule": ctx.rule,
        "score": round(score, 3),
        "base_score": round(base, 3),
        "urgency": subject.urgency.value if subject else None,
        "category": subject.category if subject else None,
        "rank": rank,
        "total": ctx.total,
        "seat": {
            "slot_id": seat.slot_id,
            "seat": seat.seat,
            "starts_at": stamp(seat.starts_at),
            "room_id": room_id,
            "room": room,
            "branch": seat.branch,
            "mode": seat.mode.value,
            "women_section": seat.women_section,
            "accessible": seat.accessible,
        },
        "ahead": len(ctx.given),
        "before": [
            {"tracking_number": g.tracking_number, "score": round(g.score, 3)} for g in ctx.given[:FIRST_BEFORE]
        ],
        "passed": passed,
        "unjustified": any(p["justification"] is None for p in passed),
        "explanation": explanation,
    }
    entry = await chain.append(
        session=session,
        clock=clock,
        kind=kind,
        actor_id=actor_id,
        case_id=case_id,
        change=change,
        justification=justification,
    )
    ctx.given.append(Given(case_id, applicant_id, seat.starts_at, tracking_number, score))
    return entry


# The critical rule, as the displacement's justification.
DISPLACEMENT_RULE = (
    "critical rule: a critical request with no compatible seat at least three days away takes the seat of "
    "the lowest-priority scheduled, unconfirmed appointment at least three days away that it can use; "
    "this seat went to request {number}, and this request waits again to be placed by the same run"
)


async def displacement(
    *,
    session: AsyncSession,
    clock: Clock,
    actor_id: int | None,
    case_id: int,
    tracking_number: str,
    appointment_id: int,
    slot_id: int,
    seat: int,
    starts_at: datetime,
    urgency: str | None,
    for_case_id: int,
    for_tracking_number: str,
) -> ChainEntry:
    """An appointment released so that a critical request may have its seat."""
    return await chain.append(
        session=session,
        clock=clock,
        kind=EntryKind.DISPLACEMENT,
        actor_id=actor_id,
        case_id=case_id,
        change={
            "tracking_number": tracking_number,
            "appointment_id": appointment_id,
            "seat": {"slot_id": slot_id, "seat": seat, "starts_at": stamp(starts_at)},
            "urgency": urgency,
            "rule": "critical_displacement",
            "for_case_id": for_case_id,
            "for_tracking_number": for_tracking_number,
        },
        justification=DISPLACEMENT_RULE.format(number=for_tracking_number),
    )


async def displaced(
    *,
    session: AsyncSession,
    clock: Clock,
    actor_id: int | None,
    appointment: Appointment,
    starts_at: datetime,
    by: Waiting,
) -> ChainEntry:
    """The displacement of `appointment` for the critical request `by` (scheduler.urgent.place_urgent_arrival)."""
    case = await cases.get_case(session=session, case_id=appointment.case_id)
    triage = (await triage_service.triages(session=session, case_ids={appointment.case_id})).get(appointment.case_id)
    return await displacement(
        session=session,
        clock=clock,
        actor_id=actor_id,
        case_id=appointment.case_id,
        tracking_number=case.tracking_number if case else "",
        appointment_id=appointment.id,
        slot_id=appointment.slot_id,
        seat=appointment.seat,
        starts_at=starts_at,
        urgency=triage.urgency.value if triage and triage.urgency else None,
        for_case_id=by.case_id,
        for_tracking_number=by.tracking_number,
    )
