"""Demo data for `make run`: a member of staff for every role, a few requests, audiences today, a directory of
departments (majlis/demo_directory.py), requests referred to them (majlis/demo_referrals.py), the WhatsApp
desk's inbox (majlis/demo_whatsapp.py), the emergency line's missions, rosters and reports
(majlis/demo_emergency.py), and rated visits with their review (majlis/demo_quality.py).

Development only: the passwords, and the link that enrols the demo's kiosk, are printed and shared by everyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as accounts
from accounts.models import StaffUser
from accounts.roles import Role
from audience_day import arrival, care, hall, kiosks
from audience_day.models import ArrivalVia, Kiosk, Outcome
from cases import service as cases
from cases.intake import check_request
from cases.models import Applicant, Case, CaseStatus, Channel
from majlis import (
    demo_directory,
    demo_emergency,
    demo_fairness,
    demo_quality,
    demo_referrals,
    demo_two_factor,
    demo_whatsapp,
)
from majlis.clock import Clock, FrozenClock, riyadh
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
    DemoStaff("auditor", "لمى السبيعي", Role.AUDITOR, "female"),
)
# Made with the demo's directory (majlis/demo_directory.py), since the account needs its department.
DEMO_LIAISON = DemoStaff(demo_directory.LIAISON_USERNAME, demo_directory.LIAISON_NAME, Role.DEPARTMENT_LIAISON, "male")
# Made with the demo's WhatsApp conversations (majlis/demo_whatsapp.py).
DEMO_WHATSAPP = DemoStaff(demo_whatsapp.USERNAME, demo_whatsapp.FULL_NAME, Role.WHATSAPP_DESK, "female")
# Made with the emergency line's missions (majlis/demo_emergency.py): the mission staff account needs its mission.
DEMO_EMERGENCY = tuple(DemoStaff(*account) for account in demo_emergency.ACCOUNTS)

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


@dataclass(frozen=True)
class Expected:
    """One of the demo's applicants still expected in the hall today: what the kiosk or the desk takes."""

    name: str
    tracking_number: str
    phone_last4: str
    appointment_id: int


@dataclass(frozen=True)
class HallDay:
    """The demo's audience day in the Riyadh hall, as `majlis demo` prints it."""

    # The device token of the kiosk enrolled just now (its enrolment link is /kiosk/enrol/<token>).
    kiosk_token: str
    expected: list[Expected]


@dataclass(frozen=True)
class Loaded:
    staff: list[DemoStaff]
    # None when the demo's hall, staff or requests are missing (a database someone changed by hand).
    hall_day: HallDay | None
    # The referred requests (majlis/demo_referrals.py); None when their staff or departments are missing.
    followup: demo_referrals.FollowUpShown | None = None
    # The WhatsApp desk's inbox (majlis/demo_whatsapp.py).
    whatsapp: demo_whatsapp.WhatsAppShown | None = None
    # The emergency line (majlis/demo_emergency.py).
    emergency: demo_emergency.EmergencyShown | None = None
    # A pass with its justification in the fairness record (majlis/demo_fairness.py).
    fairness: demo_fairness.FairnessShown | None = None
    # Four weeks of rated visits, their review and the desk's tablets (majlis/demo_quality.py).
    quality: demo_quality.QualityShown | None = None


async def load(*, session: AsyncSession, clock: Clock, status_url: str) -> Loaded:
    """Adds the demo staff and requests unless they are there already, and puts today's audiences in place.

    The accounts whose role requires a second factor are enrolled with the demo's published key
    (majlis/demo_two_factor.py).
    """
    loaded = await _staff_and_requests(session=session, clock=clock, status_url=status_url)
    await demo_two_factor.enrol(session=session, clock=clock, usernames=[person.username for person in loaded.staff])
    return loaded


