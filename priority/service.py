"""The audit desk's actions on a case: verify, classify, route, ask for information, reject, move up.

Every hand-made change of category, urgency, route or queue position needs a
reason from the list plus free text; it is written to the fairness record
(manual_changes) and to the audit log with the actor and the before/after values.
Services flush, never commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from cases import identity_review
from cases import service as cases
from cases.models import Case, CaseStatus, Gender
from fairness import chain
from followup import information, referrals
from followup.models import ReferralSource
from majlis.clock import Clock
from majlis.errors import N_, FieldError, InvalidInput, invalid_choice, required, too_long
from majlis.numbers import whole_number
from notify import outbox
from notify.texts import rejected_sms
from priority import chain_record
from priority.errors import CaseNotFound, NotOpenForTriage, NotReadyToRoute
from priority.models import Category, ChangedField, ChangeReason, ManualChange, Route, Triage
from priority.score import MAX_CATEGORY_WEIGHT, Urgency

URGENCY_RANK = {Urgency.NORMAL: 0, Urgency.URGENT: 1, Urgency.CRITICAL: 2}
MAX_NOTE = 500


@dataclass(frozen=True)
class Justification:
    """Why a change was made by hand: a reason from the list and the desk's own words."""

    reason: ChangeReason
    text: str


def read_justification(reason: str | None, text: str | None, errors: list[FieldError]) -> Justification | None:
    """The justification if one was given; problems with it are added to errors."""
    reason = (reason or "").strip()
    text = (text or "").strip()
    if not reason and not text:
        return None
    choice: ChangeReason | None = None
    # A repeated request is a reason only Majlis gives, by its rule; staff cannot claim it.
    staff_reasons = [r for r in ChangeReason if r is not ChangeReason.REPEATED_REQUEST]
    try:
        choice = ChangeReason(reason)
        if choice not in staff_reasons:
            raise ValueError(reason)
    except ValueError:
        choice = None
        errors.append(
            FieldError(
                "change_reason",
                "invalid_choice" if reason else "missing",
                N_("{field} must be one of: {choices}."),
                {"choices": ", ".join(r.value for r in staff_reasons)},
            )
        )
    if not text:
        errors.append(required("change_text"))
    elif len(text) > MAX_NOTE:
        errors.append(too_long("change_text", MAX_NOTE))
    return Justification(choice, text) if choice is not None and text and len(text) <= MAX_NOTE else None


def _require_justification(justification: Justification | None, why: str, errors: list[FieldError]) -> None:
    if justification is None and not any(e.field in ("change_reason", "change_text") for e in errors):
        errors.append(FieldError("change_reason", "reason_required", why))


async def open_case(*, session: AsyncSession, tracking_number: str) -> Case:
    """The case, locked for this transaction, if it exists and can still be triaged.

    Every desk action goes through here: two actions on one case (a reject
    racing a merge, two moves up the queue) run one after the other, and the
    second sees what the first did. The fairness chain's turn is taken before the case's row
    (fairness.chain.take_turn): classify, route and move up append to the chain, and a desk action that
    does not (verify) may share a transaction with one that does.
    """
    await chain.take_turn(session=session)
    found = await cases.find_by_tracking_number(session=session, tracking_number=tracking_number)
    if found is None:
        raise CaseNotFound()
    case = (await cases.lock_cases(session=session, case_ids=[found.id]))[found.id]
    if case.status in cases.CLOSED:
        raise NotOpenForTriage()
    return case


def empty_triage(*, clock: Clock, case: Case) -> Triage:
    """A triage row for a case nobody has triaged yet, not added to the session."""
    return Triage(case_id=case.id, urgency_reason="", women_section=False, queue_adjustment=0, updated_at=clock.now())


async def triage_of(*, session: AsyncSession, clock: Clock, case: Case) -> Triage:
    """The case's triage row, created empty on first use (call with the case locked)."""
    await session.execute(
        _insert(session)(Triage)
        .values(case_id=case.id, urgency_reason="", women_section=False, queue_adjustment=0, updated_at=clock.now())
        .on_conflict_do_nothing(index_elements=[Triage.case_id])
    )
    return await session.get_one(Triage, case.id, populate_existing=True)


