"""Arrival at the reception centre: the kiosk at the entrance, the desk, and the video room's check-in.

The rule for late arrivals: an applicant who comes more than `grace` after the
start of their slot is still checked in, but marked late and heard after those
who came in time; once the session is over nobody is checked in (the sweep
after the session decides what happens to the appointment). An arrival is
taken only on the appointment's own day and at its own branch, once.

Queue numbers start at 1 in each session in order of arrival. The session row
is locked while a number is given, so two kiosks checking people in at once
never hand out one number twice (the unique index on (session, number) holds
it too).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from audience_day.models import Arrival, ArrivalVia
from cases import service as cases
from cases.digits import ascii_digits, western_digits
from cases.models import Case
from cases.phones import to_e164
from cases.tracking import parse_tracking_number
from majlis.clock import Clock, riyadh
from majlis.errors import N_, DomainError, InvalidInput, invalid_choice
from majlis.settings import Settings
from notify.links import Links
from quality import invites
from quality.models import Visit
from rooms import service as rooms
from rooms.models import Room
from scheduler import lifecycle
from scheduler.models import LIVE_STATES, Appointment, AppointmentState, AudienceSession, Slot


class ArrivalRefused(DomainError):
    """A check-in that cannot be taken; the code and message say which rule it broke."""


@dataclass(frozen=True)
class ArrivalPolicy:
    # Minutes after the slot's start within which an arrival is on time.
    grace: timedelta = timedelta(minutes=15)


def policy_from(settings: Settings) -> ArrivalPolicy:
    return ArrivalPolicy(grace=timedelta(minutes=settings.late_grace_minutes))


@dataclass(frozen=True)
class Expected:
    """One of the day's appointments at a branch, as the desk sees it when searching."""

    appointment: Appointment
    slot: Slot
    room: Room
    case: Case
    arrival: Arrival | None


async def _place_of(session: AsyncSession, appointment: Appointment) -> tuple[Slot, AudienceSession, Room]:
    slot = await session.get_one(Slot, appointment.slot_id)
    audience_session = await session.get_one(AudienceSession, slot.session_id)
    room = await rooms.get_room(session=session, room_id=slot.room_id)
    assert room is not None
    return slot, audience_session, room


async def arrival_of(*, session: AsyncSession, appointment_id: int) -> Arrival | None:
    return await session.scalar(select(Arrival).where(Arrival.appointment_id == appointment_id))


async def check_in(
    *,
    session: AsyncSession,
    clock: Clock,
    policy: ArrivalPolicy,
    appointment_id: int,
    via: ArrivalVia,
    branch_code: str | None,
    actor_id: int | None = None,
    kiosk_id: int | None = None,
) -> Arrival:
    """Records the applicant's arrival and gives a queue number; refuses, changing nothing, what breaks a rule.

    `branch_code` is the kiosk's or the desk's branch (None: a video room's staff, whose room decides).
    """
    appointment = await lifecycle.locked(session=session, appointment_id=appointment_id)
    earlier = await arrival_of(session=session, appointment_id=appointment.id)
    if earlier is not None:
        raise ArrivalRefused(
            "already_arrived",
            N_("Already checked in at {time}, queue number {number}."),
            time=riyadh(earlier.arrived_at).strftime("%H:%M"),
            number=str(earlier.queue_number),
        )
    if appointment.state not in LIVE_STATES:
        raise ArrivalRefused(
            "not_live", N_("This appointment is no longer valid; please see the latest message about your request.")
        )
    slot, audience_session, room = await _place_of(session, appointment)
    now = clock.now()
    day = riyadh(slot.starts_at).date()
    if day != riyadh(now).date():
        raise ArrivalRefused("wrong_day", N_("This appointment is on {day}, not today."), day=day.isoformat())
    if branch_code is not None and room.branch_code != branch_code:
        raise ArrivalRefused("wrong_branch", N_("This appointment is at another reception centre."))
    if now >= audience_session.ends_at:
        raise ArrivalRefused("session_over", N_("The audience session of this appointment is over."))
    # The session row is the queue's lock: numbers are given one at a time.
    await session.get(AudienceSession, audience_session.id, with_for_update=True, populate_existing=True)
    last = await session.scalar(select(func.max(Arrival.queue_number)).where(Arrival.session_id == audience_session.id))
    arrival = Arrival(
        appointment_id=appointment.id,
        case_id=appointment.case_id,
        session_id=audience_session.id,
        queue_number=int(last or 0) + 1,
        arrived_at=now,
        via=via,
        by_id=actor_id,
        kiosk_id=kiosk_id,
        late=now > slot.starts_at + policy.grace,
    )
    session.add(arrival)
    await lifecycle.mark_arrived(session=session, appointment=appointment)
    await session.flush()
    if via is ArrivalVia.DESK and actor_id is not None:
        # Checked in by a person at the desk: the applicant rates it on the tablet facing them, if there is one.
        await invites.offer_on_tablet(
            session=session, clock=clock, staff_id=actor_id, case_id=appointment.case_id, visit=Visit.CHECK_IN,
            branch_code=room.branch_code, appointment_id=appointment.id,
        )  # fmt: skip
    return arrival


