"""Repeated WhatsApp requests: cancelled on arrival as a duplicate of an open one, and the undoing of that.

A request made on the desk that repeats an open request of the same applicant (the same ID's record, not
merely the same phone: a family shares a phone, and each member's matter stands on its own) is closed at
once as a duplicate, and the applicant follows the earlier one. It is a decision taken by rule, so it goes
into the fairness record with no member of staff (actor None), and the audit desk can undo it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from accounts import service as accounts
from cases import service as cases
from cases.models import Case, CaseStatus
from fairness import chain
from majlis.clock import Clock
from majlis.errors import N_, DomainError, InvalidInput, required, too_long
from notify import outbox
from notify.texts import Text
from priority import chain_record, duplicates
from priority.errors import CaseNotFound
from priority.models import ChangedField, ChangeReason, DuplicateCancellation, ManualChange

# The purposes of the SMS the cancellation writes and withdraws.
RECEIPT = cases.RECEIPT
CANCELLED_PURPOSE = "repeat_cancelled"
RESTORED_PURPOSE = "repeat_restored"
MAX_REASON = 500

# The step's note: in the request's history, for staff and (web/applicant_view.APPLICANT_NOTE_KEYS) the applicant.
CANCELLED_NOTE = N_("Cancelled automatically as a repeat of request {number}, which stays open.")
RESTORED_NOTE = N_("The cancellation as a repeat of request {number} was undone: this request stands.")

# The receipt of a repeated request is withdrawn and this goes instead: the applicant follows the earlier one.
repeat_cancelled_sms = Text(
    N_(
        "Request {tracking_number} repeats your open request {original_number} and was cancelled. "
        "Follow {original_number}: {status_url}"
    )
)
# The audit desk undid the cancellation: the request is open again and followed under its own number.
repeat_restored_sms = Text(
    N_("Request {tracking_number} was reviewed and stands as a request of its own. Track it: {status_url}")
)


class UndoRefused(DomainError):
    pass


def not_cancelled_as_repeat() -> UndoRefused:
    return UndoRefused(
        "not_cancelled_as_repeat",
        N_("This request was not cancelled automatically as a repeat; there is no such cancellation to undo."),
    )


def already_undone() -> UndoRefused:
    return UndoRefused(
        "already_undone", N_("This cancellation was already undone; the request is open under its own number.")
    )


async def cancel_if_repeated(
    *, session: AsyncSession, clock: Clock, case: Case, window: timedelta, status_url: str
) -> Case | None:
    """Cancels a request just made by WhatsApp as a duplicate when it is similar to an open request of the same
    applicant (the duplicate scorer decides); gives back that earlier request, or None when it stands.

    A request already cancelled so (the same message handled again) gives back the same earlier request.
    """
    already = await session.get(DuplicateCancellation, case.id)
    if already is not None and already.undone_at is None:
        return await cases.get_case(session=session, case_id=already.original_case_id)
    found = [
        d
        for d in await duplicates.likely_duplicates(session=session, clock=clock, case=case, window=window)
        if d.case.applicant_id == case.applicant_id
    ]
    if not found:
        return None
    # The chain's turn before the cases' rows (fairness.chain.take_turn): the cancellation appends an override.
    await chain.take_turn(session=session)
    # Locked with the new request (in id order, as merges lock): an earlier request closed meanwhile by the
    # audit desk is seen closed here and passed over.
    locked = await cases.lock_cases(session=session, case_ids=[case.id, *(d.case.id for d in found)])
    repeat = locked[case.id]
    if repeat.status in cases.CLOSED:
        return None
    for candidate in found:  # most similar first
        original = locked.get(candidate.case.id)
        if original is None or original.status in cases.CLOSED:
            continue
        await _cancel(
            session=session,
            clock=clock,
            repeat=repeat,
            original=original,
            similarity=candidate.similarity,
            status_url=status_url,
        )
        return original
    return None


async def _cancel(
    *, session: AsyncSession, clock: Clock, repeat: Case, original: Case, similarity: float, status_url: str
) -> None:
    before = repeat.status
    session.add(
        DuplicateCancellation(
            case_id=repeat.id, original_case_id=original.id, similarity=similarity, at=clock.now(), undo_reason=""
        )
    )
    await cases.change_status(
        session=session,
        clock=clock,
        case=repeat,
        to_status=CaseStatus.DUPLICATE,
        actor_id=None,
        note_key=CANCELLED_NOTE,
        note_params={"number": original.tracking_number},
    )
    change = ManualChange(
        case_id=repeat.id,
        actor_id=None,
        at=clock.now(),
        field=ChangedField.DUPLICATE,
        before=before.value,
        after=CaseStatus.DUPLICATE.value,
        reason=ChangeReason.REPEATED_REQUEST,
        # Numbers only, so the line reads the same in either language beside the reason's label.
        reason_text=f"{original.tracking_number} ({similarity:.0%})",
    )
    session.add(change)
    await chain_record.override(session=session, clock=clock, change=change, tracking_number=repeat.tracking_number)
    # One SMS about this request, not a receipt and then a cancellation: the receipt has not gone yet (it was
    # written in this same transaction), so it is withdrawn.
    await outbox.withdraw(
        session=session, clock=clock, case_id=repeat.id, purposes=[RECEIPT], why="cancelled as a repeat"
    )
    await outbox.sms_to_applicant(
        session=session,
        clock=clock,
        case=repeat,
        purpose=CANCELLED_PURPOSE,
        compose=lambda language: repeat_cancelled_sms(
            language=language,
            tracking_number=repeat.tracking_number,
            original_number=original.tracking_number,
            status_url=status_url,
        ),
    )
    await audit.record(
        session=session,
        clock=clock,
        actor_id=None,
        action="whatsapp.repeat_cancelled",
        target_type="case",
        target_id=repeat.tracking_number,
        details={"original": original.tracking_number, "similarity": round(similarity, 3)},
    )


@dataclass(frozen=True)
class Cancellation:
    """A request's cancellation as a repeat, with the earlier request's number, for the audit desk's page."""

    record: DuplicateCancellation
    original_number: str
    # The full name of the member of staff who undid it; empty while it stands.
    undone_by: str = ""

    @property
    def undone(self) -> bool:
        return self.record.undone_at is not None


