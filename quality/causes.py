"""The managed list of causes a manager gives for a negative rating: added, renamed, retired or put back, ordered.

A cause is never deleted: reviews keep the cause they were given, so a retired cause still names them; it is only
no longer offered for new ones. Every change is written to the audit log.
"""

from __future__ import annotations

import re
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from majlis.bidi import without_bidi_controls
from majlis.clock import Clock
from majlis.errors import N_, DomainError, FieldError, InvalidInput, invalid_choice, required, too_long
from quality.models import ReviewCause

_CODE = re.compile(r"[a-z][a-z0-9_]{1,39}")
NAME_LIMIT = 200
# Positions leave room between causes, as the seeded list does (10, 20, …).
STEP = 10
Direction = Literal["up", "down"]
DIRECTIONS: tuple[Direction, ...] = ("up", "down")


class CauseNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("cause_not_found", N_("There is no cause with this code."))


async def causes(*, session: AsyncSession, active_only: bool = False) -> list[ReviewCause]:
    """The list in its order; with `active_only`, only the causes offered for new reviews."""
    query = select(ReviewCause).order_by(ReviewCause.position, ReviewCause.code)
    if active_only:
        query = query.where(ReviewCause.active.is_(True))
    return list(await session.scalars(query))


async def cause_by_code(*, session: AsyncSession, code: str) -> ReviewCause:
    found = await session.get(ReviewCause, code.strip().lower())
    if found is None:
        raise CauseNotFound()
    return found


def _names(name_ar: str, name_en: str, errors: list[FieldError]) -> tuple[str, str]:
    cleaned = []
    for field, value in (("name_ar", name_ar), ("name_en", name_en)):
        value = " ".join(without_bidi_controls(value).split())
        if not value:
            errors.append(required(field))
        elif len(value) > NAME_LIMIT:
            errors.append(too_long(field, NAME_LIMIT))
        cleaned.append(value)
    return cleaned[0], cleaned[1]


async def add_cause(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, code: str, name_ar: str, name_en: str
) -> ReviewCause:
    """A new cause at the end of the list, offered at once; InvalidInput names every bad field."""
    errors: list[FieldError] = []
    code = code.strip().lower()
    if not code:
        errors.append(required("code"))
    elif not _CODE.fullmatch(code):
        errors.append(FieldError("code", "invalid", N_("{field} must be 2 to 40 small Latin letters, digits or _.")))
    elif await session.get(ReviewCause, code) is not None:
        errors.append(FieldError("code", "taken", N_("A cause with this code already exists.")))
    arabic, english = _names(name_ar, name_en, errors)
    if errors:
        raise InvalidInput(errors)
    last = await session.scalar(select(func.max(ReviewCause.position)))
    cause = ReviewCause(code=code, name_ar=arabic, name_en=english, position=(last or 0) + STEP, active=True)
    session.add(cause)
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="quality.cause.add",
        target_type="review_cause",
        target_id=code,
        details={"name_ar": arabic, "name_en": english},
    )
    await session.flush()
    return cause


async def rename_cause(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, code: str, name_ar: str, name_en: str
) -> ReviewCause:
    """New names for a cause; the reviews that carry it read the new names (the code is what they keep)."""
    cause = await cause_by_code(session=session, code=code)
    errors: list[FieldError] = []
    arabic, english = _names(name_ar, name_en, errors)
    if errors:
        raise InvalidInput(errors)
    before = {"name_ar": cause.name_ar, "name_en": cause.name_en}
    cause.name_ar, cause.name_en = arabic, english
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="quality.cause.rename",
        target_type="review_cause",
        target_id=cause.code,
        details={"before": before, "after": {"name_ar": arabic, "name_en": english}},
    )
    await session.flush()
    return cause


async def set_cause_active(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, code: str, active: bool
) -> ReviewCause:
    """Retires a cause (no longer offered; old reviews keep it) or puts it back on the list."""
    cause = await cause_by_code(session=session, code=code)
    if cause.active != active:
        cause.active = active
        await audit.record(
            session=session,
            clock=clock,
            actor_id=actor_id,
            action="quality.cause.reactivate" if active else "quality.cause.retire",
            target_type="review_cause",
            target_id=cause.code,
        )
        await session.flush()
    return cause


async def move_cause(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, code: str, direction: str
) -> list[ReviewCause]:
    """Moves a cause one place up or down the list (retired ones included); the list in its new order."""
    if direction not in DIRECTIONS:
        raise InvalidInput([invalid_choice("direction", DIRECTIONS)])
    cause = await cause_by_code(session=session, code=code)
    ordered = await causes(session=session)
    at = next(i for i, c in enumerate(ordered) if c.code == cause.code)
    to = at - 1 if direction == "up" else at + 1
    if 0 <= to < len(ordered):
        ordered[at], ordered[to] = ordered[to], ordered[at]
        # Renumbered from the top, so equal positions (two causes added by hand with one) cannot stall a move.
        for index, each in enumerate(ordered, start=1):
            each.position = index * STEP
        await audit.record(
            session=session,
            clock=clock,
            actor_id=actor_id,
            action="quality.cause.move",
            target_type="review_cause",
            target_id=cause.code,
            details={"direction": direction, "position": to + 1},
        )
        await session.flush()
    return ordered
