"""Demo data for `make run`: a member of staff for every role and a few requests.

Development only: the passwords are printed and shared by everyone.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as accounts
from accounts.models import StaffUser
from accounts.roles import Role
from cases import service as cases
from cases.intake import check_request
from cases.models import Channel
from majlis.clock import Clock

DEMO_PASSWORD = "majlis-demo-2026"  # noqa: S105 (demo data, development only)


@dataclass(frozen=True)
class DemoStaff:
    username: str
    full_name: str
    role: Role
    gender: str


DEMO_STAFF = (
    DemoStaff("desk", "سارة العتيبي", Role.INTAKE_DESK, "female"),
    DemoStaff("calls", "فهد القحطاني", Role.CALL_CENTRE, "male"),
    DemoStaff("audit", "خالد الدوسري", Role.AUDIT_DESK, "male"),
    DemoStaff("protocol", "عبدالله الشهري", Role.PROTOCOL, "male"),
    DemoStaff("women", "نورة الحربي", Role.WOMEN_SECTION, "female"),
    DemoStaff("official", "صاحب المعالي", Role.OFFICIAL, "male"),
    DemoStaff("followup", "ريم الزهراني", Role.FOLLOW_UP, "female"),
    DemoStaff("manager", "هيفاء القحطاني", Role.MANAGER, "female"),
    DemoStaff("admin", "مدير النظام", Role.ADMINISTRATOR, "male"),
)

# National IDs and iqamas here carry valid check digits but belong to nobody.
DEMO_REQUESTS = (
    (
        {
            "kind": "citizen",
            "id_number": "1000000008",
            "name": "منيرة عبدالرحمن السبيعي",
            "gender": "female",
            "phone": "0501234567",
            "language": "ar",
            "special_care": ["elderly"],
        },
        {
            "kind": "audience_video",
            "subject": "طلب مقابلة بخصوص قضية حضانة",
            "text": "أرجو التكرم بمقابلتي لعرض قضية حضانة أبنائي بعد تعثر التنفيذ.",
            "branch": "riyadh",
        },
        Channel.PORTAL,
    ),
    (
        {
            "kind": "citizen",
            "id_number": "1000000016",
            "name": "محمد سعد العنزي",
            "gender": "male",
            "phone": "0551234567",
            "language": "ar",
            "special_care": ["wheelchair", "transport"],
        },
        {
            "kind": "audience_in_person",
            "subject": "طلب علاج في مستشفى تخصصي",
            "text": "أطلب المساعدة في إحالة والدي إلى مستشفى تخصصي لعلاج القلب.",
            "branch": "riyadh",
        },
        Channel.WALK_IN,
    ),
    (
        {
            "kind": "resident",
            "id_number": "2000000006",
            "name": "Ahmed Karim",
            "gender": "male",
            "phone": "+966561234567",
            "language": "en",
        },
        {
            "kind": "complaint",
            "subject": "Unpaid wages for six months",
            "text": "My employer has not paid my wages since May; the labour office case is stalled.",
            "branch": "jeddah",
        },
        Channel.CALL_CENTRE,
    ),
    (
        {
            "kind": "company",
            "id_number": "1010000000",
            "name": "شركة الأفق للمقاولات",
            "phone": "0541234567",
            "language": "ar",
        },
        {
            "kind": "petition",
            "subject": "تأخر صرف مستحقات مشروع حكومي",
            "text": "نلتمس النظر في تأخر صرف مستحقات مشروع منذ سنة.",
            "branch": "jeddah",
        },
        Channel.EMAIL,
    ),
)


async def load(*, session: AsyncSession, clock: Clock, status_url: str) -> list[DemoStaff]:
    """Adds the demo staff and requests unless they are there already; gives back the staff."""
    if await session.scalar(select(StaffUser.id).where(StaffUser.username == DEMO_STAFF[0].username)):
        return list(DEMO_STAFF)
    desk_user = None
    for person in DEMO_STAFF:
        user = await accounts.create_user(
            session=session,
            clock=clock,
            username=person.username,
            full_name=person.full_name,
            role=person.role,
            gender=person.gender,
            password=DEMO_PASSWORD,
        )
        if person.role is Role.INTAKE_DESK:
            desk_user = user
    for applicant, request, channel in DEMO_REQUESTS:
        details = check_request(applicant, request, channel=channel)
        entered_by = desk_user.id if desk_user and channel is not Channel.PORTAL else None
        await cases.submit(
            session=session, clock=clock, details=details, status_url=status_url, entered_by_id=entered_by
        )
    return list(DEMO_STAFF)