async def current_triage(*, session: AsyncSession, clock: Clock, case: Case) -> Triage:
    """The case's triage as it stands, for reading: nothing is written."""
    return await session.get(Triage, case.id) or empty_triage(clock=clock, case=case)


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def category(*, session: AsyncSession, code: str) -> Category | None:
    """One category by its code, active or not (its weight and implied urgency score a request)."""
    return await session.get(Category, code)


async def categories(*, session: AsyncSession, active_only: bool = True) -> list[Category]:
    query = select(Category).order_by(Category.position)
    if active_only:
        query = query.where(Category.active.is_(True))
    return list(await session.scalars(query))


async def record_manual_change(
    *,
    session: AsyncSession,
    clock: Clock,
    case: Case,
    actor_id: int,
    field: ChangedField,
    before: str,
    after: str,
    justification: Justification,
) -> None:
    change = ManualChange(
        case_id=case.id,
        actor_id=actor_id,
        at=clock.now(),
        field=field,
        before=before,
        after=after,
        reason=justification.reason,
        reason_text=justification.text,
    )
    session.add(change)
    await chain_record.override(session=session, clock=clock, change=change, tracking_number=case.tracking_number)
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action=f"triage.manual_change.{field.value}",
        target_type="case",
        target_id=case.tracking_number,
        details={"before": before, "after": after, "reason": justification.reason.value, "text": justification.text},
    )


async def _chain_score(
    *, session: AsyncSession, clock: Clock, case: Case, actor_id: int, what: str, was: dict[str, Any], triage: Triage
) -> None:
    """The fairness chain's SCORE entry: what the queue orders the request by, before and after."""
    await chain_record.score(
        session=session,
        clock=clock,
        case_id=case.id,
        tracking_number=case.tracking_number,
        actor_id=actor_id,
        what=what,
        before=was,
        triage=triage,
    )


async def verify(*, session: AsyncSession, clock: Clock, tracking_number: str, actor_id: int) -> Triage:
    """Marks the applicant's identity and the request's completeness as checked.

    The details the request was given with that differ from the applicant's
    record are proposed as a change to it (never written to it here).
    """
    case = await open_case(session=session, tracking_number=tracking_number)
    triage = await triage_of(session=session, clock=clock, case=case)
    triage.verified_at = clock.now()
    triage.verified_by_id = actor_id
    triage.updated_at = clock.now()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="triage.verify",
        target_type="case",
        target_id=case.tracking_number,
    )
    # The record is not changed here: what differs is proposed, for the desk to accept or decline.
    await identity_review.propose_changes(session=session, clock=clock, case=case, actor_id=actor_id)
    if case.status is CaseStatus.NEEDS_INFORMATION:
        await cases.change_status(
            session=session,
            clock=clock,
            case=case,
            to_status=CaseStatus.RECEIVED,
            actor_id=actor_id,
            note_key=N_("The information asked for has been completed."),
        )
    await session.flush()
    return triage


