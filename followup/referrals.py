"""Referring a request to departments, and each step of a referral: the department's and the follow-up team's.

A referral belongs to one department. The department acknowledges it, gives
news, asks the applicant for information (the clocks stop), answers, or says it
is not theirs (it comes back to the follow-up team). The follow-up team
reminds, notes calls, escalates, extends with a reason and closes with the
outcome the applicant is told; closing the last open referral completes the
request. Every step is an event in the request's history.

Callers lock nothing themselves: each step locks its referral (and the
request where it changes it) and checks the state it found, so two people
acting at once get one change and one clear refusal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cases import service as cases
from cases.models import Case, CaseStatus
from followup import contacts, notices, policies, timers
from followup.models import (
    OPEN_REFERRAL_STATES,
    ContactRole,
    Department,
    EventKind,
    InformationRequest,
    Referral,
    ReferralEvent,
    ReferralSource,
    ReferralState,
)
from majlis.clock import Clock
from majlis.errors import N_, DomainError, FieldError, InvalidInput, required, too_long
from priority.score import Urgency

ARABIC_COMMA = "\u060c"
MAX_DIRECTIVE = 4000
MAX_NOTE = 4000
# An extension beyond this many working minutes (20 government working days) is a new referral, not an extension.
MAX_EXTENSION = 20 * 7 * 60


class ReferralRefused(DomainError):
    """A step the referral cannot take now (closed, moved on, answered already, waiting for the applicant)."""


class ReferralNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("referral_not_found", N_("There is no such referral."))


def checked_text(value: str, field: str, limit: int = MAX_NOTE, *, needed: bool = True) -> str:
    value = value.strip()
    if needed and not value:
        raise InvalidInput([required(field)])
    if len(value) > limit:
        raise InvalidInput([too_long(field, limit)])
    return value


async def _event(
    *,
    session: AsyncSession,
    clock: Clock,
    referral: Referral,
    kind: EventKind,
    actor_id: int | None,
    by: str = "",
    text: str = "",
    details: dict[str, str] | None = None,
) -> ReferralEvent:
    event = ReferralEvent(
        referral_id=referral.id,
        case_id=referral.case_id,
        kind=kind,
        at=clock.now(),
        actor_id=actor_id,
        by=by,
        text=text,
        details=details or {},
    )
    session.add(event)
    await session.flush()
    return event


async def _rules(session: AsyncSession, referral: Referral) -> timers.Rules:
    return (await timers.rules_for(session=session, referrals=[referral]))[referral.id]


async def lock(*, session: AsyncSession, referral_id: int, generation: int | None = None) -> Referral:
    """The referral, read afresh and locked; a link of an earlier generation is refused as moved on."""
    query = select(Referral).where(Referral.id == referral_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    referral = await session.scalar(query)
    if referral is None:
        raise ReferralNotFound()
    if generation is not None and generation != referral.generation:
        raise ReferralRefused(
            "moved_on", N_("This link is no longer valid: the referral has moved on. Ask the follow-up team.")
        )
    return referral


def require(referral: Referral, states: frozenset[ReferralState]) -> None:
    if referral.state in states:
        return
    reasons = {
        ReferralState.CLOSED: ("closed", N_("This referral is closed; nothing more can be done on it.")),
        ReferralState.RETURNED: ("returned", N_("This referral was returned to the follow-up team.")),
        ReferralState.ANSWERED: ("answered", N_("This referral has been answered already.")),
        ReferralState.AWAITING_APPLICANT: (
            "awaiting_applicant",
            N_("This referral is waiting for the applicant's answer."),
        ),
        ReferralState.ACKNOWLEDGED: ("acknowledged", N_("This referral has been acknowledged already.")),
        ReferralState.SENT: ("not_acknowledged", N_("The department has not acknowledged this referral yet.")),
    }
    code, message = reasons[referral.state]
    raise ReferralRefused(code, message)


async def _case(session: AsyncSession, referral: Referral) -> Case:
    locked = await cases.lock_cases(session=session, case_ids=[referral.case_id])
    return locked[referral.case_id]


# --- referring ------------------------------------------------------------------------------------


async def refer(
    *,
    session: AsyncSession,
    clock: Clock,
    case: Case,
    department_ids: Sequence[int],
    directive: str,
    source: ReferralSource,
    category_code: str | None,
    urgency: Urgency | None,
    actor_id: int | None,
    status_url: str,
) -> list[Referral]:
    """Sends the request to one or more departments with the directive; each gets its deadlines and an e-mail.

    The case must be locked by the caller. The request becomes referred, and
    the applicant is told to whom in plain words.
    """
    errors: list[FieldError] = []
    directive = directive.strip()
    if not directive:
        errors.append(required("directive"))
    elif len(directive) > MAX_DIRECTIVE:
        errors.append(too_long("directive", MAX_DIRECTIVE))
    wanted = list(dict.fromkeys(department_ids))
    departments: list[Department] = []
    if not wanted:
        errors.append(FieldError("departments", "missing", N_("Choose at least one department.")))
    else:
        found = {d.id: d for d in await session.scalars(select(Department).where(Department.id.in_(wanted)))}
        if any(i not in found or not found[i].active for i in wanted):
            errors.append(
                FieldError("departments", "unknown", N_("{field} names a department that is not in service."))
            )
        departments = [found[i] for i in wanted if i in found]
        already = set(
            await session.scalars(
                select(Referral.department_id).where(
                    Referral.case_id == case.id,
                    Referral.department_id.in_(wanted),
                    Referral.state.in_(OPEN_REFERRAL_STATES),
                )
            )
        )
        if already:
            # Both names: the error's parameters are not translated.
            names = "; ".join(f"{d.name_ar} ({d.name_en})" for d in departments if d.id in already)
            errors.append(
                FieldError(
                    "departments",
                    "already_referred",
                    N_("The request is already with {names}."),
                    {"names": names},
                )
            )
    if errors:
        raise InvalidInput(errors)
    if case.status in cases.CLOSED:
        raise ReferralRefused("case_closed", N_("This request is already closed."))

    now = clock.now()
    policy = await policies.policy_for(session=session, category_code=category_code, urgency=urgency)
    made: list[Referral] = []
    for department in departments:
        referral = Referral(
            case_id=case.id,
            department_id=department.id,
            policy_id=policy.id,
            source=source,
            directive=directive,
            state=ReferralState.SENT,
            generation=1,
            created_at=now,
            created_by_id=actor_id,
            first_response_due_at=now,
            solution_due_at=now,
            extended_minutes=0,
            escalation_level=0,
            answer="",
            outcome="",
        )
        session.add(referral)
        made.append(referral)
    await session.flush()
    rules = await timers.rules_for(session=session, referrals=made)
    for referral, department in zip(made, departments, strict=True):
        timers.set_deadlines(rules[referral.id], referral)
        await _event(
            session=session,
            clock=clock,
            referral=referral,
            kind=EventKind.SENT,
            actor_id=actor_id,
            text=directive,
            details={"department": department.code, "source": source.value},
        )
        for person in await contacts.addressees(session=session, department_id=department.id, role=ContactRole.LIAISON):
            await notices.email_department(
                session=session,
                clock=clock,
                referral=referral,
                case=case,
                to=person,
                texts=notices.NEW_REFERRAL,
                purpose=f"followup:new:{referral.id}:{person.email}",
            )
    if case.status is not CaseStatus.REFERRED:
        await cases.change_status(
            session=session,
            clock=clock,
            case=case,
            to_status=CaseStatus.REFERRED,
            actor_id=actor_id,
            note=directive,
        )
    await notices.tell_applicant_referred(
        session=session,
        clock=clock,
        case=case,
        departments=departments,
        status_url=status_url,
        key=str(made[0].id),
    )
    await session.flush()
    return made


def department_codes(text: str) -> list[str]:
    """Department codes as typed or sent by a form: split at commas, Arabic commas or spaces; in order, once each."""
    parts = text.replace(ARABIC_COMMA, ",").replace(",", " ").split()
    return list(dict.fromkeys(part.strip().lower() for part in parts if part.strip()))


async def departments_by_code(*, session: AsyncSession, codes: Sequence[str]) -> list[Department]:
    """The departments named, in the order given; an unknown or retired code is refused by name."""
    found = {d.code: d for d in await session.scalars(select(Department).where(Department.code.in_(list(codes))))}
    missing = [code for code in codes if code not in found or not found[code].active]
    if missing:
        raise InvalidInput(
            [
                FieldError(
                    "referred_to",
                    "unknown",
                    N_("No department in service has the code {codes}."),
                    {"codes": ", ".join(missing)},
                )
            ]
        )
    return [found[code] for code in codes]


# --- the department's side --------------------------------------------------------------------


async def acknowledge(
    *, session: AsyncSession, clock: Clock, referral_id: int, generation: int | None, actor_id: int | None, by: str
) -> Referral:
    """The department has the referral and is working on it: the first-response clock is met."""
    referral = await lock(session=session, referral_id=referral_id, generation=generation)
    require(referral, frozenset({ReferralState.SENT}))
    now = clock.now()
    referral.state = ReferralState.ACKNOWLEDGED
    referral.acknowledged_at = now
    referral.last_update_at = now
    timers.set_update_due(await _rules(session, referral), referral)
    await _event(session=session, clock=clock, referral=referral, kind=EventKind.ACKNOWLEDGED, actor_id=actor_id, by=by)
    return referral


async def post_update(
    *,
    session: AsyncSession,
    clock: Clock,
    referral_id: int,
    generation: int | None,
    actor_id: int | None,
    by: str,
    text: str,
) -> Referral:
    """News from the department on its work; it acknowledges the referral if it had not yet."""
    text = checked_text(text, "text", MAX_NOTE)
    referral = await lock(session=session, referral_id=referral_id, generation=generation)
    require(referral, timers.OWING)
    now = clock.now()
    if referral.state is ReferralState.SENT:
        referral.state = ReferralState.ACKNOWLEDGED
        referral.acknowledged_at = now
    referral.last_update_at = now
    timers.set_update_due(await _rules(session, referral), referral)
    await _event(
        session=session, clock=clock, referral=referral, kind=EventKind.UPDATE, actor_id=actor_id, by=by, text=text
    )
    return referral


async def information_asked(
    *, session: AsyncSession, clock: Clock, referral: Referral, request: InformationRequest, by: str = ""
) -> None:
    """The department asked the applicant (followup.information): the clocks stop until the answer.

    The referral must be locked (followup.information.ask_applicant is called after `lock`).
    """
    require(referral, timers.OWING)
    now = clock.now()
    if referral.acknowledged_at is None:
        referral.acknowledged_at = now
    referral.state = ReferralState.AWAITING_APPLICANT
    timers.pause(referral, now=now)
    await _event(
        session=session,
        clock=clock,
        referral=referral,
        kind=EventKind.INFORMATION_ASKED,
        actor_id=request.asked_by_id,
        by=by,
        text=request.question,
        details={"information_request": str(request.id)},
    )


async def information_given(
    *, session: AsyncSession, clock: Clock, referral: Referral, request: InformationRequest
) -> None:
    """The applicant answered: the clocks run again from where they stopped, and the department is told."""
    referral = await lock(session=session, referral_id=referral.id)
    if referral.state is not ReferralState.AWAITING_APPLICANT:
        # Closed or returned meanwhile: the answer stays on the request, the referral keeps its state.
        return
    now = clock.now()
    referral.state = ReferralState.ACKNOWLEDGED
    referral.last_update_at = now
    timers.resume(await _rules(session, referral), referral, now=now)
    event = await _event(
        session=session,
        clock=clock,
        referral=referral,
        kind=EventKind.INFORMATION_GIVEN,
        actor_id=None,
        text=request.answer,
        details={"information_request": str(request.id)},
    )
    case = await session.get_one(Case, referral.case_id)
    department = await session.get_one(Department, referral.department_id)
    for person in await contacts.addressees(session=session, department_id=department.id, role=ContactRole.LIAISON):
        await notices.email_department(
            session=session,
            clock=clock,
            referral=referral,
            case=case,
            to=person,
            texts=notices.INFORMATION_GIVEN,
            purpose=f"followup:given:{event.id}:{person.email}",
        )


async def answer(
    *,
    session: AsyncSession,
    clock: Clock,
    referral_id: int,
    generation: int | None,
    actor_id: int | None,
    by: str,
    text: str,
    status_url: str,
) -> Referral:
    """The department's answer: the solution clock is met; the follow-up team reviews it and closes.

    The applicant is told the department answered (not what: the team approves the outcome they are told).
    """
    text = checked_text(text, "answer", MAX_NOTE)
    referral = await lock(session=session, referral_id=referral_id, generation=generation)
    require(referral, timers.OWING)
    now = clock.now()
    if referral.acknowledged_at is None:
        referral.acknowledged_at = now
    referral.state = ReferralState.ANSWERED
    referral.answered_at = now
    referral.answer = text
    referral.next_escalation_at = None
    referral.next_update_due_at = None
    await _event(
        session=session, clock=clock, referral=referral, kind=EventKind.ANSWERED, actor_id=actor_id, by=by, text=text
    )
    case = await session.get_one(Case, referral.case_id)
    department = await session.get_one(Department, referral.department_id)
    await notices.tell_applicant_answered(
        session=session, clock=clock, case=case, department=department, referral=referral, status_url=status_url
    )
    return referral


async def return_to_team(
    *,
    session: AsyncSession,
    clock: Clock,
    referral_id: int,
    generation: int | None,
    actor_id: int | None,
    by: str,
    reason: str,
) -> Referral:
    """The department says the referral is not theirs: it goes back to the follow-up team, and its link stops."""
    reason = checked_text(reason, "reason", MAX_NOTE)
    referral = await lock(session=session, referral_id=referral_id, generation=generation)
    require(referral, timers.OWING)
    referral.state = ReferralState.RETURNED
    referral.generation += 1
    referral.next_escalation_at = None
    referral.next_update_due_at = None
    await _event(
        session=session, clock=clock, referral=referral, kind=EventKind.RETURNED, actor_id=actor_id, by=by, text=reason
    )
    return referral


# --- the follow-up team's side ----------------------------------------------------------------


async def remind(
    *, session: AsyncSession, clock: Clock, referral_id: int, actor_id: int, by_sms: bool, note: str = ""
) -> ReferralEvent:
    """Reminds the department's liaison officers by e-mail (and SMS where asked and they have a phone)."""
    note = checked_text(note, "note", MAX_NOTE, needed=False)
    referral = await lock(session=session, referral_id=referral_id)
    require(referral, timers.OWING)
    referral.last_reminded_at = clock.now()
    channels = "email+sms" if by_sms else "email"
    event = await _event(
        session=session,
        clock=clock,
        referral=referral,
        kind=EventKind.REMINDED,
        actor_id=actor_id,
        text=note,
        details={"channels": channels},
    )
    case = await session.get_one(Case, referral.case_id)
    department = await session.get_one(Department, referral.department_id)
    for person in await contacts.addressees(session=session, department_id=department.id, role=ContactRole.LIAISON):
        await notices.email_department(
            session=session,
            clock=clock,
            referral=referral,
            case=case,
            to=person,
            texts=notices.REMINDER,
            purpose=f"followup:remind:{event.id}:{person.email}",
            note=note,
        )
        if by_sms:
            await notices.sms_department(
                session=session,
                clock=clock,
                referral=referral,
                case=case,
                to=person,
                purpose=f"followup:remind-sms:{event.id}:{person.phone}",
            )
    return event


