"""A mission's on-call duty roster: shifts added and removed, who is on duty at a moment, and where nobody is.

Shifts are typed in the mission's own local time (that is how its staff plan them, across daylight saving)
and kept in UTC. Shifts may overlap (a hand-over); at a moment covered by two, the one that began last is on
duty, since its officer has taken over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from emergency import checks, roster_gaps
from emergency.models import DutyShift, Mission, RosterGap
from majlis.clock import Clock
from majlis.errors import N_, DomainError, FieldError, InvalidInput, required

# A shift longer than this is a typing mistake (a month for a day), not a roster.
LONGEST_SHIFT = timedelta(days=7)

Span = tuple[datetime, datetime]


class ShiftNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("shift_not_found", N_("There is no such shift on this mission's roster."))


@dataclass(frozen=True)
class ShiftInput:
    """A shift as typed: its start and end in the mission's local time (2026-10-03 20:00 or 2026-10-03T20:00)."""

    starts: str
    ends: str
    officer_name: str
    phone: str
    email: str
    languages: list[str] = field(default_factory=list)


def local_moment(field_name: str, value: str, zone: ZoneInfo, errors: list[FieldError]) -> datetime | None:
    """The UTC moment of a local wall-clock time typed in `zone`; a time the clocks skip is refused.

    A time shown twice (the clocks go back) is its first showing. An aware time (the API may send one) is
    taken as it is.
    """
    text = value.strip()
    if not text:
        errors.append(required(field_name))
        return None
    try:
        typed = datetime.fromisoformat(text)
    except ValueError:
        errors.append(
            FieldError(field_name, "invalid_datetime", N_("{field} must be a date and time such as 2026-12-06 20:00."))
        )
        return None
    if typed.tzinfo is not None:
        return typed.astimezone(UTC)
    local = typed.replace(tzinfo=zone, fold=0)
    moment = local.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != typed:
        errors.append(
            FieldError(
                field_name,
                "skipped_time",
                N_("{field} does not exist in the mission's time zone: the clocks go forward over it."),
            )
        )
        return None
    return moment


async def _mission(session: AsyncSession, mission_id: int) -> Mission:
    mission = await session.get(Mission, mission_id)
    if mission is None:
        raise DomainError("mission_not_found", N_("There is no mission with this code."))
    return mission


async def add_shift(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, mission_id: int, data: ShiftInput
) -> DutyShift:
    """A shift on the mission's roster; InvalidInput names every bad field and nothing is saved.

    Gaps already flagged that the shift fills are marked resolved.
    """
    mission = await _mission(session, mission_id)
    zone = ZoneInfo(mission.time_zone)
    errors: list[FieldError] = []
    starts = local_moment("starts", data.starts, zone, errors)
    ends = local_moment("ends", data.ends, zone, errors)
    name = checks.clean_name("officer_name", data.officer_name, errors)
    phone = checks.clean_phone("phone", data.phone, errors)
    email = checks.clean_email("email", data.email, errors)
    languages = checks.clean_languages("languages", data.languages, errors)
    if starts is not None and ends is not None:
        if ends <= starts:
            errors.append(FieldError("ends", "before_start", N_("The shift must end after it starts.")))
        elif ends - starts > LONGEST_SHIFT:
            errors.append(FieldError("ends", "too_long", N_("A shift may last at most seven days.")))
        elif ends <= clock.now():
            errors.append(FieldError("ends", "past", N_("This shift has already ended; only shifts ahead are added.")))
    if errors or starts is None or ends is None:
        raise InvalidInput(errors)
    shift = DutyShift(
        mission_id=mission.id,
        starts_at=starts,
        ends_at=ends,
        officer_name=name,
        phone=phone,
        email=email,
        languages=languages,
        created_at=clock.now(),
        created_by_id=actor_id,
    )
    session.add(shift)
    await session.flush()
    await _record(session, clock, actor_id, "emergency.shift.add", mission, _described(shift))
    await settle_gaps(session=session, clock=clock, mission_id=mission.id)
    return shift


async def remove_shift(
    *,
    session: AsyncSession,
    clock: Clock,
    actor_id: int | None,
    mission_id: int,
    shift_id: int,
    watch: roster_gaps.Watch | None = None,
) -> None:
    """Takes a shift off the mission's roster (a shift of another mission is not found here).

    With `watch`, a gap the removal opens is told to the supervisors at once (it may start within the hour).
    """
    mission = await _mission(session, mission_id)
    shift = await session.get(DutyShift, shift_id)
    if shift is None or shift.mission_id != mission.id:
        raise ShiftNotFound()
    details = _described(shift)
    await session.delete(shift)
    await session.flush()
    await _record(session, clock, actor_id, "emergency.shift.remove", mission, details)
    if watch is not None:
        await roster_gaps.flag_now(session=session, clock=clock, mission=mission, watch=watch)


