"""The statistics dashboard's numbers against a month of activity generated here, on SQLite and PostgreSQL.

A seeded generator plays around November 2026 (a margin either side, and moments on the span's Riyadh midnights):
requests of every kind, channel, gender, applicant kind and centre, triaged or not; appointments held, missed,
released or still open; confirmations asked by several channels, answered or not; referrals answered on time,
late or not at all, closed without an answer, returned as not theirs (and sent again or not), waiting for the
applicant's information (given or not); ratings; arrivals with the audience's end. Every figure of the dashboard
— over everything, one centre, and one department — is then worked out again from the generated records in plain
Python, from the definitions in quality/figures.py, with this file's own suppression (secondary too) and
percentile, and compared.
"""

from __future__ import annotations

import math
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audience_day.models import Arrival, ArrivalVia, HallAudience
from cases.identity import ApplicantKind
from cases.models import Applicant, Case, CaseStatus, Channel, Gender, Language, RequestKind
from followup.models import Department, EventKind, Referral, ReferralEvent, ReferralSource, ReferralState
from majlis.clock import RIYADH
from majlis.db import create_engine
from notify.models import MessageStatus, OutboxMessage
from priority.models import Route, Triage
from priority.score import Urgency
from quality.figures import Dashboard
from quality.models import InviteChannel, Rating, RatingInvite, Visit
from quality.periods import asked_span
from quality.statistics import dashboard
from rooms.models import Room, RoomKind
from scheduler.models import (
    ENDED_STATES,
    LIVE_STATES,
    Answer,
    Appointment,
    AppointmentState,
    AudienceMode,
    AudienceSession,
    Confirmation,
    SessionState,
    Slot,
)

Sessions = async_sessionmaker[AsyncSession]
START = datetime(2026, 11, 1, tzinfo=RIYADH)
END = datetime(2026, 12, 1, tzinfo=RIYADH)
# Three weeks after the month: everything in it is old enough to tell, some deadlines and audiences lie ahead.
NOW = datetime(2026, 12, 20, 12, 0, tzinfo=RIYADH)
BRANCHES = ("riyadh", "jeddah")
HELD_MORE = (AppointmentState.HELD, AppointmentState.HELD)
CHANNELS = ("whatsapp", "voice", "sms", "email")


# --- the generated month, as plain records -------------------------------------------------------------------


@dataclass
class Appt:
    state: AppointmentState
    starts_at: datetime
    asked_at: datetime | None = None
    answer: Answer | None = None
    # Channel → the status of the confirmation request sent by it.
    sent: dict[str, MessageStatus] = field(default_factory=dict)
    arrived_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass
class Ref:
    department: int  # 0 or 1
    due: datetime
    answered: datetime | None
    closed: datetime | None = None
    # Returned as not theirs, and sent to them again.
    returned: datetime | None = None
    resent: datetime | None = None
    # Information asked of the applicant, and given.
    asked: datetime | None = None
    given: datetime | None = None


@dataclass
class Request:
    kind: RequestKind
    channel: Channel
    branch: str
    gender: Gender | None
    applicant: ApplicantKind
    status: CaseStatus
    submitted: datetime
    urgency: Urgency | None
    route: Route | None
    appointments: list[Appt]
    referrals: list[Ref]
    ratings: list[tuple[datetime, int]]


def moment(rng: random.Random, first: datetime, last: datetime) -> datetime:
    """A moment between the two; now and then exactly a Riyadh midnight of the span's edges."""
    if rng.random() < 0.06:
        return rng.choice((START, END, START - timedelta(seconds=1), END - timedelta(seconds=1)))
    # Microseconds too: the durations are measured in SQL to the microsecond on both databases.
    return first + timedelta(
        seconds=rng.randrange(int((last - first).total_seconds())), microseconds=rng.randrange(10**6)
    )


