"""The day's report: how long each audience took against the source documents' 6 minutes, and how the day went.

An audience's time runs from its start to its end as recorded: in person, from
the hall's Call next to the next press or the outcome; over video, from the
start of the call to its end. Only audiences with both are timed. The wait runs
from the arrival to the call.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from audience_day.board import DayAppointment, day_appointments
from majlis.clock import riyadh
from scheduler.models import AppointmentState, AudienceMode

# "Average time at the centre: 6 minutes", under 10 minutes
# end to end: the reception centres' published figures, source documents 001 and 002 (seeds/).
REFERENCE_MINUTES = 6.0


@dataclass(frozen=True)
class TimedAudience:
    """One audience held on the day, with its recorded start and end."""

    tracking_number: str
    mode: AudienceMode
    room: str
    queue_number: int | None
    started_at: datetime
    ended_at: datetime

    @property
    def minutes(self) -> float:
        return (self.ended_at - self.started_at).total_seconds() / 60

    @property
    def over_reference(self) -> bool:
        return self.minutes > REFERENCE_MINUTES


@dataclass(frozen=True)
class DayReport:
    day: date
    audiences: list[TimedAudience]
    appointments: int
    arrived: int
    on_time: int
    late: int
    held: int
    no_shows: int
    released: int
    # Called (in the hall or the video call) but no outcome recorded yet.
    in_audience: int
    # Minutes from arrival to call, of each applicant called after arriving.
    waits: list[float]
    reference_minutes: float = REFERENCE_MINUTES

    @property
    def mean_minutes(self) -> float | None:
        return statistics.fmean(a.minutes for a in self.audiences) if self.audiences else None

    @property
    def median_minutes(self) -> float | None:
        return statistics.median(a.minutes for a in self.audiences) if self.audiences else None

    @property
    def over_reference(self) -> int:
        return sum(1 for a in self.audiences if a.over_reference)

    @property
    def mean_wait_minutes(self) -> float | None:
        return statistics.fmean(self.waits) if self.waits else None


def _timed(item: DayAppointment) -> TimedAudience | None:
    started, ended = item.called_at, item.audience_ended_at
    if started is None or ended is None:
        return None
    return TimedAudience(
        tracking_number=item.case.tracking_number,
        mode=item.mode,
        room=item.room.name,
        queue_number=item.arrival.queue_number if item.arrival is not None else None,
        started_at=started,
        ended_at=ended,
    )


async def day_report(*, session: AsyncSession, day: date) -> DayReport:
    """The report of one Riyadh day, across every branch."""
    items = await day_appointments(session=session, day=day)
    audiences = sorted(
        (timed for item in items if (timed := _timed(item)) is not None), key=lambda a: (a.started_at, a.room)
    )
    arrivals = [i.arrival for i in items if i.arrival is not None]
    waits = [
        (called - arrived).total_seconds() / 60
        for i in items
        if (arrived := i.arrived_at) is not None and (called := i.called_at) is not None
    ]
    states = [i.appointment.state for i in items]
    return DayReport(
        day=day,
        audiences=audiences,
        appointments=len(items),
        arrived=len(arrivals),
        on_time=sum(1 for a in arrivals if not a.late),
        late=sum(1 for a in arrivals if a.late),
        held=states.count(AppointmentState.HELD),
        no_shows=states.count(AppointmentState.NO_SHOW),
        released=states.count(AppointmentState.RELEASED),
        in_audience=states.count(AppointmentState.IN_AUDIENCE),
        waits=waits,
    )


def text_lines(report: DayReport) -> list[str]:
    """The report as plain lines, for the command line."""

    def minutes(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    lines = [
        f"Day report {report.day.isoformat()}",
        f"appointments {report.appointments}; arrived {report.arrived} "
        f"(on time {report.on_time}, late {report.late}); held {report.held}; no-shows {report.no_shows}; "
        f"released {report.released}; in audience without an outcome {report.in_audience}",
        f"audiences timed {len(report.audiences)}: mean {minutes(report.mean_minutes)} min, "
        f"median {minutes(report.median_minutes)} min, against the reference {report.reference_minutes:.0f} min "
        f"(source documents 001, 002); {report.over_reference} over it",
        f"mean wait from arrival to call {minutes(report.mean_wait_minutes)} min",
    ]
    for a in report.audiences:
        number = f"#{a.queue_number}" if a.queue_number is not None else "-"
        lines.append(
            f"  {riyadh(a.started_at):%H:%M}-{riyadh(a.ended_at):%H:%M}"
            f"  {a.minutes:5.1f} min{' *' if a.over_reference else '  '}  {a.mode.value:<9} {number:>4}  "
            f"{a.tracking_number}"
        )
    return lines