async def classify(
    *,
    session: AsyncSession,
    clock: Clock,
    tracking_number: str,
    actor_id: int,
    category: str,
    urgency: str,
    change_reason: str | None = None,
    change_text: str | None = None,
) -> Triage:
    """Sets the category and urgency.

    Raising the urgency above what the category implies, or changing a
    category or urgency already set, needs a justification; InvalidInput names
    every problem and nothing is changed.
    """
    case = await open_case(session=session, tracking_number=tracking_number)
    errors: list[FieldError] = []
    chosen = await session.get(Category, category) if category else None
    if chosen is None or not chosen.active:
        errors.append(
            FieldError(
                "category", "unknown" if category else "missing", N_("{field} is not in the list of categories.")
            )
        )
    level: Urgency | None = None
    try:
        level = Urgency(urgency)
    except ValueError:
        errors.append(invalid_choice("urgency", (u.value for u in Urgency)))
    justification = read_justification(change_reason, change_text, errors)
    triage = await triage_of(session=session, clock=clock, case=case)
    if chosen is not None and level is not None:
        raised = URGENCY_RANK[level] > URGENCY_RANK[chosen.implied_urgency]
        lowered = URGENCY_RANK[level] < URGENCY_RANK[chosen.implied_urgency]
        changed = (triage.category_code not in (None, chosen.code)) or (triage.urgency not in (None, level))
        if raised:
            _require_justification(
                justification, N_("Raising the urgency above what the category implies needs a reason."), errors
            )
        elif lowered:
            _require_justification(
                justification, N_("Lowering the urgency below what the category implies needs a reason."), errors
            )
        elif changed:
            _require_justification(justification, N_("Changing a classification already made needs a reason."), errors)
    if errors:
        raise InvalidInput(errors)
    assert chosen is not None and level is not None
    was = await chain_record.classification(session=session, triage=triage)
    if justification is not None:
        if triage.category_code not in (None, chosen.code):
            await record_manual_change(
                session=session,
                clock=clock,
                case=case,
                actor_id=actor_id,
                field=ChangedField.CATEGORY,
                before=triage.category_code or "",
                after=chosen.code,
                justification=justification,
            )
        previous_urgency = triage.urgency or chosen.implied_urgency
        # Recorded whenever the urgency differs from what it was, or from what the category implies.
        if level is not previous_urgency or level is not chosen.implied_urgency:
            await record_manual_change(
                session=session,
                clock=clock,
                case=case,
                actor_id=actor_id,
                field=ChangedField.URGENCY,
                before=previous_urgency.value,
                after=level.value,
                justification=justification,
            )
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="triage.classify",
        target_type="case",
        target_id=case.tracking_number,
        details={
            "before": {"category": triage.category_code, "urgency": triage.urgency and triage.urgency.value},
            "after": {"category": chosen.code, "urgency": level.value},
        },
    )
    triage.category_code = chosen.code
    triage.urgency = level
    triage.urgency_reason = (
        justification.text if justification and URGENCY_RANK[level] > URGENCY_RANK[chosen.implied_urgency] else ""
    )
    triage.updated_at = clock.now()
    await _chain_score(
        session=session, clock=clock, case=case, actor_id=actor_id, what="classify", was=was, triage=triage
    )
    await session.flush()
    return triage