def generate(seed: int, count: int) -> list[Request]:
    rng = random.Random(seed)  # noqa: S311 (a reproducible month, not a secret)
    # The referrals' later lives from a stream of their own, so the rest of the month stays as it was (seeded
    # so that both months reach each of them: the last assertions of the test below).
    side = random.Random(seed * 1000 + 1)  # noqa: S311
    out = []
    for _ in range(count):
        applicant = rng.choice(list(ApplicantKind))
        submitted = moment(rng, START - timedelta(days=20), END + timedelta(days=10))
        appointments: list[Appt] = []
        for _ in range(rng.choice((0, 1, 1, 2))):
            # At most one live appointment a request (a partial unique index): the others have ended.
            live = any(a.state in LIVE_STATES for a in appointments)
            appt = Appt(
                # Held more often than not, so that each urgency has enough waits to publish.
                state=rng.choice(
                    (*ENDED_STATES, AppointmentState.HELD, AppointmentState.HELD, *([] if live else AppointmentState))
                ),
                starts_at=moment(rng, submitted + timedelta(hours=6), submitted + timedelta(days=50)),
            )
            if rng.random() < 0.7:
                appt.asked_at = moment(rng, START - timedelta(days=5), END + timedelta(days=5))
                appt.answer = rng.choice((None, None, Answer.CONFIRMED, Answer.RESCHEDULED, Answer.CANCELLED))
                for channel in rng.sample(CHANNELS, rng.randint(1, 3)):
                    appt.sent[channel] = rng.choice((MessageStatus.SENT, MessageStatus.SENT, MessageStatus.FAILED))
            if rng.random() < 0.5:
                appt.arrived_at = moment(rng, START - timedelta(days=3), END + timedelta(days=3))
                if rng.random() < 0.85:
                    appt.ended_at = appt.arrived_at + timedelta(
                        seconds=rng.randrange(60, 20 * 60), microseconds=rng.randrange(10**6)
                    )
            appointments.append(appt)
        referrals: list[Ref] = []
        for department in rng.sample((0, 1), rng.choice((0, 0, 1, 2))):
            due = moment(rng, START - timedelta(days=10), NOW + timedelta(days=10))
            answered = rng.choice((None, due, due - timedelta(days=rng.randint(0, 5)), due + timedelta(hours=3)))
            ref = Ref(department, due, answered)
            if answered is None:
                # Some after the month's end (still owed at its end), some before.
                later = due + timedelta(days=side.randint(1, 25))
                # None stays simply open: the returned and sent again, and the paused and given, are open too.
                match side.choice((None, "closed", "returned", "returned", "paused")):
                    case "closed":
                        ref.closed = later
                    case "returned":
                        ref.returned = due - timedelta(days=2)
                        ref.resent = side.choice((None, due - timedelta(days=1)))
                    case "paused":
                        ref.asked = due - timedelta(days=1)
                        ref.given = side.choice((None, later))
            referrals.append(ref)
        triaged = rng.random() < 0.8
        out.append(
            Request(
                kind=rng.choice(list(RequestKind)),
                channel=rng.choice(list(Channel)),
                branch=rng.choice(BRANCHES),
                gender=None if applicant is ApplicantKind.COMPANY else rng.choice((Gender.MALE, Gender.FEMALE, None)),
                applicant=applicant,
                status=rng.choice(list(CaseStatus)),
                submitted=submitted,
                urgency=rng.choice(list(Urgency)) if triaged else None,
                route=rng.choice((*Route, None)) if triaged else None,
                appointments=appointments,
                referrals=referrals,
                ratings=[
                    (moment(rng, START - timedelta(days=3), END + timedelta(days=3)), rng.randint(1, 5))
                    for _ in range(rng.choice((0, 0, 1, 2)))
                ],
            )
        )
    return out


# --- writing it ----------------------------------------------------------------------------------------------


