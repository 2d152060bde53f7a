"""The statistics dashboard: every figure of one span, computed from the tables of record.

Counts and sums are grouped in SQL. The medians and percentiles of durations are taken by PostgreSQL itself
(`percentile_cont(0.5)`, `percentile_disc(p)`); SQLite hands back each duration as whole microseconds and Python
takes them with `figures.median` and `figures.percentile`, which compute the same doubles to the last bit
(quality/statistics_sql.py): the numbers cannot differ between SQLite and PostgreSQL.

The scope: every request, one branch's (the request's branch), or one department's (requests referred to it; its
referral figures count only the referrals made to it). Every figure goes through `figures.shown` and
`figures.shown_value`, every share through `figures.share`: a group of 1 to 4 reads None, and so does whatever is
computed from it, and so does a share whose hits or misses are 1 to 4. The breakdowns of the requests and the
buckets of the satisfaction series add up to a figure published beside them, and go through `figures.withheld`
(secondary suppression).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from audience_day.models import Arrival, HallAudience
from followup.models import Referral
from followup.report import still_owed
from majlis.clock import RIYADH
from majlis.errors import N_, FieldError, InvalidInput
from notify.models import MessageStatus, OutboxMessage
from quality.figures import (
    CENTRE_MINUTES_AIM,
    FEWER_THAN_5,
    SMALLEST_SHOWN,
    Dashboard,
    RateRow,
    ScorePoint,
    ServiceTime,
    median,
    percentile,
    rate_row,
    share,
    shown,
    shown_value,
    withhold_points,
)
from quality.models import NEGATIVE_AT_MOST, Rating
from quality.periods import Span
from quality.statistics_requests import Scope, request_tallies, scoped, wait_rows
from quality.statistics_sql import MICROS, in_sql, in_units, micros_between, of_units
from rooms import service as rooms
from scheduler.models import Appointment, AppointmentState, Confirmation, Slot
from scheduler.notices import CONFIRMATION_CHANNELS

# Days and minutes to two places: enough for a chart, stable for a CSV.
TIME_PLACES = 2
UNKNOWN_BRANCH = N_("There is no reception centre with this code.")
# How the confirmation rows are keyed: each channel it was sent by, and every confirmation asked.
ALL = "all"
# A confirmation request's outbox purpose is "confirm:<appointment id>:<channel>" (scheduler.notices).
CONFIRM_PREFIX = "confirm:"
MINUTE = 60


async def asked_branch(*, session: AsyncSession, code: str | None) -> str | None:
    """The reception centre asked for (None: every one); InvalidInput naming `branch` when there is no such one.

    Closed centres are known: their past requests are still counted.
    """
    code = (code or "").strip() or None
    if code is not None and code not in {site.code for site in await rooms.branches(session=session)}:
        raise InvalidInput([FieldError("branch", "unknown_branch", UNKNOWN_BRANCH)])
    return code


async def dashboard(
    *,
    session: AsyncSession,
    span: Span,
    now: datetime,
    branch_code: str | None = None,
    department_id: int | None = None,
) -> Dashboard:
    """Every figure of `span` (as of `now`, for what is old enough to tell and what is still waiting)."""
    scope = Scope(branch_code=branch_code, department_id=department_id)
    start, end = span.starts_at, span.ends_at
    total, tallies = await request_tallies(session=session, scope=scope, start=start, end=end)
    overall = await _score_point(session=session, scope=scope, span=span)
    return Dashboard(
        span=span,
        branch_code=branch_code,
        department_id=department_id,
        total_requests=shown(total),
        total_hidden=FEWER_THAN_5 if 0 < total < SMALLEST_SHOWN else None,
        requests=tallies,
        waits=await wait_rows(session=session, scope=scope, start=start, end=end, now=now),
        confirmations=await _confirmations(session=session, scope=scope, start=start, end=end),
        no_shows=await _no_shows(session=session, scope=scope, start=start, end=min(end, now)),
        referrals_on_time=await _referrals(session=session, scope=scope, start=start, end=min(end, now)),
        satisfaction=await _satisfaction(session=session, scope=scope, span=span, whole=overall),
        satisfaction_overall=overall,
        service_time=await _service_time(session=session, scope=scope, start=start, end=end),
    )


async def _confirmations(*, session: AsyncSession, scope: Scope, start: datetime, end: datetime) -> list[RateRow]:
    """Confirmations asked in the span, by each channel their request went out by (sent), and answered at all.

    An applicant asked on several channels answers on one (or through the portal link, or to the call centre):
    a channel's rate is how often the confirmations it carried were answered.
    """
    answered = func.count(case((Confirmation.answer.is_not(None), 1)))
    asked = _window(Confirmation.ask_at, start, end)
    overall = scoped(select(func.count(), answered).select_from(Confirmation).where(asked), scope, Confirmation.case_id)
    all_total, all_hits = (await session.execute(overall)).one()
    # Joined on the purpose without its channel ("confirm:<appointment id>:"), built on each side from that
    # side's own columns, so the database can hash the join rather than test a condition built from both.
    asked_by = literal(CONFIRM_PREFIX) + cast(Confirmation.appointment_id, String) + literal(":")
    sent = (
        select(
            OutboxMessage.case_id,
            OutboxMessage.channel,
            func.substr(
                OutboxMessage.purpose, 1, func.length(OutboxMessage.purpose) - func.length(OutboxMessage.channel)
            ).label("asked_by"),
        )
        .where(
            OutboxMessage.purpose.startswith(CONFIRM_PREFIX, autoescape=True),
            OutboxMessage.status == MessageStatus.SENT,
            func.substr(
                OutboxMessage.purpose, func.length(OutboxMessage.purpose) - func.length(OutboxMessage.channel) + 1
            )
            == OutboxMessage.channel,
        )
        .subquery()
    )
    by_channel = scoped(
        select(sent.c.channel, func.count(), answered)
        .select_from(Confirmation)
        .join(sent, and_(sent.c.case_id == Confirmation.case_id, sent.c.asked_by == asked_by))
        .where(asked)
        .group_by(sent.c.channel),
        scope,
        Confirmation.case_id,
    )
    counted = {channel: (total, hits) for channel, total, hits in await session.execute(by_channel)}
    rows = [rate_row(ALL, all_total, all_hits)]
    for channel in (*CONFIRMATION_CHANNELS, *sorted(set(counted) - set(CONFIRMATION_CHANNELS))):
        total, hits = counted.get(channel, (0, 0))
        rows.append(rate_row(channel, total, hits))
    return rows


async def _no_shows(*, session: AsyncSession, scope: Scope, start: datetime, end: datetime) -> RateRow:
    """Appointments due from `start` to `end` (not after now) that ended held or missed: those missed.

    Released appointments (moved, declined, their session cancelled) were no longer due; one still open past its
    time (arrived, in the audience) has no outcome yet and waits for it.
    """
    missed = func.count(case((Appointment.state == AppointmentState.NO_SHOW, 1)))
    query = scoped(
        select(func.count(), missed)
        .select_from(Appointment)
        .join(Slot, Slot.id == Appointment.slot_id)
        .where(
            _window(Slot.starts_at, start, end),
            Appointment.state.in_((AppointmentState.HELD, AppointmentState.NO_SHOW)),
        ),
        scope,
        Appointment.case_id,
    )
    total, hits = (await session.execute(query)).one()
    return rate_row(ALL, total, hits)


async def _referrals(*, session: AsyncSession, scope: Scope, start: datetime, end: datetime) -> RateRow:
    """Referrals whose solution deadline fell from `start` to `end` (not after now): answered by it.

    On time and late as the follow-up's monthly report has them: answered at or before the solution deadline
    (moved on by pauses and extensions), or after it; one unanswered at `end` is late when the department still
    owes it then (`followup.report.still_owed`), and left out when it was closed without an answer, returned as
    not theirs, or is waiting for the applicant. A department's scope counts the referrals made to it.
    """
    on_time = func.count(
        case((and_(Referral.answered_at.is_not(None), Referral.answered_at <= Referral.solution_due_at), 1))
    )
    answered = and_(Referral.answered_at.is_not(None), Referral.answered_at < end)
    query = select(func.count(), on_time).where(
        _window(Referral.solution_due_at, start, end), or_(answered, still_owed(end))
    )
    if scope.department_id is not None:
        query = query.where(Referral.department_id == scope.department_id)
    query = scoped(query, Scope(branch_code=scope.branch_code, department_id=None), Referral.case_id)
    total, hits = (await session.execute(query)).one()
    return rate_row(ALL, total, hits)


def _rating_figures(score: Any = Rating.score) -> tuple[Any, Any, Any]:
    """How many ratings, the sum of their faces, and how many were negative."""
    return func.count(), func.coalesce(func.sum(score), 0), func.count(case((score <= NEGATIVE_AT_MOST, 1)))


def _score(first_day: date, last_day: date, count: int, total: int, negative: int) -> ScorePoint:
    return ScorePoint(
        first_day=first_day,
        last_day=last_day,
        count=shown(count),
        mean=shown_value(count, round(total / count, TIME_PLACES) if count else None),
        negative=share(negative, count),
        hidden=FEWER_THAN_5 if 0 < count < SMALLEST_SHOWN else None,
    )


async def _satisfaction(*, session: AsyncSession, scope: Scope, span: Span, whole: ScorePoint) -> list[ScorePoint]:
    """Ratings given in each bucket of the span, in one grouped query (the bucket by its Riyadh midnights)."""
    buckets = span.buckets()
    edges = [_midnight_after(last) for _, last in buckets]
    # Bucketed in a subquery and grouped outside it: PostgreSQL would not take a CASE with parameters in both
    # the select list and GROUP BY as one expression.
    bucket = case(*((Rating.rated_at < edge, index) for index, edge in enumerate(edges)), else_=len(edges))
    rated = scoped(
        select(bucket.label("bucket"), Rating.score).where(_window(Rating.rated_at, span.starts_at, span.ends_at)),
        scope,
        Rating.case_id,
    ).subquery()
    query = select(rated.c.bucket, *_rating_figures(rated.c.score)).group_by(rated.c.bucket)
    found = {index: (count, total, negative) for index, count, total, negative in await session.execute(query)}
    figures = [found.get(i, (0, 0, 0)) for i in range(len(buckets))]
    points = [_score(first, last, *figures[i]) for i, (first, last) in enumerate(buckets)]
    # The buckets add up to the whole period's point, published beside them.
    return withhold_points(points, [count for count, _, _ in figures], whole)


async def _score_point(*, session: AsyncSession, scope: Scope, span: Span) -> ScorePoint:
    query = scoped(
        select(*_rating_figures()).where(_window(Rating.rated_at, span.starts_at, span.ends_at)),
        scope,
        Rating.case_id,
    )
    count, total, negative = (await session.execute(query)).one()
    return _score(span.first_day, span.last_day, count, int(total), negative)


async def _service_time(*, session: AsyncSession, scope: Scope, start: datetime, end: datetime) -> ServiceTime:
    """Minutes from arrival at the centre to the end of the audience, of arrivals in the span whose audience ended.

    On PostgreSQL one row of figures; on SQLite each visit's time in whole microseconds, taken here identically.
    """
    spent = micros_between(HallAudience.ended_at, Arrival.arrived_at)

    def visits(query: Any) -> Any:
        return scoped(
            query.select_from(Arrival)
            .join(HallAudience, HallAudience.appointment_id == Arrival.appointment_id)
            .where(_window(Arrival.arrived_at, start, end), HallAudience.ended_at.is_not(None)),
            scope,
            Arrival.case_id,
        )

    if in_sql(session):
        minutes = in_units(spent, MINUTE)
        count, micros, middle, p90, within = (
            await session.execute(
                visits(
                    select(
                        func.count(),
                        func.sum(func.greatest(spent, 0)),
                        func.percentile_cont(0.5).within_group(minutes),
                        func.percentile_disc(0.9).within_group(minutes),
                        func.count().filter(minutes <= CENTRE_MINUTES_AIM),
                    )
                )
            )
        ).one()
        return service_time_of(count, int(micros or 0), middle, p90, within)
    spans = sorted(m for (m,) in await session.execute(visits(select(spent))))
    ordered = [of_units(m, MINUTE) for m in spans]
    if not ordered:
        return service_time_of(0, 0, None, None, 0)
    return service_time_of(
        len(ordered),
        sum(max(m, 0) for m in spans),
        median(ordered),
        percentile(ordered, 0.9),
        sum(1 for m in ordered if m <= CENTRE_MINUTES_AIM),
    )


def service_time_of(count: int, micros: int, middle: float | None, p90: float | None, within: int) -> ServiceTime:
    """The published service time of `count` visits spending `micros` microseconds in all (none below 0)."""
    if not count:
        return ServiceTime(count=0, mean_minutes=None, median_minutes=None, p90_minutes=None, within_aim=None)
    return ServiceTime(
        count=shown(count),
        # One correctly rounded division of exact integers, the same on both databases.
        mean_minutes=shown_value(count, round(micros / (count * MINUTE * MICROS), TIME_PLACES)),
        median_minutes=shown_value(count, None if middle is None else round(middle, TIME_PLACES)),
        p90_minutes=shown_value(count, None if p90 is None else round(p90, TIME_PLACES)),
        within_aim=share(within, count),
    )


def _window(column: Any, start: datetime, end: datetime) -> Any:
    return and_(column >= start, column < end)


def _midnight_after(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=RIYADH)
