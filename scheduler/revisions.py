"""The revision of a request's audience that calendars see: its SEQUENCE and DTSTAMP, read from the appointments.

A request keeps one calendar UID for its whole life, through every move and
cancellation, so calendars need a number that rises with every change to
replace their copy rather than keep a stale one. The e-mail invitations and
the feeds take it from here, so the same request has the same SEQUENCE in
both. Nothing is stored for it: it is counted from the request's appointment
rows, which are never deleted and only move forward —

    appointments - 1        each placement (a run, a move by hand, a placement again) is a new row
  + released appointments   each release (a decline, a cancelled session, a busy time, a move) is one
  + highest `sequence`      a move that keeps its row raises that row's `sequence` instead

Every term only grows, so the sum rises with every change and never falls
back. A request's first appointment is revision 0; cancelled, it is 1; placed
again, 2. "The appointment's own `sequence` plus the earlier rows" would not
do: a move gives the new row `sequence` 1, and a later placement by a run
starts its row at 0 again.

Counting the outbox's invitations instead (as invitations did before the feeds
shared this) rises only for applicants with an e-mail address, and not on a
release that sends no e-mail; this count is never lower than that one, so
calendars holding an older invitation still see the next one as newer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.models import Appointment, AppointmentState


@dataclass(frozen=True)
class Revision:
    """Where a request's audience stands as of one of its appointments."""

    appointment: Appointment  # the request's latest appointment (up to the one asked about)
    sequence: int  # SEQUENCE: rises with every placement, move and release
    stamp: datetime  # DTSTAMP: when that revision was made (the last placement or release)


async def revision_of(*, session: AsyncSession, appointment: Appointment) -> Revision:
    """The revision of the request as of `appointment` (itself and the request's earlier appointments)."""
    await session.flush()  # a release or a placement just made must be counted
    found = await _revisions(
        session=session,
        where=(Appointment.case_id == appointment.case_id) & (Appointment.id <= appointment.id),
    )
    return found[appointment.case_id]


async def latest_revisions(*, session: AsyncSession, where: ColumnElement[bool]) -> dict[int, Revision]:
    """The current revision of each request whose appointments `where` selects (all of a request's), by case id."""
    return await _revisions(session=session, where=where)


async def _revisions(*, session: AsyncSession, where: ColumnElement[bool]) -> dict[int, Revision]:
    released = func.sum(case((Appointment.state == AppointmentState.RELEASED, 1), else_=0))
    counted = (
        select(
            Appointment.case_id,
            func.count(Appointment.id),
            released,
            func.max(Appointment.sequence),
            func.max(Appointment.id),
            func.max(Appointment.placed_at),
            func.max(Appointment.released_at),
        )
        .where(where)
        .group_by(Appointment.case_id)
    )
    rows = (await session.execute(counted)).all()
    newest = select(func.max(Appointment.id)).where(where).group_by(Appointment.case_id).correlate(None)
    latest = {a.id: a for a in await session.scalars(select(Appointment).where(Appointment.id.in_(newest)))}
    revisions = {}
    for case_id, count, releases, highest, latest_id, placed, freed in rows:
        revisions[case_id] = Revision(
            appointment=latest[latest_id],
            sequence=count - 1 + int(releases or 0) + int(highest or 0),
            stamp=max(placed, freed) if freed is not None else placed,
        )
    return revisions
