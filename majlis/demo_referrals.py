"""The demo's referred requests: one in each state the follow-up team meets, so that after `make run` the daily
list, a department's link and liaison pages, the request's history and the applicant's status page have
something to show.

- overdue and escalated: the Ministry of Municipalities and Housing never answered; reminded, then taken up two
  rungs of the ladder (its head, then the deputy of the office above it); the third rung is still ahead;
- acknowledged on time: the Riyadh First Health Cluster acknowledged it the next day and gave news;
- answered: Riyadh Region Municipality answered yesterday; the follow-up team has still to review and close it;
- waiting for the applicant: the Ministry of Human Resources' liaison officer (account `liaison`) asked for
  documents, so the applicant can answer from the status page with a code sent to their phone;
- returned: the Riyadh branch of that ministry said it is not theirs.

Each goes through the services the pages call (intake, triage's written referral, the department's steps, the
team's reminder, the ladder's escalation), each on a clock set to when it happened: moments in the government's
working hours, counted back in working days from the day the demo runs. A request already there is left as it
is, so running the demo again adds nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import StaffUser
from cases import service as cases
from cases.intake import check_request
from cases.models import Applicant, Case, Channel
from followup import directory, escalation, information, referrals, timers
from followup.models import Referral
from majlis.clock import RIYADH, Clock, FrozenClock, riyadh
from priority import service as triage
from worktime import service as worktime
from worktime.clock import Calendar, is_working

GOVERNMENT = "government"
# The demo staff who act on these requests (majlis.demo.DEMO_STAFF, majlis.demo_directory.LIAISON_USERNAME).
STAFF = ("audit", "followup", "liaison")


@dataclass(frozen=True)
class DemoReferral:
    applicant: dict[str, Any]
    request: dict[str, Any]
    category: str
    urgency: str
    department: str
    # The audit desk's referral text: read by staff and the department, never by the applicant.
    text: str


# National IDs and iqamas here carry valid check digits but belong to nobody.
OVERDUE = DemoReferral(
    {"kind": "citizen", "id_number": "1000000107", "name": "سالم عبدالله الحربي", "gender": "male",
     "phone": "0503330101", "language": "ar"},
    {"kind": "petition", "subject": "تأخر البت في طلب منحة أرض سكنية",
     "text": "تقدمت بطلب منحة أرض سكنية منذ ثلاث سنوات ولم يصدر فيه قرار حتى الآن.", "branch": "riyadh"},
    "housing", "normal", "momah",
    "يحال إلى وزارة البلديات والإسكان للبت في طلب المنحة وإفادة صاحبه بالنتيجة.",
)  # fmt: skip
ON_TIME = DemoReferral(
    {"kind": "citizen", "id_number": "1000000115", "name": "فاطمة محمد القحطاني", "gender": "female",
     "phone": "0503330102", "language": "ar"},
    {"kind": "petition", "subject": "موعد عملية قلب لوالدتي",
     "text": "والدتي تنتظر موعد عملية قلب منذ أربعة أشهر وحالتها تسوء.", "branch": "riyadh"},
    "humanitarian_medical", "urgent", "riyadh-health-1",
    "يحال إلى تجمع الرياض الصحي الأول لتقديم موعد العملية وفق حالتها الصحية.",
)  # fmt: skip
ANSWERED = DemoReferral(
    {"kind": "citizen", "id_number": "1000000123", "name": "عبدالعزيز فهد السبيعي", "gender": "male",
     "phone": "0503330103", "language": "ar"},
    {"kind": "complaint", "subject": "تجمع مياه الأمطار في الحي",
     "text": "تتجمع مياه الأمطار في شارعنا بحي النرجس منذ أشهر دون تصريف.", "branch": "riyadh"},
    "general", "normal", "riyadh-municipality",
    "يحال إلى أمانة منطقة الرياض لمعالجة تصريف المياه في الموقع المذكور.",
)  # fmt: skip
WAITING = DemoReferral(
    {"kind": "citizen", "id_number": "1000000131", "name": "نورة سعد العتيبي", "gender": "female",
     "phone": "0503330104", "language": "ar"},
    {"kind": "complaint", "subject": "عدم صرف مكافأة نهاية الخدمة",
     "text": "انتهت خدمتي لدى منشأة خاصة قبل ستة أشهر ولم تُصرف مكافأة نهاية الخدمة.", "branch": "riyadh"},
    "employment", "normal", "hrsd",
    "يحال إلى وزارة الموارد البشرية والتنمية الاجتماعية لإلزام المنشأة بصرف المستحقات.",
)  # fmt: skip
RETURNED = DemoReferral(
    {"kind": "resident", "id_number": "2000000030", "name": "Rahul Menon", "gender": "male",
     "phone": "+966503330105", "language": "en"},
    {"kind": "complaint", "subject": "Passport kept by my former employer",
     "text": "My former employer in Jeddah keeps my passport and will not return it.", "branch": "riyadh"},
    "employment", "normal", "hrsd-riyadh",
    "يحال إلى فرع وزارة الموارد البشرية بالرياض لإلزام صاحب العمل بإعادة جواز السفر.",
)  # fmt: skip
QUESTION = "نرجو إرفاق صورة من عقد العمل وآخر مسير رواتب، وخطاب إنهاء الخدمة إن وجد."


@dataclass(frozen=True)
class FollowUpShown:
    """What `majlis demo` prints of the follow-up: the overdue referral's link, and who can answer a question."""

    # The overdue referral (its department's signed link is made from these).
    overdue_referral_id: int
    overdue_generation: int
    # The applicant asked for documents: the status page takes this tracking number and phone.
    waiting_tracking_number: str
    waiting_phone: str


