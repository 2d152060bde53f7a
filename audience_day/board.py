"""Protocol's day board: every appointment of the day, who has arrived, how long each has waited, special care.

The wait runs from the arrival (kiosk, desk, or the video room's check-in) to
the call: the hall's Call next for an audience in person, the start of the call
for a video audience. While an applicant is still waiting it runs to now; for
one who arrived and was never called it stops when the appointment ended.

Appointments released before the day (moved, declined, their session
cancelled) are not expected, so they are left off; one released after its
applicant arrived (not reached) stays, since protocol saw the applicant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from audience_day.care import care_needs, tasks_for
from audience_day.models import Arrival, CareKind, CareTask, HallAudience
from cases.models import Case
from majlis.clock import Clock
from rooms.models import Room
from scheduler.models import Appointment, AppointmentState, AudienceMode, AudienceSession, Slot
from video.models import VideoAudience


@dataclass(frozen=True)
class DayAppointment:
    """One appointment of the day with its place and what happened to it."""

    appointment: Appointment
    slot: Slot
    audience_session: AudienceSession
    room: Room
    case: Case
    arrival: Arrival | None
    hall: HallAudience | None
    video: VideoAudience | None

    @property
    def mode(self) -> AudienceMode:
        return self.audience_session.mode

    @property
    def arrived_at(self) -> datetime | None:
        if self.arrival is not None:
            return self.arrival.arrived_at
        return self.video.checked_in_at if self.video is not None else None

    @property
    def called_at(self) -> datetime | None:
        """When the official called the applicant: the hall's call, or the start of the video call."""
        if self.hall is not None:
            return self.hall.called_at
        return self.video.started_at if self.video is not None else None

    @property
    def audience_ended_at(self) -> datetime | None:
        if self.hall is not None:
            return self.hall.ended_at
        return self.video.ended_at if self.video is not None else None


async def day_appointments(*, session: AsyncSession, day: date, branch_code: str | None = None) -> list[DayAppointment]:
    """Every appointment of the day's sessions (of one branch when given), in the order of their slots."""
    statement = (
        select(Appointment, Slot, AudienceSession, Room, Case)
        .join(Slot, Slot.id == Appointment.slot_id)
        .join(AudienceSession, AudienceSession.id == Slot.session_id)
        .join(Room, Room.id == Slot.room_id)
        .join(Case, Case.id == Appointment.case_id)
        .where(AudienceSession.day == day)
        .order_by(Slot.starts_at, Room.name, Appointment.seat, Appointment.id)
    )
    if branch_code:
        statement = statement.where(Room.branch_code == branch_code)
    rows = (await session.execute(statement)).all()
    ids = {row[0].id for row in rows}
    arrivals: dict[int, Arrival] = {}
    halls: dict[int, HallAudience] = {}
    videos: dict[int, VideoAudience] = {}
    if ids:
        arrivals = {
            a.appointment_id: a for a in await session.scalars(select(Arrival).where(Arrival.appointment_id.in_(ids)))
        }
        halls = {
            h.appointment_id: h
            for h in await session.scalars(select(HallAudience).where(HallAudience.appointment_id.in_(ids)))
        }
        videos = {
            v.appointment_id: v
            for v in await session.scalars(select(VideoAudience).where(VideoAudience.appointment_id.in_(ids)))
        }
    return [
        DayAppointment(
            appointment,
            slot,
            audience_session,
            room,
            case,
            arrivals.get(appointment.id),
            halls.get(appointment.id),
            videos.get(appointment.id),
        )
        for appointment, slot, audience_session, room, case in rows
    ]


@dataclass(frozen=True)
class BoardRow:
    """One line of the day board."""

    item: DayAppointment
    # Arrived and not yet called.
    waiting: bool
    # Whole minutes from arrival to the call (or to now while waiting); None before the arrival.
    waited_minutes: int | None
    needs: tuple[CareKind, ...]
    tasks: list[CareTask]

    @property
    def late(self) -> bool:
        return self.item.arrival is not None and self.item.arrival.late

    @property
    def open_tasks(self) -> int:
        return sum(1 for t in self.tasks if t.state.value == "open")


def _waited(item: DayAppointment, now: datetime) -> tuple[bool, int | None]:
    arrived = item.arrived_at
    if arrived is None:
        return False, None
    called = item.called_at
    waiting = called is None and item.appointment.state is AppointmentState.ARRIVED
    if called is not None:
        until = called
    elif waiting:
        until = now
    else:
        # Arrived, never called, and the appointment ended (not reached): the wait stopped then.
        ended = item.appointment.released_at or item.appointment.ended_at
        if ended is None:
            return False, None
        until = ended
    return waiting, max(0, int((until - arrived).total_seconds() // 60))


async def day_board(
    *, session: AsyncSession, clock: Clock, day: date, branch_code: str | None = None
) -> list[BoardRow]:
    """The board's rows (see the module's docstring); make the care tasks first with `care.ensure_tasks_for_day`."""
    items = [
        item
        for item in await day_appointments(session=session, day=day, branch_code=branch_code)
        if item.appointment.state is not AppointmentState.RELEASED or item.arrived_at is not None
    ]
    tasks = await tasks_for(session=session, appointment_ids={i.appointment.id for i in items})
    now = clock.now()
    rows = []
    for item in items:
        waiting, minutes = _waited(item, now)
        rows.append(BoardRow(item, waiting, minutes, care_needs(item.case), tasks.get(item.appointment.id, [])))
    return rows
