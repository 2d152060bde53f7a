"""The step that schedules a request says in the reader's language how the seat was given, on both databases.

The English explanation (score, rank, seat, who went before) stays on the appointment for the fairness record;
the request's history, which the official reads on his console, carries a catalog message instead.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases.models import Case, CaseStatus, StatusChange
from majlis.clock import FrozenClock
from majlis.i18n import Catalogs
from scheduler import service as scheduling
from tests.factories import make_staff
from tests.priority.test_triage import new_case, ready
from tests.scheduler.test_runs import appointments, run, sunday_hall

Sessions = async_sessionmaker[AsyncSession]


async def test_a_run_notes_the_score_and_place_as_a_translated_message(sessions: Sessions, clock: FrozenClock) -> None:
    await sunday_hall(sessions, clock)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    number = await new_case(sessions, clock, applicant_national_id="1000000008")
    await ready(sessions, clock, actor, number)
    assert (await run(sessions, clock)).placed == 1
    appointment = (await appointments(sessions))[number]
    async with sessions() as session:
        step = await session.scalar(
            select(StatusChange)
            .join(Case, Case.id == StatusChange.case_id)
            .where(Case.tracking_number == number, StatusChange.to_status == CaseStatus.SCHEDULED)
        )
    assert step is not None
    assert step.note_key == scheduling.PLACED_IN_ORDER
    assert step.note_params == {"score": appointment.explanation.split(",")[0].split()[1], "rank": "1"}
    # The explanation is still kept in English on the appointment and the step, for the record.
    assert "earliest compatible seat" in appointment.explanation and step.note == appointment.explanation
    catalogs = Catalogs()
    arabic = catalogs.gettext("ar", step.note_key, **step.note_params)
    assert "الدرجة" in arabic and step.note_params["score"] in arabic and "seat" not in arabic
