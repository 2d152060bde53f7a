"""Replies from applicants: a WhatsApp message or a key pressed during the confirmation call.

Two-way SMS does not exist in Saudi Arabia, so an applicant answers the
confirmation request by WhatsApp ("1", "٢", "إلغاء" …) or on the call's
keypad. Every reply is kept (`InboundMessage`), understood or not, once per
provider id: Twilio delivers a webhook again when our answer is slow or lost,
and the repeat gives back the first outcome without acting twice.

A WhatsApp reply also opens the number's 24-hour window (free-form messages
may be sent until it closes) and may opt the number out of WhatsApp or back in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from cases import service as cases
from cases.digits import western_digits
from cases.models import Case
from majlis.clock import Clock
from notify.models import InboundMessage, WhatsAppContact
from scheduler import confirmations
from scheduler.confirmations import ConfirmationPolicy, ConfirmationRefusal, Outcome, Via
from scheduler.models import Answer, Appointment, AppointmentState, Confirmation, Slot
from scheduler.reply_texts import Understood, reply_text

# Longer bodies are cut when kept: WhatsApp's own limit is 4,096 characters.
MAX_BODY = 4096


@dataclass(frozen=True)
class Reply:
    """What a reply was understood as, and the text to answer it with (in `language`)."""

    understood_as: Understood
    text: str
    language: str
    case_id: int | None = None
    outcome: Outcome | None = None
    # The provider delivered this reply before: nothing was done again.
    repeated: bool = False


# --- reading what the applicant wrote ------------------------------------------------------------

_ALEF = str.maketrans("أإآٱ", "اااا")
# Tashkeel, the dagger alef and tatweel: written or not, the word is the same.
_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")
_PUNCTUATION = re.compile(r"[^\w\s]|_")


def normalise(text: str) -> str:
    """The text as compared with the keywords: ASCII digits, one alef, no marks or punctuation, lower case."""
    text = _MARKS.sub("", western_digits(text)).translate(_ALEF).casefold()
    return " ".join(_PUNCTUATION.sub(" ", text).split())


def _forms(*words: str) -> frozenset[str]:
    return frozenset(normalise(word) for word in words)


# Whole messages: checked first, since "الغاء الاشتراك" (unsubscribe) starts with "الغاء" (cancel).
OPT_OUT = _forms("stop", "stopall", "unsubscribe", "quit", "end", "إيقاف", "الغاء الاشتراك", "إيقاف الاشتراك")
OPT_IN = _forms("start", "unstop", "subscribe", "اشتراك")
ANSWER_WORDS: dict[str, Answer] = {
    **dict.fromkeys(_forms("1", "نعم", "تأكيد", "أؤكد", "موافق", "confirm", "yes"), Answer.CONFIRMED),
    **dict.fromkeys(_forms("2", "تغيير", "تأجيل", "change", "reschedule"), Answer.RESCHEDULED),
    **dict.fromkeys(_forms("3", "إلغاء", "cancel"), Answer.CANCELLED),
}
# Words that may stand beside an answer without changing it ("تغيير الموعد", "1 please").
FILLER = _forms("الموعد", "المقابلة", "من", "فضلك", "لو", "سمحت", "the", "date", "appointment", "please")
KEYPAD: dict[str, Answer] = {"1": Answer.CONFIRMED, "2": Answer.RESCHEDULED, "3": Answer.CANCELLED}


@dataclass(frozen=True)
class Parsed:
    answer: Answer | None = None
    opt_out: bool = False
    opt_in: bool = False


def parse(body: str) -> Parsed:
    """What a WhatsApp message says: an opt-out or opt-in, an answer 1/2/3, or nothing Majlis knows."""
    text = normalise(body)
    if text in OPT_OUT:
        return Parsed(opt_out=True)
    if text in OPT_IN:
        return Parsed(opt_in=True)
    meant = {ANSWER_WORDS.get(word) for word in text.split() if word not in FILLER}
    # Every word must be part of one and the same answer: "نعم 3" says two things.
    if len(meant) == 1 and None not in meant:
        return Parsed(answer=meant.pop())
    return Parsed()


_FROM_ANSWER = {
    Answer.CONFIRMED: Understood.CONFIRMED,
    Answer.RESCHEDULED: Understood.RESCHEDULED,
    Answer.CANCELLED: Understood.CANCELLED,
}


# --- keeping the reply ---------------------------------------------------------------------------


async def record_inbound(
    *,
    session: AsyncSession,
    channel: str,
    provider_id: str,
    sender: str,
    body: str,
    now: datetime,
) -> tuple[InboundMessage, bool]:
    """The reply's row, and whether it is new (False: the provider delivered it before).

    One INSERT … ON CONFLICT DO NOTHING RETURNING: a repeat racing this one waits on the unique index and then
    inserts nothing, and finds the first row.
    """
    inserted = await session.scalar(
        _insert(session)(InboundMessage)
        .values(
            channel=channel,
            provider_id=provider_id,
            sender=sender,
            body=body[:MAX_BODY],
            received_at=now,
            understood_as="",
        )
        .on_conflict_do_nothing(index_elements=[InboundMessage.provider_id])
        .returning(InboundMessage)
    )
    if inserted is not None:
        return inserted, True
    existing = await session.scalar(select(InboundMessage).where(InboundMessage.provider_id == provider_id))
    if existing is None:
        raise RuntimeError(f"inbound message {provider_id!r} neither inserted nor found")
    return existing, False


async def _repeat(*, session: AsyncSession, row: InboundMessage, channel: str, status_url: str) -> Reply:
    """The first outcome of a reply delivered again, rebuilt from what was kept."""
    try:
        understood = Understood(row.understood_as)
    except ValueError:
        understood = Understood.UNPARSED
    case = await cases.get_case(session=session, case_id=row.case_id) if row.case_id is not None else None
    if case is None and channel == "whatsapp":
        language = await _language_of(session=session, phone=row.sender)
    else:
        language = case.language.value if case is not None else None
    text = reply_text(
        channel=channel,
        understood=understood,
        language=language,
        number=case.tracking_number if case is not None else "",
        status_url=status_url,
    )
    return Reply(understood, text, language or "ar", case_id=row.case_id, repeated=True)


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def touch_contact(*, session: AsyncSession, phone: str, now: datetime, opted_out: bool | None) -> None:
    """Opens the number's 24-hour window; opts it out (True) or back in (False) when asked."""
    values: dict[str, Any] = {"last_inbound_at": now}
    if opted_out is not None:
        values["opted_out_at"] = now if opted_out else None
    # One statement, so two messages from a new number at once cannot both insert it.
    await session.execute(
        _insert(session)(WhatsAppContact)
        .values(phone=phone, **values)
        .on_conflict_do_update(index_elements=[WhatsAppContact.phone], set_=values)
    )


