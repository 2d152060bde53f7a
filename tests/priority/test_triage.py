"""The audit desk's actions, on SQLite and PostgreSQL: classify, route, merge, and the fairness record."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry
from accounts.roles import Role
from cases import service as cases
from cases.models import CaseStatus
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import DomainError, InvalidInput
from notify.models import OutboxMessage
from priority import duplicates, queue
from priority import service as triage
from priority.models import ManualChange, Triage
from tests.factories import details, make_staff

STATUS_URL = "https://majlis.example/status"

Sessions = async_sessionmaker[AsyncSession]
URL = "https://majlis.example.sa/status"


async def new_case(sessions: Sessions, clock: FrozenClock, **overrides: object) -> str:
    async with transaction(sessions) as session:
        submission = await cases.submit(session=session, clock=clock, details=details(**overrides), status_url=URL)
        return submission.case.tracking_number


async def desk(sessions: Sessions, clock: FrozenClock) -> int:
    return (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id


async def ready(
    sessions: Sessions,
    clock: FrozenClock,
    actor: int,
    number: str,
    category: str = "general",
    urgency: str = "normal",
    route: str = "audience_in_person",
    departments: str = "",
) -> None:
    async with transaction(sessions) as session:
        await triage.verify(session=session, clock=clock, tracking_number=number, actor_id=actor)
        await triage.classify(
            session=session, clock=clock, tracking_number=number, actor_id=actor, category=category, urgency=urgency
        )
        await triage.route(
            session=session,
            clock=clock,
            tracking_number=number,
            actor_id=actor,
            to=route,
            status_url=STATUS_URL,
            departments=departments,
            referral_text="يحال إلى الجهة المختصة لدراسته وإفادة صاحبه." if departments else "",
        )


async def count(sessions: Sessions, model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_classify_refuses_unknown_category_and_changes_nothing(sessions: Sessions, clock: FrozenClock) -> None:
    actor = await desk(sessions, clock)
    number = await new_case(sessions, clock)
    with pytest.raises(InvalidInput) as caught:
        async with transaction(sessions) as session:
            await triage.classify(
                session=session, clock=clock, tracking_number=number, actor_id=actor, category="vip", urgency="extreme"
            )
    assert {e.field: e.code for e in caught.value.errors} == {"category": "unknown", "urgency": "invalid_choice"}
    assert await count(sessions, Triage) == 0


async def test_raising_urgency_above_the_category_needs_a_reason(sessions: Sessions, clock: FrozenClock) -> None:
    actor = await desk(sessions, clock)
    number = await new_case(sessions, clock)
    with pytest.raises(InvalidInput) as caught:
        async with transaction(sessions) as session:
            await triage.classify(
                session=session,
                clock=clock,
                tracking_number=number,
                actor_id=actor,
                category="housing",
                urgency="critical",
            )
    assert [e.code for e in caught.value.errors] == ["reason_required"]
    async with transaction(sessions) as session:
        row = await triage.classify(
            session=session,
            clock=clock,
            tracking_number=number,
            actor_id=actor,
            category="housing",
            urgency="critical",
            change_reason="health_or_safety",
            change_text="أسرة بلا مأوى مع أطفال",
        )
    assert row.urgency_reason == "أسرة بلا مأوى مع أطفال"
    async with sessions() as session:
        change = await session.scalar(select(ManualChange))
        logged = await session.scalar(select(AuditEntry).where(AuditEntry.action == "triage.manual_change.urgency"))
    assert change is not None and (change.before, change.after, change.actor_id) == ("normal", "critical", actor)
    assert logged is not None and logged.details["reason"] == "health_or_safety"


async def test_qisas_is_critical_without_a_reason(sessions: Sessions, clock: FrozenClock) -> None:
    actor = await desk(sessions, clock)
    number = await new_case(sessions, clock)
    async with transaction(sessions) as session:
        await triage.classify(
            session=session, clock=clock, tracking_number=number, actor_id=actor, category="qisas", urgency="critical"
        )
    assert await count(sessions, ManualChange) == 0


async def test_reclassifying_needs_a_reason(sessions: Sessions, clock: FrozenClock) -> None:
    actor = await desk(sessions, clock)
    number = await new_case(sessions, clock)
    await ready(sessions, clock, actor, number)
    with pytest.raises(InvalidInput):
        async with transaction(sessions) as session:
            await triage.classify(
                session=session,
                clock=clock,
                tracking_number=number,
                actor_id=actor,
                category="employment",
                urgency="normal",
            )
    async with transaction(sessions) as session:
        await triage.classify(
            session=session,
            clock=clock,
            tracking_number=number,
            actor_id=actor,
            category="employment",
            urgency="normal",
            change_reason="corrected_error",
            change_text="الموضوع عمالي",
        )
    async with sessions() as session:
        fields = [(c.field.value, c.before, c.after) for c in await session.scalars(select(ManualChange))]
    assert fields == [("category", "general", "employment")]


async def test_routing_needs_verification_and_women_go_to_the_womens_section(
    sessions: Sessions, clock: FrozenClock
) -> None:
    actor = await desk(sessions, clock)
    number = await new_case(sessions, clock)  # a woman asking for a video audience
    with pytest.raises(DomainError):
        async with transaction(sessions) as session:
            await triage.route(
                session=session,
                clock=clock,
                tracking_number=number,
                actor_id=actor,
                to="audience_video",
                status_url=STATUS_URL,
            )
    await ready(sessions, clock, actor, number, route="audience_video")
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        row = await session.get(Triage, case.id)
    assert case.status is CaseStatus.AWAITING_AUDIENCE
    assert row is not None and row.women_section


async def test_needs_information_and_rejection_tell_the_applicant(sessions: Sessions, clock: FrozenClock) -> None:
    actor = await desk(sessions, clock)
    number = await new_case(sessions, clock)
    async with transaction(sessions) as session:
        await triage.request_information(
            session=session,
            clock=clock,
            tracking_number=number,
            actor_id=actor,
            missing="صورة صك الحكم",
            status_url=URL,
        )
    async with transaction(sessions) as session:
        await triage.reject(
            session=session,
            clock=clock,
            tracking_number=number,
            actor_id=actor,
            reason="خارج اختصاص الجهة",
            status_url=URL,
        )
    async with sessions() as session:
        bodies = [m.body for m in await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert len(bodies) == 3  # receipt, needs information, rejection
    assert "صورة صك الحكم" in bodies[1] and "خارج اختصاص الجهة" in bodies[2]
    with pytest.raises(DomainError) as caught:
        async with transaction(sessions) as session:
            await triage.verify(session=session, clock=clock, tracking_number=number, actor_id=actor)
    assert caught.value.code == "case_closed"


async def test_likely_duplicates_are_similar_requests_of_the_same_applicant(
    sessions: Sessions, clock: FrozenClock
) -> None:
    first = await new_case(
        sessions,
        clock,
        subject="طلب مقابلة بخصوص حضانة",
        text="أطلب مقابلة معالي الوزير بخصوص قضية حضانة أبنائي بعد تعثر التنفيذ",
    )
    clock.advance(timedelta(days=2))
    second = await new_case(
        sessions,
        clock,
        subject="طلب مقابله بخصوص الحضانه",
        text="اطلب مقابلة معالي الوزير بخصوص قضيه حضانه ابنائي لتعثر تنفيذ الحكم",
    )
    other = await new_case(sessions, clock, subject="رواتب متأخرة", text="لم أستلم رواتبي منذ ستة أشهر من صاحب العمل")
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=second)
        assert case is not None
        found = await duplicates.likely_duplicates(session=session, clock=clock, case=case, window=timedelta(days=90))
        short = await duplicates.likely_duplicates(session=session, clock=clock, case=case, window=timedelta(days=1))
    assert [d.case.tracking_number for d in found] == [first]
    assert found[0].same_id and other not in [d.case.tracking_number for d in found]
    assert short == []


async def test_merge_keeps_the_words_and_cannot_be_repeated(sessions: Sessions, clock: FrozenClock) -> None:
    actor = await desk(sessions, clock)
    original = await new_case(sessions, clock)
    duplicate = await new_case(sessions, clock, text="نص مكرر فيه تفصيل إضافي")
    async with transaction(sessions) as session:
        await duplicates.merge(
            session=session,
            clock=clock,
            duplicate_number=duplicate,
            original_number=original,
            actor_id=actor,
            status_url=URL,
        )
    async with sessions() as session:
        kept = await cases.find_by_tracking_number(session=session, tracking_number=original)
        closed = await cases.find_by_tracking_number(session=session, tracking_number=duplicate)
        assert kept is not None and closed is not None
        addenda = await cases.addenda(session=session, case_id=kept.id)
        told = await session.scalar(select(OutboxMessage).where(OutboxMessage.purpose == "merged"))
    assert closed.status is CaseStatus.DUPLICATE and closed.text == "نص مكرر فيه تفصيل إضافي"
    assert [a.text for a in addenda] == ["نص مكرر فيه تفصيل إضافي"]
    assert told is not None and original in told.body
    for dup, orig, code in (
        (duplicate, original, "already_merged"),
        (original, original, "merge_into_itself"),
        (original, duplicate, "merge_into_closed"),
    ):
        with pytest.raises(DomainError) as caught:
            async with transaction(sessions) as session:
                await duplicates.merge(
                    session=session,
                    clock=clock,
                    duplicate_number=dup,
                    original_number=orig,
                    actor_id=actor,
                    status_url=URL,
                )
        assert caught.value.code == code


async def test_concurrent_crosswise_merges_let_exactly_one_through(sessions: Sessions, clock: FrozenClock) -> None:
    actor = await desk(sessions, clock)
    a = await new_case(sessions, clock)
    b = await new_case(sessions, clock)

    async def merge(dup: str, orig: str) -> str:
        try:
            async with transaction(sessions) as session:
                await duplicates.merge(
                    session=session,
                    clock=clock,
                    duplicate_number=dup,
                    original_number=orig,
                    actor_id=actor,
                    status_url=URL,
                )
        except DomainError as exc:
            return exc.code
        return "merged"

    outcomes = await asyncio.gather(merge(a, b), merge(b, a), merge(a, b), merge(b, a))
    assert outcomes.count("merged") == 1
    async with sessions() as session:
        statuses = sorted(c.status.value for c in await cases.list_by_status(session=session, statuses=set(CaseStatus)))
    assert statuses == ["duplicate", "received"]  # no loop: one stays open


async def test_special_care_never_changes_priority(sessions: Sessions, clock: FrozenClock) -> None:
    actor = await desk(sessions, clock)
    plain = await new_case(sessions, clock)
    cared = await new_case(
        sessions, clock, applicant_national_id="1000000016", applicant_special_care=["wheelchair", "elderly"]
    )
    for number in (plain, cared):
        await ready(sessions, clock, actor, number)
    async with sessions() as session:
        places = await queue.awaiting_audience(session=session, clock=clock)
    scores = {p.case.tracking_number: p.score for p in places}
    assert scores[plain] == scores[cared]


async def test_a_move_up_is_a_recorded_queue_jump(sessions: Sessions, clock: FrozenClock) -> None:
    actor = await desk(sessions, clock)
    older = await new_case(sessions, clock)
    clock.advance(timedelta(days=1))
    newer = await new_case(sessions, clock, applicant_national_id="1000000016")
    for number in (older, newer):
        await ready(sessions, clock, actor, number)
    with pytest.raises(InvalidInput):
        async with transaction(sessions) as session:
            await triage.move_up(
                session=session,
                clock=clock,
                tracking_number=newer,
                actor_id=actor,
                points=50,
                change_reason=None,
                change_text=None,
            )
    # The reason Majlis gives by rule (a repeated WhatsApp request) is not staff's to claim.
    with pytest.raises(InvalidInput) as refused:
        async with transaction(sessions) as session:
            await triage.move_up(
                session=session,
                clock=clock,
                tracking_number=newer,
                actor_id=actor,
                points=50,
                change_reason="repeated_request",
                change_text="مكرر",
            )
    assert [e.field for e in refused.value.errors] == ["change_reason"]
    async with transaction(sessions) as session:
        await triage.move_up(
            session=session,
            clock=clock,
            tracking_number=newer,
            actor_id=actor,
            points=50,
            change_reason="legal_deadline",
            change_text="مهلة استئناف تنتهي قريبا",
        )
    async with sessions() as session:
        report = await queue.fairness_report(session=session, clock=clock)
    assert [(j.ahead.case.tracking_number, j.passed, j.oldest_passed.case.tracking_number) for j in report.jumps] == [
        (newer, 1, older)
    ]
    assert report.jumps[0].justification is not None
    assert report.changes_by_staff == {actor: {"legal_deadline": 1}}
    groups = {(w.group, w.value): w for w in report.waiting}
    assert groups[("urgency", "normal")].count == 2
    assert groups[("urgency", "normal")].median_days == pytest.approx(0.5)


async def test_raising_urgency_is_a_justified_jump_and_lowering_needs_a_reason(
    sessions: Sessions, clock: FrozenClock
) -> None:
    actor = await desk(sessions, clock)
    older = await new_case(sessions, clock)
    clock.advance(timedelta(days=1))
    newer = await new_case(sessions, clock, applicant_national_id="1000000016")
    await ready(sessions, clock, actor, older)
    with pytest.raises(InvalidInput):
        async with transaction(sessions) as session:
            await triage.classify(
                session=session, clock=clock, tracking_number=newer, actor_id=actor, category="qisas", urgency="normal"
            )  # below what qisas implies
    async with transaction(sessions) as session:
        await triage.verify(session=session, clock=clock, tracking_number=newer, actor_id=actor)
        await triage.classify(
            session=session,
            clock=clock,
            tracking_number=newer,
            actor_id=actor,
            category="general",
            urgency="urgent",
            change_reason="health_or_safety",
            change_text="حالة صحية حرجة",
        )
        await triage.route(
            session=session,
            clock=clock,
            tracking_number=newer,
            actor_id=actor,
            to="audience_in_person",
            status_url=STATUS_URL,
        )
    async with sessions() as session:
        report = await queue.fairness_report(session=session, clock=clock)
    assert len(report.jumps) == 1
    jump = report.jumps[0]
    assert jump.ahead.case.tracking_number == newer and jump.justification is not None
    assert jump.justification.reason_text == "حالة صحية حرجة"
