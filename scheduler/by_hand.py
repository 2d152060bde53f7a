"""Protocol changes a seat by hand: an appointment moved, or a waiting request placed, in a slot chosen.

Split from `scheduler.changes`. Always justified (a reason from the list and words, or the official's
directive) and in the fairness record; the applicant is told through the outbox in the same transaction. A
choice that is refused names the rule that failed (`seat_refused`: the rule's code, a sentence in both
languages).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from cases import service as cases
from cases.models import Case
from fairness import chain as fairness_chain
from fairness.models import EntryKind
from majlis.clock import Clock
from majlis.errors import N_, FieldError, InvalidInput, required, too_long
from priority import service as triage
from priority.models import ChangedField, ChangeReason
from rooms import service as rooms
from scheduler import confirmations, placement_chain
from scheduler import service as scheduling
from scheduler.allocation import MIN_NOTICE, Mode, OpenSeat, Placement, SeatRule, seat_refusal
from scheduler.changes import CalendarRefusal, release_seat
from scheduler.models import LIVE_STATES, Appointment, AppointmentState, AudienceSession, SessionState, Slot

# Why a seat chosen by hand is refused: one sentence per rule of the allocator, named to the reader.
SEAT_RULE_MESSAGES: Mapping[SeatRule, str] = {
    SeatRule.HAS_APPOINTMENT: N_("The applicant already holds another appointment; an applicant has one at a time."),
    SeatRule.SESSION_LOCKED: N_("The session is locked; unlock it before changing its appointments."),
    SeatRule.BRANCH: N_("The seat is at another branch than the one this request is for."),
    SeatRule.WOMEN_SECTION_ONLY: N_(
        "The seat is in a women's-section room; this request is not for the women's section."
    ),
    SeatRule.WOMEN_SECTION_NEEDED: N_(
        "This request is for the women's section; the seat is not in a women's-section room."
    ),
    SeatRule.ACCESSIBLE_HALL_NEEDED: N_("The applicant uses a wheelchair; the seat is not in an accessible hall."),
    SeatRule.NOTICE: N_(
        "The seat is less than three days away; only the official's directive allows an appointment this soon."
    ),
    SeatRule.UNAVAILABLE_DAY: N_("The applicant has said they cannot come on that day."),
    SeatRule.NOT_AN_AUDIENCE: N_("This request is not routed to an audience."),
}
# The mode rule, by the seat's mode.
MODE_MESSAGES: Mapping[Mode, str] = {
    Mode.VIDEO: N_("The seat is for an audience by video; this request is for an audience in person."),
    Mode.IN_PERSON: N_("The seat is for an audience in person; this request is for an audience by video."),
}
# An appointment can be moved until its applicant arrives.
MOVABLE_STATES = (AppointmentState.SCHEDULED, AppointmentState.CONFIRMED)


def seat_refused(rule: SeatRule, seat: OpenSeat) -> CalendarRefusal:
    """The refusal naming the rule: its code is the rule's, its message says what failed."""
    message = MODE_MESSAGES[seat.mode] if rule is SeatRule.MODE else SEAT_RULE_MESSAGES[rule]
    return CalendarRefusal(rule.value, message)


@dataclass(frozen=True)
class ByHand:
    """What protocol chose for a move or a placement by hand: the slot, who chose it and why, and how the
    applicant is told.

    On the official's `directive` the three days' notice is waived (any slot not yet begun, today's included),
    the reason recorded is the directive (its words, `change_text`, are required), and the applicant is asked to
    confirm at once, with a call (`policy` says how the confirmation goes).
    """

    to_slot_id: int
    actor_id: int
    change_reason: str | None
    change_text: str | None
    status_url: str
    directive: bool = False
    policy: confirmations.ConfirmationPolicy = field(default_factory=confirmations.ConfirmationPolicy)

    @property
    def notice(self) -> timedelta:
        """The least time before a seat's start: three days, or none on the official's directive."""
        return timedelta(0) if self.directive else MIN_NOTICE

    def explanation(self, done: str, justification: triage.Justification) -> str:
        """The new appointment's explanation: what was done ("moved"), on whose word, and the words given."""
        how = f"{done} by hand on the official's directive" if self.directive else f"{done} by hand"
        return f"{how}: {justification.text}"


def _justification(by_hand: ByHand, *, why: str, errors: list[FieldError]) -> triage.Justification | None:
    """The reason for a change by hand: on the official's directive, that is the reason, and its words are
    required; otherwise a reason from the list and words."""
    if not by_hand.directive:
        justification = triage.read_justification(by_hand.change_reason, by_hand.change_text, errors)
        if justification is None and not errors:
            errors.append(FieldError("change_reason", "reason_required", why))
        return justification
    text = (by_hand.change_text or "").strip()
    if not text:
        errors.append(required("change_text"))
        return None
    if len(text) > triage.MAX_NOTE:
        errors.append(too_long("change_text", triage.MAX_NOTE))
        return None
    return triage.Justification(ChangeReason.OFFICIAL_DIRECTIVE, text)