async def find_by_tracking_and_phone(
    *, session: AsyncSession, clock: Clock, tracking_number: str, phone_last4: str
) -> int | None:
    """The live appointment today of the request with that number, if its phone ends in those 4 digits."""
    digits = ascii_digits(phone_last4)
    if len(digits) != 4 or not digits.isdigit():
        raise ArrivalRefused("bad_phone_digits", N_("Type the last 4 digits of the phone given with the request."))
    case = await cases.find_by_tracking_number(session=session, tracking_number=tracking_number)
    if case is None or not case.phone.endswith(digits):
        return None
    appointment = await _todays_appointment(session=session, clock=clock, case_id=case.id)
    return appointment.id if appointment is not None else None


async def resolve(
    *,
    session: AsyncSession,
    clock: Clock,
    links: Links,
    code: str = "",
    tracking_number: str = "",
    phone_last4: str = "",
) -> int | None:
    """The appointment an applicant names at the kiosk or through the API: by the arrival code if one is given,
    else today's live appointment of the tracking number whose phone ends in `phone_last4`; None when neither
    names one (refused with `bad_phone_digits` when the 4 digits are not 4 digits)."""
    if code.strip():
        return links.check_arrival_code(code)
    number = parse_tracking_number(tracking_number)
    if number is None:
        return None
    return await find_by_tracking_and_phone(
        session=session, clock=clock, tracking_number=number, phone_last4=phone_last4
    )


# What the kiosk, the desk's API and the command line say when the details name no audience today.
NO_APPOINTMENT = N_("We could not find an audience with these details. Please ask at the desk.")
# The database's integer keys: a larger number names no appointment (and would overflow PostgreSQL's integer).
_ID_LIMIT = 2_147_483_647


async def check_in_at_desk(
    *,
    session: AsyncSession,
    clock: Clock,
    policy: ArrivalPolicy,
    links: Links,
    branch_code: str,
    actor_id: int,
    appointment_id: int | None = None,
    code: str = "",
    tracking_number: str = "",
    phone_last4: str = "",
) -> Arrival:
    """The desk's check-in (the API and the command line) by the appointment, its arrival code, or the tracking
    number with the phone's last 4 digits; refused as `no_appointment` when they name none."""
    codes = [b.code for b in await rooms.branches(session=session)]
    if branch_code not in codes:
        raise InvalidInput([invalid_choice("branch", codes)])
    if appointment_id is None:
        appointment_id = await resolve(
            session=session, clock=clock, links=links, code=code, tracking_number=tracking_number,
            phone_last4=phone_last4,
        )  # fmt: skip
    if appointment_id is None or not 0 < appointment_id <= _ID_LIMIT:
        raise ArrivalRefused("no_appointment", NO_APPOINTMENT)
    return await check_in(
        session=session,
        clock=clock,
        policy=policy,
        appointment_id=appointment_id,
        via=ArrivalVia.DESK,
        branch_code=branch_code,
        actor_id=actor_id,
    )


async def _todays_appointment(*, session: AsyncSession, clock: Clock, case_id: int) -> Appointment | None:
    start, end = _day_bounds(clock.now())
    return await session.scalar(
        select(Appointment)
        .join(Slot, Slot.id == Appointment.slot_id)
        .where(
            Appointment.case_id == case_id,
            Appointment.state.in_((*LIVE_STATES, AppointmentState.HELD)),
            Slot.starts_at >= start,
            Slot.starts_at < end,
        )
        .order_by(Slot.starts_at.desc())
    )


def _matching(text: str) -> list[ColumnElement[bool]]:
    """What a desk search can mean: a tracking number, an ID number, a phone (whole, or its last digits), a name."""
    found: list[ColumnElement[bool]] = [Case.applicant_name.ilike(f"%{text}%")]
    number = parse_tracking_number(text)
    if number is not None:
        found.append(Case.tracking_number == number)
    digits = ascii_digits(text)
    if digits.isdigit():
        found.append(Case.applicant.has(id_number=digits))
        phone = to_e164(text)
        if phone is not None:
            found.append(Case.phone == phone)
        elif len(digits) >= 4:
            found.append(Case.phone.endswith(digits))
    return found


def _day_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = riyadh(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


async def expected_today(*, session: AsyncSession, clock: Clock, branch_code: str, query: str = "") -> list[Expected]:
    """The day's appointments at a branch, optionally those matching a tracking number, ID number, phone or name."""
    start, end = _day_bounds(clock.now())
    statement = (
        select(Appointment, Slot, Room, Case)
        .join(Slot, Slot.id == Appointment.slot_id)
        .join(Room, Room.id == Slot.room_id)
        .join(Case, Case.id == Appointment.case_id)
        .where(
            Room.branch_code == branch_code,
            Slot.starts_at >= start,
            Slot.starts_at < end,
            Appointment.state.in_((*LIVE_STATES, AppointmentState.HELD)),
        )
        .order_by(Slot.starts_at, Appointment.seat)
    )
    text = western_digits(query.strip())
    if text:
        statement = statement.where(or_(*_matching(text)))
    rows = (await session.execute(statement)).all()
    arrivals = {
        a.appointment_id: a
        for a in await session.scalars(select(Arrival).where(Arrival.appointment_id.in_({r[0].id for r in rows})))
    }
    return [Expected(a, s, r, c, arrivals.get(a.id)) for a, s, r, c in rows]


async def room_of_appointment(*, session: AsyncSession, appointment_id: int) -> Room | None:
    """Where the applicant waits for the appointment: its slot's room."""
    appointment = await session.get(Appointment, appointment_id)
    if appointment is None:
        return None
    slot = await session.get_one(Slot, appointment.slot_id)
    return await rooms.get_room(session=session, room_id=slot.room_id)