async def _staff_and_requests(*, session: AsyncSession, clock: Clock, status_url: str) -> Loaded:
    await _branch_addresses(session=session)
    await demo_directory.load(session=session, clock=clock, password=DEMO_PASSWORD)
    if await session.scalar(select(StaffUser.id).where(StaffUser.username == DEMO_STAFF[0].username)):
        await video_audience_today(session=session, clock=clock)
        hall_day = await hall_day_today(session=session, clock=clock, status_url=status_url)
        followup = await demo_referrals.load(session=session, clock=clock, status_url=status_url)
        whatsapp = await demo_whatsapp.load(session=session, clock=clock, status_url=status_url, password=DEMO_PASSWORD)
        emergency = await demo_emergency.load(session=session, clock=clock, password=DEMO_PASSWORD)
        fairness = await demo_fairness.load(session=session, clock=clock, status_url=status_url)
        quality = await demo_quality.load(session=session, clock=clock, status_url=status_url)
        return Loaded(
            [*DEMO_STAFF, DEMO_LIAISON, DEMO_WHATSAPP, *DEMO_EMERGENCY],
            hall_day,
            followup,
            whatsapp,
            emergency,
            fairness,
            quality,
        )
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
    hall_day = await hall_day_today(session=session, clock=clock, status_url=status_url)
    followup = await demo_referrals.load(session=session, clock=clock, status_url=status_url)
    whatsapp = await demo_whatsapp.load(session=session, clock=clock, status_url=status_url, password=DEMO_PASSWORD)
    emergency = await demo_emergency.load(session=session, clock=clock, password=DEMO_PASSWORD)
    fairness = await demo_fairness.load(session=session, clock=clock, status_url=status_url)
    quality = await demo_quality.load(session=session, clock=clock, status_url=status_url)
    return Loaded(
        [*DEMO_STAFF, DEMO_LIAISON, DEMO_WHATSAPP, *DEMO_EMERGENCY],
        hall_day,
        followup,
        whatsapp,
        emergency,
        fairness,
        quality,
    )


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
    # Their English names, which an applicant writing in English reads in messages (Room.name_in).
    hall.name_en = "Majlis hall"
    for room, name_en in zip(
        women, ("Video room — women's section, Riyadh", "Video room — women's section, Jeddah"), strict=True
    ):
        room.name_en = name_en
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
    await _chain_demo_placement(session=session, clock=clock, case_id=case.id)
    if case.status is not CaseStatus.CONFIRMED:
        await cases.change_status(
            session=session, clock=clock, case=case, to_status=CaseStatus.CONFIRMED, actor_id=None
        )
    await session.flush()


async def _chain_demo_placement(*, session: AsyncSession, clock: Clock, case_id: int) -> None:
    """The demo's own appointment in the fairness chain, as every placement is (so `make run` shows it)."""
    await session.flush()
    appointment = await session.scalar(
        select(Appointment).where(Appointment.case_id == case_id, Appointment.state.in_(LIVE_STATES))
    )
    if appointment is not None:
        await scheduling.record_placement(
            session=session, clock=clock, appointment=appointment, actor_id=None, rule="demo"
        )


