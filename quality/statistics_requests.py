"""The dashboard's figures about requests themselves: how many came in, by each dimension, and how long the ones
heading for an audience waited for their first.

Also the scope every figure is read in (all requests, a branch's, a department's), as one condition on the
request a row belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import String, cast, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from cases.identity import ApplicantKind
from cases.models import Applicant, Case, CaseStatus, Channel, Gender, RequestKind
from followup.models import Referral
from priority.models import Route, Triage
from priority.score import Urgency
from quality.figures import (
    DIMENSIONS,
    SEEN_WITHIN_DAYS,
    Tally,
    WaitRow,
    median,
    percentile,
    share,
    share_hidden,
    shown,
    shown_value,
    tallies_of,
)
from quality.statistics_sql import in_sql, in_units, micros_between, of_units
from scheduler.models import Appointment, AppointmentState, Slot

_Query = TypeVar("_Query", bound=Any)

# A request with no gender recorded (a company), or not yet triaged for urgency.
UNKNOWN = "unknown"
UNASSESSED = "unassessed"
# Requests that will never have an audience, whatever the wait: turned down, merged into another, or closed
# after their applicant missed a second audience.
NOT_WAITING = (CaseStatus.REJECTED, CaseStatus.DUPLICATE, CaseStatus.CLOSED_NO_SHOW)
# The routes (and, before triage, the kinds asked for) that lead to an audience; the values are the same words.
TO_AUDIENCE = (Route.AUDIENCE_IN_PERSON.value, Route.AUDIENCE_VIDEO.value)
# Every value each dimension can take, shown even at zero; branches are those with requests.
_VALUES: dict[str, tuple[str, ...]] = {
    "kind": tuple(k.value for k in RequestKind),
    "channel": tuple(c.value for c in Channel),
    "branch": (),
    "gender": (*(g.value for g in Gender), UNKNOWN),
    "applicant_kind": tuple(k.value for k in ApplicantKind),
}
TIME_PLACES = 2
DAY = 86_400


@dataclass(frozen=True)
class Scope:
    """Every request (both None), one branch's, or the requests referred to one department."""

    branch_code: str | None = None
    department_id: int | None = None


def scoped(query: _Query, scope: Scope, case_id: Any) -> _Query:
    """`query` kept to the rows whose request (`case_id`) is in the scope."""
    if scope.branch_code is not None:
        request = aliased(Case)
        query = query.where(exists().where(request.id == case_id, request.branch == scope.branch_code))
    if scope.department_id is not None:
        referral = aliased(Referral)
        query = query.where(exists().where(referral.case_id == case_id, referral.department_id == scope.department_id))
    return query


def _order(tally: Tally) -> tuple[int, int, str]:
    # Largest first; a suppressed (or withheld) count sorts between the shown ones and zero, whatever it was, so
    # the order tells nothing the cell does not.
    if tally.count is None:
        return (1, 0, tally.key)
    return (0 if tally.count else 2, -tally.count, tally.key)


async def request_tallies(
    *, session: AsyncSession, scope: Scope, start: datetime, end: datetime
) -> tuple[int, dict[str, list[Tally]]]:
    """Requests submitted from `start` to `end`: their total, and their count by each dimension.

    One grouped query over every dimension at once (a few hundred groups at most), summed up here per dimension.
    """
    query = scoped(
        select(Case.kind, Case.channel, Case.branch, Case.gender, Applicant.kind, func.count())
        .join(Applicant, Applicant.id == Case.applicant_id)
        .where(Case.submitted_at >= start, Case.submitted_at < end)
        .group_by(Case.kind, Case.channel, Case.branch, Case.gender, Applicant.kind),
        scope,
        Case.id,
    )
    counts: dict[str, dict[str, int]] = {d: dict.fromkeys(_VALUES[d], 0) for d in DIMENSIONS}
    total = 0
    for *keys, count in await session.execute(query):
        total += count
        for dimension, key in zip(DIMENSIONS, keys, strict=True):
            value = UNKNOWN if key is None else str(getattr(key, "value", key))
            counts[dimension][value] = counts[dimension].get(value, 0) + count
    # Each breakdown adds up to the total published beside it: `tallies_of` withholds what would give a hidden
    # count back (of equal counts, the first by key: the same on both databases).
    tallies = {d: sorted(tallies_of(sorted(counts[d].items())), key=_order) for d in DIMENSIONS}
    return total, tallies


