"""A request's whole follow-up on a frozen clock: referred to two departments, one silent, reminded,
escalated up two rungs (once held back outside working hours), answered, closed, and the applicant told
at every stage."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from cases.models import CaseStatus
from followup import escalation, referrals
from followup.models import Department, EventKind, Referral, ReferralEvent, ReferralState
from majlis.bidi import left_to_right
from majlis.clock import RIYADH, FrozenClock
from majlis.db import transaction
from notify.models import OutboxMessage
from tests.factories import make_staff
from tests.followup.arrange import add_department
from tests.priority.test_triage import new_case, ready

Sessions = async_sessionmaker[AsyncSession]
URL = "https://majlis.example.sa/status"


def riyadh(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=RIYADH)


async def referral_to(sessions: Sessions, code_id: int) -> Referral:
    async with sessions() as session:
        found = await session.scalar(select(Referral).where(Referral.department_id == code_id))
        assert found is not None
        return found


async def sent(sessions: Sessions, like: str) -> list[OutboxMessage]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose.like(like)).order_by(OutboxMessage.id)
        )
        return list(rows)


async def sweep(sessions: Sessions, clock: FrozenClock) -> escalation.SweepReport:
    return await escalation.sweep(sessions=sessions, clock=clock)


async def test_referred_to_two_departments_followed_until_done(sessions: Sessions, clock: FrozenClock) -> None:
    office = await add_department(sessions, "office", name_ar="ديوان المجلس", name_en="The Official's Office")
    housing = await add_department(
        sessions, "housing", name_ar="وزارة البلديات والإسكان", name_en="Ministry of Housing", parent="office"
    )
    health = await add_department(
        sessions,
        "health",
        name_ar="وزارة الصحة",
        name_en="Ministry of Health",
        parent="office",
        liaison_phone="+966501112233",
    )
    auditor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    team = (await make_staff(sessions, clock, Role.FOLLOW_UP, "followup")).id

    # 1. Sunday 29 November, 09:00: the audit desk refers the request in writing to two ministries.
    clock.set(riyadh(29, 9, month=11))
    number = await new_case(sessions, clock)
    await ready(sessions, clock, auditor, number, route="written_referral", departments="housing، health")
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None and case.status is CaseStatus.REFERRED
    to_housing, to_health = await referral_to(sessions, housing), await referral_to(sessions, health)
    # Ten working days of 08:00–15:00, Sunday to Thursday: 6 h left on the first Sunday, then 9 days of 7 h,
    # and the last hour on the third Sunday.
    assert to_health.solution_due_at == riyadh(13, 9)
    assert to_health.first_response_due_at == riyadh(1, 9)  # two working days
    assert to_health.next_escalation_at == to_health.solution_due_at  # rung 1 at 100 %
    [referred] = await sent(sessions, "stage:referred:%")
    assert number in referred.body
    assert "وزارة البلديات والإسكان ووزارة الصحة" in referred.body
    announcements = await sent(sessions, "followup:new:%")
    assert sorted(m.recipient for m in announcements) == ["liaison.health@example.org", "liaison.housing@example.org"]
    assert all("{referral_link}" in m.body and m.payload["subject"] for m in announcements)

    # 2. Housing acknowledges on Monday; health stays silent.
    clock.set(riyadh(30, 10, month=11))
    async with transaction(sessions) as session:
        await referrals.acknowledge(
            session=session, clock=clock, referral_id=to_housing.id, generation=1, actor_id=None, by="housing (link)"
        )

    # 3. Wednesday: health has not answered its first response; the team reminds its liaison by e-mail and SMS.
    clock.set(riyadh(2, 11))
    async with transaction(sessions) as session:
        await referrals.remind(
            session=session, clock=clock, referral_id=to_health.id, actor_id=team, by_sms=True, note="نرجو الإفادة"
        )
    assert [m.recipient for m in await sent(sessions, "followup:remind:%")] == ["liaison.health@example.org"]
    assert [m.recipient for m in await sent(sessions, "followup:remind-sms:%")] == ["+966501112233"]

    # Housing answers on Thursday 10 December; the applicant is told it answered (not what).
    clock.set(riyadh(10, 12))
    async with transaction(sessions) as session:
        await referrals.answer(
            session=session,
            clock=clock,
            referral_id=to_housing.id,
            generation=1,
            actor_id=None,
            by="housing (link)",
            text="تمت دراسة الطلب وإدراجه في برنامج الدعم السكني.",
            status_url=URL,
        )
    [housing_answered] = await sent(sessions, "stage:answered:%")
    assert "وزارة البلديات والإسكان" in housing_answered.body and "برنامج" not in housing_answered.body

    # Saturday 12 December: a weekend sweep finds nothing due.
    clock.set(riyadh(12, 10))
    assert (await sweep(sessions, clock)).escalated == 0

    # 4. Sunday 13 December, 09:00: health's solution time is up. Rung 1 tells its head.
    clock.set(riyadh(13, 9))
    report = await sweep(sessions, clock)
    assert (report.escalated, report.deferred, report.failed) == (1, 0, [])
    [rung_one] = await sent(sessions, "followup:escalation:%")
    assert rung_one.recipient == "head.health@example.org"
    to_health = await referral_to(sessions, health)
    assert to_health.escalation_level == 1
    # Rung 2: two more working days, to the deputy one rank up (the office).
    assert to_health.next_escalation_at == riyadh(15, 9)
    assert (await sweep(sessions, clock)).escalated == 0  # not twice

    # Tuesday 15 December, 16:00: due since 09:00 but the office has closed; nothing goes out until it opens.
    clock.set(riyadh(15, 16))
    report = await sweep(sessions, clock)
    assert (report.escalated, report.deferred) == (0, 1)
    assert len(await sent(sessions, "followup:escalation:%")) == 1
    assert (await referral_to(sessions, health)).next_escalation_at == riyadh(16, 8)
    clock.set(riyadh(16, 8))
    assert (await sweep(sessions, clock)).escalated == 1
    rung_two = (await sent(sessions, "followup:escalation:%"))[-1]
    assert rung_two.recipient == "deputy.office@example.org"
    assert rung_two.payload["subject"] == f"تصعيد (المستوى 2): الطلب {left_to_right(number)}"
    assert office  # the top of the tree receives rung 3 later

    # 5. Health answers on Wednesday.
    clock.set(riyadh(16, 11))
    async with transaction(sessions) as session:
        await referrals.answer(
            session=session,
            clock=clock,
            referral_id=to_health.id,
            generation=1,
            actor_id=None,
            by="health (link)",
            text="حُجز للمريض موعد في المستشفى التخصصي.",
            status_url=URL,
        )
    assert (await referral_to(sessions, health)).next_escalation_at is None

    # 6. The team closes both; the last close completes the request with the approved words.
    async with transaction(sessions) as session:
        await referrals.close(
            session=session, clock=clock, referral_id=to_housing.id, actor_id=team, outcome="أُدرج", status_url=URL
        )
    async with sessions() as session:
        still = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert still is not None and still.status is CaseStatus.REFERRED
    outcome = "أُدرج طلبكم في برنامج الدعم السكني وحُجز لكم موعد في المستشفى التخصصي."
    async with transaction(sessions) as session:
        await referrals.close(
            session=session, clock=clock, referral_id=to_health.id, actor_id=team, outcome=outcome, status_url=URL
        )
    async with sessions() as session:
        done = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert done is not None and done.status is CaseStatus.COMPLETED
        events = await referrals.events_of_case(session=session, case_id=done.id)
    # 7. The applicant heard at every stage, in their language, and the completion carries the outcome.
    stages = [m.purpose.split(":")[1] for m in await sent(sessions, "stage:%")]
    assert stages == ["referred", "answered", "answered", "completed"]
    [completed] = await sent(sessions, "stage:completed:%")
    assert outcome in completed.body
    kinds = [e.kind for e in events if e.referral_id == to_health.id]
    assert kinds == [
        EventKind.SENT,
        EventKind.REMINDED,
        EventKind.ESCALATED,
        EventKind.ESCALATED,
        EventKind.ANSWERED,
        EventKind.CLOSED,
    ]
    # Closing twice is refused and changes nothing.
    with pytest.raises(referrals.ReferralRefused) as refused:
        async with transaction(sessions) as session:
            await referrals.close(
                session=session, clock=clock, referral_id=to_health.id, actor_id=team, outcome="x", status_url=URL
            )
    assert refused.value.code == "closed"
    assert len(await sent(sessions, "stage:completed:%")) == 1


async def test_waiting_for_the_applicant_stops_the_clocks(sessions: Sessions, clock: FrozenClock) -> None:
    from followup.models import InformationRequest

    housing = await add_department(sessions, "housing")
    auditor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    clock.set(riyadh(29, 9, month=11))
    number = await new_case(sessions, clock)
    await ready(sessions, clock, auditor, number, route="written_referral", departments="housing")
    before = await referral_to(sessions, housing)
    assert before.solution_due_at == riyadh(13, 9)

    # Monday 10:00 the department asks the applicant; the clocks stop.
    clock.set(riyadh(30, 10, month=11))
    async with transaction(sessions) as session:
        referral = await referrals.lock(session=session, referral_id=before.id)
        asked = InformationRequest(
            case_id=referral.case_id,
            referral_id=referral.id,
            question="صورة صك الملكية",
            asked_at=clock.now(),
            return_status="referred",
        )
        session.add(asked)
        await session.flush()
        await referrals.information_asked(session=session, clock=clock, referral=referral, request=asked)
    paused = await referral_to(sessions, housing)
    assert paused.state is ReferralState.AWAITING_APPLICANT and paused.next_escalation_at is None
    # Escalation would have been due; nothing happens while the applicant is awaited.
    clock.set(riyadh(20, 9))
    assert (await sweep(sessions, clock)).escalated == 0

    # The applicant answers on Wednesday 2 December at 10:00: 2 working days (14 h) spent waiting.
    clock.set(riyadh(2, 10))
    async with transaction(sessions) as session:
        asked_again = await session.get_one(InformationRequest, asked.id)
        asked_again.answer = "أرفقت الصك"
        asked_again.answered_at = clock.now()
        await referrals.information_given(session=session, clock=clock, referral=paused, request=asked_again)
    resumed = await referral_to(sessions, housing)
    assert resumed.state is ReferralState.ACKNOWLEDGED and resumed.paused_since is None
    assert resumed.extended_minutes == 14 * 60
    assert resumed.solution_due_at == riyadh(15, 9)
    assert resumed.next_escalation_at == riyadh(15, 9)
    given = await sent(sessions, "followup:given:%")
    assert [m.recipient for m in given] == ["liaison.housing@example.org"]

    # The team extends by one working day with its reason: every deadline moves by 7 working hours.
    team = (await make_staff(sessions, clock, Role.FOLLOW_UP, "followup")).id
    async with transaction(sessions) as session:
        await referrals.extend(
            session=session, clock=clock, referral_id=resumed.id, actor_id=team, minutes=7 * 60, reason="طلب الوزارة"
        )
    assert (await referral_to(sessions, housing)).solution_due_at == riyadh(16, 9)
    assert timedelta(0) < riyadh(16, 9) - riyadh(15, 9)


async def test_a_failing_escalation_is_logged_and_the_others_go_on(sessions: Sessions, clock: FrozenClock) -> None:
    from worktime.models import WorkingCalendar, WorkingHours

    async with transaction(sessions) as session:
        # A calendar whose hours were all taken away (the directory refuses it; an old row may still be so).
        session.add(WorkingCalendar(code="broken", name_ar="معطل", name_en="Broken", time_zone="Asia/Riyadh"))
    await add_department(sessions, "housing")
    await add_department(sessions, "broken", calendar="broken")
    auditor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    clock.set(riyadh(29, 9, month=11))
    for n, codes in enumerate(("housing", "broken", "housing")):
        number = await new_case(sessions, clock, phone=f"05{n + 20:08d}", subject=f"طلب {n}")
        async with transaction(sessions) as session:
            calendar_id = await session.scalar(select(WorkingCalendar.id).where(WorkingCalendar.code == "broken"))
            if codes == "broken":
                # Hours while it is referred, so its deadlines can be set; gone before the sweep.
                for weekday in (6, 0, 1, 2, 3):
                    session.add(WorkingHours(calendar_id=calendar_id, weekday=weekday, opens=time(8), closes=time(15)))
        await ready(sessions, clock, auditor, number, route="written_referral", departments=codes)
        async with transaction(sessions) as session:
            await session.execute(delete(WorkingHours).where(WorkingHours.calendar_id == calendar_id))
    async with sessions() as session:
        broken_id = await session.scalar(
            select(Referral.id)
            .join(Department, Department.id == Referral.department_id)
            .where(Department.code == "broken")
        )
    # Sunday 13 December, 16:00: every rung is due but the offices have closed. The healthy ones wait for the
    # morning; the broken department's calendar has no working time to wait for, so its item fails and is
    # left for the next sweep. On Monday morning the others are escalated; it fails again, alone.
    clock.set(riyadh(13, 16))
    report = await sweep(sessions, clock)
    assert (report.escalated, report.deferred, report.failed) == (0, 2, [broken_id])
    clock.set(riyadh(14, 9))
    report = await sweep(sessions, clock)
    assert (report.escalated, report.failed) == (2, [broken_id])
    async with sessions() as session:
        events = list(await session.scalars(select(ReferralEvent).where(ReferralEvent.referral_id == broken_id)))
    assert [e.kind for e in events] == [EventKind.SENT]
