"""The protocol calendar's data: a week as days × times with rooms as lanes, a month's counts, and the seats an
appointment may move to.

The grid reads the same sessions, slots and live appointments as `scheduler.views`; the seats offered for a move
are judged by the allocator's own rule (`scheduler.allocation.seat_refusal`, through `scheduling.seat_refusal`'s
view of the request), so the dialog never offers a seat that `by_hand.move_appointment` would refuse for a rule
of the allocation — only the three days' notice is left to the official's directive, and such seats say so.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cases import service as cases
from cases.models import Case
from majlis.clock import Clock, riyadh
from majlis.errors import N_
from priority import service as triage
from rooms import service as rooms
from rooms.models import Room
from scheduler import by_hand, views
from scheduler import service as scheduling
from scheduler.allocation import MIN_NOTICE, SeatRule, seat_refusal
from scheduler.models import (
    LIVE_STATES,
    Appointment,
    AppointmentState,
    AudienceSession,
    Confirmation,
    SessionState,
    Slot,
)

# The Saudi working week starts on Sunday; Friday and Saturday are shown only when a session falls on them.
WORKING_DAYS = 5
# How far ahead the Move dialog looks for seats: the calendar is generated this far (scheduler.calendar).
MOVE_HORIZON = timedelta(weeks=8)


class Confirmed(enum.StrEnum):
    """Where an appointment's confirmation stands, as a card shows it."""

    NOT_ASKED = "not_asked"  # scheduled; the applicant is asked three days before
    ASKED = "asked"  # asked, no answer yet
    CONFIRMED = "confirmed"
    ARRIVED = "arrived"
    IN_AUDIENCE = "in_audience"


@dataclass(frozen=True)
class Card:
    """One appointment in the grid: what protocol needs to see at a glance."""

    appointment_id: int
    case_id: int
    tracking_number: str
    urgency: str  # priority.models.Urgency's value, "" when not triaged
    care: tuple[str, ...]  # the special-care needs that apply: "elderly", "wheelchair", "transport", "interpreter"
    confirmed: Confirmed
    movable: bool  # scheduled or confirmed, in a planned session that is not locked


@dataclass(frozen=True)
class Cell:
    """One slot of one room: its cards and whether it can take one more."""

    slot_id: int
    starts_at: datetime
    capacity: int
    cards: tuple[Card, ...]
    blocked: bool  # the official is busy
    cancelled: bool  # its session is cancelled
    locked: bool
    past: bool

    @property
    def free(self) -> int:
        """Seats still free: none in a blocked, cancelled or past slot."""
        if self.blocked or self.cancelled or self.past:
            return 0
        return max(self.capacity - len(self.cards), 0)

    @property
    def open(self) -> bool:
        """A card may be dropped here (the dialog then judges whether the seat suits that appointment)."""
        return self.free > 0 and not self.locked


@dataclass(frozen=True)
class Lane:
    """A room on one day, its cells by Riyadh time ("10:08")."""

    room: Room
    cells: dict[str, Cell]


@dataclass(frozen=True)
class GridDay:
    day: date
    lanes: list[Lane]
    sessions: list[AudienceSession]


@dataclass(frozen=True)
class WeekGrid:
    """A week from Sunday: its days, the times that have a slot on any of them (the rows), in one branch or all."""

    start: date
    days: list[GridDay]
    times: list[str]

    @property
    def cards(self) -> int:
        return sum(len(c.cards) for d in self.days for lane in d.lanes for c in lane.cells.values())


def week_start(day: date) -> date:
    """The Sunday on or before the day."""
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _confirmed(appointment: Appointment, confirmation: Confirmation | None, now: datetime) -> Confirmed:
    if appointment.state is AppointmentState.CONFIRMED:
        return Confirmed.CONFIRMED
    if appointment.state is AppointmentState.ARRIVED:
        return Confirmed.ARRIVED
    if appointment.state is AppointmentState.IN_AUDIENCE:
        return Confirmed.IN_AUDIENCE
    if confirmation is not None and confirmation.ask_at <= now and confirmation.answer is None:
        return Confirmed.ASKED
    return Confirmed.NOT_ASKED


def _care(case: Case) -> tuple[str, ...]:
    return tuple(case.special_care)


