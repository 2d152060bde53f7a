"""Service quality's demo: after `make run` the manager's review queue, the statistics dashboard, each staff
member's own ratings and the desk's tablet all have something to show.

Made once (run again, only the tablets are enrolled afresh, as the kiosk is, since a device token can only be
shown when it is made): four weeks of requests in both centres, by every channel, kind and applicant kind; past
audiences in the Riyadh hall, each confirmed (or not) by the channel that asked, the applicant checked in at the
desk or the kiosk and heard, or missed; and the visits rated: an intake or a check-in on the desk's tablet, an
audience or a completion by link. A few ratings are negative: the older ones reviewed (note, cause, action), one
left unreviewed past the next working day (overdue), and today's waiting in the day's queue. Three suggestions
only, so the dashboard shows one suppressed cell beside the others' numbers.

Everything is drawn from one seeded generator at moments counted back from the demo's clock, so every run on the
same day makes the same data; the rows are written straight to the tables (quality/models.py and the tables the
dashboard reads), except the requests, which go through cases.submit as any request does, the past appointments,
each recorded in the fairness chain as the scheduler records a placement, and the tablets, enrolled and paired
through quality.tablets.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import StaffUser
from audience_day.models import Arrival, ArrivalVia, HallAudience, Outcome
from cases import service as cases
from cases.identity import luhn_check_digit
from cases.intake import check_request
from cases.models import Applicant, Case, CaseStatus, Channel
from fairness import chain as fairness_chain
from majlis.clock import RIYADH, Clock, FrozenClock, riyadh
from majlis.demo_quality_words import (
    COMMENTS,
    COMPANIES,
    FAMILY_NAMES,
    FIRST_NAMES,
    RESIDENTS,
    REVIEWS,
    SUBJECTS,
    TABLETS,
)
from majlis.i18n import shipped_catalogs
from notify.models import MessageStatus, OutboxMessage
from priority.models import Route, Triage
from priority.score import Urgency
from quality import tablets as desk_tablets
from quality.models import NEGATIVE_AT_MOST, DeskTablet, InviteChannel, Rating, RatingInvite, RatingReview, Visit
from rooms.models import Room, RoomKind
from scheduler import service as scheduling
from scheduler.models import (
    Answer,
    Appointment,
    AppointmentState,
    AudienceMode,
    AudienceSession,
    Confirmation,
    SessionState,
    Slot,
)
from scheduler.notices import confirmation_purpose

SEED: Final = 19
NO_SHOW: Final = AppointmentState.NO_SHOW
REQUESTS: Final = 48
# Of which walked in to the Riyadh desk today: rated 1, 5 and 2 on its tablet, and one still waiting there.
TODAY: Final = 4
TODAY_SCORES: Final = (1, 5, 2)
# How far back the requests go, in days, and the past audience days in the Riyadh hall among them.
DAYS_BACK: Final = 28
HALL_DAYS: Final = 6
HALL_NOTE: Final = "demo: past audiences (service quality)"
# Shares of the requests; three suggestions exactly (placed by hand below), so their count is suppressed.
KINDS: Final = {"audience_in_person": 55, "complaint": 15, "petition": 12, "enquiry": 12, "audience_video": 6}
CHANNELS: Final = {
    Channel.PORTAL: 35,
    Channel.WALK_IN: 25,
    Channel.CALL_CENTRE: 15,
    Channel.WHATSAPP: 20,
    Channel.EMAIL: 5,
}
APPLICANT_KINDS: Final = {"citizen": 75, "resident": 13, "company": 12}
POSITIVE: Final = {5: 60, 4: 28, 3: 12}
# The demo's made-up addresses: a manager's monthly report goes there (to the development mail catcher).
MANAGER_EMAIL: Final = "manager@majlis.example"
STAFF: Final = ("desk", "official", "women", "followup", "manager", "protocol")


@dataclass(frozen=True)
class QualityShown:
    """What `majlis demo` prints: the tablets' device tokens (shown only now), and what the queue holds."""

    # Branch code → the device token of the tablet enrolled just now.
    tablet_tokens: dict[str, str]
    ratings: int
    negative_today: int
    overdue: int


def _said(words: tuple[str, str] | str) -> str:
    """The demo's words (NP_("demo data", …)) in Arabic, from the catalogs; nothing for nothing."""
    if isinstance(words, str):
        return words
    context, message = words
    return shipped_catalogs().pgettext("ar", context, message)


