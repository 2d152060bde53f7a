"""A follow-up team's day for tests: referrals in every state the daily list shows, made through the real
steps on a frozen clock (written referral by the audit desk, the department's acknowledgement, answer, return,
a question to the applicant), and a referred request with no department."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from cases.models import CaseStatus
from followup import referrals
from followup.models import InformationRequest, Referral
from majlis.clock import RIYADH, FrozenClock
from majlis.db import transaction
from tests.factories import make_staff
from tests.followup.arrange import add_department
from tests.priority.test_triage import new_case, ready

Sessions = async_sessionmaker[AsyncSession]
URL = "https://majlis.example.sa/status"


def riyadh(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=RIYADH)


async def referred(sessions: Sessions, clock: FrozenClock, auditor: int, at: datetime, codes: str) -> list[int]:
    """A new request referred in writing at `at` to the departments named; its referrals' ids, in that order."""
    clock.set(at)
    number = await new_case(sessions, clock)
    await ready(sessions, clock, auditor, number, route="written_referral", departments=codes)
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        return [r.id for r in await referrals.of_case(session=session, case_id=case.id)]


async def acknowledged(sessions: Sessions, clock: FrozenClock, at: datetime, referral_id: int) -> None:
    clock.set(at)
    async with transaction(sessions) as session:
        await referrals.acknowledge(
            session=session, clock=clock, referral_id=referral_id, generation=None, actor_id=None, by="link"
        )


async def answered(sessions: Sessions, clock: FrozenClock, at: datetime, referral_id: int) -> None:
    clock.set(at)
    async with transaction(sessions) as session:
        await referrals.answer(
            session=session,
            clock=clock,
            referral_id=referral_id,
            generation=None,
            actor_id=None,
            by="link",
            text="تمت معالجة الطلب وصرف المستحقات.",
            status_url=URL,
        )


async def returned(sessions: Sessions, clock: FrozenClock, at: datetime, referral_id: int) -> None:
    clock.set(at)
    async with transaction(sessions) as session:
        await referrals.return_to_team(
            session=session,
            clock=clock,
            referral_id=referral_id,
            generation=None,
            actor_id=None,
            by="link",
            reason="الطلب ليس من اختصاص الإدارة.",
        )


async def applicant_asked(sessions: Sessions, clock: FrozenClock, at: datetime, referral_id: int) -> None:
    """The department asks the applicant a question: the referral's clocks stop."""
    clock.set(at)
    async with transaction(sessions) as session:
        referral = await referrals.lock(session=session, referral_id=referral_id)
        asked = InformationRequest(
            case_id=referral.case_id,
            referral_id=referral.id,
            question="صورة الهوية الوطنية",
            asked_at=clock.now(),
            return_status="referred",
            answer="",
        )
        session.add(asked)
        await session.flush()
        await referrals.information_asked(session=session, clock=clock, referral=referral, request=asked)


async def without_department(sessions: Sessions, clock: FrozenClock, at: datetime) -> str:
    """A request moved to "referred" with no referral (as when an applicant gives up an audience)."""
    clock.set(at)
    number = await new_case(sessions, clock)
    async with transaction(sessions) as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        await cases.change_status(session=session, clock=clock, case=case, to_status=CaseStatus.REFERRED, actor_id=None)
    return number


async def tracking_number(sessions: Sessions, referral_id: int) -> str:
    async with sessions() as session:
        referral = await session.get_one(Referral, referral_id)
        case = await cases.get_case(session=session, case_id=referral.case_id)
        assert case is not None
        return case.tracking_number


async def referral(sessions: Sessions, referral_id: int) -> Referral:
    async with sessions() as session:
        found = await session.scalar(select(Referral).where(Referral.id == referral_id))
        assert found is not None
        return found


@dataclass(frozen=True)
class Day:
    """Thursday 26 November 2026, 13:00 in Riyadh: what the follow-up team finds (government calendar,
    Sunday to Thursday 08:00–15:00, the default policy: first response in 2 working days, updates every 5,
    solution in 10)."""

    now: datetime
    # With the departments, in the order the list must give.
    silent_since_last_week: int  # first response overdue by 20 working hours
    no_news: int  # acknowledged; its update overdue by 18 working hours
    beside_a_return: int  # first response overdue by 11 working hours; its sibling was returned
    due_after_the_weekend: int  # 4 working hours left (Thursday 13:00–15:00, Sunday 08:00–10:00)
    sent_this_morning: int  # 10 working hours left
    waiting_for_applicant: int  # clocks stopped
    # The team's own work, longest waiting first.
    no_department: str  # a tracking number
    returned_alone: int  # refer elsewhere or close
    returned_beside_another: int  # close: the request is with another department
    answered: int  # review and close


async def followup_day(sessions: Sessions, clock: FrozenClock) -> Day:
    for code, name_ar, name_en in (
        ("housing", "وزارة البلديات والإسكان", "Ministry of Housing"),
        ("health", "وزارة الصحة", "Ministry of Health"),
        ("water", "المديرية العامة للمياه", "Water Directorate"),
    ):
        await add_department(sessions, code, name_ar=name_ar, name_en=name_en, liaison_phone="+966501112233")
    auditor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id

    [no_news] = await referred(sessions, clock, auditor, riyadh(11, 17, 9), "health")
    await acknowledged(sessions, clock, riyadh(11, 17, 9), no_news)
    [silent] = await referred(sessions, clock, auditor, riyadh(11, 19, 14), "housing")
    no_department = await without_department(sessions, clock, riyadh(11, 23, 8, 30))
    [returned_alone] = await referred(sessions, clock, auditor, riyadh(11, 23, 9), "health")
    beside, returned_beside = await referred(sessions, clock, auditor, riyadh(11, 23, 9), "water health")
    [answered_one] = await referred(sessions, clock, auditor, riyadh(11, 23, 9), "water")
    await returned(sessions, clock, riyadh(11, 24, 11), returned_alone)
    await returned(sessions, clock, riyadh(11, 24, 12), returned_beside)
    [waiting] = await referred(sessions, clock, auditor, riyadh(11, 24, 9), "health")
    await applicant_asked(sessions, clock, riyadh(11, 25, 10), waiting)
    [after_weekend] = await referred(sessions, clock, auditor, riyadh(11, 25, 10), "water")
    await answered(sessions, clock, riyadh(11, 25, 12), answered_one)
    [this_morning] = await referred(sessions, clock, auditor, riyadh(11, 26, 9), "housing")
    now = riyadh(11, 26, 13)
    clock.set(now)
    return Day(
        now=now,
        silent_since_last_week=silent,
        no_news=no_news,
        beside_a_return=beside,
        due_after_the_weekend=after_weekend,
        sent_this_morning=this_morning,
        waiting_for_applicant=waiting,
        no_department=no_department,
        returned_alone=returned_alone,
        returned_beside_another=returned_beside,
        answered=answered_one,
    )
