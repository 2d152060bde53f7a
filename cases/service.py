"""Operations on requests: submit, look up, change status. Services flush, never commit."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from accounts import audit
from cases import branches, identity_review, status_lists, tracking_serials
from cases.intake import RequestDetails
from cases.models import (
    Applicant,
    Case,
    CaseAddendum,
    CaseStatus,
    Channel,
    RequestKind,
    StatusChange,
    StatusLookup,
    SubmissionKey,
)
from cases.names import search_key
from cases.phones import same_phone
from cases.tracking import format_tracking_number, parse_tracking_number
from majlis.clock import Clock, riyadh
from majlis.errors import N_, DomainError
from majlis.throttle import address_group, retry_after_seconds, serialise, wait_left
from notify import outbox
from notify.texts import completed_sms, receipt_sms, referred_sms
from quality import invites
from quality.models import Visit

RECEIPT = "receipt"


class IdempotencyKeyReused(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "idempotency_key_reused",
            N_("This Idempotency-Key was already used for a different request."),
        )


@dataclass(frozen=True)
class Submission:
    case: Case
    # False when an earlier submission with the same Idempotency-Key is returned.
    created: bool


def _details_of(details: RequestDetails) -> dict[str, Any]:
    """The applicant's details as given with a request, by column name."""
    a = details.applicant
    care = set(a.special_care)
    return {
        "gender": a.gender,
        "email": a.email,
        "language": a.language,
        "care_elderly": "elderly" in care,
        "care_wheelchair": "wheelchair" in care,
        "care_transport": "transport" in care,
        "care_interpreter": "interpreter" in care,
    }