async def note_call(
    *, session: AsyncSession, clock: Clock, referral_id: int, actor_id: int, text: str
) -> ReferralEvent:
    """A phone call with the department, in the team's words."""
    text = checked_text(text, "text", MAX_NOTE)
    referral = await lock(session=session, referral_id=referral_id)
    require(referral, OPEN_REFERRAL_STATES | {ReferralState.RETURNED})
    return await _event(
        session=session, clock=clock, referral=referral, kind=EventKind.PHONE_CALL, actor_id=actor_id, text=text
    )


async def extend(
    *, session: AsyncSession, clock: Clock, referral_id: int, actor_id: int, minutes: int, reason: str
) -> Referral:
    """More working time for the department, with the reason; every deadline moves on by it."""
    reason = checked_text(reason, "reason", MAX_NOTE)
    if not 0 < minutes <= MAX_EXTENSION:
        raise InvalidInput(
            [
                FieldError(
                    "minutes",
                    "out_of_range",
                    N_("{field} must be between {min} and {max}."),
                    {"min": "1", "max": str(MAX_EXTENSION)},
                )
            ]
        )
    referral = await lock(session=session, referral_id=referral_id)
    require(referral, timers.OWING | {ReferralState.AWAITING_APPLICANT})
    timers.extend(await _rules(session, referral), referral, minutes=minutes)
    await _event(
        session=session,
        clock=clock,
        referral=referral,
        kind=EventKind.EXTENDED,
        actor_id=actor_id,
        text=reason,
        details={"minutes": str(minutes), "solution_due": referral.solution_due_at.isoformat()},
    )
    return referral


