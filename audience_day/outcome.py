"""The official's outcome of an audience, in person or by video: what it does to the request, and who is told.

answered → the request is completed; referred → referred to the departments
named by their codes (followup: each gets the directive, deadlines and an
e-mail); rejected → rejected; needs study → under study on his instruction.
Each sends the applicant the stage's notice; the directive itself is the
official's words for staff, never sent to the applicant.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from audience_day.models import Outcome
from cases import service as cases
from cases.models import Case, CaseStatus
from followup import referrals
from followup.models import ReferralSource
from majlis.clock import Clock
from majlis.errors import N_, DomainError
from notify import outbox
from notify.texts import audience_rejected_sms, under_study_sms
from priority import service as priority


class OutcomeRefused(DomainError):
    """An outcome that cannot be recorded (no directive, no department for a referral, recorded already)."""


def checked_directive(outcome: Outcome, directive: str, referred_to: str) -> tuple[str, str]:
    """The directive and department codes (normalised), trimmed; refused when what the outcome needs is missing."""
    directive = directive.strip()
    referred_to = ", ".join(referrals.department_codes(referred_to)) if outcome is Outcome.REFERRED else ""
    if not directive:
        raise OutcomeRefused("directive_missing", N_("Write the directive."))
    if outcome is Outcome.REFERRED and not referred_to:
        raise OutcomeRefused("departments_missing", N_("Name the department or departments the request goes to."))
    return directive, referred_to


async def apply_outcome(
    *,
    session: AsyncSession,
    clock: Clock,
    case: Case,
    outcome: Outcome,
    directive: str,
    referred_to: str,
    actor_id: int,
    status_url: str,
) -> None:
    """Moves the request on by the outcome and tells the applicant (the case must be locked by the caller)."""
    if case.status in cases.CLOSED:
        raise OutcomeRefused("case_closed", N_("This request is already closed."))
    if outcome is Outcome.ANSWERED:
        await cases.complete(
            session=session, clock=clock, case=case, actor_id=actor_id, note=directive, status_url=status_url
        )
        return
    if outcome is Outcome.REFERRED:
        departments = await referrals.departments_by_code(
            session=session, codes=referrals.department_codes(referred_to)
        )
        triage = await priority.current_triage(session=session, clock=clock, case=case)
        await referrals.refer(
            session=session,
            clock=clock,
            case=case,
            department_ids=[d.id for d in departments],
            directive=directive,
            source=ReferralSource.AUDIENCE,
            category_code=triage.category_code,
            urgency=triage.urgency,
            actor_id=actor_id,
            status_url=status_url,
        )
        return
    to_status, compose = (
        (CaseStatus.REJECTED, audience_rejected_sms)
        if outcome is Outcome.REJECTED
        else (CaseStatus.UNDER_STUDY, under_study_sms)
    )
    change = await cases.change_status(
        session=session, clock=clock, case=case, to_status=to_status, actor_id=actor_id, note=directive
    )
    await outbox.sms_to_applicant(
        session=session,
        clock=clock,
        case=case,
        purpose=f"stage:{to_status.value}:{change.id}",
        compose=lambda language: compose(
            language=language, tracking_number=case.tracking_number, status_url=status_url
        ),
    )