async def route(
    *,
    session: AsyncSession,
    clock: Clock,
    tracking_number: str,
    actor_id: int,
    to: str,
    status_url: str,
    change_reason: str | None = None,
    change_text: str | None = None,
    departments: str = "",
    referral_text: str = "",
) -> Triage:
    """Sends the case to an audience (in person or by video) or to a written referral (the applicant told).

    A written referral names its departments by code and carries the desk's referral text; it goes
    to them at once (followup.referrals), each with its deadlines.
    """
    case = await open_case(session=session, tracking_number=tracking_number)
    errors: list[FieldError] = []
    target: Route | None = None
    try:
        target = Route(to)
    except ValueError:
        errors.append(invalid_choice("route", (r.value for r in Route)))
    justification = read_justification(change_reason, change_text, errors)
    codes = referrals.department_codes(departments)
    if target is Route.WRITTEN_REFERRAL:
        if not codes:
            errors.append(FieldError("departments", "missing", N_("Choose at least one department.")))
        if not referral_text.strip():
            errors.append(required("referral_text"))
    elif target is not None and await referrals.open_referrals(session=session, case_id=case.id):
        errors.append(
            FieldError("route", "referred", N_("The request is with departments; close its referrals first."))
        )
    triage = await triage_of(session=session, clock=clock, case=case)
    if target is not None and triage.route not in (None, target):
        _require_justification(justification, N_("Changing a route already set needs a reason."), errors)
    if errors:
        raise InvalidInput(errors)
    assert target is not None
    if triage.verified_at is None or triage.category_code is None or triage.urgency is None:
        raise NotReadyToRoute()
    was = await chain_record.classification(session=session, triage=triage)
    if justification is not None and triage.route not in (None, target):
        await record_manual_change(
            session=session,
            clock=clock,
            case=case,
            actor_id=actor_id,
            field=ChangedField.ROUTE,
            before=triage.route.value if triage.route else "",
            after=target.value,
            justification=justification,
        )
    # The women's section serves women: their video audiences go through its rooms.
    triage.women_section = target is Route.AUDIENCE_VIDEO and case.gender is Gender.FEMALE
    triage.route = target
    triage.updated_at = clock.now()
    await _chain_score(session=session, clock=clock, case=case, actor_id=actor_id, what="route", was=was, triage=triage)
    if target is Route.WRITTEN_REFERRAL:
        chosen = await referrals.departments_by_code(session=session, codes=codes)
        await referrals.refer(
            session=session,
            clock=clock,
            case=case,
            department_ids=[d.id for d in chosen],
            directive=referral_text,
            source=ReferralSource.AUDIT_DESK,
            category_code=triage.category_code,
            urgency=triage.urgency,
            actor_id=actor_id,
            status_url=status_url,
        )
    elif case.status is not CaseStatus.AWAITING_AUDIENCE:
        await cases.change_status(
            session=session, clock=clock, case=case, to_status=CaseStatus.AWAITING_AUDIENCE, actor_id=actor_id
        )
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="triage.route",
        target_type="case",
        target_id=case.tracking_number,
        details={"route": target.value, "women_section": triage.women_section, "departments": ", ".join(codes)},
    )
    await session.flush()
    return triage