# The demo's in-person audience today in the Riyadh hall: six applicants (valid check digits, nobody's numbers),
# each with the slot index they hold and what has happened to them by the time `majlis demo` runs.
HALL_NOTE = "demo hall"
HALL_SLOT_MINUTES = 10
HALL_SLOTS = 15
HALL_STAFF = ("audit", "protocol", "official", "desk")
DEMO_KIOSK_NAME = "كشك العرض — المدخل الرئيسي"
DEMO_HALL_REQUESTS = (
    (
        {
            "kind": "citizen",
            "id_number": "1000000024",
            "name": "عبدالعزيز فهد المطيري",
            "gender": "male",
            "phone": "0502220011",
            "language": "ar",
        },
        {
            "kind": "audience_in_person",
            "subject": "طلب منحة أرض سكنية",
            "text": "تقدمت بطلب منحة أرض سكنية منذ خمس سنوات ولم يصدر قرار حتى الآن.",
            "branch": "riyadh",
        },
        ("housing", "normal"),
    ),
    (
        {
            "kind": "citizen",
            "id_number": "1000000032",
            "name": "سلطان ناصر الشمري",
            "gender": "male",
            "phone": "0502220022",
            "language": "ar",
        },
        {
            "kind": "audience_in_person",
            "subject": "تأخر صرف مستحقات نهاية الخدمة",
            "text": "انتهت خدمتي قبل سنة ولم تُصرف مستحقاتي بعد.",
            "branch": "riyadh",
        },
        ("employment", "normal"),
    ),
    (
        {
            "kind": "citizen",
            "id_number": "1000000040",
            "name": "إبراهيم علي الغامدي",
            "gender": "male",
            "phone": "0502220033",
            "language": "ar",
            "special_care": ["elderly"],
        },
        {
            "kind": "audience_in_person",
            "subject": "طلب مساعدة في سداد دين",
            "text": "أنا متقاعد وأطلب النظر في مساعدتي على سداد دين متراكم.",
            "branch": "riyadh",
        },
        ("general", "normal"),
    ),
    (
        {
            "kind": "citizen",
            "id_number": "1000000057",
            "name": "تركي سعود الحربي",
            "gender": "male",
            "phone": "0502220044",
            "language": "ar",
            "special_care": ["wheelchair", "transport"],
        },
        {
            "kind": "audience_in_person",
            "subject": "طلب تأمين كرسي متحرك كهربائي",
            "text": "أحتاج إلى كرسي متحرك كهربائي بعد إصابتي، وقد تعذر ذلك عن طريق التأمين.",
            "branch": "riyadh",
        },
        ("humanitarian_medical", "urgent"),
    ),
    (
        {
            "kind": "resident",
            "id_number": "2000000014",
            "name": "Rajesh Kumar",
            "gender": "male",
            "phone": "+966502220055",
            "language": "en",
        },
        {
            "kind": "audience_in_person",
            "subject": "Exit visa withheld by my sponsor",
            "text": "My sponsor refuses to issue my final exit visa although my contract has ended.",
            "branch": "riyadh",
        },
        ("employment", "normal"),
    ),
    (
        {
            "kind": "citizen",
            "id_number": "1000000065",
            "name": "ماجد عبدالله القرني",
            "gender": "male",
            "phone": "0502220066",
            "language": "ar",
        },
        {
            "kind": "audience_in_person",
            "subject": "نزاع على ملكية أرض زراعية",
            "text": "أطلب النظر في نزاع على أرض زراعية ورثناها عن والدنا.",
            "branch": "riyadh",
        },
        ("general", "normal"),
    ),
)
# Where each of the six sits: the first was heard, the second came late, the third came in time; the rest are
# still ahead (the fourth needs a wheelchair and transport between halls, the third is elderly).
HALL_SLOT_OF = (0, 1, 2, 4, 6, 8)
HALL_DIRECTIVE = "يُوجَّه وزارة الشؤون البلدية والقروية والإسكان بالبت في طلب المنحة خلال شهر، ويُبلَّغ المستفيد."


async def _hall_cases(*, session: AsyncSession, clock: Clock, audit_id: int, status_url: str) -> list[Case]:
    """The demo hall's six requests, submitted and routed to an audience in person the first time."""
    found = []
    for applicant, request, (category, urgency) in DEMO_HALL_REQUESTS:
        case = await session.scalar(
            select(Case)
            .join(Applicant, Applicant.id == Case.applicant_id)
            .where(Applicant.id_number == applicant["id_number"])
            .order_by(Case.id)
        )
        if case is None:
            details = check_request(applicant, request, channel=Channel.PORTAL)
            submission = await cases.submit(session=session, clock=clock, details=details, status_url=status_url)
            number = submission.case.tracking_number
            await triage.verify(session=session, clock=clock, tracking_number=number, actor_id=audit_id)
            await triage.classify(
                session=session,
                clock=clock,
                tracking_number=number,
                actor_id=audit_id,
                category=category,
                urgency=urgency,
            )
            await triage.route(
                session=session,
                clock=clock,
                tracking_number=number,
                actor_id=audit_id,
                to="audience_in_person",
                status_url=status_url,
            )
            case = submission.case
        found.append(case)
    return found


