"""Which member of staff may see which request's personal data: need to know, written once for every role.

The rule is one SQL condition on `cases` (`reach`), used both as the filter of lists and, through
`may_see`, for one request, so a page and a list can never disagree. Per role:

- the audit desk: every request (it triages them all), confidential ones included;
- the official: the requests of today's audiences (Riyadh date) and those carrying his directives (referrals
  made at an audience), confidential ones included;
- the follow-up team and managers: referred requests (sent to a department, or waiting for one);
- a department's liaison: requests referred to that department;
- protocol: requests waiting for an audience or given one (the queue and the calendar);
- the women's section: women's requests with an audience in a women's video room it runs that day (on its
  roster, or any such room without a roster that day, as `video.may_hold_room` says);
- the intake desk and the call centre: requests they entered, and requests given an audience (arrivals at the
  desk, confirmation calls);
- the WhatsApp desk: requests that came by WhatsApp;
- administrators and the emergency line's staff: none (they manage accounts, or work on emergency reports).

A request of a confidential category (`Category.confidential`) is seen only by the audit desk and the
official, whatever else holds.

This module reads the tables of scheduling, rooms, triage and follow-up directly, against the rule that a
domain reaches another through its service: the rule must be one SQL condition to filter lists in the
database, and it only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from accounts.roles import Role
from cases.models import Case, CaseStatus, Channel, Gender
from followup.models import Referral, ReferralSource
from majlis.clock import riyadh
from priority.models import Category, Triage
from rooms.models import Room, RoomKind, RosterEntry
from scheduler.models import Appointment, AudienceSession, Slot

# The roles that may read a request of a confidential category.
CONFIDENTIAL_READERS = frozenset({Role.AUDIT_DESK, Role.OFFICIAL})
# Roles whose work never needs a request's personal data.
# The auditor reads the fairness record by tracking number and never a request's personal data.
NO_REQUESTS = frozenset(
    {Role.ADMINISTRATOR, Role.EMERGENCY_AGENT, Role.MISSION_STAFF, Role.CONSULAR_SUPERVISOR, Role.AUDITOR}
)


@dataclass(frozen=True)
class Reader:
    """A member of staff as the rule sees them."""

    staff_id: int
    role: Role
    # A department's liaison: their department; None for every other role.
    department_id: int | None = None


# Each condition reads its own aliases of the tables it joins, so that the rule can filter a query that itself
# joins them (follow-up's list joins `referrals`): only `cases` correlates with the query outside.


def _confidential() -> ColumnElement[bool]:
    triage, category = aliased(Triage), aliased(Category)
    return exists().where(
        triage.case_id == Case.id,
        triage.category_code == category.code,
        category.confidential.is_(True),
    )


def _with_appointment() -> ColumnElement[bool]:
    appointment = aliased(Appointment)
    return exists().where(appointment.case_id == Case.id)


def _audience_on(day: date) -> ColumnElement[bool]:
    appointment, slot, audience = aliased(Appointment), aliased(Slot), aliased(AudienceSession)
    return exists().where(
        appointment.case_id == Case.id,
        appointment.slot_id == slot.id,
        slot.session_id == audience.id,
        audience.day == day,
    )


def _referred(department_id: int | None = None, source: ReferralSource | None = None) -> ColumnElement[bool]:
    referral = aliased(Referral)
    conditions = [referral.case_id == Case.id]
    if department_id is not None:
        conditions.append(referral.department_id == department_id)
    if source is not None:
        conditions.append(referral.source == source)
    return exists().where(*conditions)


def _in_rooms_of(staff_id: int) -> ColumnElement[bool]:
    """An audience in a women's video room this member runs: as `video.may_hold_room` says, any such room on a day
    it has no roster, or one whose roster that day names them."""
    appointment, slot, audience, room = aliased(Appointment), aliased(Slot), aliased(AudienceSession), aliased(Room)
    roster, named = aliased(RosterEntry), aliased(RosterEntry)
    rostered_that_day = exists().where(roster.room_id == slot.room_id, roster.day == audience.day)
    on_it = exists().where(named.room_id == slot.room_id, named.day == audience.day, named.staff_id == staff_id)
    return exists().where(
        appointment.case_id == Case.id,
        appointment.slot_id == slot.id,
        slot.session_id == audience.id,
        slot.room_id == room.id,
        room.kind == RoomKind.WOMEN_VIDEO,
        or_(~rostered_that_day, on_it),
    )


def _work_of(reader: Reader, today: date) -> ColumnElement[bool]:
    """The requests the reader's work needs, before the confidential rule."""
    role = reader.role
    if role is Role.AUDIT_DESK:
        return true()
    if role is Role.OFFICIAL:
        return or_(_audience_on(today), _referred(source=ReferralSource.AUDIENCE))
    if role in (Role.FOLLOW_UP, Role.MANAGER):
        # Referred by status even before a department holds it (the team chooses one).
        return or_(Case.status == CaseStatus.REFERRED, _referred())
    if role is Role.DEPARTMENT_LIAISON:
        return _referred(department_id=reader.department_id) if reader.department_id is not None else false()
    if role is Role.PROTOCOL:
        return or_(Case.status == CaseStatus.AWAITING_AUDIENCE, _with_appointment())
    if role is Role.WOMEN_SECTION:
        return and_(Case.gender == Gender.FEMALE, _in_rooms_of(reader.staff_id))
    if role in (Role.INTAKE_DESK, Role.CALL_CENTRE):
        return or_(Case.entered_by_id == reader.staff_id, _with_appointment())
    if role is Role.WHATSAPP_DESK:
        return Case.channel == Channel.WHATSAPP
    return false()


def reach(reader: Reader, *, now: datetime) -> ColumnElement[bool]:
    """The condition on `cases` a request must meet for the reader to see its personal data."""
    if reader.role in NO_REQUESTS:
        return false()
    work = _work_of(reader, riyadh(now).date())
    if reader.role in CONFIDENTIAL_READERS:
        return work
    return and_(work, ~_confidential())


async def may_see(*, session: AsyncSession, reader: Reader, case_id: int, now: datetime) -> bool:
    """Whether the reader may see this request's personal data."""
    found = await session.scalar(select(Case.id).where(Case.id == case_id, reach(reader, now=now)))
    return found is not None


async def visible_ids(*, session: AsyncSession, reader: Reader, case_ids: set[int], now: datetime) -> set[int]:
    """Those of these requests the reader may see (for a list built elsewhere)."""
    if not case_ids:
        return set()
    rows = await session.scalars(select(Case.id).where(Case.id.in_(case_ids), reach(reader, now=now)))
    return set(rows)


def is_confidential() -> ColumnElement[bool]:
    """The condition on `cases` of a request whose category is confidential."""
    return _confidential()
