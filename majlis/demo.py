"""Demo data for `make run`: a member of staff for every role and a few requests.

Development only: the passwords are printed and shared by everyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as accounts
from accounts.models import StaffUser
from accounts.roles import Role
from cases import service as cases
from cases.intake import check_request
from cases.models import Applicant, Case, CaseStatus, Channel
from majlis.clock import Clock, riyadh
from priority import service as triage
from rooms import service as rooms
from rooms.models import BranchSite, Room, RoomKind, RosterEntry
from scheduler import calendar
from scheduler import service as scheduling
from scheduler.models import (
    LIVE_STATES,
    Appointment,
    AppointmentState,
    AudienceMode,
    AudienceSession,
    SessionState,
    Slot,
)

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
    await _branch_addresses(session=session)
    if await session.scalar(select(StaffUser.id).where(StaffUser.username == DEMO_STAFF[0].username)):
        await video_audience_today(session=session, clock=clock)
        return list(DEMO_STAFF)
    desk_user = None
    staff_ids: dict[Role, int] = {}
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
        staff_ids[person.role] = user.id
        if person.role is Role.INTAKE_DESK:
            desk_user = user
    numbers = []
    for applicant, request, channel in DEMO_REQUESTS:
        details = check_request(applicant, request, channel=channel)
        entered_by = desk_user.id if desk_user and channel is not Channel.PORTAL else None
        submission = await cases.submit(
            session=session, clock=clock, details=details, status_url=status_url, entered_by_id=entered_by
        )
        numbers.append(submission.case.tracking_number)
    await _calendar(session=session, clock=clock, staff=staff_ids, numbers=numbers, status_url=status_url)
    await video_audience_today(session=session, clock=clock)
    return list(DEMO_STAFF)


# Where applicants come, shown with their appointment (a demo's plausible addresses, not the real centres').
DEMO_ADDRESSES = {
    "riyadh": (
        "مركز الاستقبال والتواصل — طريق الملك فهد، حي العليا، الرياض",
        "Reception and Communication Centre — King Fahd Road, Al Olaya, Riyadh",
    ),
    "jeddah": (
        "مركز الاستقبال والتواصل — طريق الملك عبدالعزيز، حي الشاطئ، جدة",
        "Reception and Communication Centre — King Abdulaziz Road, Al Shati, Jeddah",
    ),
}


async def _branch_addresses(*, session: AsyncSession) -> None:
    """Gives the demo's branches an address where they have none."""
    for branch in await session.scalars(select(BranchSite).where(BranchSite.code.in_(DEMO_ADDRESSES))):
        arabic, english = DEMO_ADDRESSES[branch.code]
        branch.address_ar = branch.address_ar or arabic
        branch.address_en = branch.address_en or english
    await session.flush()


async def _calendar(
    *, session: AsyncSession, clock: Clock, staff: dict[Role, int], numbers: list[str], status_url: str
) -> None:
    """Rooms, two weekly audiences, two requests triaged, and a first allocation."""
    protocol = staff[Role.PROTOCOL]
    hall = await rooms.add_room(
        session=session,
        clock=clock,
        actor_id=protocol,
        branch="riyadh",
        name="قاعة المجلس",
        kind="audience_hall",
        capacity="60",
        wheelchair_access=True,
        equipment="",
    )
    women = [
        await rooms.add_room(
            session=session,
            clock=clock,
            actor_id=protocol,
            branch=branch,
            name=name,
            kind="women_video",
            capacity="2",
            wheelchair_access=True,
            equipment="شاشة\nكاميرا\nميكروفون\nطاولة مستديرة",
        )
        for branch, name in (
            ("riyadh", "غرفة الاتصال المرئي — القسم النسائي بالرياض"),
            ("jeddah", "غرفة الاتصال المرئي — القسم النسائي بجدة"),
        )
    ]
    await calendar.add_template(
        session=session,
        clock=clock,
        actor_id=protocol,
        data=calendar.TemplateInput(
            name="المجلس الأسبوعي",
            weekday="6",
            starts="10:00",
            ends="12:00",
            slot_minutes="8",
            capacity="1",
            mode="in_person",
            room_ids=(hall.id,),
        ),
    )
    await calendar.add_template(
        session=session,
        clock=clock,
        actor_id=protocol,
        data=calendar.TemplateInput(
            name="المقابلات المرئية للقسم النسائي",
            weekday="1",
            starts="11:00",
            ends="12:00",
            slot_minutes="10",
            capacity="1",
            mode="video",
            room_ids=tuple(r.id for r in women),
        ),
    )
    await calendar.generate_sessions(session=session, clock=clock)
    audit = staff[Role.AUDIT_DESK]
    # The first request (a woman asking for a video audience) and the second (in person).
    for number, category, urgency, route in (
        (numbers[0], "family_personal_status", "normal", "audience_video"),
        (numbers[1], "humanitarian_medical", "urgent", "audience_in_person"),
    ):
        await triage.verify(session=session, clock=clock, tracking_number=number, actor_id=audit)
        await triage.classify(
            session=session, clock=clock, tracking_number=number, actor_id=audit, category=category, urgency=urgency
        )
        await triage.route(
            session=session, clock=clock, tracking_number=number, actor_id=audit, to=route, status_url=status_url
        )
    await scheduling.run_allocation(session=session, clock=clock, actor_id=protocol, status_url=status_url)


