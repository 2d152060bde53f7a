"""The chain's entries for score changes, overrides, merges and displacements, written where each happens.

Each helper appends in the caller's transaction (`fairness.chain.append`). The change holds tracking
numbers, codes and scores, never a name, national ID or phone: auditors read it. Placements and moves,
which must explain themselves, are in `fairness.placement_record`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cases import service as cases
from fairness import chain
from fairness.models import ChainEntry, EntryKind
from majlis.clock import Clock
from priority.models import Category, ManualChange, Triage
from scheduler.allocation import Waiting
from scheduler.models import Appointment


def stamp(moment: datetime) -> str:
    """A moment as the chain writes it: ISO 8601 in UTC, to the second."""
    return moment.isoformat(timespec="seconds")


async def classification(*, session: AsyncSession, triage: Triage) -> dict[str, Any]:
    """What the queue orders a request by: urgency, category and its weight and implied urgency, the
    points added by hand, and the route."""
    category = await session.get(Category, triage.category_code) if triage.category_code else None
    return {
        "urgency": triage.urgency.value if triage.urgency else None,
        "category": triage.category_code,
        "weight": category.weight if category else None,
        "implied_urgency": category.implied_urgency.value if category else None,
        "queue_adjustment": triage.queue_adjustment,
        "route": triage.route.value if triage.route else None,
    }


async def score(
    *,
    session: AsyncSession,
    clock: Clock,
    case_id: int,
    tracking_number: str,
    actor_id: int | None,
    what: str,
    before: dict[str, Any],
    triage: Triage,
) -> ChainEntry:
    """A classification set or changed (`what`: classify, route, move_up), before and after."""
    after = await classification(session=session, triage=triage)
    return await chain.append(
        session=session,
        clock=clock,
        kind=EntryKind.SCORE,
        actor_id=actor_id,
        case_id=case_id,
        change={"tracking_number": tracking_number, "what": what, "before": before, "after": after},
    )


async def override(*, session: AsyncSession, clock: Clock, change: ManualChange, tracking_number: str) -> ChainEntry:
    """A hand-made change of the fairness record (priority.models.ManualChange), its reason's words as the
    justification."""
    # Flushed first, so the entry can name the row's id.
    await session.flush()
    return await chain.append(
        session=session,
        clock=clock,
        kind=EntryKind.OVERRIDE,
        actor_id=change.actor_id,
        case_id=change.case_id,
        change={
            "tracking_number": tracking_number,
            "manual_change_id": change.id,
            "field": change.field.value,
            "before": change.before,
            "after": change.after,
            "reason": change.reason.value,
        },
        justification=change.reason_text,
    )


async def merge(
    *,
    session: AsyncSession,
    clock: Clock,
    actor_id: int | None,
    duplicate_case_id: int,
    duplicate_number: str,
    original_case_id: int,
    original_number: str,
    similarity: float,
) -> ChainEntry:
    """A request closed as a duplicate of another, its text kept on the original."""
    return await chain.append(
        session=session,
        clock=clock,
        kind=EntryKind.MERGE,
        actor_id=actor_id,
        case_id=duplicate_case_id,
        change={
            "tracking_number": duplicate_number,
            "original_case_id": original_case_id,
            "original_tracking_number": original_number,
            "similarity": round(similarity, 3),
        },
    )


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
    triage = await session.get(Triage, appointment.case_id)
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


async def changes_of(*, session: AsyncSession, case_ids: set[int], fields: set[str]) -> dict[int, list[ManualChange]]:
    """The hand-made changes of these fields for each case, latest first."""
    if not case_ids:
        return {}
    rows = await session.scalars(
        select(ManualChange)
        .where(ManualChange.case_id.in_(case_ids), ManualChange.field.in_(fields))
        .order_by(ManualChange.at.desc(), ManualChange.id.desc())
    )
    found: dict[int, list[ManualChange]] = {}
    for row in rows:
        found.setdefault(row.case_id, []).append(row)
    return found
