"""The monthly service-quality report: one month of either calendar, over all requests, one branch's, or one
department's (the requests referred to it).

Its figures are the statistics dashboard's (quality.statistics.dashboard) for the month's whole Riyadh days, so a
report and the dashboard asked for the same month and scope agree to the digit, small counts suppressed alike.
It names nobody: counts, rates and times only; satisfaction per branch or department, never per staff member.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from followup.models import Department
from followup.periods import Period
from majlis.errors import N_, DomainError, FieldError, InvalidInput
from majlis.i18n import in_language, shipped_catalogs
from quality.figures import Dashboard
from quality.periods import Span, SpanKind
from quality.statistics import dashboard
from rooms.models import BranchSite

EVERYTHING = N_("All branches and departments")
BRANCH_SCOPE = N_("Branch: {name}")
DEPARTMENT_SCOPE = N_("Department: {name}")
UNKNOWN_BRANCH = N_("There is no reception centre with this code.")  # the dashboard's words (quality.statistics)
UNKNOWN_DEPARTMENT = N_("There is no department with this number.")
# A department is asked for by its number (its id), as the dashboard's API names it.
DEPARTMENT_NUMBER = N_("Give the department as its number, for example 3.")
BOTH_SCOPES = N_("Give either a branch or a department, not both.")


class ScopeNotFound(DomainError):
    """The branch or department asked for does not exist (web.errors answers a code ending _not_found with 404)."""


@dataclass(frozen=True)
class Scope:
    """What a report covers: everything (neither set), one branch by its code, or one department by its id."""

    branch_code: str | None = None
    department_id: int | None = None
    name_ar: str = ""
    name_en: str = ""

    def name(self, language: str) -> str:
        say = shipped_catalogs().gettext
        if self.branch_code is not None:
            return say(language, BRANCH_SCOPE, name=in_language(language, self.name_ar, self.name_en))
        if self.department_id is not None:
            return say(language, DEPARTMENT_SCOPE, name=in_language(language, self.name_ar, self.name_en))
        return say(language, EVERYTHING)

    def query(self) -> dict[str, str]:
        """The query parameter that asks for this scope again (none for everything)."""
        if self.branch_code is not None:
            return {"branch": self.branch_code}
        if self.department_id is not None:
            return {"department": str(self.department_id)}
        return {}

    @property
    def slug(self) -> str:
        """A file name's part: "all", "branch-riyadh", "department-3"."""
        if self.branch_code is not None:
            return f"branch-{self.branch_code}"
        if self.department_id is not None:
            return f"department-{self.department_id}"
        return "all"


EVERYTHING_SCOPE = Scope()


@dataclass(frozen=True)
class QualityMonthly:
    period: Period
    scope: Scope
    # The month's end, or the moment of the report for the month under way.
    as_of: datetime
    figures: Dashboard

    @property
    def under_way(self) -> bool:
        return self.as_of < self.period.ends_at


def span_of(period: Period) -> Span:
    """The month as the dashboard's span: the same whole Riyadh days."""
    kind: SpanKind = "hijri" if period.kind == "hijri" else "month"
    return Span(kind, period.first_day, period.last_day, period.value, period)


async def asked_scope(*, session: AsyncSession, branch: str | None, department: str | None) -> Scope:
    """The scope a reader asked for (a branch's code or a department's number, or neither for everything).

    A malformed department number, or both at once, is InvalidInput naming the field; a branch or department that
    does not exist is ScopeNotFound.
    """
    branch, department = (branch or "").strip() or None, (department or "").strip() or None
    if branch is not None and department is not None:
        raise InvalidInput([FieldError("department", "both_scopes", BOTH_SCOPES)])
    if branch is not None:
        found = await session.get(BranchSite, branch)
        if found is None:
            raise ScopeNotFound("branch_not_found", UNKNOWN_BRANCH)
        return Scope(branch_code=found.code, name_ar=found.name_ar, name_en=found.name_en)
    if department is not None:
        if not (department.isascii() and department.isdigit()) or len(department) > 9:
            raise InvalidInput([FieldError("department", "invalid_department", DEPARTMENT_NUMBER)])
        row = await session.get(Department, int(department))
        if row is None:
            raise ScopeNotFound("department_not_found", UNKNOWN_DEPARTMENT)
        return Scope(department_id=row.id, name_ar=row.name_ar, name_en=row.name_en)
    return EVERYTHING_SCOPE


async def branch_scopes(*, session: AsyncSession) -> list[Scope]:
    """Every branch, by code."""
    rows = await session.scalars(select(BranchSite).order_by(BranchSite.code))
    return [Scope(branch_code=b.code, name_ar=b.name_ar, name_en=b.name_en) for b in rows]


async def department_scopes(*, session: AsyncSession) -> list[Scope]:
    """Every active department, by code."""
    rows = await session.scalars(select(Department).where(Department.active.is_(True)).order_by(Department.code))
    return [Scope(department_id=d.id, name_ar=d.name_ar, name_en=d.name_en) for d in rows]


async def monthly_quality(*, session: AsyncSession, period: Period, scope: Scope, now: datetime) -> QualityMonthly:
    """The month's figures for the scope, as of now (the month's end once it is over)."""
    figures = await dashboard(
        session=session,
        span=span_of(period),
        now=now,
        branch_code=scope.branch_code,
        department_id=scope.department_id,
    )
    return QualityMonthly(period=period, scope=scope, as_of=min(now, period.ends_at), figures=figures)