async def week_grid(*, session: AsyncSession, clock: Clock, start: date, branch: str | None = None) -> WeekGrid:
    """The week from `start` (a Sunday): every slot of every session in a cell of its day, time and room."""
    now = clock.now()
    sessions = await views.sessions_with_slots(session=session, start=start, end=start + timedelta(days=7))
    appointments = [a for s in sessions for slot in s.slots for a, _ in slot.appointments]
    triaged = await triage.triages(session=session, case_ids={a.case_id for a in appointments})
    asked = {
        c.appointment_id: c
        for c in (
            await session.scalars(
                select(Confirmation).where(Confirmation.appointment_id.in_({a.id for a in appointments}))
            )
            if appointments
            else []
        )
    }
    lanes: dict[date, dict[int, Lane]] = {}
    of_day: dict[date, list[AudienceSession]] = {}
    times: set[str] = set()
    for view in sessions:
        audience = view.session
        day = riyadh(audience.starts_at).date()
        movable_here = audience.state is SessionState.PLANNED and not audience.locked
        mine = [s for s in view.slots if branch is None or s.room.branch_code == branch]
        if not mine:
            continue
        of_day.setdefault(day, []).append(audience)
        for slot_view in mine:
            slot = slot_view.slot
            at = riyadh(slot.starts_at).strftime("%H:%M")
            times.add(at)
            cards = tuple(
                Card(
                    appointment_id=a.id,
                    case_id=case.id,
                    tracking_number=case.tracking_number,
                    urgency=(u.value if (u := getattr(triaged.get(case.id), "urgency", None)) else ""),
                    care=_care(case),
                    confirmed=_confirmed(a, asked.get(a.id), now),
                    movable=movable_here and a.state in by_hand.MOVABLE_STATES,
                )
                for a, case in slot_view.appointments
            )
            lane = lanes.setdefault(day, {}).setdefault(slot_view.room.id, Lane(slot_view.room, {}))
            lane.cells[at] = Cell(
                slot_id=slot.id,
                starts_at=slot.starts_at,
                capacity=slot.capacity,
                cards=cards,
                blocked=bool(slot.blocked_by),
                cancelled=audience.state is not SessionState.PLANNED,
                locked=audience.locked,
                past=slot.starts_at <= now,
            )
    days = []
    for offset in range(7):
        day = start + timedelta(days=offset)
        if offset < WORKING_DAYS or day in lanes:
            ordered = sorted(lanes.get(day, {}).values(), key=lambda lane: (lane.room.branch_code, lane.room.id))
            days.append(GridDay(day, ordered, of_day.get(day, [])))
    return WeekGrid(start=start, days=days, times=sorted(times))


@dataclass(frozen=True)
class MonthDay:
    """One day of a month: its sessions (planned ones), seats taken and free."""

    day: date
    sessions: int
    taken: int
    free: int


async def month_days(*, session: AsyncSession, first: date, branch: str | None = None) -> list[MonthDay]:
    """Every day of the month beginning on `first`, with the counts of its planned sessions' slots."""
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    sessions = await views.sessions_with_slots(session=session, start=first, end=following)
    counts: dict[date, list[int]] = {}
    for audience in sessions:
        if audience.session.state is not SessionState.PLANNED:
            continue
        mine = [s for s in audience.slots if branch is None or s.room.branch_code == branch]
        if not mine:
            continue
        row = counts.setdefault(riyadh(audience.session.starts_at).date(), [0, 0, 0])
        row[0] += 1
        for s in mine:
            row[1] += len(s.appointments)
            if not s.slot.blocked_by:
                row[2] += max(s.slot.capacity - len(s.appointments), 0)
    return [
        MonthDay(first + timedelta(days=n), *counts.get(first + timedelta(days=n), [0, 0, 0]))
        for n in range((following - first).days)
    ]


@dataclass(frozen=True)
class SeatChoice:
    """A slot an appointment may move to, labelled for the dialog."""

    slot_id: int
    starts_at: datetime
    room: Room
    free: int
    needs_directive: bool  # inside the three days' notice: only on the official's directive