async def cancellation_of(*, session: AsyncSession, case_id: int) -> Cancellation | None:
    """The request's automatic cancellation as a repeat (undone or not), if it had one."""
    record = await session.get(DuplicateCancellation, case_id)
    if record is None:
        return None
    original = await cases.get_case(session=session, case_id=record.original_case_id)
    undone_by = ""
    if record.undone_by_id is not None:
        names = await accounts.names_by_id(session=session, ids={record.undone_by_id})
        undone_by = names.get(record.undone_by_id, "")
    return Cancellation(record, original.tracking_number if original is not None else "", undone_by)


def _read_reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise InvalidInput([required("reason")])
    if len(text) > MAX_REASON:
        raise InvalidInput([too_long("reason", MAX_REASON)])
    return text


async def undo_cancellation(
    *, session: AsyncSession, clock: Clock, tracking_number: str, actor_id: int, reason: str, status_url: str
) -> Case:
    """Opens again a request cancelled as a repeat (received, as it arrived), telling its applicant; gives it back.

    Refused for a request not cancelled this way, and for a cancellation already undone: the request is locked
    and the cancellation read afresh, so two staff pressing Undo together act once.
    """
    text = _read_reason(reason)
    found = await cases.find_by_tracking_number(session=session, tracking_number=tracking_number)
    if found is None:
        raise CaseNotFound()
    # The chain's turn before the case's row (fairness.chain.take_turn): the undoing appends an override.
    await chain.take_turn(session=session)
    case = (await cases.lock_cases(session=session, case_ids=[found.id]))[found.id]
    record = await session.get(DuplicateCancellation, case.id, populate_existing=True)
    if record is None:
        raise not_cancelled_as_repeat()
    if record.undone_at is not None or case.status is not CaseStatus.DUPLICATE:
        raise already_undone()
    original = await cases.get_case(session=session, case_id=record.original_case_id)
    original_number = original.tracking_number if original is not None else ""
    now = clock.now()
    record.undone_at = now
    record.undone_by_id = actor_id
    record.undo_reason = text
    await cases.change_status(
        session=session,
        clock=clock,
        case=case,
        to_status=CaseStatus.RECEIVED,
        actor_id=actor_id,
        note_key=RESTORED_NOTE,
        note_params={"number": original_number},
    )
    change = ManualChange(
        case_id=case.id,
        actor_id=actor_id,
        at=now,
        field=ChangedField.DUPLICATE,
        before=CaseStatus.DUPLICATE.value,
        after=CaseStatus.RECEIVED.value,
        reason=ChangeReason.CORRECTED_ERROR,
        reason_text=text,
    )
    session.add(change)
    await chain_record.override(session=session, clock=clock, change=change, tracking_number=case.tracking_number)
    # The cancellation's SMS, if still waiting, would now say the opposite of the truth.
    await outbox.withdraw(
        session=session, clock=clock, case_id=case.id, purposes=[CANCELLED_PURPOSE], why="cancellation undone"
    )
    await outbox.sms_to_applicant(
        session=session,
        clock=clock,
        case=case,
        purpose=RESTORED_PURPOSE,
        compose=lambda language: repeat_restored_sms(
            language=language, tracking_number=case.tracking_number, status_url=status_url
        ),
    )
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="whatsapp.repeat_cancellation_undone",
        target_type="case",
        target_id=case.tracking_number,
        details={"original": original_number, "reason": text},
    )
    await session.flush()
    return case
