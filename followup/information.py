"""Information asked of the applicant, as a conversation: the question goes by SMS, the applicant proves they
hold the request's phone with a one-time code, answers with words and evidence files, and the request goes
back to whoever asked (the audit desk, or the department whose referral waits for it).

Which questions are open. A conversation begins when the request enters "needs information"; every question
asked since then and not yet answered is open while the request stays there. The status change that begins
it names its first question (note_params["information_request_id"]), so a question left unanswered in an
earlier conversation (the desk verified the request by other means) never opens again. The request returns
to the status it had before the conversation began once its last open question is answered.

Codes. Only the latest code sent for a request counts; at most `per_hour` are sent for one request in an
hour, and a code takes `max_tries` wrong tries. A refused try is flushed before the refusal is raised: the
caller commits it (as the status page's misses are committed), or the throttle would forget it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cases import one_time_codes
from cases import service as cases
from cases.models import Case, CaseStatus, StatusChange

# The code's rules and refusals are shared with "my requests"; named here too, as callers know them.
from cases.one_time_codes import CodeExpired as CodeExpired
from cases.one_time_codes import CodePolicy as CodePolicy
from cases.one_time_codes import CodeRefused as CodeRefused
from cases.one_time_codes import NoCode as NoCode
from cases.one_time_codes import TooManyTries as TooManyTries
from cases.one_time_codes import WrongCode as WrongCode
from followup import referrals
from followup.attachments import AttachmentStore, CheckedUpload, Upload, check_uploads, store_uploads
from followup.models import ApplicantCode, Attachment, AttachmentOwner, InformationRequest, Referral
from majlis.clock import Clock, riyadh
from majlis.errors import N_, DomainError, FieldError, InvalidInput, required, too_long
from notify import outbox
from notify.texts import Text, needs_information_sms

MAX_QUESTION = 500
MAX_ANSWER = 2000
# The status change beginning a conversation names its first question here.
FIRST_QUESTION = "information_request_id"
# The note of the step an answer makes, shown to the applicant and to staff in their language.
ANSWERED = N_("The applicant answered the information asked for.")

# The code to answer with; it carries no words of the request.
code_sms = Text(N_("Code {code} to answer request {tracking_number}; it works until {until}. Do not share it."))


class RequestClosed(DomainError):
    def __init__(self) -> None:
        super().__init__("case_closed", N_("The request is closed; nothing can be asked of the applicant."))


class NothingToAnswer(DomainError):
    def __init__(self) -> None:
        super().__init__("nothing_to_answer", N_("This request is not waiting for information from you."))


class AlreadyAnswered(DomainError):
    def __init__(self) -> None:
        super().__init__("already_answered", N_("This question has already been answered; nothing was changed."))


class NoLongerOpen(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "no_longer_open", N_("This question is no longer open: the request has moved on. Nothing was changed.")
        )


class TooManyCodes(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "too_many_codes", N_("Too many codes were sent for this request. Wait an hour and ask for another.")
        )


# --- asking -------------------------------------------------------------------------------------------


def _question(text: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput([required("question")])
    if len(text) > MAX_QUESTION:
        raise InvalidInput([too_long("question", MAX_QUESTION)])
    return text


async def _locked(session: AsyncSession, case_id: int) -> Case:
    return (await cases.lock_cases(session=session, case_ids=[case_id]))[case_id]


async def open_requests(*, session: AsyncSession, case: Case) -> list[InformationRequest]:
    """The questions the applicant may answer now, oldest first (see the module's note)."""
    if case.status is not CaseStatus.NEEDS_INFORMATION:
        return []
    began = await session.scalar(
        select(StatusChange)
        .where(
            StatusChange.case_id == case.id,
            StatusChange.to_status == CaseStatus.NEEDS_INFORMATION,
            StatusChange.from_status != CaseStatus.NEEDS_INFORMATION,
        )
        .order_by(StatusChange.id.desc())
        .limit(1)
    )
    first = str((began.note_params or {}).get(FIRST_QUESTION, "")) if began is not None else ""
    if not first.isdigit():
        return []
    rows = await session.scalars(
        select(InformationRequest)
        .where(
            InformationRequest.case_id == case.id,
            InformationRequest.id >= int(first),
            InformationRequest.answered_at.is_(None),
        )
        .order_by(InformationRequest.id)
    )
    return list(rows)


async def ask_applicant(
    *,
    session: AsyncSession,
    clock: Clock,
    case: Case,
    question: str,
    actor_id: int | None,
    status_url: str,
    referral: Referral | None = None,
    by: str = "",
) -> InformationRequest:
    """Asks the applicant a question: the request waits in "needs information" and they are told by SMS.

    A department's question (`referral`, locked by the caller; `by` names who asked through the
    department's link) also pauses that referral's clocks until the answer comes.
    """
    question = _question(question)
    case = await _locked(session, case.id)
    if case.status in cases.CLOSED:
        raise RequestClosed()
    already_open = await open_requests(session=session, case=case)
    if case.status is CaseStatus.NEEDS_INFORMATION:
        # A second question in the same conversation returns, like the first, to where the request was before.
        back_to = already_open[0].return_status if already_open else CaseStatus.RECEIVED.value
    else:
        back_to = case.status.value
    asked = InformationRequest(
        case_id=case.id,
        referral_id=referral.id if referral is not None else None,
        asked_by_id=actor_id,
        question=question,
        asked_at=clock.now(),
        return_status=back_to,
        answer="",
    )
    session.add(asked)
    await session.flush()
    change = await cases.change_status(
        session=session,
        clock=clock,
        case=case,
        to_status=CaseStatus.NEEDS_INFORMATION,
        actor_id=actor_id,
        note=question,
        note_params={FIRST_QUESTION: str(asked.id)},
    )
    await outbox.sms_to_applicant(
        session=session,
        clock=clock,
        case=case,
        purpose=f"needs_information:{change.id}",
        compose=lambda language: needs_information_sms(
            language=language, tracking_number=case.tracking_number, missing=question, status_url=status_url
        ),
    )
    if referral is not None:
        await referrals.information_asked(session=session, clock=clock, referral=referral, request=asked, by=by)
    return asked


# --- the one-time code --------------------------------------------------------------------------------


def _scope(case_id: int) -> str:
    return f"majlis-applicant-code:{case_id}"


async def send_code(
    *, session: AsyncSession, clock: Clock, case: Case, policy: CodePolicy | None = None
) -> ApplicantCode:
    """Sends a new one-time code by SMS to the phone given with the request, in the request's language."""
    policy = policy or CodePolicy()
    case = await _locked(session, case.id)
    if not await open_requests(session=session, case=case):
        raise NothingToAnswer()
    now = clock.now()
    # The case's row lock (PostgreSQL) or the write lock (SQLite) makes concurrent asks count one another.
    sent = await session.scalar(
        select(func.count())
        .select_from(ApplicantCode)
        .where(ApplicantCode.case_id == case.id, ApplicantCode.sent_at > now - timedelta(hours=1))
    )
    if (sent or 0) >= policy.per_hour:
        raise TooManyCodes()
    code = one_time_codes.new_code()
    row = ApplicantCode(
        case_id=case.id,
        code_hash=one_time_codes.code_hash(_scope(case.id), code),
        sent_at=now,
        expires_at=now + policy.lifetime,
        attempts=0,
    )
    session.add(row)
    await session.flush()
    until = riyadh(row.expires_at).strftime("%H:%M")
    await outbox.sms_to_applicant(
        session=session,
        clock=clock,
        case=case,
        purpose=f"applicant_code:{row.id}",
        compose=lambda language: code_sms(
            language=language, code=code, tracking_number=case.tracking_number, until=until
        ),
    )
    return row


async def check_code(
    *, session: AsyncSession, clock: Clock, case: Case, code: str, policy: CodePolicy | None = None
) -> ApplicantCode:
    """The request's latest code, marked used, if `code` is it (Arabic-Indic digits welcome).

    Raises a CodeRefused whose counted try the caller must commit; InvalidInput when nothing was typed.
    """
    policy = policy or CodePolicy()
    typed = one_time_codes.typed_code(code)
    case = await _locked(session, case.id)
    row = await session.scalar(
        select(ApplicantCode)
        .where(ApplicantCode.case_id == case.id)
        .order_by(ApplicantCode.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )
    await one_time_codes.check(
        session=session, row=row, scope=_scope(case.id), typed=typed, now=clock.now(), policy=policy
    )
    assert row is not None  # check refuses a missing row
    return row


# --- answering ----------------------------------------------------------------------------------------


async def answer(
    *,
    session: AsyncSession,
    clock: Clock,
    request: InformationRequest,
    text: str,
    uploads: Sequence[Upload],
    store: AttachmentStore,
) -> InformationRequest:
    """Records the applicant's answer and files; the request goes back to whoever asked once nothing is open.

    Refused, with nothing changed: an answer twice (AlreadyAnswered), to a question no longer open
    (NoLongerOpen), or without words or files, too long, or with a file refused (InvalidInput naming each).
    """
    text = (text or "").strip()
    errors: list[FieldError] = []
    if len(text) > MAX_ANSWER:
        errors.append(too_long("answer", MAX_ANSWER))
    elif not text and not uploads:
        errors.append(FieldError("answer", "missing", N_("Write an answer or attach at least one file.")))
    case = await _locked(session, request.case_id)
    # Read again under the case's lock: a second answer racing this one sees the first.
    request = await session.get_one(InformationRequest, request.id, populate_existing=True)
    if request.answered_at is not None:
        raise AlreadyAnswered()
    still_open = await open_requests(session=session, case=case)
    if request.id not in {r.id for r in still_open}:
        raise NoLongerOpen()
    checked: list[CheckedUpload] = []
    try:
        checked = check_uploads(uploads, store=store)
    except InvalidInput as exc:
        errors.extend(exc.errors)
    if errors:
        raise InvalidInput(errors)
    request.answer = text
    request.answered_at = clock.now()
    await store_uploads(
        session=session,
        clock=clock,
        store=store,
        case_id=case.id,
        uploads=checked,
        added_by=AttachmentOwner.APPLICANT,
        referral_id=request.referral_id,
        information_request_id=request.id,
    )
    others = [r for r in still_open if r.id != request.id]
    await cases.change_status(
        session=session,
        clock=clock,
        case=case,
        to_status=CaseStatus.NEEDS_INFORMATION if others else CaseStatus(request.return_status),
        actor_id=None,
        note_key=ANSWERED,
    )
    if request.referral_id is not None:
        referral = await session.get_one(Referral, request.referral_id)
        await referrals.information_given(session=session, clock=clock, referral=referral, request=request)
    return request


# --- reading ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """One question, its answer (if any) and the files that came with the answer."""

    request: InformationRequest
    attachments: list[Attachment]


async def conversation(*, session: AsyncSession, case_id: int) -> list[Exchange]:
    """Every question asked of the case's applicant, oldest first, with the answer's files."""
    asked = list(
        await session.scalars(
            select(InformationRequest).where(InformationRequest.case_id == case_id).order_by(InformationRequest.id)
        )
    )
    files = await session.scalars(
        select(Attachment)
        .where(Attachment.case_id == case_id, Attachment.information_request_id.is_not(None))
        .order_by(Attachment.id)
    )
    by_request: dict[int, list[Attachment]] = {}
    for row in files:
        by_request.setdefault(row.information_request_id or 0, []).append(row)
    return [Exchange(request=r, attachments=by_request.get(r.id, [])) for r in asked]


async def get_request(*, session: AsyncSession, request_id: int) -> InformationRequest | None:
    return await session.get(InformationRequest, request_id)
