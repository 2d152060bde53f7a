"""The confirmation timeline: ask three days before, take the answer, free and offer the seat.

- `ask_due` (a periodic job) asks the applicant of every appointment whose
  moment has come: exactly three days before the audience when that falls in
  working hours (Sunday–Thursday, 08:00–15:30 Riyadh, not a holiday), else at the
  last working moment before it — earlier, never later. An appointment placed
  after its moment (a seat offered at short notice) is asked at once in
  working hours, or on the next working morning if that is still before it.
- `answer` records what the applicant said, by WhatsApp, the keypad, the
  portal link or the call centre. Confirm → confirmed. Reschedule or cancel →
  the seat is freed and offered to the next request that can take it at short
  notice (backfill), who is asked in turn; a rescheduling request is placed
  again with its priority, on another day; a cancelled audience leaves the
  request to be followed in writing.
- `calls_due` is the call centre's list: asked, unanswered after the
  configured hours, audience still ahead.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from datetime import time as time_of_day

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from cases import service as cases
from cases.models import Case, CaseStatus
from fairness import chain
from majlis.clock import RIYADH, Clock
from majlis.dates import dual_datetime
from majlis.errors import N_, DomainError
from majlis.settings import Settings
from notify import outbox
from notify.outbox import ARRIVAL, LINK, answer_link_payload
from notify.texts import (
    confirmation_call,
    confirmation_email,
    confirmation_sms,
    confirmation_whatsapp,
    confirmed_sms,
    rescheduling_sms,
)
from rooms import service as rooms
from scheduler import notices
from scheduler import service as scheduling
from scheduler.allocation import allocate
from scheduler.models import (
    Answer,
    Appointment,
    AppointmentState,
    AudienceSession,
    Confirmation,
    Slot,
    UnavailableDay,
)
from worktime import service as worktime

# Asked between these hours: late enough in the day still leaves time to call before 16:00.
ASK_FROM = time_of_day(8, 0)
ASK_UNTIL = time_of_day(15, 30)
WORKING_DAYS = frozenset({6, 0, 1, 2, 3})  # Sunday … Thursday (Monday is 0)


class Via(enum.StrEnum):
    WHATSAPP = "whatsapp"
    VOICE = "voice"
    PORTAL = "portal"
    CALL_CENTRE = "call_centre"


class ConfirmationRefusal(DomainError):
    pass


@dataclass(frozen=True)
class ConfirmationPolicy:
    days: int = 3
    channels: tuple[str, ...] = ("whatsapp", "voice", "sms", "email")
    no_answer: timedelta = timedelta(hours=24)
    backfill_min_notice: timedelta = timedelta(hours=3)


def _working(day: date, holidays: set[date]) -> bool:
    return day.weekday() in WORKING_DAYS and day not in holidays


def ask_time(starts_at: datetime, *, days: int, holidays: set[date]) -> datetime:
    """The moment to ask: `days` before the audience if that is in asking hours, else the last such moment before."""
    target = (starts_at - timedelta(days=days)).astimezone(RIYADH)
    day = target.date()
    if _working(day, holidays):
        if ASK_FROM <= target.time() <= ASK_UNTIL:
            return target
        if target.time() > ASK_UNTIL:
            return datetime.combine(day, ASK_UNTIL, tzinfo=RIYADH)
    day -= timedelta(days=1)
    while not _working(day, holidays):
        day -= timedelta(days=1)
    return datetime.combine(day, ASK_UNTIL, tzinfo=RIYADH)


def short_notice_time(now: datetime, starts_at: datetime, *, holidays: set[date]) -> datetime:
    """For an appointment placed after its asking moment: now in asking hours, else the next working morning
    if that is still before the audience, else now (a late message beats none)."""
    local = now.astimezone(RIYADH)
    if _working(local.date(), holidays) and ASK_FROM <= local.time() <= ASK_UNTIL:
        return now
    day = local.date() if local.time() < ASK_FROM else local.date() + timedelta(days=1)
    while not _working(day, holidays):
        day += timedelta(days=1)
    morning = datetime.combine(day, ASK_FROM, tzinfo=RIYADH)
    return morning if morning < starts_at else now


async def _holidays(*, session: AsyncSession, after: date) -> set[date]:
    return set(await worktime.days_off(session=session, since=after - timedelta(days=30)))


async def ask_due(*, session: AsyncSession, clock: Clock, policy: ConfirmationPolicy, limit: int = 500) -> int:
    """Asks every appointment whose asking moment has come and that was not asked yet; gives back how many."""
    now = clock.now()
    rows = (
        await session.execute(
            select(Appointment, Slot)
            .join(Slot, Slot.id == Appointment.slot_id)
            .outerjoin(Confirmation, Confirmation.appointment_id == Appointment.id)
            .where(
                Appointment.state == AppointmentState.SCHEDULED,
                Confirmation.id.is_(None),
                Slot.starts_at > now,
                # Ten days ahead covers any asking moment moved earlier by weekends and holidays.
                Slot.starts_at <= now + timedelta(days=policy.days + 10),
            )
            .order_by(Slot.starts_at, Appointment.id)
            .limit(limit)
        )
    ).all()
    if not rows:
        return 0
    holidays = await _holidays(session=session, after=now.astimezone(RIYADH).date())
    asked = 0
    for appointment, slot in rows:
        moment = ask_time(slot.starts_at, days=policy.days, holidays=holidays)
        short_notice = appointment.placed_at > moment
        if short_notice:
            moment = short_notice_time(appointment.placed_at, slot.starts_at, holidays=holidays)
            if moment > now:
                moment = short_notice_time(now, slot.starts_at, holidays=holidays)
        # Never at night or on the weekend, even when the moment passed while nobody swept
        # (a restart): wait for the next working morning if the audience is after it.
        if moment > now or short_notice_time(now, slot.starts_at, holidays=holidays) > now:
            continue
        locked = await cases.lock_cases(session=session, case_ids=[appointment.case_id])
        case = locked.get(appointment.case_id)
        # Read again under the case's lock: an answer (or another sweep) may have come first.
        await session.refresh(appointment)
        already = await session.scalar(select(Confirmation.id).where(Confirmation.appointment_id == appointment.id))
        if case is None or already is not None or appointment.state is not AppointmentState.SCHEDULED:
            continue
        await _ask(
            session=session,
            clock=clock,
            policy=policy,
            case=case,
            appointment=appointment,
            slot=slot,
            short_notice=short_notice,
        )
        asked += 1
    return asked


async def _ask(
    *,
    session: AsyncSession,
    clock: Clock,
    policy: ConfirmationPolicy,
    case: Case,
    appointment: Appointment,
    slot: Slot,
    short_notice: bool,
) -> Confirmation:
    now = clock.now()
    confirmation = Confirmation(
        appointment_id=appointment.id,
        case_id=case.id,
        ask_at=now,
        short_notice=short_notice,
        answered_via="",
        call_attempts=0,
        last_call_note="",
    )
    session.add(confirmation)
    await session.flush()
    room = await rooms.get_room(session=session, room_id=slot.room_id)
    language = case.language.value
    place = room.name_in(language) if room is not None else ""
    when = dual_datetime(slot.starts_at, language)
    link = answer_link_payload(appointment_id=appointment.id, expires_at=slot.starts_at)
    number = case.tracking_number
    for channel in policy.channels:
        purpose = notices.confirmation_purpose(appointment.id, channel)
        if channel == "sms":
            body = confirmation_sms(
                language=language, tracking_number=number, when=when, place=place, link=LINK, arrival=ARRIVAL
            )
            payload: dict[str, object] = dict(link)
            recipient = case.phone
        elif channel == "whatsapp":
            body = confirmation_whatsapp(
                language=language, tracking_number=number, when=when, place=place, link=LINK, arrival=ARRIVAL
            )
            # Outside the 24-hour window the approved template carries the same facts.
            payload = {
                **link,
                "template": f"confirmation_{language}",
                "variables": {"1": number, "2": when, "3": place, "4": LINK, "5": ARRIVAL},
            }
            recipient = case.phone
        elif channel == "voice":
            body = confirmation_call(language=language, tracking_number=number, when=when, place=place)
            payload = {**link, "gather": True}
            recipient = case.phone
        elif channel == "email":
            if not case.email:
                continue
            subject, body = confirmation_email(
                language=language, tracking_number=number, when=when, place=place, link=LINK, arrival=ARRIVAL
            )
            invitation = await notices.invitation_payload(
                session=session,
                case=case,
                appointment=appointment,
                slot=slot,
                place=place,
                cancelled=False,
                repeat=True,
            )
            payload = {**link, "subject": subject, **invitation}
            recipient = case.email
        else:
            raise ValueError(f"unknown confirmation channel {channel!r}")
        await outbox.enqueue(
            session=session,
            clock=clock,
            purpose=purpose,
            channel=channel,
            recipient=recipient,
            language=language,
            body=body,
            case_id=case.id,
            payload=payload,
        )
    return confirmation


async def ask_at_once(
    *, session: AsyncSession, clock: Clock, policy: ConfirmationPolicy, appointment: Appointment
) -> Confirmation:
    """Asks the applicant now, with a call whatever the channels configured: an audience set by hand on the
    official's directive, perhaps for today.

    The call says the date, time and place in the applicant's language and takes the keypad's answer; the
    dispatcher still rings only in calling hours and once a day per number. Asked as at short notice, so
    the sweep does not ask again three days before.
    """
    slot = await session.get_one(Slot, appointment.slot_id)
    case = (await cases.lock_cases(session=session, case_ids=[appointment.case_id]))[appointment.case_id]
    channels = policy.channels if "voice" in policy.channels else (*policy.channels, "voice")
    return await _ask(
        session=session,
        clock=clock,
        policy=replace(policy, channels=channels),
        case=case,
        appointment=appointment,
        slot=slot,
        short_notice=True,
    )


@dataclass(frozen=True)
class Outcome:
    answer: Answer
    # The request placed in the freed seat at short notice, if any.
    backfilled_case_id: int | None = None
    # The rescheduling request's new appointment, if the same run found one.
    replaced_appointment_id: int | None = None
    # True when the same answer had already been recorded (a repeated webhook, a double click).
    repeated: bool = False


async def _lock_appointment(*, session: AsyncSession, appointment_id: int) -> Appointment | None:
    # FOR UPDATE on PostgreSQL; SQLite renders none (BEGIN IMMEDIATE already holds the write lock).
    return await session.get(Appointment, appointment_id, with_for_update=True, populate_existing=True)


async def answer(
    *,
    session: AsyncSession,
    clock: Clock,
    appointment_id: int,
    answer: Answer,
    via: Via,
    actor_id: int | None,
    status_url: str,
    policy: ConfirmationPolicy,
) -> Outcome:
    """Records the applicant's answer about an appointment and does what it asks."""
    if answer is not Answer.CONFIRMED:
        # A freed seat is offered and a rescheduling request placed again: both append to the fairness
        # chain, so its turn is taken before the appointment's and the case's rows are locked
        # (fairness.chain.take_turn). A confirmation appends nothing and does not wait for the turn.
        await chain.take_turn(session=session)
    appointment = await _lock_appointment(session=session, appointment_id=appointment_id)
    if appointment is None:
        raise ConfirmationRefusal("appointment_not_found", N_("There is no such appointment."))
    locked = await cases.lock_cases(session=session, case_ids=[appointment.case_id])
    case = locked[appointment.case_id]
    confirmation = await session.scalar(select(Confirmation).where(Confirmation.appointment_id == appointment.id))
    if confirmation is not None and confirmation.answer is answer:
        return Outcome(answer=answer, repeated=True)
    slot = await session.get_one(Slot, appointment.slot_id)
    if appointment.state not in (AppointmentState.SCHEDULED, AppointmentState.CONFIRMED):
        raise ConfirmationRefusal(
            "appointment_not_live", N_("This appointment has changed since the message was sent; see the latest one.")
        )
    if slot.starts_at <= clock.now():
        raise ConfirmationRefusal("audience_passed", N_("The time of this audience has passed."))
    now = clock.now()
    if confirmation is None:
        confirmation = Confirmation(
            appointment_id=appointment.id,
            case_id=case.id,
            ask_at=now,
            short_notice=False,
            call_attempts=0,
            last_call_note="",
        )
        session.add(confirmation)
    confirmation.answer = answer
    confirmation.answered_at = now
    confirmation.answered_via = via.value
    if actor_id is not None:
        await audit.record(
            session=session,
            clock=clock,
            actor_id=actor_id,
            action="appointment.answer",
            target_type="appointment",
            target_id=appointment.id,
            details={"answer": answer.value, "via": via.value},
        )
    if answer is Answer.CONFIRMED:
        await _confirm(
            session=session,
            clock=clock,
            case=case,
            appointment=appointment,
            slot=slot,
            actor_id=actor_id,
            status_url=status_url,
        )
        return Outcome(answer=answer)
    # Reschedule or cancel: the seat is freed, the other channels fall silent, the seat is offered.
    await notices.withdraw_confirmation(session=session, clock=clock, appointment=appointment, why=f"answered {answer}")
    appointment.state = AppointmentState.RELEASED
    appointment.released_at = now
    appointment.release_reason = f"applicant_{answer.value}"
    await session.flush()
    await notices.email_invitation(session=session, clock=clock, case=case, appointment=appointment, cancelled=True)
    language_when = slot.starts_at
    if answer is Answer.RESCHEDULED:
        # Not the same day again: the applicant said it does not suit.
        day = slot.starts_at.astimezone(RIYADH).date()
        if await session.get(UnavailableDay, (case.id, day)) is None:
            session.add(UnavailableDay(case_id=case.id, day=day))
        await cases.change_status(
            session=session,
            clock=clock,
            case=case,
            to_status=CaseStatus.AWAITING_AUDIENCE,
            actor_id=actor_id,
            note_key=N_("The applicant asked for another date."),
        )
        await outbox.sms_to_applicant(
            session=session,
            clock=clock,
            case=case,
            purpose=f"rescheduling:{appointment.id}",
            compose=lambda language: rescheduling_sms(
                language=language,
                tracking_number=case.tracking_number,
                when=dual_datetime(language_when, language),
                status_url=status_url,
            ),
        )
    else:
        change = await cases.change_status(
            session=session,
            clock=clock,
            case=case,
            to_status=CaseStatus.REFERRED,
            actor_id=actor_id,
            note_key=N_("The applicant cancelled the audience; the request is followed in writing."),
        )
        await cases.stage_notice(session=session, clock=clock, case=case, change=change, status_url=status_url)
    backfilled = await offer_seat(
        session=session, clock=clock, appointment=appointment, slot=slot, policy=policy, status_url=status_url
    )
    replaced: int | None = None
    if answer is Answer.RESCHEDULED:
        # Placed again in priority order, not before everyone: the run places this request and those ahead
        # of it (`ahead_of`), so nobody older with at least its score is passed. Asking for another date is
        # the applicant's own choice, not a date Majlis owes (as after a cancelled session), and does not
        # justify passing anyone; a pass found anyway shows in the chain as unjustified (rule
        # "rescheduled"). The whole calendar is open to it, not only the allocation horizon: the applicant
        # asked for a date and the answer page shows it at once; those ahead of it are placed first.
        await scheduling.run_allocation(
            session=session,
            clock=clock,
            actor_id=actor_id,
            status_url=status_url,
            rule="rescheduled",
            ahead_of=case.id,
        )
        replaced = await session.scalar(
            select(Appointment.id).where(
                Appointment.case_id == case.id, Appointment.state == AppointmentState.SCHEDULED
            )
        )
    return Outcome(answer=answer, backfilled_case_id=backfilled, replaced_appointment_id=replaced)