def _pick(rng: random.Random, shares: dict[Any, int]) -> Any:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def _applicant(rng: random.Random, n: int) -> dict[str, Any]:
    """The n-th applicant: a made-up name and a number with a valid check digit that belongs to nobody."""
    kind = _pick(rng, APPLICANT_KINDS)
    phone = f"05077{n:05d}"
    if kind == "company":
        return {"kind": kind, "id_number": f"70{19_000 + n:08d}", "name": _said(COMPANIES[n % len(COMPANIES)]),
                "phone": phone, "language": "ar"}  # fmt: skip
    gender = "female" if rng.random() < 0.35 else "male"
    body = f"{1 if kind == 'citizen' else 2}00019{n:03d}"
    if kind == "resident":
        name, language = RESIDENTS[n % len(RESIDENTS)], "en"
    else:
        parts = (rng.choice(FIRST_NAMES[gender]), rng.choice(FIRST_NAMES["male"]), rng.choice(FAMILY_NAMES))
        name = " ".join(_said(part) for part in parts)
        language = "ar"
    return {"kind": kind, "id_number": body + luhn_check_digit(body), "name": name, "gender": gender,
            "phone": phone, "language": language}  # fmt: skip


def first_id_number() -> str:
    """The national ID of the demo's first applicant: found, the data is there already."""
    rng = random.Random(SEED)  # noqa: S311 (demo data, not a secret)
    return str(_applicant(rng, 0)["id_number"])


def _hall_days(today: date) -> list[date]:
    """The past audience days: working days (not Friday or Saturday) spread over the four weeks."""
    days = [today - timedelta(days=back) for back in range(2, DAYS_BACK)]
    working = [day for day in days if day.weekday() not in (4, 5)]
    step = len(working) / HALL_DAYS
    return sorted(working[int(i * step)] for i in range(HALL_DAYS))


async def load(*, session: AsyncSession, clock: Clock, status_url: str) -> QualityShown | None:
    """The four weeks of rated visits, made once, and the desk's tablets; None when the demo's staff are missing."""
    staff = {u.username: u for u in await session.scalars(select(StaffUser).where(StaffUser.username.in_(STAFF)))}
    if len(staff) < len(STAFF):
        return None
    made = await session.scalar(select(Applicant.id).where(Applicant.id_number == first_id_number()))
    if made is None:
        # The past appointments go into the fairness chain after the tablet is paired (a row locked): the chain's
        # turn first, as every change that appends takes it (fairness.chain.take_turn).
        await fairness_chain.take_turn(session=session)
    if staff["manager"].email is None:
        staff["manager"].email = MANAGER_EMAIL
    tablets, tokens = await _tablets(
        session=session, clock=clock, desk_id=staff["desk"].id, protocol_id=staff["protocol"].id
    )
    if made is None:
        await _activity(session=session, clock=clock, status_url=status_url, staff=staff, tablets=tablets)
    await session.flush()
    return await _shown(session=session, clock=clock, tokens=tokens)


async def _tablets(
    *, session: AsyncSession, clock: Clock, desk_id: int, protocol_id: int
) -> tuple[dict[str, DeskTablet], dict[str, str]]:
    """A tablet at each centre's desk, enrolled by protocol and the Riyadh one paired by the demo's intake desk, as
    the pages do (quality.tablets, audited); those of an earlier run revoked, and the visit still waiting on one
    moved to its successor (revoking withdraws it, but the applicant is still at the desk)."""
    earlier = list(
        await session.scalars(
            select(DeskTablet).where(
                DeskTablet.name.in_({_said(name) for name in TABLETS.values()}), DeskTablet.revoked_at.is_(None)
            )
        )
    )
    waiting = {
        tablet.branch_code: list(
            await session.scalars(
                select(RatingInvite.id).where(
                    RatingInvite.tablet_id == tablet.id,
                    RatingInvite.used_at.is_(None),
                    RatingInvite.withdrawn_at.is_(None),
                )
            )
        )
        for tablet in earlier
    }
    for tablet in earlier:
        await desk_tablets.revoke(session=session, clock=clock, tablet_id=tablet.id, actor_id=protocol_id)
    made, tokens = {}, {}
    for branch, name in TABLETS.items():
        tablet, token = await desk_tablets.enrol(
            session=session, clock=clock, branch_code=branch, name=_said(name), actor_id=protocol_id
        )
        if branch == "riyadh":
            tablet = await desk_tablets.pair(session=session, clock=clock, tablet_id=tablet.id, staff_id=desk_id)
        made[branch], tokens[branch] = tablet, token
    for branch, invite_ids in waiting.items():
        if invite_ids:
            await session.execute(
                update(RatingInvite)
                .where(RatingInvite.id.in_(invite_ids))
                .values(tablet_id=made[branch].id, withdrawn_at=None)
                .execution_options(synchronize_session=False)
            )
    return made, tokens