async def wait_rows(
    *, session: AsyncSession, scope: Scope, start: datetime, end: datetime, now: datetime
) -> list[WaitRow]:
    """Days from submission to the first audience held, by urgency, of the span's requests heading for one.

    On PostgreSQL the medians, p95s and counts come back grouped (a row an urgency); on SQLite each request's
    wait in whole microseconds (no datetime built) and the figures are taken here, identically.
    """
    first_held = (
        select(Appointment.case_id, func.min(Slot.starts_at).label("at"))
        .join(Slot, Slot.id == Appointment.slot_id)
        .where(Appointment.state == AppointmentState.HELD)
        .group_by(Appointment.case_id)
        .subquery()
    )
    route = func.coalesce(cast(Triage.route, String), cast(Case.kind, String))
    waited = micros_between(first_held.c.at, Case.submitted_at)
    # Old enough to tell: a request submitted 30 days before now had its chance to be seen within 30 days.
    old_enough = Case.submitted_at <= now - timedelta(days=SEEN_WITHIN_DAYS)

    def heading(query: Any) -> Any:
        return scoped(
            query.select_from(Case)
            .outerjoin(Triage, Triage.case_id == Case.id)
            .outerjoin(first_held, first_held.c.case_id == Case.id)
            .where(
                Case.submitted_at >= start,
                Case.submitted_at < end,
                Case.status.not_in(NOT_WAITING),
                route.in_(TO_AUDIENCE),
            ),
            scope,
            Case.id,
        )

    rows: dict[str, WaitRow] = {}
    if in_sql(session):
        days = in_units(waited, DAY)
        grouped = heading(
            select(
                Triage.urgency,
                func.count(days),
                func.percentile_cont(0.5).within_group(days),
                func.percentile_disc(0.95).within_group(days),
                func.count().filter(or_(first_held.c.at.is_not(None), old_enough)),
                func.count().filter(days <= SEEN_WITHIN_DAYS),
            ).group_by(Triage.urgency)
        )
        for urgency, heard, middle, p95, eligible, on_time in await session.execute(grouped):
            key = urgency.value if urgency is not None else UNASSESSED
            rows[key] = _wait_row(key, heard, middle, p95, eligible, on_time)
    else:
        waits: dict[str | None, list[float]] = {}
        eligible_of: dict[str | None, int] = {}
        on_time_of: dict[str | None, int] = {}
        for urgency, heard_after, old in await session.execute(heading(select(Triage.urgency, waited, old_enough))):
            # None: not heard yet (an outer join).
            micros: int | None = heard_after
            key = urgency.value if urgency is not None else UNASSESSED
            waits.setdefault(key, [])
            if micros is not None:
                days_waited = of_units(micros, DAY)
                waits[key].append(days_waited)
                on_time_of[key] = on_time_of.get(key, 0) + (days_waited <= SEEN_WITHIN_DAYS)
            if micros is not None or old:
                eligible_of[key] = eligible_of.get(key, 0) + 1
        for key, found in waits.items():
            found.sort()
            heard = len(found)
            assert key is not None
            rows[key] = _wait_row(
                key,
                heard,
                median(found) if heard else None,
                percentile(found, 0.95) if heard else None,
                eligible_of.get(key, 0),
                on_time_of.get(key, 0),
            )
    empty = WaitRow(urgency="", count=0, median_days=None, p95_days=None, within=None)
    ordered = [u.value for u in Urgency] + sorted(set(rows) - {u.value for u in Urgency})
    return [rows.get(key, replace(empty, urgency=key)) for key in ordered]


def _wait_row(
    urgency: str, heard: int, middle: float | None, p95: float | None, eligible: int, on_time: int
) -> WaitRow:
    return WaitRow(
        urgency=urgency,
        count=shown(heard),
        median_days=shown_value(heard, round(middle, TIME_PLACES) if middle is not None else None),
        p95_days=shown_value(heard, round(p95, TIME_PLACES) if p95 is not None else None),
        within=share(on_time, eligible),
        within_hidden=share_hidden(on_time, eligible),
    )