def working_days_ago(calendar: Calendar, now: datetime, days: int, at: time) -> datetime:
    """The moment `at` (Riyadh) on the `days`-th working day before today, counting only days it is working then."""
    day = riyadh(now).date()
    counted = 0
    for _ in range(400):
        day -= timedelta(days=1)
        moment = datetime.combine(day, at, tzinfo=RIYADH)
        if is_working(calendar, moment):
            counted += 1
            if counted == days:
                return moment
    raise LookupError("the government's calendar has no working time in the last year")


async def _case_of(session: AsyncSession, item: DemoReferral) -> Case | None:
    return await session.scalar(
        select(Case)
        .join(Applicant, Applicant.id == Case.applicant_id)
        .where(Applicant.id_number == item.applicant["id_number"])
        .order_by(Case.id)
    )


class _Steps:
    """One request's steps, each on the demo's clock moved to when it happened."""

    def __init__(self, session: AsyncSession, clock: FrozenClock, staff: dict[str, StaffUser], status_url: str):
        self.session, self.clock, self.staff, self.status_url = session, clock, staff, status_url

    async def at(self, moment: datetime, step: Callable[..., Awaitable[Any]], **kwargs: Any) -> Any:
        self.clock.set(moment)
        return await step(session=self.session, clock=self.clock, **kwargs)

    async def referred(self, item: DemoReferral, submitted: datetime, routed: datetime) -> Referral:
        """Submitted by the applicant, then verified, classified and referred in writing by the audit desk."""
        details = check_request(item.applicant, item.request, channel=Channel.PORTAL)
        self.clock.set(submitted)
        submission = await cases.submit(
            session=self.session, clock=self.clock, details=details, status_url=self.status_url
        )
        number, audit = submission.case.tracking_number, self.staff["audit"].id
        await self.at(routed, triage.verify, tracking_number=number, actor_id=audit)
        await self.at(
            routed, triage.classify, tracking_number=number, actor_id=audit, category=item.category,
            urgency=item.urgency,
        )  # fmt: skip
        await self.at(
            routed + timedelta(minutes=5), triage.route, tracking_number=number, actor_id=audit,
            to="written_referral", status_url=self.status_url, departments=item.department, referral_text=item.text,
        )  # fmt: skip
        [made] = await referrals.of_case(session=self.session, case_id=submission.case.id)
        return made

    def link(self, referral: Referral, by: str) -> dict[str, Any]:
        """The department acting through its e-mail's signed link: no account, named by who they said they are."""
        return {"referral_id": referral.id, "generation": referral.generation, "actor_id": None, "by": by}

    async def escalated_until(self, referral: Referral, now: datetime) -> None:
        """Each rung of the ladder reached by now, taken when it was reached (as the sweep would have)."""
        while referral.next_escalation_at is not None and referral.next_escalation_at <= now:
            self.clock.set(referral.next_escalation_at)
            locked = await referrals.lock(session=self.session, referral_id=referral.id)
            await escalation.escalate(session=self.session, clock=self.clock, referral=locked, actor_id=None)
            # The sweep writes a rung's rows when its savepoint ends; the next lock re-reads the row.
            await self.session.flush()
            referral = locked