async def _activity(
    *, session: AsyncSession, clock: Clock, status_url: str, staff: dict[str, StaffUser], tablets: dict[str, DeskTablet]
) -> None:
    rng = random.Random(SEED)  # noqa: S311 (demo data, not a secret)
    now = clock.now()
    today = riyadh(now).date()
    midnight = datetime.combine(today, time(0), tzinfo=RIYADH)
    kinds = [_pick(rng, KINDS) for _ in range(REQUESTS)]
    for n in (7, 23, 41):
        kinds[n] = "suggestion"
    applicants = [_applicant(rng, n) for n in range(REQUESTS)]
    visits: list[tuple[RatingInvite, datetime]] = []
    audiences: list[Case] = []
    for n, (kind, applicant) in enumerate(zip(kinds, applicants, strict=True)):
        # The last four came to the Riyadh desk this morning; the rest over the four weeks before.
        if n >= REQUESTS - TODAY:
            at = min(max(now - timedelta(minutes=40 * (REQUESTS - n)), midnight), now)
            channel, branch = Channel.WALK_IN, "riyadh"
        else:
            at = now - timedelta(days=rng.uniform(DAYS_BACK - 8 if kind == "audience_in_person" else 1, DAYS_BACK))
            channel, branch = _pick(rng, CHANNELS), "riyadh" if rng.random() < 0.65 else "jeddah"
        subject, text = (_said(words) for words in SUBJECTS[kind])
        details = check_request(
            applicant, {"kind": kind, "subject": subject, "text": text, "branch": branch}, channel=channel
        )
        walk_in = channel is Channel.WALK_IN
        submission = await cases.submit(
            session=session, clock=FrozenClock(at), details=details, status_url=status_url,
            entered_by_id=staff["desk"].id if walk_in else None,
        )  # fmt: skip
        case = submission.case
        if walk_in:
            visits.append(
                (await _invite(session, case, Visit.INTAKE, InviteChannel.TABLET, staff["desk"], at, tablets), at)
            )
        if kind == "audience_in_person" and branch == "riyadh" and n < REQUESTS - TODAY:
            audiences.append(case)
        elif n < REQUESTS - TODAY and rng.random() < 0.5:
            done = at + timedelta(days=rng.uniform(0.5, 3))
            if done < now:
                await _complete(session=session, case=case, at=done)
                way = InviteChannel.WHATSAPP if case.channel is Channel.WHATSAPP else InviteChannel.SMS
                visits.append(
                    (await _invite(session, case, Visit.COMPLETION, way, staff["followup"], done, tablets), done)
                )
    await session.flush()
    visits += await _hall(
        session=session, clock=clock, rng=rng, today=today, audiences=audiences, staff=staff, tablets=tablets
    )
    await _ratings(session=session, rng=rng, now=now, visits=visits, staff=staff)


async def _invite(
    session: AsyncSession, case: Case, visit: Visit, channel: InviteChannel, by: StaffUser, at: datetime,
    tablets: dict[str, DeskTablet], appointment_id: int = 0,
) -> RatingInvite:  # fmt: skip
    """The invitation to rate a visit, not used yet (the ratings decide); the one the visit's own service made
    already when there is one (a request taken at a desk paired with a tablet is offered there by cases.submit)."""
    made = await session.scalar(
        select(RatingInvite).where(
            RatingInvite.case_id == case.id, RatingInvite.visit == visit, RatingInvite.appointment_id == appointment_id
        )
    )
    if made is not None:
        return made
    tablet = tablets.get(case.branch) if channel is InviteChannel.TABLET else None
    # A tablet's invitation is for the applicant still at the desk that day; a link's lasts two weeks.
    lasts = timedelta(hours=12) if tablet else timedelta(days=14)
    invite = RatingInvite(
        case_id=case.id, appointment_id=appointment_id, visit=visit, channel=channel, staff_id=by.id,
        branch_code=case.branch, department_id=None, tablet_id=tablet.id if tablet else None, created_at=at,
        expires_at=at + lasts,
    )  # fmt: skip
    session.add(invite)
    await session.flush()
    return invite


async def _complete(*, session: AsyncSession, case: Case, at: datetime) -> None:
    await cases.change_status(
        session=session, clock=FrozenClock(at), case=case, to_status=CaseStatus.COMPLETED, actor_id=None
    )