def _required_note(value: str, field: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput([required(field)])
    if len(value) > MAX_NOTE:
        raise InvalidInput([too_long(field, MAX_NOTE)])
    return value


async def request_information(
    *, session: AsyncSession, clock: Clock, tracking_number: str, actor_id: int, missing: str, status_url: str
) -> None:
    """Asks the applicant for what is missing (followup.information): the request waits for their answer."""
    missing = _required_note(missing, "missing")
    case = await open_case(session=session, tracking_number=tracking_number)
    await information.ask_applicant(
        session=session, clock=clock, case=case, question=missing, actor_id=actor_id, status_url=status_url
    )


REJECTION_NOTE = N_("The request cannot be accepted: {reason}")


async def reject(
    *, session: AsyncSession, clock: Clock, tracking_number: str, actor_id: int, reason: str, status_url: str
) -> None:
    """Closes the case as rejected and tells the applicant why."""
    reason = _required_note(reason, "reason")
    case = await open_case(session=session, tracking_number=tracking_number)
    # The reason is the applicant's to read (the SMS says it too): a note of the system's, with the desk's words.
    await cases.change_status(
        session=session,
        clock=clock,
        case=case,
        to_status=CaseStatus.REJECTED,
        actor_id=actor_id,
        note=reason,
        note_key=REJECTION_NOTE,
        note_params={"reason": reason},
    )
    await outbox.sms_to_applicant(
        session=session,
        clock=clock,
        case=case,
        purpose="rejected",
        compose=lambda language: rejected_sms(
            language=language, tracking_number=case.tracking_number, reason=reason, status_url=status_url
        ),
    )


async def move_up(
    *,
    session: AsyncSession,
    clock: Clock,
    tracking_number: str,
    actor_id: int,
    points: int,
    change_reason: str | None,
    change_text: str | None,
) -> Triage:
    """Moves a case up the queue by hand: always justified, always in the fairness record."""
    case = await open_case(session=session, tracking_number=tracking_number)
    errors: list[FieldError] = []
    if not 1 <= points <= 300:
        errors.append(
            FieldError(
                "points", "out_of_range", N_("{field} must be between {min} and {max}."), {"min": "1", "max": "300"}
            )
        )
    justification = read_justification(change_reason, change_text, errors)
    _require_justification(justification, N_("Moving a request up the queue needs a reason."), errors)
    if errors:
        raise InvalidInput(errors)
    assert justification is not None
    triage = await triage_of(session=session, clock=clock, case=case)
    was = await chain_record.classification(session=session, triage=triage)
    before = triage.queue_adjustment
    triage.queue_adjustment = before + points
    triage.updated_at = clock.now()
    await _chain_score(
        session=session, clock=clock, case=case, actor_id=actor_id, what="move_up", was=was, triage=triage
    )
    await record_manual_change(
        session=session,
        clock=clock,
        case=case,
        actor_id=actor_id,
        field=ChangedField.QUEUE_POSITION,
        before=str(before),
        after=str(triage.queue_adjustment),
        justification=justification,
    )
    await session.flush()
    return triage


async def triages(*, session: AsyncSession, case_ids: set[int]) -> dict[int, Triage]:
    if not case_ids:
        return {}
    rows = await session.scalars(select(Triage).where(Triage.case_id.in_(case_ids)))
    return {t.case_id: t for t in rows}


async def changes_for(*, session: AsyncSession, case_id: int) -> list[ManualChange]:
    rows = await session.scalars(select(ManualChange).where(ManualChange.case_id == case_id).order_by(ManualChange.id))
    return list(rows)


_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


async def add_category(
    *,
    session: AsyncSession,
    clock: Clock,
    actor_id: int,
    code: str,
    name_ar: str,
    name_en: str,
    weight: str,
    implied_urgency: str,
) -> Category:
    """A new category at the end of the managed list; InvalidInput names every bad field."""
    errors: list[FieldError] = []
    code = code.strip().lower()
    if not _CODE.match(code):
        errors.append(FieldError("code", "invalid", N_("{field} must be 2 to 40 small Latin letters, digits or _.")))
    elif await session.get(Category, code) is not None:
        errors.append(FieldError("code", "taken", N_("A category with this code already exists.")))
    for field, value in (("name_ar", name_ar), ("name_en", name_en)):
        if not value.strip():
            errors.append(required(field))
        elif len(value.strip()) > 120:
            errors.append(too_long(field, 120))
    points = whole_number(weight)
    points = -1 if points is None else points
    if not 0 <= points <= MAX_CATEGORY_WEIGHT:
        # Above this a category could lift a request over a whole urgency band.
        errors.append(
            FieldError(
                "weight",
                "out_of_range",
                N_("{field} must be between {min} and {max}."),
                {"min": "0", "max": str(MAX_CATEGORY_WEIGHT)},
            )
        )
    level: Urgency | None = None
    try:
        level = Urgency(implied_urgency)
    except ValueError:
        errors.append(invalid_choice("implied_urgency", (u.value for u in Urgency)))
    if errors:
        raise InvalidInput(errors)
    assert level is not None
    last = await session.scalar(select(func.max(Category.position)))
    category = Category(
        code=code,
        name_ar=name_ar.strip(),
        name_en=name_en.strip(),
        weight=points,
        implied_urgency=level,
        position=(last or 0) + 1,
        active=True,
    )
    session.add(category)
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="category.add",
        target_type="category",
        target_id=code,
        details={"weight": points, "implied_urgency": level.value},
    )
    await session.flush()
    return category


async def set_category_active(
    *, session: AsyncSession, clock: Clock, actor_id: int, code: str, active: bool
) -> Category:
    """Takes a category out of the list (or back); requests already classified keep it."""
    category = await session.get(Category, code)
    if category is None:
        raise InvalidInput([FieldError("category", "unknown", N_("{field} is not in the list of categories."))])
    category.active = active
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="category.active",
        target_type="category",
        target_id=code,
        details={"active": active},
    )
    await session.flush()
    return category


async def category_weights(*, session: AsyncSession) -> dict[str, int]:
    """Each category's weight, by code (taken-out categories too: classified requests keep theirs)."""
    return {c.code: c.weight for c in await session.scalars(select(Category))}
