"""The demo's directory: the official's office at the top, ministries and agencies under it, their people, a
liaison officer's staff account, and two holidays of the government's calendar. Made through the same domain
calls the pages make; each run adds only what is missing.

Every name, e-mail address and number here is made up (example.org, unassigned-looking mobiles).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as accounts
from accounts.roles import Role
from followup import contacts, directory
from followup.contacts import ContactInput
from followup.directory import DepartmentInput
from majlis.clock import Clock, riyadh
from worktime import editing

GOVERNMENT = "government"


@dataclass(frozen=True)
class DemoDepartment:
    code: str
    name_ar: str
    name_en: str
    parent: str
    # Head, deputy and liaison officer: (name, e-mail user, mobile).
    people: tuple[tuple[str, str, str], tuple[str, str, str], tuple[str, str, str]]


DEMO_DEPARTMENTS = (
    DemoDepartment(
        "office",
        "ديوان صاحب المعالي",
        "Office of His Excellency",
        "",
        (
            ("عبدالرحمن بن سعد الراشد", "head.office", "+966550001101"),
            ("سلطان بن فهد المطيري", "deputy.office", "+966550001102"),
            ("نوف بنت خالد العتيبي", "liaison.office", "+966550001103"),
        ),
    ),
    DemoDepartment(
        "hrsd",
        "وزارة الموارد البشرية والتنمية الاجتماعية",
        "Ministry of Human Resources and Social Development",
        "office",
        (
            ("د. فيصل بن ناصر القحطاني", "head.hrsd", "+966561110201"),
            ("هند بنت عبدالله الدوسري", "deputy.hrsd", "+966561110202"),
            ("ماجد بن علي الشمري", "liaison.hrsd", "+966561110203"),
        ),
    ),
    DemoDepartment(
        "hrsd-riyadh",
        "فرع وزارة الموارد البشرية والتنمية الاجتماعية بمنطقة الرياض",
        "Human Resources and Social Development, Riyadh Region Branch",
        "hrsd",
        (
            ("تركي بن محمد السبيعي", "head.hrsd-riyadh", "+966561110301"),
            ("أمل بنت سعود الحربي", "deputy.hrsd-riyadh", "+966561110302"),
            ("يزيد بن حمد العنزي", "liaison.hrsd-riyadh", "+966561110303"),
        ),
    ),
    DemoDepartment(
        "momah",
        "وزارة البلديات والإسكان",
        "Ministry of Municipalities and Housing",
        "office",
        (
            ("م. خالد بن إبراهيم الزهراني", "head.momah", "+966541110401"),
            ("ريم بنت عادل الشهري", "deputy.momah", "+966541110402"),
            ("بندر بن صالح الغامدي", "liaison.momah", "+966541110403"),
        ),
    ),
    DemoDepartment(
        "moh",
        "وزارة الصحة",
        "Ministry of Health",
        "office",
        (
            ("د. سامي بن عبدالعزيز المالكي", "head.moh", "+966531110501"),
            ("د. لمى بنت فهد الشهراني", "deputy.moh", "+966531110502"),
            ("عبدالله بن مساعد البقمي", "liaison.moh", "+966531110503"),
        ),
    ),
    DemoDepartment(
        "riyadh-health-1",
        "تجمع الرياض الصحي الأول",
        "Riyadh First Health Cluster",
        "moh",
        (
            ("د. منصور بن راشد العمري", "head.rhc1", "+966531110601"),
            ("د. سارة بنت يوسف الجهني", "deputy.rhc1", "+966531110602"),
            ("نايف بن سالم الرشيدي", "liaison.rhc1", "+966531110603"),
        ),
    ),
    DemoDepartment(
        "riyadh-municipality",
        "أمانة منطقة الرياض",
        "Riyadh Region Municipality",
        "office",
        (
            ("م. عبدالمجيد بن حسن القرني", "head.alriyadh", "+966581110701"),
            ("م. وليد بن سعيد الحارثي", "deputy.alriyadh", "+966581110702"),
            ("أروى بنت ماجد العسيري", "liaison.alriyadh", "+966581110703"),
        ),
    ),
)
ROLES = ("head", "deputy", "liaison")
# The staff account of the Ministry of Human Resources' liaison officer (the demo's unpaid-wages complaint is theirs).
LIAISON_USERNAME = "liaison"
LIAISON_NAME = "ماجد بن علي الشمري"
LIAISON_DEPARTMENT = "hrsd"
# Fixed feast days of the government's calendar (the lunar ones are declared when the moon is sighted).
HOLIDAYS = (((2, 22), "يوم التأسيس"), ((9, 23), "اليوم الوطني"))


async def load(*, session: AsyncSession, clock: Clock, password: str) -> None:
    """Adds the departments, their people, the liaison's account and the holidays that are missing."""
    known = {d.code for d in await directory.departments(session=session)}
    for item in DEMO_DEPARTMENTS:
        if item.code in known:
            continue
        data = DepartmentInput(
            item.code, item.name_ar, item.name_en, item.parent, GOVERNMENT, f"info.{item.code}@example.org"
        )
        await directory.add_department(session=session, clock=clock, actor_id=None, data=data)
        for role, (name, mailbox, phone) in zip(ROLES, item.people, strict=True):
            person = ContactInput(role, name, f"{mailbox}@example.org", phone, "ar")
            await contacts.add_contact(
                session=session, clock=clock, actor_id=None, department_code=item.code, data=person
            )
    if await accounts.user_by_username(session=session, username=LIAISON_USERNAME) is None:
        await accounts.create_user(
            session=session,
            clock=clock,
            username=LIAISON_USERNAME,
            full_name=LIAISON_NAME,
            role=Role.DEPARTMENT_LIAISON,
            gender="male",
            password=password,
            department_code=LIAISON_DEPARTMENT,
        )
    await _holidays(session=session, clock=clock)


async def _holidays(*, session: AsyncSession, clock: Clock) -> None:
    """The next Founding Day and National Day on the government's calendar, unless already there."""
    today = riyadh(clock.now()).date()
    taken = {h.day for h in (await editing.view(session=session, code=GOVERNMENT)).holidays}
    for (month, day), name in HOLIDAYS:
        when = date(today.year, month, day)
        if when < today:
            when = date(today.year + 1, month, day)
        if when not in taken:
            await editing.add_holiday(session=session, clock=clock, actor_id=None, code=GOVERNMENT, day=when, name=name)