async def _hall(
    *, session: AsyncSession, clock: Clock, rng: random.Random, today: date, audiences: list[Case],
    staff: dict[str, StaffUser], tablets: dict[str, DeskTablet],
) -> list[tuple[RatingInvite, datetime]]:  # fmt: skip
    """The past audience days in the Riyadh hall: each request seated once, confirmed by the channel that asked
    (or not), checked in and heard, or missed; a held audience's check-in and audience offered for rating."""
    room = await session.scalar(
        select(Room).where(Room.kind == RoomKind.AUDIENCE_HALL, Room.branch_code == "riyadh").order_by(Room.id)
    )
    if room is None:
        return []
    visits = []
    days = _hall_days(today)
    step = timedelta(minutes=10)
    for d, day in enumerate(days):
        starts = datetime.combine(day, time(9), tzinfo=RIYADH)
        seated = [case for case in audiences[d::HALL_DAYS] if riyadh(case.submitted_at).date() < day]
        audience_session = AudienceSession(
            template_id=None, day=day, starts_at=starts, ends_at=starts + 12 * step, mode=AudienceMode.IN_PERSON,
            state=SessionState.PLANNED, locked=True, cancelled_for_holiday=False, note=HALL_NOTE,
        )  # fmt: skip
        session.add(audience_session)
        await session.flush()
        for queue, case in enumerate(seated, start=1):
            slot = Slot(
                session_id=audience_session.id, room_id=room.id, starts_at=starts + queue * step,
                ends_at=starts + (queue + 1) * step, capacity=1,
            )  # fmt: skip
            session.add(slot)
            await session.flush()
            missed = rng.random() < 0.15
            appointment = Appointment(
                case_id=case.id, slot_id=slot.id, seat=0, state=NO_SHOW if missed else AppointmentState.HELD,
                placed_at=slot.starts_at - timedelta(days=7), placed_by_id=None, explanation="demo: a past audience",
                sequence=0, release_reason="", ended_at=slot.ends_at,
            )  # fmt: skip
            session.add(appointment)
            verified = case.submitted_at + timedelta(hours=3)
            urgency = rng.choice((Urgency.NORMAL, Urgency.NORMAL, Urgency.URGENT))
            session.add(
                Triage(
                    case_id=case.id,
                    category_code="general",
                    urgency=urgency,
                    route=Route.AUDIENCE_IN_PERSON,
                    verified_at=verified,
                    updated_at=verified,
                )
            )
            await session.flush()
            # In the fairness chain as every placement is (majlis/demo.py does the same for its own), with its
            # triage's score: recorded now, when the demo writes it; a seat in the past is one nobody waiting
            # could have had, so it passes nobody.
            await scheduling.record_placement(
                session=session, clock=clock, appointment=appointment, actor_id=None, rule="demo"
            )
            visits += await _seen(session=session, rng=rng, case=case, appointment=appointment, slot=slot,
                                  queue=queue, missed=missed, staff=staff, tablets=tablets)  # fmt: skip
    return visits


async def _seen(
    *, session: AsyncSession, rng: random.Random, case: Case, appointment: Appointment, slot: Slot, queue: int,
    missed: bool, staff: dict[str, StaffUser], tablets: dict[str, DeskTablet],
) -> list[tuple[RatingInvite, datetime]]:  # fmt: skip
    ask = slot.starts_at - timedelta(days=3)
    channel = rng.choice(("whatsapp", "whatsapp", "sms", "voice"))
    answered = None if missed and rng.random() < 0.6 else ask + timedelta(hours=rng.uniform(0.2, 20))
    session.add(OutboxMessage(
        case_id=case.id, purpose=confirmation_purpose(appointment.id, channel), channel=channel,
        recipient=case.phone, language=case.language, body="", payload={}, created_at=ask, due_at=ask,
        next_attempt_at=ask, status=MessageStatus.SENT, attempts=1, sent_at=ask,
    ))  # fmt: skip
    session.add(Confirmation(
        appointment_id=appointment.id, case_id=case.id, ask_at=ask, short_notice=False,
        answer=Answer.CONFIRMED if answered else None, answered_at=answered,
        answered_via=("voice" if channel == "voice" else "whatsapp") if answered else "",
    ))  # fmt: skip
    if missed:
        return []
    at_desk = rng.random() < 0.5
    # Most come a few minutes before their slot and are done in about the published 6 minutes; some wait longer.
    arrived = slot.starts_at - timedelta(minutes=rng.uniform(0.5, 4 if rng.random() < 0.7 else 12))
    called = max(slot.starts_at, arrived + timedelta(minutes=rng.uniform(0.5, 2)))
    ended = called + timedelta(minutes=rng.uniform(2, 6))
    session.add(Arrival(
        appointment_id=appointment.id, case_id=case.id, session_id=slot.session_id, queue_number=queue,
        arrived_at=arrived, via=ArrivalVia.DESK if at_desk else ArrivalVia.KIOSK,
        by_id=staff["desk"].id if at_desk else None, kiosk_id=None, late=False,
    ))  # fmt: skip
    session.add(HallAudience(
        appointment_id=appointment.id, case_id=case.id, session_id=slot.session_id, called_at=called,
        called_by_id=staff["official"].id, ended_at=ended, outcome=Outcome.ANSWERED, directive="",
        referred_to="", outcome_at=ended, outcome_by_id=staff["official"].id,
    ))  # fmt: skip
    await cases.change_status(
        session=session, clock=FrozenClock(ended), case=case, to_status=CaseStatus.COMPLETED, actor_id=None,
    )  # fmt: skip
    visits = []
    if at_desk:
        invite = await _invite(
            session, case, Visit.CHECK_IN, InviteChannel.TABLET, staff["desk"], arrived, tablets, appointment.id
        )
        visits.append((invite, arrived + timedelta(minutes=1)))
    invite = await _invite(
        session, case, Visit.AUDIENCE, InviteChannel.SMS, staff["official"], ended, tablets, appointment.id
    )
    visits.append((invite, ended + timedelta(minutes=rng.uniform(10, 300))))
    return visits