@dataclass(frozen=True)
class MoveChoices:
    """The appointment to move, where it is now, and the slots it may go to (earliest first)."""

    appointment: Appointment
    case: Case
    slot: Slot
    room: Room
    choices: list[SeatChoice]
    # Why each other future slot within reach is refused: a message id (N_) naming the rule.
    refused: dict[int, str] = field(default_factory=dict)

    def choice(self, slot_id: int) -> SeatChoice | None:
        return next((c for c in self.choices if c.slot_id == slot_id), None)


async def _taken(*, session: AsyncSession, slot_ids: Iterable[int]) -> dict[int, int]:
    ids = set(slot_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(Appointment.slot_id, func.count())
        .where(Appointment.slot_id.in_(ids), Appointment.state.in_(LIVE_STATES))
        .group_by(Appointment.slot_id)
    )
    return {int(slot_id): int(count) for slot_id, count in rows}


async def move_choices(*, session: AsyncSession, clock: Clock, appointment_id: int) -> MoveChoices | None:
    """The slots the appointment may move to: free seats of planned, unlocked, unblocked sessions still ahead,
    that the allocator's rules allow for its request (mode, branch, women's section, access, unavailable days).
    None when there is no such appointment or it cannot be moved any more."""
    appointment = await session.get(Appointment, appointment_id)
    if appointment is None or appointment.state not in by_hand.MOVABLE_STATES:
        return None
    slot = await session.get_one(Slot, appointment.slot_id)
    case = await cases.get_case(session=session, case_id=appointment.case_id)
    room = await rooms.get_room(session=session, room_id=slot.room_id)
    if case is None or room is None:  # foreign keys: never, short of a row deleted under us
        return None
    now = clock.now()
    candidates = list(
        await session.scalars(
            select(Slot)
            .join(AudienceSession, AudienceSession.id == Slot.session_id)
            .where(
                Slot.starts_at > now,
                Slot.starts_at < now + MOVE_HORIZON,
                AudienceSession.state == SessionState.PLANNED,
                Slot.id != slot.id,
            )
            .order_by(Slot.starts_at, Slot.id)
        )
    )
    taken = await _taken(session=session, slot_ids=(s.id for s in candidates))
    seats = await scheduling.seats_of(session=session, slots=candidates)
    request = await scheduling.as_waiting(session=session, case_id=case.id)
    rooms_of = await rooms.rooms_by_id(session=session, ids={s.room_id for s in candidates})
    choices: list[SeatChoice] = []
    refused: dict[int, str] = {}
    for candidate in candidates:
        free = candidate.capacity - taken.get(candidate.id, 0)
        if candidate.blocked_by:
            refused[candidate.id] = N_("The official is busy at that time; the slot is blocked.")
            continue
        if free <= 0:
            refused[candidate.id] = N_("That slot has no free seat.")
            continue
        seat = seats[(candidate.id, 0)]
        if request is None:
            refused[candidate.id] = by_hand.SEAT_RULE_MESSAGES[SeatRule.NOT_AN_AUDIENCE]
            continue
        # Judged without the three days' notice: the directive may waive it, and the dialog says when it must.
        rule = seat_refusal(seat, request, now, notice=timedelta(0))
        if rule is not None:
            refused[candidate.id] = by_hand.seat_refused(rule, seat).message
            continue
        choices.append(
            SeatChoice(
                slot_id=candidate.id,
                starts_at=candidate.starts_at,
                room=rooms_of[candidate.room_id],
                free=free,
                needs_directive=candidate.starts_at < now + MIN_NOTICE,
            )
        )
    return MoveChoices(appointment, case, slot, room, choices, refused)


async def target_refusal(*, session: AsyncSession, clock: Clock, choices: MoveChoices, slot_id: int) -> str | None:
    """Why the slot a card was dropped on cannot take that appointment (a message id); None when it can."""
    if choices.choice(slot_id) is not None:
        return None
    if slot_id in choices.refused:
        return choices.refused[slot_id]
    if slot_id == choices.slot.id:
        return N_("The appointment is already in that slot.")
    target = await session.get(Slot, slot_id)
    if target is None:
        return N_("That slot cannot take this appointment.")
    dated = await session.get_one(AudienceSession, target.session_id)
    if dated.state is not SessionState.PLANNED:
        return N_("The session of that slot is cancelled.")
    if target.starts_at <= clock.now():
        return N_("That slot has already begun; choose one still ahead.")
    return N_("That slot cannot take this appointment.")