async def hall_day_today(*, session: AsyncSession, clock: Clock, status_url: str) -> HallDay | None:
    """An in-person audience in the Riyadh hall under way today, and a kiosk enrolled at its entrance: so that
    after `make run` the kiosk (`/kiosk`), the desk (`/desk/arrivals`), the official's Call next
    (`/official/hall`), the hall's screen, protocol's day board and the day's report all have something to show.

    The session began about half an hour ago (earlier late in the evening, so that it ends with the day) and
    runs two and a half hours, in 10-minute slots. Of its six
    applicants one was heard (his outcome recorded), one came in time and one came late (both waiting to be
    called), and three are still expected. The arrivals, the call and the outcome go through the audience-day
    services, each on a clock set to when it happened. As with the video audience, the allocator never seats
    anyone at less than three days' notice, so the session and its seats are made by hand, locked against
    allocation runs; run again on another day, the demo moves there. Every run enrols the demo's kiosk afresh
    (the one before is revoked): its device token can only be shown when it is made.
    """
    now = riyadh(clock.now())
    day = now.date()
    room = await session.scalar(
        select(Room).where(Room.kind == RoomKind.AUDIENCE_HALL, Room.branch_code == "riyadh").order_by(Room.id)
    )
    users = {u.username: u for u in await session.scalars(select(StaffUser).where(StaffUser.username.in_(HALL_STAFF)))}
    if room is None or len(users) < len(HALL_STAFF):
        return None
    found = await _hall_cases(session=session, clock=clock, audit_id=users["audit"].id, status_url=status_url)
    audience_session = await session.scalar(
        select(AudienceSession).where(
            AudienceSession.day == day,
            AudienceSession.note == HALL_NOTE,
            AudienceSession.mode == AudienceMode.IN_PERSON,
            AudienceSession.state == SessionState.PLANNED,
        )
    )
    if audience_session is None:
        audience_session = await _seat_hall(session=session, clock=clock, room=room, found=found)
        await _hall_so_far(
            session=session,
            now=now,
            audience_session=audience_session,
            found=found,
            official_id=users["official"].id,
            desk_id=users["desk"].id,
            status_url=status_url,
        )
    await care.ensure_tasks_for_day(session=session, clock=clock, day=day)
    token = await _demo_kiosk(session=session, clock=clock, protocol_id=users["protocol"].id)
    ahead = (
        await session.execute(
            select(Appointment, Case)
            .join(Slot, Slot.id == Appointment.slot_id)
            .join(Case, Case.id == Appointment.case_id)
            .where(
                Slot.session_id == audience_session.id,
                Appointment.state.in_((AppointmentState.SCHEDULED, AppointmentState.CONFIRMED)),
            )
            .order_by(Slot.starts_at)
        )
    ).all()
    expected = [Expected(c.applicant_name, c.tracking_number, c.phone[-4:], a.id) for a, c in ahead]
    return HallDay(kiosk_token=token, expected=expected)


async def _seat_hall(*, session: AsyncSession, clock: Clock, room: Room, found: list[Case]) -> AudienceSession:
    """Today's demo session in the hall, its slots, and the six confirmed appointments (their others released)."""
    now = riyadh(clock.now())
    day = now.date()
    midnight = datetime.combine(day, time(0, 0), tzinfo=now.tzinfo)
    step = timedelta(minutes=HALL_SLOT_MINUTES)
    # Half an hour ago; late in the evening earlier, so that the session ends with the day.
    starts = now.replace(minute=now.minute - now.minute % 10, second=0, microsecond=0) - 3 * step
    starts = max(min(starts, midnight + timedelta(days=1) - HALL_SLOTS * step), midnight)
    for case in found:
        for appointment in await session.scalars(
            select(Appointment).where(Appointment.case_id == case.id, Appointment.state.in_(LIVE_STATES))
        ):
            appointment.state = AppointmentState.RELEASED
            appointment.released_at = clock.now()
            appointment.release_reason = "demo_hall_today"
    await session.flush()
    audience_session = AudienceSession(
        template_id=None,
        day=day,
        starts_at=starts,
        ends_at=starts + HALL_SLOTS * step,
        mode=AudienceMode.IN_PERSON,
        state=SessionState.PLANNED,
        locked=True,
        cancelled_for_holiday=False,
        note=HALL_NOTE,
    )
    session.add(audience_session)
    await session.flush()
    slots = [
        Slot(
            session_id=audience_session.id,
            room_id=room.id,
            starts_at=starts + i * step,
            ends_at=starts + (i + 1) * step,
            capacity=1,
        )
        for i in range(HALL_SLOTS)
    ]
    session.add_all(slots)
    await session.flush()
    for case, index in zip(found, HALL_SLOT_OF, strict=True):
        session.add(
            Appointment(
                case_id=case.id,
                slot_id=slots[index].id,
                seat=0,
                state=AppointmentState.CONFIRMED,
                placed_at=clock.now(),
                placed_by_id=None,
                explanation="demo: an audience in the hall today",
                sequence=0,
                release_reason="",
            )
        )
        await _chain_demo_placement(session=session, clock=clock, case_id=case.id)
        if case.status is not CaseStatus.CONFIRMED:
            await cases.change_status(
                session=session, clock=clock, case=case, to_status=CaseStatus.CONFIRMED, actor_id=None
            )
    await session.flush()
    return audience_session