async def _confirm(
    *,
    session: AsyncSession,
    clock: Clock,
    case: Case,
    appointment: Appointment,
    slot: Slot,
    actor_id: int | None,
    status_url: str,
) -> None:
    appointment.state = AppointmentState.CONFIRMED
    # Answered on one channel: the others (a call not yet made) are not needed.
    await notices.withdraw_confirmation(session=session, clock=clock, appointment=appointment, why="confirmed")
    if case.status is not CaseStatus.CONFIRMED:
        await cases.change_status(
            session=session, clock=clock, case=case, to_status=CaseStatus.CONFIRMED, actor_id=actor_id
        )
    await outbox.sms_to_applicant(
        session=session,
        clock=clock,
        case=case,
        purpose=f"confirmed:{appointment.id}",
        compose=lambda language: confirmed_sms(
            language=language,
            tracking_number=case.tracking_number,
            when=dual_datetime(slot.starts_at, language),
            status_url=status_url,
        ),
    )
    await session.flush()


async def offer_seat(
    *,
    session: AsyncSession,
    clock: Clock,
    appointment: Appointment,
    slot: Slot,
    policy: ConfirmationPolicy,
    status_url: str,
) -> int | None:
    """Offers the freed seat to the highest-priority waiting request that suits it at short notice.

    The allocator's own rule chooses, with the short notice in place of the
    usual three days; the one chosen is told and asked to confirm at once.
    Gives back the case placed, if any.
    """
    if slot.starts_at - clock.now() < policy.backfill_min_notice:
        return None
    dated = await session.get_one(AudienceSession, slot.session_id)
    if dated.locked:
        return None
    seat = (await scheduling.seats_of(session=session, slots=[slot]))[(slot.id, appointment.seat)]
    waiting = [
        w for w in await scheduling.waiting_requests(session=session, clock=clock) if w.case_id != appointment.case_id
    ]
    result = allocate([seat], waiting, clock.now(), notice=policy.backfill_min_notice)
    if not result.placements:
        return None
    placement = result.placements[0]
    placed = await scheduling.place(
        session=session,
        clock=clock,
        placement=placement,
        actor_id=None,
        status_url=status_url,
        explanation=f"offered at short notice (a seat freed by the applicant before): {placement.explanation}",
        rule="backfill",
        notice=policy.backfill_min_notice,
    )
    if placed is None:
        return None
    holidays = await _holidays(session=session, after=clock.now().astimezone(RIYADH).date())
    if short_notice_time(clock.now(), slot.starts_at, holidays=holidays) > clock.now():
        # Outside working hours: the sweep asks on the next working morning.
        return placed.case_id
    # Asked at once, not three days before: the audience is nearer than that.
    locked = await cases.lock_cases(session=session, case_ids=[placed.case_id])
    await _ask(
        session=session,
        clock=clock,
        policy=policy,
        case=locked[placed.case_id],
        appointment=placed,
        slot=slot,
        short_notice=True,
    )
    return placed.case_id