# The demo's woman applicant, who asks for a video audience.
DEMO_WOMAN_ID_NUMBER = "1000000008"


async def video_audience_today(*, session: AsyncSession, clock: Clock) -> None:
    """A video audience today, soon, in the Riyadh women's room, for the demo's woman applicant, with the
    demo's women's-section member on that room's roster: so that after `make run` the official's console
    (user `official`) and the room console (user `women`) can hold an audience in two windows.

    The allocator never seats anyone at less than three days' notice, so this seat is made by hand, in a
    locked session of its own that allocation runs leave alone. Run again on another day, it moves her there.
    """
    now = riyadh(clock.now())
    day = now.date()
    room = await session.scalar(
        select(Room).where(Room.kind == RoomKind.WOMEN_VIDEO, Room.branch_code == "riyadh").order_by(Room.id)
    )
    women = await session.scalar(select(StaffUser).where(StaffUser.username == "women"))
    case = await session.scalar(
        select(Case)
        .join(Applicant, Applicant.id == Case.applicant_id)
        .where(Applicant.id_number == DEMO_WOMAN_ID_NUMBER)
        .order_by(Case.id)
    )
    if room is None or women is None or case is None:
        return
    if not await session.scalar(
        select(RosterEntry.id).where(
            RosterEntry.room_id == room.id, RosterEntry.staff_id == women.id, RosterEntry.day == day
        )
    ):
        await rooms.put_on_duty(
            session=session,
            clock=clock,
            actor_id=None,
            room_id=room.id,
            staff_id=women.id,
            day=day,
            starts=time(0, 0),
            ends=time(23, 59),
        )
    live = list(
        await session.scalars(
            select(Appointment).where(Appointment.case_id == case.id, Appointment.state.in_(LIVE_STATES))
        )
    )
    for appointment in live:
        slot = await session.get_one(Slot, appointment.slot_id)
        if riyadh(slot.starts_at).date() == day and slot.room_id == room.id:
            return
    for appointment in live:
        appointment.state = AppointmentState.RELEASED
        appointment.released_at = clock.now()
        appointment.release_reason = "demo_video_today"
    await session.flush()
    # Ten minutes from now on the clock's ten-minute marks, and never past the end of the day.
    starts = now.replace(minute=now.minute - now.minute % 10, second=0, microsecond=0) + timedelta(minutes=10)
    starts = min(starts, datetime.combine(day, time(23, 30), tzinfo=now.tzinfo))
    ends = starts + timedelta(minutes=20)
    audience = AudienceSession(
        template_id=None,
        day=day,
        starts_at=starts,
        ends_at=ends,
        mode=AudienceMode.VIDEO,
        state=SessionState.PLANNED,
        locked=True,
        cancelled_for_holiday=False,
        note="demo",
    )
    session.add(audience)
    await session.flush()
    slot = Slot(session_id=audience.id, room_id=room.id, starts_at=starts, ends_at=ends, capacity=1)
    session.add(slot)
    await session.flush()
    session.add(
        Appointment(
            case_id=case.id,
            slot_id=slot.id,
            seat=0,
            state=AppointmentState.CONFIRMED,
            placed_at=clock.now(),
            placed_by_id=None,
            explanation="demo: a video audience today",
            sequence=0,
            release_reason="",
        )
    )
    if case.status is not CaseStatus.CONFIRMED:
        await cases.change_status(
            session=session, clock=clock, case=case, to_status=CaseStatus.CONFIRMED, actor_id=None, note="demo"
        )
    await session.flush()
