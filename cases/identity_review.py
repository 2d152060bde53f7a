"""The audit desk's review of who a request is from: names that differ from the record, changes to the record.

Anyone can type someone else's ID number. So:

- on intake, a name that is not the one on record for the ID is flagged
  (IdentityFlag), and the desk settles the flag with a note;
- verifying a request never changes the applicant's record: the details the
  request was given with (kept on the case) that differ from the record are
  proposed (ApplicantChange), and the record changes only when the desk
  accepts the proposal. A proposal made before the record last changed is
  out of date and refused: it would overwrite what someone else decided.

Services flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from cases.models import Applicant, ApplicantChange, Case, Gender, IdentityFlag, Language
from cases.name_check import compare_names
from majlis.clock import Clock
from majlis.errors import N_, DomainError, InvalidInput, required, too_long

MAX_NOTE = 500

# The applicant's details a request is given with, in the order the desk reads them; the case keeps
# each under the same column name, except the name (applicant_name on the case).
RECORD_FIELDS = (
    "name",
    "phone",
    "gender",
    "email",
    "language",
    "care_elderly",
    "care_wheelchair",
    "care_transport",
    "care_interpreter",
)


class IdentityFlagNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("identity_flag_not_found", N_("This request has no name to review."))


class IdentityFlagAlreadyReviewed(DomainError):
    def __init__(self) -> None:
        super().__init__("identity_flag_reviewed", N_("The name of this request has already been reviewed."))


class ApplicantChangeNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("applicant_change_not_found", N_("This request has no such proposed change."))


class ApplicantChangeDecided(DomainError):
    def __init__(self) -> None:
        super().__init__("applicant_change_decided", N_("This proposed change has already been decided."))


class ApplicantChangeOutOfDate(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "applicant_change_out_of_date",
            N_(
                "The applicant's record has changed since this change was proposed, so it was not applied. "
                "Decline it, then verify the request again to compare it with the record as it is now."
            ),
        )


def _plain(value: object) -> object:
    """A record value as JSON keeps it: enums by their value."""
    return value.value if isinstance(value, Gender | Language) else value


def _column_value(field: str, value: object) -> object:
    """A value kept in a proposal as the record's column takes it: enums back from their value."""
    if field == "gender" and value is not None:
        return Gender(str(value))
    if field == "language":
        return Language(str(value))
    return value


def _as_given(case: Case, field: str) -> object:
    return _plain(case.applicant_name if field == "name" else getattr(case, field))


def _on_record(applicant: Applicant, field: str) -> object:
    return _plain(getattr(applicant, field))


async def flag_if_other_name(
    *, session: AsyncSession, clock: Clock, case: Case, applicant: Applicant
) -> IdentityFlag | None:
    """Flags the case when the name it was given with cannot be the name on record for its ID."""
    comparison = compare_names(case.applicant_name, applicant.name)
    if comparison.matches:
        return None
    flag = IdentityFlag(
        case_id=case.id,
        applicant_id=applicant.id,
        given_name=case.applicant_name,
        known_name=applicant.name,
        similarity=round(comparison.similarity, 3),
        flagged_at=clock.now(),
        review_note="",
    )
    session.add(flag)
    await session.flush()
    return flag


async def _created_the_applicant(*, session: AsyncSession, case: Case) -> bool:
    """Whether the case is its applicant's first request: the one that made the record."""
    first = await session.scalar(select(func.min(Case.id)).where(Case.applicant_id == case.applicant_id))
    return first == case.id


async def propose_changes(*, session: AsyncSession, clock: Clock, case: Case, actor_id: int) -> ApplicantChange | None:
    """Proposes the verified case's details that differ from the applicant's record; nothing else changes.

    Nothing is proposed for the request that made the record, when nothing
    differs, while the case has a proposal not yet decided, or when the desk
    already decided the same proposal (verifying again repeats nothing; after
    the record changed, it proposes against the record as it is now).
    """
    if await _created_the_applicant(session=session, case=case):
        return None
    latest = await session.scalar(
        select(ApplicantChange).where(ApplicantChange.case_id == case.id).order_by(ApplicantChange.id.desc()).limit(1)
    )
    if latest is not None and latest.decided_at is None:
        return None
    applicant = await session.get_one(Applicant, case.applicant_id, populate_existing=True)
    fields: dict[str, list[object]] = {}
    for field in RECORD_FIELDS:
        before, after = _on_record(applicant, field), _as_given(case, field)
        if before != after:
            fields[field] = [before, after]
    if not fields or (latest is not None and latest.fields == fields):
        return None
    change = ApplicantChange(
        applicant_id=applicant.id,
        case_id=case.id,
        fields=fields,
        proposed_at=clock.now(),
        proposed_by_id=actor_id,
    )
    session.add(change)
    await session.flush()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="applicant.change_proposed",
        target_type="case",
        target_id=case.tracking_number,
        details={"change_id": change.id, "fields": sorted(fields)},
    )
    return change


def _locked(session: AsyncSession, query: Any) -> Any:
    # SQLite's write transaction is already exclusive; PostgreSQL locks the rows.
    return query.with_for_update() if session.get_bind().dialect.name == "postgresql" else query


