"""The dashboard's figures about requests themselves: how many came in, by each dimension, and how long the ones
heading for an audience waited for their first.

Also the scope every figure is read in (all requests, a branch's, a department's), as one condition on the
request a row belongs to.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import String, cast, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from cases.identity import ApplicantKind
from cases.models import Applicant, Case, CaseStatus, Channel, Gender, RequestKind
from followup.models import Referral
from priority.models import Route, Triage
from priority.score import Urgency
from quality.figures import DIMENSIONS, SEEN_WITHIN_DAYS, Tally, WaitRow, shown, shown_value
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
SHARE_PLACES = 4


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


def percentile(ordered: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of an ascending, non-empty sequence (the value at rank ⌈share·n⌉)."""
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def _order(tally: Tally) -> tuple[int, int, str]:
    # Largest first; a suppressed count sorts between the shown ones and zero, whatever it was, so the order
    # tells nothing the cell does not.
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
    tallies = {
        d: sorted((Tally(key, shown(count)) for key, count in counts[d].items()), key=_order) for d in DIMENSIONS
    }
    return total, tallies


async def wait_rows(
    *, session: AsyncSession, scope: Scope, start: datetime, end: datetime, now: datetime
) -> list[WaitRow]:
    """Days from submission to the first audience held, by urgency, of the span's requests heading for one."""
    first_held = (
        select(Appointment.case_id, func.min(Slot.starts_at).label("at"))
        .join(Slot, Slot.id == Appointment.slot_id)
        .where(Appointment.state == AppointmentState.HELD)
        .group_by(Appointment.case_id)
        .subquery()
    )
    route = func.coalesce(cast(Triage.route, String), cast(Case.kind, String))
    query = scoped(
        select(Triage.urgency, Case.submitted_at, first_held.c.at)
        .select_from(Case)
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
    # Old enough to tell: a request submitted 30 days before now had its chance to be seen within 30 days.
    told_by = now - timedelta(days=SEEN_WITHIN_DAYS)
    waits: dict[str, list[float]] = {u.value: [] for u in Urgency}
    eligible: dict[str, int] = dict.fromkeys(waits, 0)
    on_time: dict[str, int] = dict.fromkeys(waits, 0)
    for urgency, submitted_at, heard_at in await session.execute(query):
        key = urgency.value if urgency is not None else UNASSESSED
        waits.setdefault(key, [])
        eligible.setdefault(key, 0)
        on_time.setdefault(key, 0)
        if heard_at is not None:
            days = max((heard_at - submitted_at).total_seconds() / 86400, 0.0)
            waits[key].append(days)
            eligible[key] += 1
            on_time[key] += days <= SEEN_WITHIN_DAYS
        elif submitted_at <= told_by:
            eligible[key] += 1
    return [_wait_row(key, sorted(days), eligible[key], on_time[key]) for key, days in waits.items()]


def _wait_row(urgency: str, ordered: list[float], eligible: int, on_time: int) -> WaitRow:
    heard = len(ordered)
    return WaitRow(
        urgency=urgency,
        count=shown(heard),
        median_days=shown_value(heard, round(statistics.median(ordered), TIME_PLACES) if heard else None),
        p95_days=shown_value(heard, round(percentile(ordered, 0.95), TIME_PLACES) if heard else None),
        within=shown_value(eligible, round(on_time / eligible, SHARE_PLACES) if eligible else None),
    )
