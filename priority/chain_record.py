"""The fairness chain's entries for priority's changes: score changes, overrides (hand-made changes) and
merges, written where each happens; and the hand-made changes a placement's entry reads to justify a pass.

Each helper appends in the caller's transaction (`fairness.chain.append`), passing plain data: `fairness`
reads none of priority's tables. The change holds tracking numbers, codes and scores, never a name,
national ID or phone: auditors read it. Placements and moves, which must explain themselves, are
scheduler.placement_chain's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fairness import chain
from fairness.models import ChainEntry, EntryKind
from majlis.clock import Clock
from priority.models import Category, ManualChange, Triage


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