async def store(session: AsyncSession, requests: list[Request]) -> list[int]:
    """Writes the records; gives back the two departments' ids."""
    made = datetime(2026, 9, 1, tzinfo=UTC)
    departments = [
        Department(
            code=f"dept{i}", name_ar=f"إدارة {i}", name_en=f"Department {i}", calendar_id=1, email="d@example.org"
        )
        for i in (0, 1)
    ]
    rooms = {
        code: Room(branch_code=code, name=f"Hall {code}", kind=RoomKind.AUDIENCE_HALL, capacity=10, created_at=made)
        for code in BRANCHES
    }
    session.add_all([*departments, *rooms.values()])
    await session.flush()
    visits = list(Visit)
    for number, r in enumerate(requests, start=1):
        applicant = Applicant(
            kind=r.applicant,
            id_number=f"1{number:09d}",
            name=f"Applicant {number}",
            gender=r.gender,
            phone=f"+96650{number:07d}",
            language=Language.AR,
            created_at=made,
            updated_at=made,
        )
        session.add(applicant)
        await session.flush()
        case = Case(
            tracking_number=f"26-{number:06d}-0",
            applicant_id=applicant.id,
            kind=r.kind,
            subject="s",
            text="t",
            branch=r.branch,
            channel=r.channel,
            status=r.status,
            phone=applicant.phone,
            applicant_name=applicant.name,
            gender=r.gender,
            language=Language.AR,
            submitted_at=r.submitted,
        )
        session.add(case)
        await session.flush()
        if r.urgency is not None:
            session.add(Triage(case_id=case.id, urgency=r.urgency, route=r.route, updated_at=made))
        for a in r.appointments:
            sitting = AudienceSession(
                day=a.starts_at.astimezone(RIYADH).date(),
                starts_at=a.starts_at,
                ends_at=a.starts_at + timedelta(hours=2),
                mode=AudienceMode.IN_PERSON,
                state=SessionState.PLANNED,
            )
            session.add(sitting)
            await session.flush()
            slot = Slot(
                session_id=sitting.id,
                room_id=rooms[r.branch].id,
                starts_at=a.starts_at,
                ends_at=a.starts_at + timedelta(minutes=15),
                capacity=1,
            )
            session.add(slot)
            await session.flush()
            appointment = Appointment(
                case_id=case.id, slot_id=slot.id, seat=0, state=a.state, placed_at=made, explanation=""
            )
            session.add(appointment)
            await session.flush()
            if a.asked_at is not None:
                session.add(
                    Confirmation(
                        appointment_id=appointment.id,
                        case_id=case.id,
                        ask_at=a.asked_at,
                        answer=a.answer,
                        answered_at=a.asked_at + timedelta(hours=1) if a.answer else None,
                        answered_via="whatsapp" if a.answer else "",
                    )
                )
                for channel, status in a.sent.items():
                    session.add(
                        OutboxMessage(
                            case_id=case.id,
                            purpose=f"confirm:{appointment.id}:{channel}",
                            channel=channel,
                            recipient=applicant.phone,
                            language="ar",
                            body="b",
                            payload={},
                            created_at=a.asked_at,
                            due_at=a.asked_at,
                            next_attempt_at=a.asked_at,
                            status=status,
                        )
                    )
            if a.arrived_at is not None:
                session.add(
                    Arrival(
                        appointment_id=appointment.id,
                        case_id=case.id,
                        session_id=sitting.id,
                        queue_number=1,
                        arrived_at=a.arrived_at,
                        via=ArrivalVia.DESK,
                    )
                )
                session.add(
                    HallAudience(
                        appointment_id=appointment.id,
                        case_id=case.id,
                        session_id=sitting.id,
                        called_at=a.arrived_at,
                        ended_at=a.ended_at,
                    )
                )
        for f in r.referrals:
            referral = Referral(
                case_id=case.id,
                department_id=departments[f.department].id,
                policy_id=1,
                source=ReferralSource.AUDIENCE,
                directive="",
                state=ReferralState.ANSWERED if f.answered else ReferralState.SENT,
                created_at=f.due - timedelta(days=10),
                first_response_due_at=f.due - timedelta(days=8),
                solution_due_at=f.due,
                answered_at=f.answered,
                closed_at=f.closed,
            )
            session.add(referral)
            await session.flush()
            for kind, at in (
                (EventKind.RETURNED, f.returned),
                (EventKind.SENT, f.resent),
                (EventKind.INFORMATION_ASKED, f.asked),
                (EventKind.INFORMATION_GIVEN, f.given),
            ):
                if at is not None:
                    session.add(ReferralEvent(referral_id=referral.id, case_id=case.id, kind=kind, at=at))
        for index, (rated_at, score) in enumerate(r.ratings):
            invite = RatingInvite(
                case_id=case.id,
                appointment_id=0,
                visit=visits[index],
                channel=InviteChannel.SMS,
                created_at=rated_at,
                expires_at=rated_at + timedelta(days=7),
                used_at=rated_at,
            )
            session.add(invite)
            await session.flush()
            session.add(
                Rating(
                    invite_id=invite.id, case_id=case.id, visit=invite.visit, score=score, comment="", rated_at=rated_at
                )
            )
    await session.flush()
    return [d.id for d in departments]


# --- the figures again, in plain Python ----------------------------------------------------------------------


def small(n: int | None) -> bool:
    return n is not None and 1 <= n <= 4


def published(n: int) -> int | None:
    return None if small(n) else n