async def _free_seat(*, session: AsyncSession, clock: Clock, target: Slot) -> OpenSeat:
    """A free seat of a slot chosen by hand; a refusal naming why when the slot cannot take anyone."""
    dated = await session.get_one(AudienceSession, target.session_id)
    if dated.state is not SessionState.PLANNED:
        raise CalendarRefusal("session_cancelled", N_("The session of that slot is cancelled."))
    if target.starts_at <= clock.now():
        raise CalendarRefusal("slot_started", N_("That slot has already begun; choose one still ahead."))
    if target.blocked_by:
        raise CalendarRefusal("slot_blocked", N_("The official is busy at that time; the slot is blocked."))
    taken = set(
        await session.scalars(
            select(Appointment.seat).where(Appointment.slot_id == target.id, Appointment.state.in_(LIVE_STATES))
        )
    )
    free = [seat for seat in range(target.capacity) if seat not in taken]
    if not free:
        raise CalendarRefusal("slot_full", N_("That slot has no free seat."))
    return (await scheduling.seats_of(session=session, slots=[target]))[(target.id, free[0])]


async def _slot_chosen(*, session: AsyncSession, by_hand: ByHand, errors: list[FieldError]) -> Slot | None:
    target = await session.get(Slot, by_hand.to_slot_id)
    if target is None:
        errors.append(FieldError("to_slot", "unknown", N_("{field} is not one of the slots.")))
    return target


async def _record_by_hand(
    *,
    session: AsyncSession,
    clock: Clock,
    case: Case,
    appointment: Appointment,
    by_hand: ByHand,
    before: str,
    target: Slot,
    justification: triage.Justification,
    action: str,
) -> None:
    """The fairness record (and through it the audit log) and the calendar's own audit entry."""
    await triage.record_manual_change(
        session=session,
        clock=clock,
        case=case,
        actor_id=by_hand.actor_id,
        field=ChangedField.APPOINTMENT,
        before=before,
        after=_stamp(target.starts_at),
        justification=justification,
    )
    await audit.record(
        session=session,
        clock=clock,
        actor_id=by_hand.actor_id,
        action=action,
        target_type="appointment",
        target_id=appointment.id,
        details={
            "case": case.tracking_number,
            "slot": target.id,
            "seat": appointment.seat,
            "directive": by_hand.directive,
            "reason": justification.reason.value,
            "text": justification.text,
        },
    )


async def _ask_at_once_on_directive(
    *, session: AsyncSession, clock: Clock, by_hand: ByHand, appointment: Appointment
) -> None:
    """On the official's directive the applicant is asked to confirm at once, with a call; otherwise nothing."""
    if by_hand.directive:
        await confirmations.ask_at_once(session=session, clock=clock, policy=by_hand.policy, appointment=appointment)


async def move_appointment(*, session: AsyncSession, clock: Clock, appointment_id: int, by_hand: ByHand) -> Appointment:
    """Moves an appointment by hand to a free seat of another slot; always justified, in the fairness record.

    On the official's directive (`ByHand`) the three days' notice is waived and the applicant is asked to
    confirm at once. Every other rule of the allocator holds; a refusal names the one that failed.
    """
    errors: list[FieldError] = []
    justification = _justification(by_hand, why=N_("Moving an appointment by hand needs a reason."), errors=errors)
    await fairness_chain.take_turn(session=session)
    # Locked as an applicant's answer locks it (appointment, then case), so the two take turns.
    current = await session.get(Appointment, appointment_id, with_for_update=True, populate_existing=True)
    if current is not None:
        await cases.lock_cases(session=session, case_ids=[current.case_id])
    target = await _slot_chosen(session=session, by_hand=by_hand, errors=errors)
    if errors:
        raise InvalidInput(errors)
    assert justification is not None and target is not None
    if current is None or current.state not in MOVABLE_STATES:
        raise CalendarRefusal(
            "appointment_not_movable",
            N_("This appointment can no longer be moved: it has ended, or its applicant has arrived."),
        )
    old_slot = await session.get_one(Slot, current.slot_id)
    if (await session.get_one(AudienceSession, old_slot.session_id)).locked:
        raise CalendarRefusal(SeatRule.SESSION_LOCKED.value, SEAT_RULE_MESSAGES[SeatRule.SESSION_LOCKED])
    seat = await _free_seat(session=session, clock=clock, target=target)
    rule = await scheduling.seat_refusal(
        session=session, clock=clock, case_id=current.case_id, seat=seat, notice=by_hand.notice
    )
    if rule is not None:
        raise seat_refused(rule, seat)
    await release_seat(session=session, clock=clock, appointment=current, reason="moved")
    moved = Appointment(
        case_id=current.case_id,
        slot_id=target.id,
        seat=seat.seat,
        state=AppointmentState.SCHEDULED,
        placed_at=clock.now(),
        placed_by_id=by_hand.actor_id,
        explanation=by_hand.explanation("moved", justification),
        sequence=current.sequence + 1,
        release_reason="",
    )
    try:
        async with session.begin_nested():
            session.add(moved)
            await session.flush()
    except IntegrityError:
        # A run or another move took the seat between our look and our insert.
        raise CalendarRefusal("slot_full", N_("That slot has no free seat.")) from None
    case = await cases.get_case(session=session, case_id=current.case_id)
    room = await rooms.get_room(session=session, room_id=target.room_id)
    assert case is not None and room is not None
    await scheduling.record_placement(
        session=session,
        clock=clock,
        appointment=moved,
        actor_id=by_hand.actor_id,
        **_chain_by_hand(by_hand, justification),
        kind=EntryKind.MOVE,
    )
    await _record_by_hand(
        session=session,
        clock=clock,
        case=case,
        appointment=moved,
        by_hand=by_hand,
        before=_stamp(old_slot.starts_at),
        target=target,
        justification=justification,
        action="calendar.move",
    )
    await scheduling.tell_date_and_place(
        session=session,
        clock=clock,
        case=case,
        appointment=moved,
        starts_at=target.starts_at,
        room=room,
        status_url=by_hand.status_url,
        moved=True,
    )
    await _ask_at_once_on_directive(session=session, clock=clock, by_hand=by_hand, appointment=moved)
    return moved