async def close(
    *, session: AsyncSession, clock: Clock, referral_id: int, actor_id: int, outcome: str, status_url: str
) -> Referral:
    """Closes the referral with the outcome the team approved; the last one to close completes the request.

    The applicant is told the outcome in these words when the request completes.
    """
    outcome = checked_text(outcome, "outcome", MAX_NOTE)
    referral = await lock(session=session, referral_id=referral_id)
    require(referral, OPEN_REFERRAL_STATES | {ReferralState.RETURNED})
    case = await _case(session, referral)
    now = clock.now()
    referral.state = ReferralState.CLOSED
    referral.closed_at = now
    referral.closed_by_id = actor_id
    referral.outcome = outcome
    referral.generation += 1
    referral.paused_since = None
    referral.next_escalation_at = None
    referral.next_update_due_at = None
    await _event(
        session=session, clock=clock, referral=referral, kind=EventKind.CLOSED, actor_id=actor_id, text=outcome
    )
    still_open = await session.scalar(
        select(Referral.id)
        .where(Referral.case_id == case.id, Referral.state.in_(OPEN_REFERRAL_STATES | {ReferralState.RETURNED}))
        .limit(1)
    )
    if still_open is None and case.status not in cases.CLOSED:
        await cases.change_status(
            session=session, clock=clock, case=case, to_status=CaseStatus.COMPLETED, actor_id=actor_id, note=outcome
        )
        await notices.tell_applicant_completed(
            session=session, clock=clock, case=case, outcome=outcome, key=str(referral.id), staff_id=actor_id
        )
    return referral