async def _ratings(
    *, session: AsyncSession, rng: random.Random, now: datetime, visits: list[tuple[RatingInvite, datetime]],
    staff: dict[str, StaffUser],
) -> None:  # fmt: skip
    """Three visits in four rated, every fifth rating negative; today's desk visits as TODAY_SCORES, the last one
    still waiting on the tablet. Negative ratings over five days old are reviewed, all but the latest: overdue."""
    midnight = datetime.combine(riyadh(now).date(), time(0), tzinfo=RIYADH)
    past = sorted((v for v in visits if v[1] < midnight), key=lambda v: v[1])
    today = sorted((v for v in visits if v[1] >= midnight), key=lambda v: v[1])
    scores: list[tuple[RatingInvite, int, datetime]] = []
    for invite, at in past:
        if rng.random() < 0.75:
            negative = len(scores) % 5 == 4
            scores.append((invite, rng.choice((1, 2)) if negative else _pick(rng, POSITIVE), at))
    scores += [(invite, score, min(at, now)) for (invite, at), score in zip(today, TODAY_SCORES, strict=False)]
    rated = []
    for invite, score, at in scores:
        invite.used_at = at
        rating = Rating(
            invite_id=invite.id, case_id=invite.case_id, visit=invite.visit, staff_id=invite.staff_id,
            branch_code=invite.branch_code, department_id=invite.department_id, score=score,
            comment=_said(rng.choice(COMMENTS.get(score, ("",)))), rated_at=at,
        )  # fmt: skip
        session.add(rating)
        rated.append(rating)
    await session.flush()
    # A visit rated was on the tablet's screen until then, whatever came to the desk after it.
    await session.execute(
        update(RatingInvite)
        .where(RatingInvite.id.in_([invite.id for invite, _, _ in scores]))
        .values(withdrawn_at=None)
        .execution_options(synchronize_session=False)
    )
    old = [r for r in rated if r.score <= NEGATIVE_AT_MOST and r.rated_at < now - timedelta(days=5)]
    for n, rating in enumerate(old[:-1]):
        cause, action, note = REVIEWS[n % len(REVIEWS)]
        session.add(RatingReview(
            rating_id=rating.id, note=_said(note), cause_code=cause, action=action,
            reviewed_at=rating.rated_at + timedelta(hours=rng.uniform(3, 20)), reviewed_by_id=staff["manager"].id,
        ))  # fmt: skip


async def _shown(*, session: AsyncSession, clock: Clock, tokens: dict[str, str]) -> QualityShown:
    now = clock.now()
    midnight = datetime.combine(riyadh(now).date(), time(0), tzinfo=RIYADH)
    negative = (
        select(Rating.rated_at)
        .outerjoin(RatingReview, RatingReview.rating_id == Rating.id)
        .where(Rating.score <= NEGATIVE_AT_MOST, RatingReview.id.is_(None))
    )
    waiting = list(await session.scalars(negative))
    total = len(list(await session.scalars(select(Rating.id))))
    return QualityShown(
        tablet_tokens=tokens,
        ratings=total,
        negative_today=sum(1 for at in waiting if at >= midnight),
        overdue=sum(1 for at in waiting if at < now - timedelta(days=5)),
    )