async def place_by_hand(*, session: AsyncSession, clock: Clock, tracking_number: str, by_hand: ByHand) -> Appointment:
    """Places a request waiting for an audience (and holding none) in a free seat of the slot chosen.

    Always justified and in the fairness record, as a move is; the official's directive waives the notice and
    calls the applicant as it does for a move (`ByHand`). Every other rule of the allocator holds, and a refusal
    names the one that failed.
    """
    errors: list[FieldError] = []
    justification = _justification(by_hand, why=N_("Placing a request by hand needs a reason."), errors=errors)
    await fairness_chain.take_turn(session=session)
    found = await cases.find_by_tracking_number(session=session, tracking_number=tracking_number)
    if found is None:
        errors.append(FieldError("tracking_number", "unknown", N_("No request has this tracking number.")))
    target = await _slot_chosen(session=session, by_hand=by_hand, errors=errors)
    if errors:
        raise InvalidInput(errors)
    assert justification is not None and target is not None and found is not None
    # Locked as every change of the case locks it: a run or an answer racing this one goes before or after.
    case = (await cases.lock_cases(session=session, case_ids=[found.id]))[found.id]
    waiting = next(
        (w for w in await scheduling.waiting_requests(session=session, clock=clock) if w.case_id == case.id), None
    )
    if waiting is None:
        raise CalendarRefusal(
            "not_waiting",
            N_("This request is not waiting for an audience; if it already has one, move that appointment instead."),
        )
    seat = await _free_seat(session=session, clock=clock, target=target)
    rule = seat_refusal(seat, waiting, clock.now(), notice=by_hand.notice)
    if rule is not None:
        raise seat_refused(rule, seat)
    placed = await scheduling.place(
        session=session,
        clock=clock,
        placement=Placement(
            case_id=case.id,
            slot_id=target.id,
            seat=seat.seat,
            starts_at=target.starts_at,
            score=waiting.score,
            rank=0,
            ahead=0,
            explanation=by_hand.explanation("placed", justification),
        ),
        actor_id=by_hand.actor_id,
        status_url=by_hand.status_url,
        **_chain_by_hand(by_hand, justification),
    )
    if placed is None:
        # A run or a move took the seat (or the case) between our look and our insert.
        raise CalendarRefusal("slot_full", N_("That slot has no free seat."))
    await _record_by_hand(
        session=session,
        clock=clock,
        case=case,
        appointment=placed,
        by_hand=by_hand,
        before="",
        target=target,
        justification=justification,
        action="calendar.place",
    )
    await _ask_at_once_on_directive(session=session, clock=clock, by_hand=by_hand, appointment=placed)
    return placed


def _chain_by_hand(by_hand: ByHand, justification: triage.Justification) -> dict[str, Any]:
    """How the fairness chain records a seat chosen by hand: its rule, notice, and the justification."""
    return {
        "rule": "directive" if by_hand.directive else "by_hand",
        "notice": by_hand.notice,
        "justification": justification.text,
        "by_hand": placement_chain.by_hand(
            directive=by_hand.directive, reason=justification.reason.value, text=justification.text
        ),
    }


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ")
