"""Retention: the personal data of requests closed more than `retention_years` ago is anonymised.

What goes: the applicant's name, phone, e-mail and ID number, the request's subject and text, its care needs,
the words written on it (status notes, kept texts of duplicates, identity reviews, questions and answers,
referral directives, exchanges and outcomes), the messages sent about it, and its attachments (their rows go;
the nightly sweep of files no row names deletes the files). What stays is what the reports count: the request's
kind, branch, channel, status, gender, dates, category, appointments and referrals with their deadlines.

The applicant's own row is anonymised when none of its requests is still inside the period (an open request,
or one closed more recently, still needs it).

`plan` says what would change (the dry run); `anonymise` changes it. This module reads and writes the tables
of follow-up, notifications and attachments directly: a request's personal data is spread over them, and
retention must reach all of it in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cases.models import Applicant, ApplicantChange, Case, CaseAddendum, IdentityFlag, StatusChange
from cases.service import CLOSED
from followup.models import Attachment, InformationRequest, Referral, ReferralEvent
from majlis.clock import Clock
from notify.models import OutboxMessage


@dataclass(frozen=True)
class RetentionPlan:
    """What one run anonymises: the requests (tracking numbers) and applicants, with the attachments they hold."""

    cutoff: datetime
    tracking_numbers: list[str]
    case_ids: list[int]
    applicant_ids: list[int]
    attachments: int

    @property
    def empty(self) -> bool:
        return not self.case_ids and not self.applicant_ids


def cutoff_for(now: datetime, years: int) -> datetime:
    """The moment `years` years before `now` (29 February falls back to the 28th)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


async def plan(*, session: AsyncSession, clock: Clock, years: int) -> RetentionPlan:
    """What `anonymise` would change now: requests closed before the cutoff and not yet anonymised."""
    cutoff = cutoff_for(clock.now(), years)
    # A request's closing is its last change of status; a closed request changes no more.
    last_change = (
        select(StatusChange.case_id, func.max(StatusChange.at).label("at")).group_by(StatusChange.case_id).subquery()
    )
    rows = (
        await session.execute(
            select(Case.id, Case.tracking_number, Case.applicant_id)
            .join(last_change, last_change.c.case_id == Case.id)
            .where(Case.status.in_(CLOSED), Case.anonymised_at.is_(None), last_change.c.at < cutoff)
            .order_by(Case.id)
        )
    ).all()
    case_ids = [row.id for row in rows]
    candidates = {row.applicant_id for row in rows}
    # An applicant keeps their data while any request of theirs stays: not anonymised, and not going now.
    kept = set(
        await session.scalars(
            select(Case.applicant_id).where(
                Case.applicant_id.in_(candidates), Case.anonymised_at.is_(None), Case.id.not_in(case_ids)
            )
        )
    )
    applicant_ids = sorted(
        await session.scalars(
            select(Applicant.id).where(Applicant.id.in_(candidates - kept), Applicant.anonymised_at.is_(None))
        )
    )
    attachments = (
        await session.scalar(select(func.count(Attachment.id)).where(Attachment.case_id.in_(case_ids))) or 0
        if case_ids
        else 0
    )
    return RetentionPlan(
        cutoff=cutoff,
        tracking_numbers=[row.tracking_number for row in rows],
        case_ids=case_ids,
        applicant_ids=applicant_ids,
        attachments=attachments,
    )


async def anonymise(*, session: AsyncSession, clock: Clock, years: int) -> RetentionPlan:
    """Anonymises what `plan` names, in the caller's transaction (flushed); gives back the plan carried out."""
    found = await plan(session=session, clock=clock, years=years)
    if found.empty:
        return found
    now = clock.now()
    ids = found.case_ids
    if ids:
        await session.execute(
            update(Case)
            .where(Case.id.in_(ids))
            .values(
                applicant_name="",
                phone="",
                email=None,
                subject="",
                text="",
                care_elderly=False,
                care_wheelchair=False,
                care_transport=False,
                care_interpreter=False,
                anonymised_at=now,
            )
        )
        await session.execute(update(StatusChange).where(StatusChange.case_id.in_(ids)).values(note=""))
        await session.execute(update(CaseAddendum).where(CaseAddendum.case_id.in_(ids)).values(subject="", text=""))
        await session.execute(
            update(IdentityFlag)
            .where(IdentityFlag.case_id.in_(ids))
            .values(given_name="", known_name="", review_note="")
        )
        await session.execute(update(ApplicantChange).where(ApplicantChange.case_id.in_(ids)).values(fields={}))
        await session.execute(
            update(InformationRequest).where(InformationRequest.case_id.in_(ids)).values(question="", answer="")
        )
        await session.execute(
            update(Referral).where(Referral.case_id.in_(ids)).values(directive="", answer="", outcome="")
        )
        await session.execute(update(ReferralEvent).where(ReferralEvent.case_id.in_(ids)).values(text="", details={}))
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.case_id.in_(ids)).values(recipient="", body="", payload={})
        )
        await session.execute(delete(Attachment).where(Attachment.case_id.in_(ids)))
    for applicant_id in found.applicant_ids:
        # The (kind, ID number) pair is unique: each anonymised applicant keeps a distinct stand-in.
        await session.execute(
            update(Applicant)
            .where(Applicant.id == applicant_id)
            .values(
                id_number=f"~{applicant_id}"[:10],
                name="",
                phone="",
                email=None,
                care_elderly=False,
                care_wheelchair=False,
                care_transport=False,
                care_interpreter=False,
                anonymised_at=now,
                updated_at=now,
            )
        )
    await session.flush()
    return found
