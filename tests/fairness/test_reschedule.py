"""Passes the fairness record must list, on both databases: a rescheduling request is placed again in
priority order (rule "rescheduled"), a run of a few lists whom it passed whatever its rule is called, a raise
is justified by the change that raised, and a whole run lists the requests it passed because their applicant
already holds an appointment."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from fairness import explain
from majlis.clock import FrozenClock
from majlis.db import transaction
from priority import service as triage
from priority.models import ManualChange
from scheduler import service as scheduling
from scheduler.models import Answer
from tests.factories import make_staff
from tests.fairness.test_record import case_id
from tests.priority.test_triage import STATUS_URL, new_case, ready
from tests.scheduler.test_confirmations import PHONES, answer, ask, at, placed_case
from tests.scheduler.test_runs import IDS, URL, appointments, run, sunday_hall

Sessions = async_sessionmaker[AsyncSession]


async def last_placement(sessions: Sessions, number: str) -> explain.PlacementExplanation:
    async with sessions() as session:
        found = await explain.placement_explanations(session=session, case_id=await case_id(sessions, number))
    return found[-1]


async def unjustified(sessions: Sessions) -> list[explain.PlacementExplanation]:
    async with sessions() as session:
        return list(await explain.unjustified(session=session))


async def test_a_rescheduled_request_is_placed_again_in_priority_order(sessions: Sessions, clock: FrozenClock) -> None:
    await sunday_hall(sessions, clock, weeks=3)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "desk")).id
    older = [await new_case(sessions, clock, applicant_national_id=IDS[i], applicant_phone=PHONES[i]) for i in (1, 2)]
    clock.advance(timedelta(hours=1))
    rescheduling = await placed_case(sessions, clock, 0)
    await run(sessions, clock)  # only the newer request is routed yet: it is placed
    held = (await appointments(sessions))[rescheduling]
    for number in older:
        await ready(sessions, clock, actor, number)
    clock.set(at(26, 10))
    await ask(sessions, clock)
    await answer(sessions, clock, held.id, Answer.RESCHEDULED)
    now = await appointments(sessions)
    again = await last_placement(sessions, rescheduling)
    assert again.rule == "rescheduled" and again.appointment_id == now[rescheduling].id
    # Both older requests (one in the freed seat, the other by the same run, ahead of it) sit no later.
    for number in older:
        assert number in now
    starts = {number: (await last_placement(sessions, number)).seat.starts_at for number in older}
    assert all(moment <= again.seat.starts_at for moment in starts.values())
    assert again.passed == () and await unjustified(sessions) == []


async def test_a_run_of_a_few_lists_whom_it_passed_whatever_its_rule(sessions: Sessions, clock: FrozenClock) -> None:
    # The placement the review found unlisted: one request placed by a run of its own (`only`) before an older
    # waiting request of the same score. The rule name says "allocation_run"; the run's size says it is not one.
    await sunday_hall(sessions, clock, weeks=2)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "desk")).id
    older = await new_case(sessions, clock, applicant_national_id=IDS[1], applicant_phone=PHONES[1])
    clock.advance(timedelta(hours=1))
    newer = await new_case(sessions, clock, applicant_national_id=IDS[0], applicant_phone=PHONES[0])
    for number in (older, newer):
        await ready(sessions, clock, actor, number)
    async with transaction(sessions) as session:
        await scheduling.run_allocation(
            session=session, clock=clock, actor_id=None, status_url=URL, only={await case_id(sessions, newer)}
        )
    placed = await last_placement(sessions, newer)
    assert placed.rule == "allocation_run" and placed.total == 1
    assert [(p.tracking_number, p.justification) for p in placed.passed] == [(older, None)]
    assert [u.tracking_number for u in await unjustified(sessions)] == [newer]


async def test_a_raise_is_justified_by_the_change_that_raised_not_a_later_lowering(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await sunday_hall(sessions, clock, weeks=2)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "desk")).id
    older = await new_case(sessions, clock, applicant_national_id=IDS[1], applicant_phone=PHONES[1])
    await ready(sessions, clock, actor, older)
    clock.advance(timedelta(hours=1))
    raised = await new_case(sessions, clock, applicant_national_id=IDS[0], applicant_phone=PHONES[0])
    async with transaction(sessions) as session:
        await triage.verify(session=session, clock=clock, tracking_number=raised, actor_id=actor)
    # Raised to critical, then lowered to urgent: still above the normal its category implies.
    for level, why in (("critical", "حالة صحية حرجة"), ("urgent", "تبين أن الحالة أخف")):
        async with transaction(sessions) as session:
            await triage.classify(
                session=session,
                clock=clock,
                tracking_number=raised,
                actor_id=actor,
                category="general",
                urgency=level,
                change_reason="health_or_safety",
                change_text=why,
            )
    async with transaction(sessions) as session:
        await triage.route(
            session=session,
            clock=clock,
            tracking_number=raised,
            actor_id=actor,
            to="audience_in_person",
            status_url=STATUS_URL,
        )
    async with sessions() as session:
        raise_id = await session.scalar(
            ManualChange.__table__.select()
            .with_only_columns(ManualChange.id)
            .where(ManualChange.before == "normal", ManualChange.after == "critical")
        )
    await run(sessions, clock)
    placed = await last_placement(sessions, raised)
    assert [p.tracking_number for p in placed.passed] == [older]
    justification = placed.passed[0].justification
    assert justification is not None
    assert (justification.by, justification.manual_change_id) == ("raised", raise_id)
    assert await unjustified(sessions) == []


async def test_a_whole_run_lists_a_pass_of_an_applicant_holding_an_appointment(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await sunday_hall(sessions, clock, weeks=3)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "desk")).id
    first = await new_case(sessions, clock, applicant_national_id=IDS[1], applicant_phone=PHONES[1])
    second = await new_case(sessions, clock, applicant_national_id=IDS[1], applicant_phone=PHONES[1])
    clock.advance(timedelta(hours=1))
    other = await new_case(sessions, clock, applicant_national_id=IDS[0], applicant_phone=PHONES[0])
    await ready(sessions, clock, actor, first)
    await run(sessions, clock)
    for number in (second, other):
        await ready(sessions, clock, actor, number)
    await run(sessions, clock)
    placed = await last_placement(sessions, other)
    assert placed.total == 2  # a whole run: both waiting requests took part
    assert [(p.tracking_number, p.justification) for p in placed.passed] == [
        (second, explain.Justification("one_appointment"))
    ]
    assert await unjustified(sessions) == []