async def load(*, session: AsyncSession, clock: Clock, status_url: str) -> FollowUpShown | None:
    """The demo's five referred requests, made once; None when the demo's staff or departments are missing."""
    now = clock.now()
    staff = {u.username: u for u in await session.scalars(select(StaffUser).where(StaffUser.username.in_(STAFF)))}
    known = {d.code for d in await directory.departments(session=session, active_only=True)}
    wanted = {item.department for item in (OVERDUE, ON_TIME, ANSWERED, WAITING, RETURNED)}
    if len(staff) < len(STAFF) or not wanted <= known:
        return None
    calendar_row = await worktime.calendar_by_code(session=session, code=GOVERNMENT)
    calendar = (await worktime.load(session=session, calendar_ids=[calendar_row.id]))[calendar_row.id]

    def back(days: int, hour: int, minute: int = 0) -> datetime:
        return working_days_ago(calendar, now, days, time(hour, minute))

    steps = _Steps(session, FrozenClock(now), staff, status_url)
    team = staff["followup"].id
    if await _case_of(session, OVERDUE) is None:
        late = await steps.referred(OVERDUE, back(13, 8, 40), back(13, 9, 30))
        note = "نذكّركم بانقضاء مهلة الرد الأول على هذه الإحالة، ونرجو الإفادة."
        await steps.at(back(10, 10), referrals.remind, referral_id=late.id, actor_id=team, by_sms=True, note=note)
        await steps.escalated_until(late, now)
    if await _case_of(session, ON_TIME) is None:
        health = await steps.referred(ON_TIME, back(2, 8, 30), back(2, 9))
        by = "نايف بن سالم الرشيدي — ضابط الاتصال"
        await steps.at(back(1, 10, 15), referrals.acknowledge, **steps.link(health, by))
        news = "حُدِّد للمريضة موعد في عيادة القلب الأحد القادم لتقييم حالتها قبل العملية."
        await steps.at(back(1, 12), referrals.post_update, text=news, **steps.link(health, by))
    if await _case_of(session, ANSWERED) is None:
        city = await steps.referred(ANSWERED, back(8, 9), back(8, 10))
        by = "أروى بنت ماجد العسيري — ضابطة الاتصال"
        await steps.at(back(7, 11), referrals.acknowledge, **steps.link(city, by))
        answer = "نُفذت أعمال تصريف مياه الأمطار في الشارع المذكور، وأُضيفت فتحتا تصريف، وجرى التحقق في الموقع."
        await steps.at(back(1, 13), referrals.answer, text=answer, status_url=status_url, **steps.link(city, by))
    if await _case_of(session, WAITING) is None:
        wages = await steps.referred(WAITING, back(5, 9), back(5, 9, 45))
        liaison = staff["liaison"]
        await steps.at(
            back(4, 10), referrals.acknowledge, referral_id=wages.id, generation=None, actor_id=liaison.id,
            by=liaison.full_name,
        )  # fmt: skip
        steps.clock.set(back(3, 11))
        locked = await referrals.lock(session=session, referral_id=wages.id)
        referrals.require(locked, timers.OWING)
        case = await cases.get_case(session=session, case_id=wages.case_id)
        assert case is not None
        await information.ask_applicant(
            session=session, clock=steps.clock, case=case, question=QUESTION, actor_id=liaison.id,
            status_url=status_url, referral=locked, by=liaison.full_name,
        )  # fmt: skip
    if await _case_of(session, RETURNED) is None:
        branch = await steps.referred(RETURNED, back(6, 9), back(6, 10, 30))
        reason = "صاحب العمل منشأة مسجلة في جدة، فالطلب من اختصاص فرع الوزارة بمنطقة مكة المكرمة."
        by = "يزيد بن حمد العنزي — ضابط الاتصال"
        await steps.at(back(4, 12), referrals.return_to_team, reason=reason, **steps.link(branch, by))
    return await _shown(session)


async def _shown(session: AsyncSession) -> FollowUpShown | None:
    late, waiting = await _case_of(session, OVERDUE), await _case_of(session, WAITING)
    if late is None or waiting is None:
        return None
    [referral] = await referrals.of_case(session=session, case_id=late.id)
    return FollowUpShown(
        overdue_referral_id=referral.id,
        overdue_generation=referral.generation,
        waiting_tracking_number=waiting.tracking_number,
        waiting_phone=waiting.phone,
    )
