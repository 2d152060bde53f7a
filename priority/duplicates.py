"""Likely duplicates (same ID or phone, similar words, within a window) and merging them safely."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from cases import service as cases
from cases.models import Case, CaseStatus
from fairness import chain
from majlis.clock import Clock
from majlis.errors import N_
from notify import outbox
from notify.texts import merged_sms
from priority import chain_record
from priority.errors import (
    CaseNotFound,
    already_merged,
    holds_merged_requests,
    merge_into_closed,
    merge_into_itself,
    not_same_applicant,
)
from priority.models import DuplicateFlag, DuplicateMerge
from priority.similarity import DEFAULT_THRESHOLD, profile, profile_similarity


@dataclass(frozen=True)
class LikelyDuplicate:
    case: Case
    similarity: float
    same_id: bool
    same_phone: bool


async def likely_duplicates(
    *, session: AsyncSession, clock: Clock, case: Case, window: timedelta, threshold: float = DEFAULT_THRESHOLD
) -> list[LikelyDuplicate]:
    """Open cases of the same applicant or phone within the window whose words are similar, most similar first."""
    candidates = await cases.recent_for_applicant(
        session=session,
        applicant_id=case.applicant_id,
        phone=case.phone,
        since=case.submitted_at - window,
        exclude_case_id=case.id,
    )
    if not candidates:
        return []  # most requests: nothing to compare, so no text profile to build
    mine = profile(case.subject, case.text)
    found = []
    for other in candidates:
        if other.submitted_at > case.submitted_at + window:
            continue
        score = profile_similarity(mine, profile(other.subject, other.text))
        if score >= threshold:
            found.append(
                LikelyDuplicate(
                    other, score, same_id=other.applicant_id == case.applicant_id, same_phone=other.phone == case.phone
                )
            )
    return sorted(found, key=lambda d: -d.similarity)


async def merge(
    *,
    session: AsyncSession,
    clock: Clock,
    duplicate_number: str,
    original_number: str,
    actor_id: int,
    status_url: str,
) -> DuplicateMerge:
    """Closes the duplicate as a duplicate of the original, keeping its words on the original.

    Both cases are locked (in id order) and read afresh first, so two merges
    racing over the same pair, or crosswise (A into B, B into A), run one after
    the other and the second is refused; the primary key of duplicate_merges
    refuses a second merge of one case even if that were missed.
    """
    duplicate = await cases.find_by_tracking_number(session=session, tracking_number=duplicate_number)
    original = await cases.find_by_tracking_number(session=session, tracking_number=original_number)
    if duplicate is None or original is None:
        raise CaseNotFound()
    if duplicate.id == original.id:
        raise merge_into_itself()
    # The chain's turn before the cases' rows, as every change that appends to it (fairness.chain.take_turn).
    await chain.take_turn(session=session)
    locked = await cases.lock_cases(session=session, case_ids=[duplicate.id, original.id])
    duplicate, original = locked[duplicate.id], locked[original.id]
    if duplicate.status in cases.CLOSED:
        raise already_merged()
    if original.status in cases.CLOSED:
        raise merge_into_closed()
    if duplicate.applicant_id != original.applicant_id and duplicate.phone != original.phone:
        # Otherwise a stranger's words would join someone's request, and the
        # stranger would be told that person's tracking number.
        raise not_same_applicant()
    if await session.scalar(
        select(DuplicateMerge.duplicate_case_id).where(DuplicateMerge.original_case_id == duplicate.id)
    ):
        # Its applicants were told to follow this request; it must stay open.
        raise holds_merged_requests()
    score = profile_similarity(profile(duplicate.subject, duplicate.text), profile(original.subject, original.text))
    record = DuplicateMerge(
        duplicate_case_id=duplicate.id,
        original_case_id=original.id,
        merged_by_id=actor_id,
        at=clock.now(),
        similarity=score,
    )
    try:
        async with session.begin_nested():
            session.add(record)
            await session.flush()
    except IntegrityError:
        raise already_merged() from None
    await cases.keep_text_of(session=session, clock=clock, case=original, source=duplicate)
    await chain_record.merge(
        session=session,
        clock=clock,
        actor_id=actor_id,
        duplicate_case_id=duplicate.id,
        duplicate_number=duplicate.tracking_number,
        original_case_id=original.id,
        original_number=original.tracking_number,
        similarity=score,
    )
    await cases.change_status(
        session=session,
        clock=clock,
        case=duplicate,
        to_status=CaseStatus.DUPLICATE,
        actor_id=actor_id,
        note_key=N_("Joined to request {number}, which now holds its text."),
        note_params={"number": original.tracking_number},
    )
    await outbox.sms_to_applicant(
        session=session,
        clock=clock,
        case=duplicate,
        purpose="merged",
        compose=lambda language: merged_sms(
            language=language,
            tracking_number=duplicate.tracking_number,
            original_number=original.tracking_number,
            status_url=status_url,
        ),
    )
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="triage.merge",
        target_type="case",
        target_id=duplicate.tracking_number,
        details={"into": original.tracking_number, "similarity": round(score, 3)},
    )
    return record


async def flag_on_intake(*, session: AsyncSession, clock: Clock, case: Case, window: timedelta) -> int:
    """Records the likely duplicates of a request just received; gives back how many were found."""
    found = await likely_duplicates(session=session, clock=clock, case=case, window=window)
    for duplicate in found:
        session.add(
            DuplicateFlag(
                case_id=case.id,
                other_case_id=duplicate.case.id,
                similarity=duplicate.similarity,
                flagged_at=clock.now(),
            )
        )
    await session.flush()
    return len(found)


async def flagged(*, session: AsyncSession, case_ids: set[int]) -> dict[int, list[DuplicateFlag]]:
    """The intake flags of each case, most similar first."""
    if not case_ids:
        return {}
    rows = await session.scalars(
        select(DuplicateFlag).where(DuplicateFlag.case_id.in_(case_ids)).order_by(DuplicateFlag.similarity.desc())
    )
    by_case: dict[int, list[DuplicateFlag]] = {}
    for flag in rows:
        by_case.setdefault(flag.case_id, []).append(flag)
    return by_case


async def merged_into(*, session: AsyncSession, case_id: int) -> DuplicateMerge | None:
    return await session.get(DuplicateMerge, case_id)