async def on_duty(session: AsyncSession, mission_id: int, at: datetime) -> DutyShift | None:
    """The shift on duty at the mission at `at` (aware): the one that began last among those covering it."""
    return await session.scalar(
        select(DutyShift)
        .where(DutyShift.mission_id == mission_id, DutyShift.starts_at <= at, DutyShift.ends_at > at)
        .order_by(DutyShift.starts_at.desc(), DutyShift.id.desc())
        .limit(1)
    )


async def on_duty_at_missions(
    *, session: AsyncSession, mission_ids: Sequence[int], at: datetime
) -> dict[int, DutyShift]:
    """Who is on duty at `at` at each of the missions (those with nobody are left out), in one query."""
    if not mission_ids:
        return {}
    rows = await session.scalars(
        select(DutyShift)
        .where(DutyShift.mission_id.in_(set(mission_ids)), DutyShift.starts_at <= at, DutyShift.ends_at > at)
        .order_by(DutyShift.starts_at, DutyShift.id)
    )
    # Later starts overwrite earlier ones: the last to begin is on duty.
    return {shift.mission_id: shift for shift in rows}


async def shifts(*, session: AsyncSession, mission_id: int, start: datetime, end: datetime) -> list[DutyShift]:
    """The mission's shifts that overlap [start, end), by start."""
    rows = await session.scalars(
        select(DutyShift)
        .where(DutyShift.mission_id == mission_id, DutyShift.ends_at > start, DutyShift.starts_at < end)
        .order_by(DutyShift.starts_at, DutyShift.id)
    )
    return list(rows)


def uncovered(spans: Sequence[Span], start: datetime, end: datetime) -> list[Span]:
    """The stretches of [start, end) that none of the spans covers, in order."""
    found: list[Span] = []
    reached = start
    for span_start, span_end in sorted(spans):
        if span_end <= reached:
            continue
        if span_start > reached:
            found.append((reached, min(span_start, end)))
        reached = max(reached, span_end)
        if reached >= end:
            break
    if reached < end:
        found.append((reached, end))
    return [(s, e) for s, e in found if s < e]


async def gaps(session: AsyncSession, mission_id: int, start: datetime, end: datetime) -> list[Span]:
    """The stretches between `start` and `end` (aware) with nobody on the mission's roster."""
    if end <= start:
        return []
    found = await shifts(session=session, mission_id=mission_id, start=start, end=end)
    return uncovered([(s.starts_at, s.ends_at) for s in found], start, end)


async def open_gaps(*, session: AsyncSession, mission_id: int | None = None) -> list[RosterGap]:
    """Gaps flagged and not yet filled nor passed, soonest first (one mission's, or every mission's)."""
    query = select(RosterGap).where(RosterGap.resolved_at.is_(None)).order_by(RosterGap.starts_at, RosterGap.id)
    if mission_id is not None:
        query = query.where(RosterGap.mission_id == mission_id)
    return list(await session.scalars(query))


async def settle_gaps(*, session: AsyncSession, clock: Clock, mission_id: int) -> int:
    """Marks resolved the mission's flagged gaps that shifts now fill or that have passed; how many."""
    now = clock.now()
    settled = 0
    for gap in await open_gaps(session=session, mission_id=mission_id):
        if gap.ends_at <= now or not await gaps(session, mission_id, max(gap.starts_at, now), gap.ends_at):
            gap.resolved_at = now
            settled += 1
    if settled:
        await session.flush()
    return settled


def _described(shift: DutyShift) -> dict[str, object]:
    return {
        "shift_id": shift.id,
        "starts_at": shift.starts_at.isoformat(),
        "ends_at": shift.ends_at.isoformat(),
        "officer_name": shift.officer_name,
        "phone": shift.phone,
        "email": shift.email,
        "languages": list(shift.languages),
    }


async def _record(
    session: AsyncSession, clock: Clock, actor_id: int | None, action: str, mission: Mission, details: dict[str, object]
) -> None:
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action=action,
        target_type="mission",
        target_id=mission.code,
        details=details,
    )