async def _open_change(*, session: AsyncSession, case: Case, change_id: int) -> tuple[ApplicantChange, Applicant]:
    """The case's proposal and its applicant, both locked, read afresh; refused when decided."""
    change: ApplicantChange | None = await session.scalar(
        _locked(session, select(ApplicantChange))
        .where(ApplicantChange.id == change_id, ApplicantChange.case_id == case.id)
        .execution_options(populate_existing=True)
    )
    if change is None:
        raise ApplicantChangeNotFound()
    applicant: Applicant | None = await session.scalar(
        _locked(session, select(Applicant))
        .where(Applicant.id == change.applicant_id)
        .execution_options(populate_existing=True)
    )
    assert applicant is not None  # the change's foreign key
    if change.decided_at is not None:
        raise ApplicantChangeDecided()
    return change, applicant


async def accept_change(
    *, session: AsyncSession, clock: Clock, case: Case, change_id: int, actor_id: int
) -> ApplicantChange:
    """Writes the proposed details on the applicant's record, if the record is still as the proposal saw it."""
    change, applicant = await _open_change(session=session, case=case, change_id=change_id)
    stale = applicant.updated_at > change.proposed_at or any(
        _on_record(applicant, field) != before for field, (before, _after) in change.fields.items()
    )
    if stale:
        raise ApplicantChangeOutOfDate()
    for field, (_before, after) in change.fields.items():
        setattr(applicant, field, _column_value(field, after))
    now = clock.now()
    applicant.updated_at = now
    change.decided_at, change.decided_by_id, change.accepted = now, actor_id, True
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="applicant.change_accepted",
        target_type="applicant",
        target_id=applicant.id,
        details={"case": case.tracking_number, "change_id": change.id, "fields": change.fields},
    )
    await session.flush()
    return change


async def decline_change(
    *, session: AsyncSession, clock: Clock, case: Case, change_id: int, actor_id: int
) -> ApplicantChange:
    """Records that the desk declined the proposal; the applicant's record stays as it is."""
    change, applicant = await _open_change(session=session, case=case, change_id=change_id)
    change.decided_at, change.decided_by_id, change.accepted = clock.now(), actor_id, False
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="applicant.change_declined",
        target_type="applicant",
        target_id=applicant.id,
        details={"case": case.tracking_number, "change_id": change.id, "fields": sorted(change.fields)},
    )
    await session.flush()
    return change


def checked_note(note: str) -> str:
    """The review's note, required and at most MAX_NOTE characters; InvalidInput names the field."""
    note = note.strip()
    if not note:
        raise InvalidInput([required("note")])
    if len(note) > MAX_NOTE:
        raise InvalidInput([too_long("note", MAX_NOTE)])
    return note


async def review_flag(*, session: AsyncSession, clock: Clock, case: Case, actor_id: int, note: str) -> IdentityFlag:
    """Settles the case's name flag with the desk's note (who, when and what they found)."""
    note = checked_note(note)
    flag: IdentityFlag | None = await session.scalar(
        _locked(session, select(IdentityFlag))
        .where(IdentityFlag.case_id == case.id)
        .execution_options(populate_existing=True)
    )
    if flag is None:
        raise IdentityFlagNotFound()
    if flag.reviewed_at is not None:
        raise IdentityFlagAlreadyReviewed()
    flag.reviewed_at, flag.reviewed_by_id, flag.review_note = clock.now(), actor_id, note
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="identity.flag_reviewed",
        target_type="case",
        target_id=case.tracking_number,
        details={"note": note},
    )
    await session.flush()
    return flag


@dataclass(frozen=True)
class CaseIdentity:
    """What the desk reads about who a request is from: its name flag and its proposed changes, oldest first."""

    flag: IdentityFlag | None
    changes: list[ApplicantChange]


async def identity_of(*, session: AsyncSession, case_id: int) -> CaseIdentity:
    flag = await session.get(IdentityFlag, case_id)
    changes = await session.scalars(
        select(ApplicantChange).where(ApplicantChange.case_id == case_id).order_by(ApplicantChange.id)
    )
    return CaseIdentity(flag=flag, changes=list(changes))


@dataclass(frozen=True)
class OpenReview:
    """A request waiting for the desk: a name to settle, proposed changes to decide, or both."""

    case: Case
    flag: IdentityFlag | None
    open_changes: int


async def open_reviews(*, session: AsyncSession, limit: int = 200) -> list[OpenReview]:
    """Requests with an unsettled name flag or an undecided change, the oldest first, so none is missed."""
    flags = {
        f.case_id: f for f in await session.scalars(select(IdentityFlag).where(IdentityFlag.reviewed_at.is_(None)))
    }
    grouped = await session.execute(
        select(ApplicantChange.case_id, func.count())
        .where(ApplicantChange.decided_at.is_(None))
        .group_by(ApplicantChange.case_id)
    )
    counts: dict[int, int] = {case_id: n for case_id, n in grouped.all()}
    case_ids = set(flags) | set(counts)
    if not case_ids:
        return []
    rows = await session.scalars(
        select(Case).where(Case.id.in_(case_ids)).order_by(Case.submitted_at, Case.id).limit(limit)
    )
    return [OpenReview(case=c, flag=flags.get(c.id), open_changes=counts.get(c.id, 0)) for c in rows]