async def _hall_so_far(
    *,
    session: AsyncSession,
    now: datetime,
    audience_session: AudienceSession,
    found: list[Case],
    official_id: int,
    desk_id: int,
    status_url: str,
) -> None:
    """What happened in the hall before `majlis demo` ran, each step on a clock set to its moment: the first
    applicant came 5 minutes early, was called at the start and heard for 6 minutes; the third came 3 minutes
    before his slot (at the kiosk); the second came 2 minutes ago, late (at the desk). No moment is later than
    now or before midnight, so in the half hour after midnight nobody has come late yet."""
    start = riyadh(audience_session.starts_at)
    midnight = start.replace(hour=0, minute=0)

    def at(moment: datetime) -> FrozenClock:
        return FrozenClock(min(max(moment, midnight), now))

    appointments = {
        a.case_id: a
        for a in await session.scalars(
            select(Appointment)
            .join(Slot, Slot.id == Appointment.slot_id)
            .where(Slot.session_id == audience_session.id, Appointment.state == AppointmentState.CONFIRMED)
        )
    }
    step = timedelta(minutes=HALL_SLOT_MINUTES)
    first, late, in_time = (appointments.get(case.id) for case in found[:3])
    policy = arrival.ArrivalPolicy()

    async def came(appointment: Appointment, moment: datetime, by: int | None = None) -> None:
        via = ArrivalVia.KIOSK if by is None else ArrivalVia.DESK
        await arrival.check_in(
            session=session,
            clock=at(moment),
            policy=policy,
            appointment_id=appointment.id,
            via=via,
            branch_code="riyadh",
            actor_id=by,
        )

    if first is not None:
        await came(first, start - timedelta(minutes=5))
        called = await hall.call_next(
            session=session,
            clock=at(start + timedelta(minutes=1)),
            session_id=audience_session.id,
            current_id=None,
            actor_id=official_id,
        )
        if called.current is not None:
            await hall.record_outcome(
                session=session,
                clock=at(start + timedelta(minutes=7)),
                audience_id=called.current.id,
                outcome=Outcome.ANSWERED,
                directive=HALL_DIRECTIVE,
                referred_to="",
                actor_id=official_id,
                status_url=status_url,
            )
    if in_time is not None:
        await came(in_time, start + 2 * step - timedelta(minutes=3))
    if late is not None:
        await came(late, now - timedelta(minutes=2), by=desk_id)


async def _demo_kiosk(*, session: AsyncSession, clock: Clock, protocol_id: int) -> str:
    """Enrols the demo's kiosk at the Riyadh centre, revoking the one enrolled by an earlier run; its token."""
    for earlier in await session.scalars(
        select(Kiosk).where(Kiosk.name == DEMO_KIOSK_NAME, Kiosk.branch_code == "riyadh", Kiosk.revoked_at.is_(None))
    ):
        await kiosks.revoke(session=session, clock=clock, kiosk_id=earlier.id, actor_id=protocol_id)
    _, token = await kiosks.enrol(
        session=session, clock=clock, branch_code="riyadh", name=DEMO_KIOSK_NAME, actor_id=protocol_id
    )
    return token