# The intake's statements, built once: each intake only binds its values, and
# SQLAlchemy's compiled cache finds them by identity instead of rebuilding and
# hashing a new construct per request. Every table the intake writes is one
# round trip: INSERT … RETURNING where the row is needed afterwards.
def _new_applicant(insert: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING the applicant: the row when this insert made it, else none."""
    return (
        insert(Applicant)
        .on_conflict_do_nothing(index_elements=[Applicant.kind, Applicant.id_number])
        .returning(Applicant)
    )


_NEW_APPLICANT = {"postgresql": _new_applicant(pg_insert), "sqlite": _new_applicant(sqlite_insert)}
_KNOWN_APPLICANT = (
    select(Applicant)
    .where(Applicant.kind == bindparam("kind"), Applicant.id_number == bindparam("id_number"))
    .execution_options(populate_existing=True)
)
_NEW_CASE = insert(Case).returning(Case)
_FIRST_STATUS = insert(StatusChange)


async def _applicant_for(*, session: AsyncSession, clock: Clock, details: RequestDetails) -> tuple[Applicant, bool]:
    """The applicant with this ID number, created with these details if new, and whether it was made now.

    An existing applicant is not changed: anyone can type someone's ID number,
    so the details of a request stay on that request (the case); the record
    changes only when the audit desk accepts a change the request's
    verification proposed (cases.identity_review). Two first requests of one
    person arriving together: the insert yields to the other's row instead of
    failing. A new applicant (most intakes) is one round trip; a known one
    costs the read of its row besides.
    """
    a = details.applicant
    now = clock.now()
    values = {
        "kind": a.kind,
        "id_number": a.id_number,
        "name": a.name,
        "phone": a.phone,
        "created_at": now,
        "updated_at": now,
        **_details_of(details),
    }
    made = (await session.scalars(_NEW_APPLICANT[session.get_bind().dialect.name], values)).one_or_none()
    if made is not None:
        return made, True
    known = (await session.scalars(_KNOWN_APPLICANT, {"kind": a.kind, "id_number": a.id_number})).one()
    return known, False


async def _case_for_key(*, session: AsyncSession, key: str, fingerprint: str) -> Case | None:
    row = await session.get(SubmissionKey, key, populate_existing=True)
    if row is None:
        return None
    if row.fingerprint != fingerprint or row.case_id is None:
        raise IdempotencyKeyReused()
    return await get_case(session=session, case_id=row.case_id)


async def submit(
    *,
    session: AsyncSession,
    clock: Clock,
    details: RequestDetails,
    status_url: str,
    entered_by_id: int | None = None,
    idempotency_key: str | None = None,
) -> Submission:
    """Save a checked request with its applicant, tracking number, first status and SMS receipt.

    All of it is one unit in the caller's transaction. With an idempotency key,
    a repeat of the same request gives back the first case and adds nothing.
    A name that cannot be the one on record for an applicant already known is
    flagged for the audit desk (cases.identity_review).

    The tracking serial comes from cases.tracking_serials, which holds no lock
    across this transaction; what only advises the desk (likely duplicates) is
    left to the caller after the commit (web.public.after_intake). What stays
    in must be saved with the case or not at all: the first status, the
    receipt (the outbox is how it is sent exactly once), the identity flag (a
    lost one would let another person's ID number pass unseen) and a desk's
    audit record.
    """
    await branches.require_open(session=session, code=details.branch)
    if idempotency_key is not None:
        fingerprint = details.fingerprint()
        # Stored hashed: any length a client or a form sends fits the column.
        idempotency_key = hashlib.sha256(idempotency_key.encode()).hexdigest()
        existing = await _case_for_key(session=session, key=idempotency_key, fingerprint=fingerprint)
        if existing is not None:
            return Submission(existing, created=False)
        key_row = SubmissionKey(key=idempotency_key, fingerprint=fingerprint, created_at=clock.now())
        try:
            # Claim the key first: a concurrent retry with the same key waits
            # here for us and then finds our case instead of making its own.
            async with session.begin_nested():
                session.add(key_row)
                await session.flush()
        except IntegrityError:
            existing = await _case_for_key(session=session, key=idempotency_key, fingerprint=fingerprint)
            if existing is None:
                raise
            return Submission(existing, created=False)

    applicant, new_applicant = await _applicant_for(session=session, clock=clock, details=details)
    now = clock.now()
    year = riyadh(now).year
    tracking_number = format_tracking_number(year, await tracking_serials.next_serial(session=session, year=year))
    values = {
        "tracking_number": tracking_number,
        "applicant_id": applicant.id,
        "kind": details.kind,
        "subject": details.subject,
        "text": details.text,
        "branch": details.branch,
        "channel": details.channel,
        "status": CaseStatus.RECEIVED,
        "phone": details.applicant.phone,
        "applicant_name": details.applicant.name,
        # A Core INSERT passes by the model's validator that keeps name_key in step: set it here (cases/names.py).
        "name_key": search_key(details.applicant.name),
        **_details_of(details),
        "submitted_at": now,
        "entered_by_id": entered_by_id,
    }
    case = (await session.scalars(_NEW_CASE, values)).one()
    # The applicant just read is the case's: callers may follow case.applicant without another query.
    set_committed_value(case, "applicant", applicant)
    if idempotency_key is not None:
        key_row.case_id = case.id
    if not new_applicant:
        # Another person's ID number typed with this request shows as a name the record does not have.
        await identity_review.flag_if_other_name(session=session, clock=clock, case=case, applicant=applicant)
    await session.execute(
        _FIRST_STATUS,
        {
            "case_id": case.id,
            "from_status": None,
            "to_status": CaseStatus.RECEIVED,
            "at": now,
            "actor_id": entered_by_id,
            "note": "",
        },
    )
    await outbox.enqueue(
        session=session,
        clock=clock,
        purpose=RECEIPT,
        channel="sms",
        recipient=details.applicant.phone,
        language=details.applicant.language.value,
        body=receipt_sms(
            language=details.applicant.language.value,
            tracking_number=case.tracking_number,
            status_url=status_url,
        ),
        case_id=case.id,
    )
    if entered_by_id is not None and details.channel is Channel.WALK_IN:
        # Taken in person at the desk: the applicant rates it on the tablet facing them, if the desk has one.
        await invites.offer_on_tablet(
            session=session, clock=clock, staff_id=entered_by_id, case_id=case.id, visit=Visit.INTAKE,
            branch_code=case.branch,
        )  # fmt: skip
    if entered_by_id is not None:
        await audit.record(
            session=session,
            clock=clock,
            actor_id=entered_by_id,
            action="case.intake",
            target_type="case",
            target_id=case.tracking_number,
            details={"channel": details.channel.value, "kind": details.kind.value},
        )
    return Submission(case, created=True)


async def get_case(*, session: AsyncSession, case_id: int) -> Case | None:
    return await session.scalar(select(Case).options(selectinload(Case.applicant)).where(Case.id == case_id))


async def find_by_tracking_number(*, session: AsyncSession, tracking_number: str) -> Case | None:
    """The case with this tracking number (typed any way), or None."""
    canonical = parse_tracking_number(tracking_number)
    if canonical is None:
        return None
    return await session.scalar(
        select(Case).options(selectinload(Case.applicant)).where(Case.tracking_number == canonical)
    )


@dataclass(frozen=True)
class LookupPolicy:
    max_misses: int
    window: timedelta


class TooManyLookups(DomainError):
    def __init__(self, retry_after: int) -> None:
        # Seconds until the address may ask again (the answer's Retry-After).
        self.retry_after = retry_after
        super().__init__(
            "too_many_lookups", N_("Too many enquiries that matched nothing. Wait a few minutes and try again.")
        )


async def find_for_applicant(
    *, session: AsyncSession, clock: Clock, tracking_number: str, phone: str, address: str, policy: LookupPolicy
) -> Case | None:
    """The case only when the phone is the one given with it; None gives no hint which part was wrong.

    Tracking numbers follow each other, so misses are counted per address and
    too many make the address wait (TooManyLookups); the caller commits the
    miss even though its answer is an error.

    A wrong phone on an existing number and a number that matches nothing (or is not one at all) do the same
    work: one query by number for the phone, one comparison of phones, one recorded miss. Loading the case for
    the first only was measurably slower, which told a guesser that the number exists.
    """
    await check_lookup_throttle(session=session, clock=clock, address=address, policy=policy)
    canonical = parse_tracking_number(tracking_number) or ""
    found = (await session.execute(select(Case.id, Case.phone).where(Case.tracking_number == canonical))).first()
    matched = same_phone(found.phone if found else "", phone) and found is not None
    await record_lookup(session=session, clock=clock, address=address, matched=matched)
    if not matched or found is None:
        return None
    return await get_case(session=session, case_id=found.id)


async def check_lookup_throttle(*, session: AsyncSession, clock: Clock, address: str, policy: LookupPolicy) -> None:
    """Refuses (TooManyLookups) an address that must still wait after its misses: max_misses free in the window,
    then a delay doubling from one second with each further miss (majlis.throttle.wait_after). The status of
    requests and of emergency reports share it, so guessing numbers on one is not a way round the other.

    Counted per address only, never per number: a count per number would let strangers stop an applicant from
    following their own request. An IPv6 address counts as its /64 (majlis.throttle.address_group)."""
    address = address_group(address)
    await serialise(session=session, keys=[f"status-lookup:{address}"])
    now = clock.now()
    misses, latest = (
        await session.execute(
            select(func.count(), func.max(StatusLookup.at)).where(
                StatusLookup.address == address, StatusLookup.at >= now - policy.window, StatusLookup.matched.is_(False)
            )
        )
    ).one()
    wait = wait_left(now=now, failures=int(misses or 0), latest=latest, free=policy.max_misses, window=policy.window)
    if wait > timedelta(0):
        raise TooManyLookups(retry_after_seconds(wait))


async def record_lookup(*, session: AsyncSession, clock: Clock, address: str, matched: bool) -> None:
    """Keeps one status enquiry, matched or not, for the throttle."""
    session.add(StatusLookup(address=address_group(address)[:64], at=clock.now(), matched=matched))
    await session.flush()


async def history(*, session: AsyncSession, case_id: int) -> list[StatusChange]:
    rows = await session.scalars(
        select(StatusChange).where(StatusChange.case_id == case_id).order_by(StatusChange.at, StatusChange.id)
    )
    return list(rows)


async def change_status(
    *,
    session: AsyncSession,
    clock: Clock,
    case: Case,
    to_status: CaseStatus,
    actor_id: int | None,
    note: str = "",
    note_key: str = "",
    note_params: dict[str, str] | None = None,
) -> StatusChange:
    """Move the case to a new status, recording who, when and why.

    `note` is a person's own words; `note_key` (marked with N_) and its params
    are a note of the system's, shown later in each reader's language.
    """
    change = StatusChange(
        case_id=case.id,
        from_status=case.status,
        to_status=to_status,
        at=clock.now(),
        actor_id=actor_id,
        note=note,
        note_key=note_key,
        note_params=note_params or {},
    )
    case.status = to_status
    session.add(change)
    if actor_id is not None:
        await audit.record(
            session=session,
            clock=clock,
            actor_id=actor_id,
            action="case.status",
            target_type="case",
            target_id=case.tracking_number,
            details={"from": change.from_status, "to": to_status.value, "note": note},
        )
    await session.flush()
    return change


# Statuses whose notice says no more than the new stage; the others have messages of their
# own, written by the change that causes them (the receipt, what is missing, the date).
_STAGE_TEXTS = {
    CaseStatus.REFERRED: referred_sms,
}


async def stage_notice(
    *, session: AsyncSession, clock: Clock, case: Case, change: StatusChange, status_url: str
) -> None:
    """Tells the applicant the request reached a new stage (referred), in their language (completion: `complete`)."""
    compose = _STAGE_TEXTS.get(change.to_status)
    if compose is None:
        raise ValueError(f"no stage notice for {change.to_status}")
    await outbox.sms_to_applicant(
        session=session,
        clock=clock,
        case=case,
        purpose=f"stage:{change.to_status.value}:{change.id}",
        compose=lambda language: compose(
            language=language, tracking_number=case.tracking_number, status_url=status_url
        ),
    )


async def complete(
    *, session: AsyncSession, clock: Clock, case: Case, actor_id: int | None, note: str, status_url: str
) -> StatusChange:
    """Closes the request as done (the department answered, the directive carried out) and tells the applicant."""
    if case.status in CLOSED:
        raise ValueError(f"request {case.tracking_number} is already closed ({case.status})")
    change = await change_status(
        session=session, clock=clock, case=case, to_status=CaseStatus.COMPLETED, actor_id=actor_id, note=note
    )
    # The completion SMS asks for a rating by a link usable once, instead of the status link.
    await invites.at_completion(
        session=session,
        clock=clock,
        case=case,
        staff_id=actor_id,
        purpose=f"stage:{change.to_status.value}:{change.id}",
        compose=lambda language: completed_sms(
            language=language, tracking_number=case.tracking_number, rating_link=outbox.RATING_LINK
        ),
    )
    return change


async def list_by_status(
    *,
    session: AsyncSession,
    statuses: set[CaseStatus],
    branch: str | None = None,
    kind: RequestKind | None = None,
    channel: Channel | None = None,
    limit: int = 200,
) -> list[Case]:
    """Cases in these statuses, oldest first, optionally of one branch, kind or channel (the first `limit`)."""
    query = status_lists.in_statuses(statuses, branch=branch, kind=kind, channel=channel)
    rows = await session.scalars(query.limit(limit))
    return list(rows)


async def count_by_status(*, session: AsyncSession) -> dict[CaseStatus, int]:
    rows = await session.execute(select(Case.status, func.count()).group_by(Case.status))
    return {status: n for status, n in rows.all()}


CLOSED = frozenset({CaseStatus.DUPLICATE, CaseStatus.REJECTED, CaseStatus.COMPLETED, CaseStatus.CLOSED_NO_SHOW})


async def lock_cases(*, session: AsyncSession, case_ids: list[int]) -> dict[int, Case]:
    """The cases, locked for update in id order (so two lockers never deadlock), read afresh."""
    query = (
        select(Case)
        .options(selectinload(Case.applicant))
        .where(Case.id.in_(case_ids))
        .order_by(Case.id)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Case)
    return {case.id: case for case in await session.scalars(query)}


async def recent_for_applicant(
    *, session: AsyncSession, applicant_id: int, phone: str, since: datetime, exclude_case_id: int
) -> list[Case]:
    """Open cases of the same applicant or the same phone submitted since a moment, newest first."""
    rows = await session.scalars(
        select(Case)
        .options(selectinload(Case.applicant))
        .where(
            or_(Case.applicant_id == applicant_id, Case.phone == phone),
            Case.submitted_at >= since,
            Case.id != exclude_case_id,
            Case.status.not_in(CLOSED),
        )
        .order_by(Case.submitted_at.desc())
    )
    return list(rows)


async def keep_text_of(*, session: AsyncSession, clock: Clock, case: Case, source: Case) -> CaseAddendum:
    """Keeps the source case's subject and text on the case (a merged duplicate's words are not lost)."""
    addendum = CaseAddendum(
        case_id=case.id,
        source_case_id=source.id,
        source_tracking_number=source.tracking_number,
        subject=source.subject,
        text=source.text,
        at=clock.now(),
    )
    session.add(addendum)
    await session.flush()
    return addendum


async def addenda(*, session: AsyncSession, case_id: int) -> list[CaseAddendum]:
    rows = await session.scalars(select(CaseAddendum).where(CaseAddendum.case_id == case_id).order_by(CaseAddendum.id))
    return list(rows)


async def cases_by_id(*, session: AsyncSession, case_ids: set[int]) -> dict[int, Case]:
    if not case_ids:
        return {}
    rows = await session.scalars(select(Case).options(selectinload(Case.applicant)).where(Case.id.in_(case_ids)))
    return {case.id: case for case in rows}


async def ids_by_tracking_number(*, session: AsyncSession, numbers: set[str]) -> dict[str, int]:
    """The case id of each tracking number given as stored (canonical); unknown numbers are left out."""
    if not numbers:
        return {}
    rows = await session.execute(select(Case.tracking_number, Case.id).where(Case.tracking_number.in_(numbers)))
    return {number: case_id for number, case_id in rows}


async def first_left_status(*, session: AsyncSession, case_ids: set[int], status: CaseStatus) -> dict[int, datetime]:
    """When each case first moved out of a status, for those that have."""
    if not case_ids:
        return {}
    rows = await session.execute(
        select(StatusChange.case_id, func.min(StatusChange.at))
        .where(StatusChange.case_id.in_(case_ids), StatusChange.from_status == status)
        .group_by(StatusChange.case_id)
    )
    return {case_id: at for case_id, at in rows.all()}