async def close_returned(
    *, session: AsyncSession, clock: Clock, case_id: int, instead: Sequence[Referral], actor_id: int
) -> int:
    """Closes the request's returned referrals once it has gone to other departments; gives back how many.

    The request itself stays open (the new referrals are), so nobody is told anything.
    """
    returned = list(
        await session.scalars(
            select(Referral)
            .where(Referral.case_id == case_id, Referral.state == ReferralState.RETURNED)
            .order_by(Referral.id)
            .execution_options(populate_existing=True)
        )
    )
    codes = ", ".join(
        code
        for code in await session.scalars(
            select(Department.code).where(Department.id.in_([r.department_id for r in instead]))
        )
    )
    now = clock.now()
    for referral in returned:
        referral.state = ReferralState.CLOSED
        referral.closed_at = now
        referral.closed_by_id = actor_id
        referral.generation += 1
        await _event(
            session=session,
            clock=clock,
            referral=referral,
            kind=EventKind.CLOSED,
            actor_id=actor_id,
            details={"referred_instead_to": codes},
        )
    return len(returned)


# --- reading -------------------------------------------------------------------------------------


async def open_referrals(*, session: AsyncSession, case_id: int) -> list[Referral]:
    """The request's referrals still with a department or the follow-up team."""
    rows = await session.scalars(
        select(Referral)
        .where(Referral.case_id == case_id, Referral.state.in_(OPEN_REFERRAL_STATES | {ReferralState.RETURNED}))
        .order_by(Referral.id)
    )
    return list(rows)


async def of_case(*, session: AsyncSession, case_id: int) -> list[Referral]:
    rows = await session.scalars(select(Referral).where(Referral.case_id == case_id).order_by(Referral.id))
    return list(rows)


async def events_of_case(*, session: AsyncSession, case_id: int) -> list[ReferralEvent]:
    """Every exchange on the request's referrals, oldest first: part of the request's history."""
    rows = await session.scalars(
        select(ReferralEvent).where(ReferralEvent.case_id == case_id).order_by(ReferralEvent.at, ReferralEvent.id)
    )
    return list(rows)


async def events_of(*, session: AsyncSession, referral_id: int) -> list[ReferralEvent]:
    rows = await session.scalars(
        select(ReferralEvent)
        .where(ReferralEvent.referral_id == referral_id)
        .order_by(ReferralEvent.at, ReferralEvent.id)
    )
    return list(rows)


def is_overdue(referral: Referral, *, now: datetime) -> bool:
    return referral.state in timers.OWING and referral.paused_since is None and referral.solution_due_at <= now