def over(n: int, value: float | None) -> float | None:
    return None if n < 5 else value


def nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def interpolated_median(values: list[float]) -> float:
    # PostgreSQL's percentile_cont(0.5): the lower middle plus half the gap to the upper middle.
    ordered = sorted(values)
    lo, hi = ordered[(len(ordered) - 1) // 2], ordered[len(ordered) // 2]
    return lo + (hi - lo) * 0.5


def proportion(hits: int, total: int) -> float | None:
    # Held back over fewer than 5, and when the hits or the misses are 1 to 4 (either would come back from it).
    if total < 5 or small(hits) or small(total - hits):
        return None
    return round(hits / total, 4)


def secondary(counts: list[int]) -> set[int]:
    """The cells withheld besides the small ones, so that none comes back as the total less the others."""
    return secondary_of([None if small(n) else n for n in counts], sum(n for n in counts if small(n)))


def secondary_of(seen: list[int | None], rest: int) -> set[int]:
    """What a reader sees of a group (None: hidden) and what its hidden cells add up to (the total less the
    shown): the shown cells to withhold too, the smallest first (the earliest of equals), until two or more are
    hidden, adding up to 5 or more. None shown (the total itself 1 to 4 and hidden): nothing to do."""
    hidden = [i for i, n in enumerate(seen) if n is None]
    if not hidden:
        return set()
    shown_ones = sorted((n, i) for i, n in enumerate(seen) if n)
    more: set[int] = set()
    while shown_ones and (len(hidden) + len(more) < 2 or rest < 5):
        n, i = shown_ones.pop(0)
        more.add(i)
        rest += n
    return more


def owed(f: Ref, as_of: datetime) -> bool:
    """The follow-up report's referral still owed at `as_of` (followup/report.py), worked out here again."""

    def before(at: datetime | None) -> bool:
        return at is not None and at < as_of

    returned = before(f.returned) and not (before(f.resent) and f.resent > f.returned)  # type: ignore[operator]
    paused = before(f.asked) and not (before(f.given) and f.given >= f.asked)  # type: ignore[operator]
    return not before(f.answered) and not before(f.closed) and not returned and not paused


def rate(key: str, total: int, hits: int) -> tuple[str, int | None, int | None, float | None]:
    told = proportion(hits, total)
    return (key, published(total), hits if told is not None or total == 0 else None, told)


def micros(later: datetime, earlier: datetime) -> int:
    return (later - earlier) // timedelta(microseconds=1)


def within(at: datetime, first: datetime, last: datetime) -> bool:
    return first <= at < last


def check(figures: Dashboard, requests: list[Request], keep: Callable[[Request], bool], department: int | None) -> None:
    mine = [r for r in requests if keep(r)]
    month = [r for r in mine if within(r.submitted, START, END)]
    assert figures.total_requests == published(len(month))

    values = {
        "kind": [k.value for k in RequestKind],
        "channel": [c.value for c in Channel],
        "branch": sorted({r.branch for r in month}),
        "gender": ["male", "female", "unknown"],
        "applicant_kind": [k.value for k in ApplicantKind],
    }
    of: dict[str, Callable[[Request], str]] = {
        "kind": lambda r: r.kind.value,
        "channel": lambda r: r.channel.value,
        "branch": lambda r: r.branch,
        "gender": lambda r: r.gender.value if r.gender else "unknown",
        "applicant_kind": lambda r: r.applicant.value,
    }
    for dimension, keys in values.items():
        counted = {k: sum(1 for r in month if of[dimension](r) == k) for k in sorted(keys)}
        more = {list(counted)[i] for i in secondary(list(counted.values()))}
        shown_counts = {t.key: (t.count, t.hidden) for t in figures.requests[dimension]}
        assert shown_counts == {
            k: (None, "withheld") if k in more else (published(n), "fewer_than_5" if small(n) else None)
            for k, n in counted.items()
        }, dimension
        # Largest first, the suppressed after every shown count, zeros last.
        order = [
            (0 if t.count else 2, -(t.count or 0)) if t.count is not None else (1, 0)
            for t in figures.requests[dimension]
        ]
        assert order == sorted(order), dimension

    # Waits: requests of the month heading for an audience (routed, or asking before triage), not closed.
    heading = [
        r
        for r in month
        if r.status not in (CaseStatus.REJECTED, CaseStatus.DUPLICATE, CaseStatus.CLOSED_NO_SHOW)
        and (r.route.value if r.route else r.kind.value) in ("audience_in_person", "audience_video")
    ]
    bands = [u.value for u in Urgency] + (["unassessed"] if any(r.urgency is None for r in heading) else [])
    expected_waits = []
    for band in bands:
        group = [r for r in heading if (r.urgency.value if r.urgency else "unassessed") == band]
        waits, eligible, on_time = [], 0, 0
        for r in group:
            held = [a.starts_at for a in r.appointments if a.state is AppointmentState.HELD]
            if held:
                days = max(micros(min(held), r.submitted) / 10**6 / 86400, 0.0)
                waits.append(days)
                eligible += 1
                on_time += days <= 30
            elif r.submitted <= NOW - timedelta(days=30):
                eligible += 1
        n = len(waits)
        expected_waits.append(
            (
                band,
                published(n),
                over(n, round(interpolated_median(waits), 2) if waits else None),
                over(n, round(nearest_rank(waits, 0.95), 2) if waits else None),
                proportion(on_time, eligible),
            )
        )
    assert [(w.urgency, w.count, w.median_days, w.p95_days, w.within) for w in figures.waits] == expected_waits

    asked = [a for r in mine for a in r.appointments if a.asked_at is not None and within(a.asked_at, START, END)]
    expected_confirmations = [rate("all", len(asked), sum(1 for a in asked if a.answer))]
    for channel in CHANNELS:
        carried = [a for a in asked if a.sent.get(channel) is MessageStatus.SENT]
        expected_confirmations.append(rate(channel, len(carried), sum(1 for a in carried if a.answer)))
    assert [(c.key, c.total, c.hits, c.rate) for c in figures.confirmations] == expected_confirmations

    due = [
        a
        for r in mine
        for a in r.appointments
        if within(a.starts_at, START, END) and a.state in (AppointmentState.HELD, AppointmentState.NO_SHOW)
    ]
    missed = sum(1 for a in due if a.state is AppointmentState.NO_SHOW)
    no_shows = figures.no_shows
    assert (no_shows.key, no_shows.total, no_shows.hits, no_shows.rate) == rate("all", len(due), missed)

    refs = [
        f
        for r in (requests if department is not None else mine)
        for f in r.referrals
        if (department is None or f.department == department)
        and within(f.due, START, min(END, NOW))
        # Answered by the month's end, or still owed then: not closed unanswered, returned, or waiting.
        and ((f.answered is not None and f.answered < min(END, NOW)) or owed(f, min(END, NOW)))
    ]
    kept = sum(1 for f in refs if f.answered is not None and f.answered <= f.due)
    answered = figures.referrals_on_time
    assert (answered.key, answered.total, answered.hits, answered.rate) == rate("all", len(refs), kept)

    def scores(first: date, last: date) -> tuple[int | None, float | None, float | None]:
        lo = datetime.combine(first, time(0), tzinfo=RIYADH)
        hi = datetime.combine(last + timedelta(days=1), time(0), tzinfo=RIYADH)
        given = [s for r in mine for at, s in r.ratings if lo <= at < hi]
        n = len(given)
        return (
            published(n),
            over(n, round(sum(given) / n, 2) if n else None),
            proportion(sum(1 for s in given if s <= 2), n),
        )

    november = [date(2026, 11, d) for d in range(1, 31)]
    daily = [scores(d, d) for d in november]
    counts = [sum(1 for r in mine for at, _ in r.ratings if d == at.astimezone(RIYADH).date()) for d in november]
    withheld_days = secondary(counts)
    expected = [(None, None, None) if i in withheld_days else daily[i] for i in range(len(november))]
    # Then the shares: a day's negative (or other) ratings must not come back as the month's less the other days'.
    month_count, _, month_share = scores(november[0], november[-1])
    if month_count is not None and month_share is not None:
        negatives = [
            sum(1 for r in mine for at, s in r.ratings if d == at.astimezone(RIYADH).date() and s <= 2)
            for d in november
        ]
        month_negative = sum(negatives)
        seen = [e[2] is not None or n == 0 for e, n in zip(expected, counts, strict=True)]
        withheld_shares = secondary_of(
            [k if told else None for k, told in zip(negatives, seen, strict=True)],
            month_negative - sum(k for k, told in zip(negatives, seen, strict=True) if told),
        ) | secondary_of(
            [n - k if told else None for n, k, told in zip(counts, negatives, seen, strict=True)],
            month_count
            - month_negative
            - sum(n - k for n, k, told in zip(counts, negatives, seen, strict=True) if told),
        )
        expected = [(e[0], e[1], None) if i in withheld_shares else e for i, e in enumerate(expected)]
    assert [(p.first_day, p.last_day, p.count, p.mean, p.negative) for p in figures.satisfaction] == [
        (d, d, *expected[i]) for i, d in enumerate(november)
    ]
    assert [p.hidden for p in figures.satisfaction] == [
        "withheld" if i in withheld_days else "fewer_than_5" if small(n) else None for i, n in enumerate(counts)
    ]
    whole = figures.satisfaction_overall
    assert (whole.count, whole.mean, whole.negative) == scores(november[0], november[-1])

    spent = [
        micros(a.ended_at, a.arrived_at)
        for r in mine
        for a in r.appointments
        if a.arrived_at is not None and a.ended_at is not None and within(a.arrived_at, START, END)
    ]
    minutes = [max(m / 10**6 / 60, 0.0) for m in spent]
    n = len(minutes)
    t = figures.service_time
    assert t.count == published(n)
    if n:
        # The mean: the whole microseconds in all over the count, one division.
        assert t.mean_minutes == over(n, round(sum(max(m, 0) for m in spent) / (n * 60 * 10**6), 2))
        assert t.median_minutes == over(n, round(interpolated_median(minutes), 2))
        assert t.p90_minutes == over(n, round(nearest_rank(minutes, 0.9), 2))
        assert t.within_aim == proportion(sum(1 for m in minutes if m <= 6), n)


# --- the test ------------------------------------------------------------------------------------------------


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(database_url)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


@pytest.mark.parametrize("seed", [19, 2026])
async def test_every_figure_equals_its_direct_computation(sessions: Sessions, seed: int) -> None:
    requests = generate(seed, 200)
    async with sessions() as session, session.begin():
        department_ids = await store(session, requests)
    span = asked_span(period="month", value="2026-11", first=None, last=None, now=NOW)
    async with sessions() as session:
        everything = await dashboard(session=session, span=span, now=NOW)
        riyadh = await dashboard(session=session, span=span, now=NOW, branch_code="riyadh")
        department = await dashboard(session=session, span=span, now=NOW, department_id=department_ids[1])
    check(everything, requests, lambda r: True, None)
    check(riyadh, requests, lambda r: r.branch == "riyadh", None)
    check(department, requests, lambda r: any(f.department == 1 for f in r.referrals), 1)
    # The generator reached every case the figures tell apart, or the comparison proves little.
    assert everything.total_requests and everything.total_requests > 50
    assert any(w.count is not None and w.count >= 5 for w in everything.waits)
    assert everything.no_shows.total and everything.referrals_on_time.total
    assert everything.service_time.count and everything.satisfaction_overall.count
    due = [f for r in requests for f in r.referrals if within(f.due, START, END) and f.answered is None]
    assert any(f.closed and f.closed < END for f in due) and any(f.closed and f.closed >= END for f in due)
    assert any(f.returned and not f.resent for f in due) and any(f.returned and f.resent for f in due)
    assert any(f.asked and not f.given for f in due) and any(f.asked and f.given for f in due)
    # Secondary suppression was reached in the first month (a request count withheld; a day of ratings withheld:
    # test_a_lone_hidden_day_of_ratings_is_withheld_with_another).
    boards = (everything, riyadh, department)
    withheld = any(t.hidden == "withheld" for b in boards for tallies in b.requests.values() for t in tallies)
    assert withheld or seed != 19


async def test_a_group_of_one_to_four_is_suppressed_with_what_is_computed_from_it(sessions: Sessions) -> None:
    requests = [r for r in generate(5, 60) if within(r.submitted, START, END)][:3]
    async with sessions() as session, session.begin():
        await store(session, requests)
    span = asked_span(period="month", value="2026-11", first=None, last=None, now=NOW)
    async with sessions() as session:
        figures = await dashboard(session=session, span=span, now=NOW)
    assert figures.total_requests is None
    assert all(t.count in (None, 0) for tallies in figures.requests.values() for t in tallies)
    assert all(w.median_days is None and w.p95_days is None for w in figures.waits)
    check(figures, requests, lambda r: True, None)
