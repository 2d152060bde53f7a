"""What the follow-up says, and to whom: the applicant at each stage, the department at each step.

The applicant's SMS name the departments in plain words and never carry the
directive (the official's words are for staff). The department's e-mails carry
the directive and a link to the referral; the link is signed when the message
is sent (notify.outbox REFERRAL_LINK), so the outbox keeps no way in.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from cases.models import Case
from followup.contacts import Addressee
from followup.models import Department, Referral
from majlis.clock import Clock
from majlis.dates import dual_datetime
from majlis.errors import N_
from notify import outbox
from notify.outbox import REFERRAL_LINK, referral_link_payload
from notify.texts import Text, say
from quality import invites

# --- to the applicant ---------------------------------------------------------------------------

referred_to_sms = Text(N_("Request {tracking_number} has been referred to {departments}. Follow it: {status_url}"))
answered_sms = Text(
    N_("{department} has answered request {tracking_number}; we will tell you the outcome. Follow it: {status_url}")
)
completed_with_outcome_sms = Text(
    N_("Request {tracking_number} is complete: {outcome}. Rate our service: {rating_link}")
)


# How a sentence lists names, in the reader's language (the Arabic comma, "و" joined to the last name).
LIST_SEPARATOR = N_(", ")
LIST_LAST = N_("{names} and {last}")


def listed(names: Sequence[str], language: str) -> str:
    """Names joined as a sentence says them: "A, B and C"."""
    if len(names) <= 1:
        return "".join(names)
    return say(language, LIST_LAST, names=say(language, LIST_SEPARATOR).join(names[:-1]), last=names[-1])


async def tell_applicant_referred(
    *, session: AsyncSession, clock: Clock, case: Case, departments: Sequence[Department], status_url: str, key: str
) -> None:
    await outbox.sms_to_applicant(
        session=session,
        clock=clock,
        case=case,
        purpose=f"stage:referred:{key}",
        compose=lambda language: referred_to_sms(
            language=language,
            tracking_number=case.tracking_number,
            departments=listed([d.name_in(language) for d in departments], language),
            status_url=status_url,
        ),
    )


async def tell_applicant_answered(
    *, session: AsyncSession, clock: Clock, case: Case, department: Department, referral: Referral, status_url: str
) -> None:
    await outbox.sms_to_applicant(
        session=session,
        clock=clock,
        case=case,
        purpose=f"stage:answered:{referral.id}",
        compose=lambda language: answered_sms(
            language=language,
            tracking_number=case.tracking_number,
            department=department.name_in(language),
            status_url=status_url,
        ),
    )


async def tell_applicant_completed(
    *, session: AsyncSession, clock: Clock, case: Case, outcome: str, key: str, staff_id: int | None
) -> None:
    """The outcome, and a link usable once to rate the service (quality/invites.py), in the applicant's language."""
    await invites.at_completion(
        session=session,
        clock=clock,
        case=case,
        staff_id=staff_id,
        purpose=f"stage:completed:{key}",
        compose=lambda language: completed_with_outcome_sms(
            language=language, tracking_number=case.tracking_number, outcome=outcome, rating_link=outbox.RATING_LINK
        ),
    )


# --- to the department ------------------------------------------------------------------------


NEW_REFERRAL = (
    N_("New referral: request {tracking_number}"),
    N_(
        "Request {tracking_number} has been referred to {department}.\n\nDirective: {directive}\n\n"
        "First response due by {first_due}.\nSolution due by {solution_due}.\n\n"
        "Open the referral to acknowledge it, ask for information, answer it or return it: {link}"
    ),
)
REMINDER = (
    N_("Reminder: referral of request {tracking_number}"),
    N_(
        "The referral of request {tracking_number} to {department} is waiting for you.\n"
        "Solution due by {solution_due}.\n\n{note}\n\nOpen the referral: {link}"
    ),
)
ESCALATION = (
    N_("Escalation (level {level}): request {tracking_number}"),
    N_(
        "The referral of request {tracking_number} to {department} has not been solved in time "
        "and is escalated to you (level {level}).\nReferred on {referred_on}; solution was due by {solution_due}.\n\n"
        "Directive: {directive}\n\nThe referral: {link}"
    ),
)
INFORMATION_GIVEN = (
    N_("The applicant answered: request {tracking_number}"),
    N_(
        "The applicant answered the question asked on request {tracking_number}; "
        "the deadlines run again.\n\nOpen the referral: {link}"
    ),
)
REMINDER_SMS = N_("Reminder: the referral of request {tracking_number} is waiting for {department}. {link}")


async def email_department(
    *,
    session: AsyncSession,
    clock: Clock,
    referral: Referral,
    case: Case,
    to: Addressee,
    texts: tuple[str, str],
    purpose: str,
    flush: bool = True,
    **params: str,
) -> None:
    """An e-mail about a referral to one person at a department, in their language, carrying the referral's link."""
    language = to.language if to.language in ("ar", "en") else "ar"
    department = await session.get(Department, referral.department_id)
    assert department is not None
    values = {
        "tracking_number": case.tracking_number,
        "department": department.name_in(language),
        "directive": referral.directive,
        "solution_due": dual_datetime(referral.solution_due_at, language),
        "first_due": dual_datetime(referral.first_response_due_at, language),
        "referred_on": dual_datetime(referral.created_at, language),
        "link": REFERRAL_LINK,
        **params,
    }
    subject, body = (say(language, text, **values) for text in texts)
    await outbox.enqueue(
        session=session,
        clock=clock,
        purpose=purpose,
        channel="email",
        recipient=to.email,
        language=language,
        body=body,
        case_id=case.id,
        payload={"subject": subject, **referral_link_payload(referral_id=referral.id, generation=referral.generation)},
        flush=flush,
    )


async def sms_department(
    *, session: AsyncSession, clock: Clock, referral: Referral, case: Case, to: Addressee, purpose: str
) -> bool:
    """A short reminder by SMS to a person at the department; False when they have no phone."""
    if not to.phone:
        return False
    language = to.language if to.language in ("ar", "en") else "ar"
    department = await session.get(Department, referral.department_id)
    assert department is not None
    await outbox.enqueue(
        session=session,
        clock=clock,
        purpose=purpose,
        channel="sms",
        recipient=to.phone,
        language=language,
        body=say(
            language,
            REMINDER_SMS,
            tracking_number=case.tracking_number,
            department=department.name_in(language),
            link=REFERRAL_LINK,
        ),
        case_id=case.id,
        payload=referral_link_payload(referral_id=referral.id, generation=referral.generation),
    )
    return True