@dataclass(frozen=True)
class CallTask:
    confirmation: Confirmation
    appointment: Appointment
    slot: Slot
    case: Case


def due_calls(now: datetime, policy: ConfirmationPolicy) -> Select[Confirmation, Appointment, Slot, Case]:
    """The calls due at `now`, soonest audience first: asked, no answer after the configured hours, the audience still
    ahead (a statement, so the call centre's list can add its reader's reach and take a page of it)."""
    return (
        select(Confirmation, Appointment, Slot, Case)
        .join(Appointment, Appointment.id == Confirmation.appointment_id)
        .join(Slot, Slot.id == Appointment.slot_id)
        .join(Case, Case.id == Confirmation.case_id)
        .where(
            Confirmation.answer.is_(None),
            Confirmation.ask_at <= now - policy.no_answer,
            Appointment.state == AppointmentState.SCHEDULED,
            Slot.starts_at > now,
        )
        .order_by(Slot.starts_at, Confirmation.id)
    )


async def calls_due(*, session: AsyncSession, clock: Clock, policy: ConfirmationPolicy) -> list[CallTask]:
    """The call centre's list: asked, no answer after the configured hours, the audience still ahead."""
    rows = (await session.execute(due_calls(clock.now(), policy))).all()
    return [CallTask(confirmation=c, appointment=a, slot=s, case=case) for c, a, s, case in rows]


