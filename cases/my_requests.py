""" "My requests": whoever holds a phone sees every request given with it, after a one-time code sent to it.

Asking for a code answers the same way whether the phone has requests or not, so the page cannot be used to
learn which phones have: a code row is written either way (the per-phone limit counts alike), and the SMS goes
only when at least one request has the phone (a stranger's phone is never texted). Codes follow
cases.one_time_codes: six digits, the latest one counts, limited tries, an expiry; at most `per_hour` codes
for one phone in an hour. Each code asked for also counts against the asking address with the status page's
misses (cases.service.check_lookup_throttle): every code costs an SMS, and one address must not text a
thousand phones. The caller commits a refusal's counted try.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from cases import one_time_codes
from cases import service as cases
from cases.intake_fields import PHONE_MESSAGE
from cases.models import Case, CaseStatus, PhoneCode
from cases.one_time_codes import CodePolicy
from cases.phones import to_e164
from cases.progress import Progress, progress_of
from followup import information, referrals
from majlis.clock import Clock, riyadh
from majlis.errors import N_, DomainError, FieldError, InvalidInput, required
from majlis.throttle import serialise
from notify import outbox
from notify.texts import Text
from scheduler.views import UpcomingAppointment, audience_held, upcoming_appointment_of

# The code to see one's requests; it names none of them.
code_sms = Text(N_("Code {code} to see your requests on Majlis; it works until {until}. Do not share it."))
# How many requests the list shows at most, newest first: a phone is one person's or one company's.
MAX_LISTED = 50


class TooManyCodes(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "too_many_codes", N_("Too many codes were sent to this number. Wait an hour and ask for another.")
        )


def phone_of(typed: str) -> str:
    """The typed mobile number in E.164; InvalidInput naming `phone` when it is empty or not a mobile number."""
    if not (typed or "").strip():
        raise InvalidInput([required("phone")])
    phone = to_e164(typed)
    if phone is None:
        raise InvalidInput([FieldError("phone", "invalid", PHONE_MESSAGE)])
    return phone


def _scope(phone: str) -> str:
    return f"majlis-my-requests:{phone}"


async def send_code(
    *, session: AsyncSession, clock: Clock, phone: str, address: str, policy: cases.LookupPolicy, codes: CodePolicy
) -> PhoneCode:
    """Writes a new code for `phone` (E.164) and texts it there if a request has that phone.

    Refused: the address must wait after too many enquiries (cases.service.TooManyLookups), or the phone had
    `codes.per_hour` codes in the last hour (TooManyCodes). The caller commits.
    """
    await cases.check_lookup_throttle(session=session, clock=clock, address=address, policy=policy)
    await cases.record_lookup(session=session, clock=clock, address=address, matched=False)
    await serialise(session=session, keys=[f"phone-code:{phone}"])
    now = clock.now()
    sent = await session.scalar(
        select(func.count())
        .select_from(PhoneCode)
        .where(PhoneCode.phone == phone, PhoneCode.sent_at > now - timedelta(hours=1))
    )
    if (sent or 0) >= codes.per_hour:
        raise TooManyCodes()
    code = one_time_codes.new_code()
    row = PhoneCode(
        phone=phone,
        code_hash=one_time_codes.code_hash(_scope(phone), code),
        sent_at=now,
        expires_at=now + codes.lifetime,
        attempts=0,
    )
    session.add(row)
    await session.flush()
    latest = await session.scalar(
        select(Case).where(Case.phone == phone).order_by(Case.submitted_at.desc(), Case.id.desc()).limit(1)
    )
    if latest is not None:
        until = riyadh(row.expires_at).strftime("%H:%M")
        # In the language of the latest request given with the phone: the one its holder chose last.
        await outbox.sms_to_applicant(
            session=session,
            clock=clock,
            case=latest,
            purpose=f"my_requests_code:{row.id}",
            compose=lambda language: code_sms(language=language, code=code, until=until),
        )
    return row


async def check_code(*, session: AsyncSession, clock: Clock, phone: str, code: str, codes: CodePolicy) -> None:
    """Marks the phone's latest code used if `code` is it (Arabic-Indic digits welcome).

    Raises InvalidInput when nothing was typed, else a cases.one_time_codes.CodeRefused whose counted try the
    caller must commit.
    """
    typed = one_time_codes.typed_code(code)
    await serialise(session=session, keys=[f"phone-code:{phone}"])
    row = await session.scalar(
        select(PhoneCode)
        .where(PhoneCode.phone == phone)
        .order_by(PhoneCode.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )
    await one_time_codes.check(
        session=session, row=row, scope=_scope(phone), typed=typed, now=clock.now(), policy=codes
    )


# --- reading ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MyRequest:
    """One request of the phone as its holder sees it: no text, no note, no staff's words."""

    case: Case
    progress: Progress
    upcoming: UpcomingAppointment | None


async def progress_of_case(*, session: AsyncSession, case: Case) -> Progress:
    """The tracker of one request (cases.progress), from its status, its audiences and its referrals."""
    held = bool(await audience_held(session=session, case_ids=[case.id]))
    referred = bool(await referrals.of_case(session=session, case_id=case.id))
    returns_to = None
    if case.status is CaseStatus.NEEDS_INFORMATION:
        asked = await information.open_requests(session=session, case=case)
        returns_to = CaseStatus(asked[0].return_status) if asked else None
    return progress_of(case.status, audience_held=held, referred=referred, returns_to=returns_to)


async def requests_of_phone(*, session: AsyncSession, clock: Clock, phone: str) -> list[MyRequest]:
    """Every request given with `phone` (E.164), newest first, with its stage and its audience ahead."""
    rows = await session.scalars(
        select(Case)
        .options(selectinload(Case.applicant))
        .where(Case.phone == phone, Case.anonymised_at.is_(None))
        .order_by(Case.submitted_at.desc(), Case.id.desc())
        .limit(MAX_LISTED)
    )
    found = []
    for case in rows:
        progress = await progress_of_case(session=session, case=case)
        upcoming = await upcoming_appointment_of(session=session, clock=clock, case_id=case.id)
        found.append(MyRequest(case=case, progress=progress, upcoming=upcoming))
    return found


async def request_of_phone(*, session: AsyncSession, phone: str, tracking_number: str) -> Case | None:
    """The request with this tracking number if it was given with `phone`; else None (whichever part is wrong)."""
    case = await session.scalar(select(Case).where(Case.tracking_number == tracking_number, Case.phone == phone))
    if case is None or case.anonymised_at is not None:
        return None
    return await cases.get_case(session=session, case_id=case.id)