async def _language_of(*, session: AsyncSession, phone: str) -> str | None:
    """The language of the latest request given with this phone, if any."""
    language = await session.scalar(
        select(Case.language).where(Case.phone == phone).order_by(Case.submitted_at.desc(), Case.id.desc()).limit(1)
    )
    return language.value if language is not None else None


async def open_confirmations(*, session: AsyncSession, clock: Clock, phone: str) -> list[tuple[Confirmation, Case]]:
    """The open confirmations (unanswered, or confirmed and still changeable) of requests given with this phone
    whose audience is still ahead, latest first (two at most: more than one is already ambiguous)."""
    rows = (
        await session.execute(
            select(Confirmation, Case)
            .join(Appointment, Appointment.id == Confirmation.appointment_id)
            .join(Slot, Slot.id == Appointment.slot_id)
            .join(Case, Case.id == Appointment.case_id)
            .where(
                Case.phone == phone,
                or_(
                    and_(Confirmation.answer.is_(None), Appointment.state == AppointmentState.SCHEDULED),
                    # A confirmed audience may still be moved or cancelled by a later reply.
                    and_(Confirmation.answer == Answer.CONFIRMED, Appointment.state == AppointmentState.CONFIRMED),
                ),
                Slot.starts_at > clock.now(),
            )
            .order_by(Confirmation.ask_at.desc(), Confirmation.id.desc())
            .limit(2)
        )
    ).all()
    return [(row[0], row[1]) for row in rows]


async def _answer(
    *,
    session: AsyncSession,
    clock: Clock,
    appointment_id: int,
    answer: Answer,
    via: Via,
    policy: ConfirmationPolicy,
    status_url: str,
) -> Outcome | None:
    """The timeline's outcome, or None when it refused (nothing of the attempt is kept)."""
    try:
        async with session.begin_nested():
            return await confirmations.answer(
                session=session,
                clock=clock,
                appointment_id=appointment_id,
                answer=answer,
                via=via,
                actor_id=None,
                status_url=status_url,
                policy=policy,
            )
    except ConfirmationRefusal:
        return None