async def record_no_answer(
    *, session: AsyncSession, clock: Clock, confirmation_id: int, actor_id: int, note: str
) -> Confirmation:
    """A call that reached nobody: counted, with the caller's note; the task stays on the list."""
    confirmation = await session.get(Confirmation, confirmation_id)
    if confirmation is None:
        raise ConfirmationRefusal("confirmation_not_found", N_("There is no such confirmation."))
    if confirmation.answer is not None:
        raise ConfirmationRefusal("already_answered", N_("This appointment has already been answered."))
    confirmation.call_attempts += 1
    confirmation.last_call_at = clock.now()
    confirmation.last_call_by_id = actor_id
    confirmation.last_call_note = note.strip()[:500]
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="appointment.call_no_answer",
        target_type="appointment",
        target_id=confirmation.appointment_id,
        details={"note": confirmation.last_call_note},
    )
    await session.flush()
    return confirmation


def policy_from(settings: Settings) -> ConfirmationPolicy:
    """The timeline's policy from the settings."""
    return ConfirmationPolicy(
        days=settings.confirmation_days,
        channels=tuple(settings.confirmation_channels),
        no_answer=timedelta(hours=settings.confirmation_no_answer_hours),
        backfill_min_notice=timedelta(hours=settings.backfill_min_notice_hours),
    )
