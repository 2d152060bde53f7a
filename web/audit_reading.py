"""What the auditor reads, asked the same way by the pages, the API and the downloads: the placements'
explanations (fairness/explain.py) filtered by period, rule, "passed someone" and "unjustified", one request's
placements, as the shapes of web/audit_models.py.

A request is named by its tracking number alone; the chain holds no name, national ID or phone, and nothing
here reads the case's own rows beyond finding its id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as accounts
from cases import service as cases
from fairness import explain
from fairness.explain import PlacementExplanation
from majlis.clock import RIYADH
from majlis.errors import N_, FieldError, InvalidInput
from majlis.hijri import read_day
from web import labels
from web.audit_models import AheadOut, JustificationOut, PassedOut, PlacementOut, SeatOut

# The most placements one listing reads: a page, a file or an API answer says when it was cut there.
LIMIT = 2000
YES = ("1", "true", "on", "yes")


@dataclass(frozen=True)
class PlacementFilter:
    """The auditor's question: a period of Riyadh days (both included), a rule, and what the placement did."""

    since: date | None = None
    until: date | None = None
    rule: str | None = None
    passed_someone: bool = False
    unjustified: bool = False

    def query(self) -> str:
        """The filter as a query string, for the download links of the same listing."""
        parts = [
            f"since={self.since.isoformat()}" if self.since else "",
            f"until={self.until.isoformat()}" if self.until else "",
            f"rule={self.rule}" if self.rule else "",
            "passed=1" if self.passed_someone else "",
            "unjustified=1" if self.unjustified else "",
        ]
        return "&".join(part for part in parts if part)


# The years a period may name: the chain began in 2026, and a day far outside (0001, 9999) would overflow the
# moments the listing is read between.
YEARS: Final = (2000, 2100)


def _day(query: Mapping[str, str], field: str, messages: tuple[str, str], errors: list[FieldError]) -> date | None:
    """The day given in `field` (YYYY-MM-DD in either calendar, within YEARS); messages: (not a date, outside the
    years)."""
    value = query.get(field, "").strip()
    if not value:
        return None
    try:
        return read_day(value, field=field, years=YEARS)
    except InvalidInput as exc:
        if exc.errors[0].code == "out_of_range":
            errors.append(FieldError(field, "out_of_range", messages[1], {"min": str(YEARS[0]), "max": str(YEARS[1])}))
        else:
            errors.append(FieldError(field, "invalid_date", messages[0]))
        return None


def parse_filter(query: Mapping[str, str]) -> PlacementFilter:
    """The filter from a query string; InvalidInput naming each field that cannot be read."""
    errors: list[FieldError] = []
    since = _day(
        query,
        "since",
        (
            N_("The period's first day must be a date, YYYY-MM-DD, Gregorian or Hijri."),
            N_("The period's first day must be in the years {min} to {max}."),
        ),
        errors,
    )
    until = _day(
        query,
        "until",
        (
            N_("The period's last day must be a date, YYYY-MM-DD, Gregorian or Hijri."),
            N_("The period's last day must be in the years {min} to {max}."),
        ),
        errors,
    )
    if since and until and until < since:
        errors.append(FieldError("until", "before_since", N_("The period's last day is before its first day.")))
    rule = query.get("rule", "").strip() or None
    if rule is not None and rule not in labels.PLACEMENT_RULES:
        errors.append(FieldError("rule", "invalid_choice", N_("The rule is not one of those offered.")))
    if errors:
        raise InvalidInput(errors)
    return PlacementFilter(
        since=since,
        until=until,
        rule=rule,
        passed_someone=query.get("passed", "").lower() in YES,
        unjustified=query.get("unjustified", "").lower() in YES,
    )


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=RIYADH)


def _in_period(placement: PlacementExplanation, asked: PlacementFilter) -> bool:
    if asked.since is not None and placement.at < _start_of(asked.since):
        return False
    return asked.until is None or placement.at < _start_of(asked.until + timedelta(days=1))


def _wanted(placement: PlacementExplanation, asked: PlacementFilter) -> bool:
    if asked.rule is not None and placement.rule != asked.rule:
        return False
    if asked.passed_someone and not placement.passed:
        return False
    return not asked.unjustified or placement.unjustified


