"""The follow-up team's steps as the team says them: more time in hours or working days, and a referred
request sent (again) to departments.

The referral steps themselves are followup.referrals' and followup.escalation's; these put the team's
words into theirs, for the pages, the API and the command line alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from cases import service as cases
from cases.models import CaseStatus
from followup import referrals, timers
from followup.models import Referral, ReferralSource
from majlis.clock import Clock
from majlis.errors import N_, FieldError, InvalidInput, invalid_choice, required
from majlis.numbers import whole_number
from priority import service as triage
from priority.errors import CaseNotFound

EXTENSION_UNITS = ("hours", "working_days")


async def extension_minutes(*, session: AsyncSession, referral_id: int, amount: str, unit: str) -> int:
    """The working minutes of an extension typed as hours, or as working days of the department's calendar.

    A working day is the calendar's own (the longest day's working time; 24 hours round the clock), as
    the service-level policies count it.
    """
    errors: list[FieldError] = []
    count = whole_number(amount)
    if count is None or count < 1:
        errors.append(FieldError("amount", "not_positive", N_("{field} must be a whole number of 1 or more.")))
    if unit not in EXTENSION_UNITS:
        errors.append(invalid_choice("unit", EXTENSION_UNITS))
    referral = await session.get(Referral, referral_id)
    if referral is None:
        raise referrals.ReferralNotFound()
    if errors or count is None:
        raise InvalidInput(errors)
    if unit == "hours":
        minutes = count * 60
    else:
        rules = (await timers.rules_for(session=session, referrals=[referral]))[referral.id]
        minutes = count * int(rules.calendar.working_day.total_seconds() // 60)
    if minutes > referrals.MAX_EXTENSION:
        raise InvalidInput(
            [
                FieldError(
                    "amount",
                    "too_much",
                    N_("An extension is at most {hours} working hours; a longer one calls for a new referral."),
                    {"hours": str(referrals.MAX_EXTENSION // 60)},
                )
            ]
        )
    return minutes


async def refer_again(
    *,
    session: AsyncSession,
    clock: Clock,
    tracking_number: str,
    department_codes: Sequence[str],
    directive: str,
    actor_id: int,
    status_url: str,
) -> list[Referral]:
    """Sends a referred request to more departments: after a return, beside an answer, or when it has none.

    The deadlines follow the request's triage (category and urgency), as the audit desk's referral does;
    every field's problem is listed at once.
    """
    case = await cases.find_by_tracking_number(session=session, tracking_number=tracking_number)
    if case is None:
        raise CaseNotFound()
    errors: list[FieldError] = []
    department_ids: list[int] = []
    try:
        department_ids = [
            d.id for d in await referrals.departments_by_code(session=session, codes=list(department_codes))
        ]
    except InvalidInput as exc:
        errors.extend(FieldError("departments", e.code, e.message, e.params) for e in exc.errors)
    if not department_codes:
        errors.append(FieldError("departments", "missing", N_("Choose at least one department.")))
    if not directive.strip():
        errors.append(required("directive"))
    if errors:
        raise InvalidInput(errors)
    case = (await cases.lock_cases(session=session, case_ids=[case.id]))[case.id]
    if case.status is not CaseStatus.REFERRED:
        raise referrals.ReferralRefused(
            "not_referred",
            N_("This request is not with the follow-up team; only a referred request can be sent to departments here."),
        )
    row = await triage.current_triage(session=session, clock=clock, case=case)
    made = await referrals.refer(
        session=session,
        clock=clock,
        case=case,
        department_ids=department_ids,
        directive=directive,
        source=ReferralSource.AUDIT_DESK,
        category_code=row.category_code,
        urgency=row.urgency,
        actor_id=actor_id,
        status_url=status_url,
    )
    # The departments that said "not ours" are done with: their referrals close, naming where it went instead.
    await referrals.close_returned(session=session, clock=clock, case_id=case.id, instead=made, actor_id=actor_id)
    return made
