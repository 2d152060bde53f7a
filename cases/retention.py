"""Retention: the personal data of requests closed more than `retention_years` ago is anonymised.

What goes: the applicant's name, phone, e-mail and ID number, the request's subject and text, its care needs,
the words written on it (status notes, kept texts of duplicates, identity reviews, questions and answers,
referral directives, exchanges and outcomes), the messages sent about it, and its attachments (their rows go;
the nightly sweep of files no row names deletes the files). What stays is what the reports count: the request's
kind, branch, channel, status, gender, dates, category, appointments and referrals with their deadlines.

The applicant's own row is anonymised when none of its requests is still inside the period (an open request,
or one closed more recently, still needs it).

The WhatsApp desk keeps its own copy of a phone: one conversation per number, with every message in and out and
the files received. A conversation goes whole (its messages and media rows; the sweep deletes the files) once
its last message is older than the period and none of the phone's requests is still inside the period: neither
a request from that phone nor one the conversation made or asked about. A conversation holding no request at all
(someone who asked and never filed) goes by the age of its last message alone.

`plan` says what would change (the dry run); `anonymise` changes it. This module reads and writes the tables
of follow-up, notifications and attachments directly: a request's personal data is spread over them, and
retention must reach all of it in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cases.models import Applicant, ApplicantChange, Case, CaseAddendum, IdentityFlag, StatusChange
from cases.service import CLOSED
from followup.models import Attachment, InformationRequest, Referral, ReferralEvent
from majlis.clock import Clock
from notify.models import InboundMessage, OutboxMessage
from whatsapp_desk.models import Conversation, DeskMedia, DeskMessage


@dataclass(frozen=True)
class RetentionPlan:
    """What one run anonymises: the requests (tracking numbers) and applicants, with the attachments they hold."""

    cutoff: datetime
    tracking_numbers: list[str]
    case_ids: list[int]
    applicant_ids: list[int]
    attachments: int
    # The WhatsApp desk's conversations that go, with how many messages and files they hold.
    conversation_ids: list[int]
    desk_messages: int
    desk_media: int

    @property
    def empty(self) -> bool:
        return not self.case_ids and not self.applicant_ids and not self.conversation_ids


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
    conversation_ids = await _expired_conversations(session, cutoff, case_ids)
    return RetentionPlan(
        cutoff=cutoff,
        tracking_numbers=[row.tracking_number for row in rows],
        case_ids=case_ids,
        applicant_ids=applicant_ids,
        attachments=attachments,
        conversation_ids=conversation_ids,
        desk_messages=await _count(session, DeskMessage.id, DeskMessage.conversation_id, conversation_ids),
        desk_media=await _count(session, DeskMedia.id, DeskMedia.conversation_id, conversation_ids),
    )


async def _expired_conversations(session: AsyncSession, cutoff: datetime, going: list[int]) -> list[int]:
    """The WhatsApp conversations silent since before the cutoff whose phone has no request still inside the
    period (one not anonymised and not going now)."""
    still_inside = exists().where(
        or_(
            Case.phone == Conversation.phone,
            Case.id == Conversation.case_id,
            exists().where(DeskMessage.conversation_id == Conversation.id, DeskMessage.case_id == Case.id),
        ),
        Case.anonymised_at.is_(None),
        Case.id.not_in(going),
    )
    recent = exists().where(DeskMessage.conversation_id == Conversation.id, DeskMessage.at >= cutoff)
    rows = await session.scalars(
        select(Conversation.id)
        .where(Conversation.started_at < cutoff, ~recent, ~still_inside)
        .order_by(Conversation.id)
    )
    return list(rows)


async def _count(session: AsyncSession, column: Any, owner: Any, ids: list[int]) -> int:
    if not ids:
        return 0
    return await session.scalar(select(func.count(column)).where(owner.in_(ids))) or 0


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
                name_key="",
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
        await session.execute(update(InboundMessage).where(InboundMessage.case_id.in_(ids)).values(sender="", body=""))
        # The WhatsApp desk's messages about it, in a conversation the phone's other requests still keep.
        await session.execute(update(DeskMessage).where(DeskMessage.case_id.in_(ids)).values(body=""))
        await session.execute(delete(Attachment).where(Attachment.case_id.in_(ids)))
    if found.conversation_ids:
        # Files first, then messages, then the conversation (each references the one after).
        going = found.conversation_ids
        await session.execute(delete(DeskMedia).where(DeskMedia.conversation_id.in_(going)))
        await session.execute(delete(DeskMessage).where(DeskMessage.conversation_id.in_(going)))
        await session.execute(delete(Conversation).where(Conversation.id.in_(going)))
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