async def placements(
    *, session: AsyncSession, asked: PlacementFilter, limit: int = LIMIT
) -> tuple[list[PlacementOut], bool]:
    """The placements asked for, newest first, and whether the listing was cut at `limit`."""
    if asked.unjustified:
        # Read over the whole chain, never cut by a limit: an unjustified pass must not hide behind newer ones.
        found = [p for p in await explain.unjustified(session=session) if _in_period(p, asked)]
        found.reverse()
    else:
        found = await explain.all_placements(
            session=session,
            since=_start_of(asked.since) if asked.since else None,
            until=_start_of(asked.until + timedelta(days=1)) if asked.until else None,
            limit=limit + 1,
            rule=asked.rule,
            passed_someone=asked.passed_someone,
        )
    chosen = [p for p in found if _wanted(p, asked)]
    return await shapes(session=session, found=chosen[:limit]), len(chosen) > limit or len(found) > limit


async def history(*, session: AsyncSession, tracking_number: str) -> list[PlacementOut] | None:
    """One request's placements and moves, oldest first; None when no request has this number."""
    case = await cases.find_by_tracking_number(session=session, tracking_number=tracking_number)
    if case is None:
        return None
    return await shapes(session=session, found=await explain.placement_explanations(session=session, case_id=case.id))


async def shapes(*, session: AsyncSession, found: list[PlacementExplanation]) -> list[PlacementOut]:
    """The explanations as the API's shapes, each actor named (staff names only; none for Majlis by rule)."""
    names = await accounts.names_by_id(session=session, ids={p.actor_id for p in found if p.actor_id is not None})
    return [_shape(p, names) for p in found]


# Seven digits or more, Western or Arabic-Indic, spaces or dashes between them: a phone or an ID typed into a reason.
_LONG_NUMBER: Final = re.compile(r"[0-9\u0660-\u0669](?:[\s-]?[0-9\u0660-\u0669]){6,}")
MASK: Final = "•••"
# A date (2026-12-20) is kept: a justification often names one (a court session, a surgery).
_DATE: Final = re.compile(r"[0-9\u0660-\u0669]{4}-[0-9\u0660-\u0669]{1,2}-[0-9\u0660-\u0669]{1,2}")


def masked(text: str) -> str:
    """Words staff wrote on a change, with any phone or ID number in them hidden.

    The fairness record holds no personal data of its own, but a justification is typed by a person and may carry
    an applicant's phone or national ID ("called him on 0501234567"). Judging a justification never needs them,
    and these pages are read by auditors, who see no applicant's phone or ID.
    """
    return _LONG_NUMBER.sub(lambda found: found[0] if _DATE.fullmatch(found[0]) else MASK, text)


def _shape(p: PlacementExplanation, names: Mapping[int, str]) -> PlacementOut:
    return PlacementOut(
        seq=p.seq,
        hash=p.hash,
        at=p.at,
        kind=p.kind.value,
        actor=None if p.actor_id is None else names.get(p.actor_id, str(p.actor_id)),
        tracking_number=p.tracking_number,
        rule=p.rule,
        score=p.score,
        base_score=p.base_score,
        urgency=p.urgency,
        category=p.category,
        rank=p.rank,
        total=p.total,
        seat=SeatOut(
            slot_id=p.seat.slot_id,
            seat=p.seat.seat,
            starts_at=p.seat.starts_at,
            room=p.seat.room,
            branch=p.seat.branch,
            mode=p.seat.mode,
            women_section=p.seat.women_section,
            accessible=p.seat.accessible,
        ),
        placed_before=p.ahead,
        before=[AheadOut(tracking_number=b.tracking_number, score=b.score) for b in p.before],
        passed=[
            PassedOut(
                tracking_number=q.tracking_number,
                base_score=q.base_score,
                score=q.score,
                submitted_at=q.submitted_at,
                justification=None
                if q.justification is None
                else JustificationOut(
                    by=q.justification.by,
                    field=q.justification.field,
                    before=q.justification.before,
                    after=q.justification.after,
                    reason=q.justification.reason,
                    text=masked(q.justification.text),
                ),
            )
            for q in p.passed
        ],
        unjustified=p.unjustified,
        justification=masked(p.justification),
        explanation=p.explanation,
    )