# --- the two ways in -----------------------------------------------------------------------------


async def whatsapp_reply(
    *,
    session: AsyncSession,
    clock: Clock,
    sender: str,
    body: str,
    message_sid: str,
    policy: ConfirmationPolicy,
    status_url: str,
) -> Reply:
    """Keeps a WhatsApp message from `sender` (E.164) and does what it asks; gives back the answer to send.

    The WhatsApp desk (whatsapp_desk.desk) takes the webhook's messages; this is its confirmation part alone.
    """
    now = clock.now()
    row, new = await record_inbound(
        session=session, channel="whatsapp", provider_id=message_sid, sender=sender, body=body, now=now
    )
    if not new:
        return await _repeat(session=session, row=row, channel="whatsapp", status_url=status_url)
    parsed = parse(body)
    await touch_contact(
        session=session, phone=sender, now=now, opted_out=True if parsed.opt_out else False if parsed.opt_in else None
    )
    return await answer_whatsapp(
        session=session, clock=clock, row=row, parsed=parsed, policy=policy, status_url=status_url
    )


async def answer_whatsapp(
    *,
    session: AsyncSession,
    clock: Clock,
    row: InboundMessage,
    parsed: Parsed,
    policy: ConfirmationPolicy,
    status_url: str,
) -> Reply:
    """Does what a kept WhatsApp message asks of the confirmations (or its opt-out or opt-in); the answer."""
    sender = row.sender
    candidates = await open_confirmations(session=session, clock=clock, phone=sender)
    # One phone given on two requests (a family's): a bare "3" cannot say which, so nothing is done.
    found = candidates[0] if len(candidates) == 1 else None
    # Read before answering: a refused answer rolls its savepoint back and expires what it touched.
    case_id = found[1].id if found is not None else None
    number = found[1].tracking_number if found is not None else ""
    language = found[1].language.value if found is not None else await _language_of(session=session, phone=sender)
    outcome: Outcome | None = None
    if parsed.opt_out:
        understood = Understood.OPTED_OUT
    elif parsed.opt_in:
        understood = Understood.OPTED_IN
    elif parsed.answer is None:
        understood = Understood.UNPARSED
    elif len(candidates) > 1:
        understood = Understood.AMBIGUOUS
    elif found is None:
        understood = Understood.UNMATCHED
    else:
        outcome = await _answer(
            session=session,
            clock=clock,
            appointment_id=found[0].appointment_id,
            answer=parsed.answer,
            via=Via.WHATSAPP,
            policy=policy,
            status_url=status_url,
        )
        understood = _FROM_ANSWER[outcome.answer] if outcome is not None else Understood.REFUSED
    row.understood_as = understood.value
    row.case_id = case_id
    await session.flush()
    text = reply_text(
        channel="whatsapp", understood=understood, language=language, number=number, status_url=status_url
    )
    return Reply(understood, text, language or "ar", case_id=case_id, outcome=outcome)


async def keypad_answer(
    *,
    session: AsyncSession,
    clock: Clock,
    appointment_id: int,
    digits: str,
    call_sid: str,
    policy: ConfirmationPolicy,
    status_url: str,
) -> Reply:
    """Keeps the key pressed during the confirmation call of an appointment and does what it asks."""
    appointment = await session.get(Appointment, appointment_id)
    case = await cases.get_case(session=session, case_id=appointment.case_id) if appointment is not None else None
    case_id = case.id if case is not None else None
    language = case.language.value if case is not None else None
    row, new = await record_inbound(
        session=session,
        channel="voice",
        provider_id=f"{call_sid}:gather",
        sender=case.phone if case is not None else "",
        body=digits,
        now=clock.now(),
    )
    if not new:
        return await _repeat(session=session, row=row, channel="voice", status_url=status_url)
    answer = KEYPAD.get(western_digits(digits).strip(" #*"))
    outcome: Outcome | None = None
    if answer is None:
        understood = Understood.UNPARSED
    else:
        outcome = await _answer(
            session=session,
            clock=clock,
            appointment_id=appointment_id,
            answer=answer,
            via=Via.VOICE,
            policy=policy,
            status_url=status_url,
        )
        understood = _FROM_ANSWER[outcome.answer] if outcome is not None else Understood.REFUSED
    row.understood_as = understood.value
    row.case_id = case_id
    await session.flush()
    text = reply_text(channel="voice", understood=understood, language=language)
    return Reply(understood, text, language or "ar", case_id=case_id, outcome=outcome)
