"""The call centre's list a page at a time: the same calls as `confirmations.calls_due`, within the reader's reach.

Counted and cut in the database (majlis/paging.py), soonest audience first, so a member of staff works down the
first page; the reader's need to know (a condition on `cases`) is part of the query, so a request out of reach is
neither listed nor counted.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from cases.models import Case
from majlis import paging
from majlis.clock import Clock
from scheduler.confirmations import CallTask, ConfirmationPolicy
from scheduler.models import Appointment, AppointmentState, Confirmation, Slot

# A card with its call form each is long on a phone: twenty calls a page.
PER_PAGE = 20


async def calls_page(
    *,
    session: AsyncSession,
    clock: Clock,
    policy: ConfirmationPolicy,
    within: ColumnElement[bool] | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> paging.Paged[CallTask]:
    """One page of the calls due: asked, no answer after the configured hours, the audience still ahead."""
    now = clock.now()
    statement = (
        select(Confirmation, Appointment, Slot, Case)
        .join(Appointment, Appointment.id == Confirmation.appointment_id)
        .join(Slot, Slot.id == Appointment.slot_id)
        .join(Case, Case.id == Confirmation.case_id)
        .where(
            Confirmation.answer.is_(None),
            Confirmation.ask_at <= now - policy.no_answer,
            Appointment.state == AppointmentState.SCHEDULED,
            Slot.starts_at > now,
            within if within is not None else true(),
        )
        .order_by(Slot.starts_at, Confirmation.id)
    )
    found = await paging.rows_page_of(session, statement, page=page, per_page=per_page)
    tasks = [CallTask(confirmation=c, appointment=a, slot=s, case=case) for c, a, s, case in found.items]
    return paging.Paged(items=tasks, total=found.total, page=found.page, per_page=found.per_page)
