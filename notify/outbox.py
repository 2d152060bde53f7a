"""Writing messages to the outbox, and the dispatcher that hands due ones to their channel.

The life of a message: *pending* (written with the change that causes it, due
at a time) → *sending* (claimed by one dispatcher and committed before the
provider is called) → *sent* (the provider's id recorded). Passing failures go
back to pending with a backoff; permanent ones, or too many passing ones,
stop at *failed* and show on the staff page.

Never twice: a claim is committed before the provider call, so two
dispatchers never hold one message (PostgreSQL: `FOR UPDATE SKIP LOCKED`;
SQLite: the single writer lock BEGIN IMMEDIATE takes). A dispatcher killed
between the provider call and the commit of its answer leaves the message
*sending*; once the claim is older than the claim timeout, the next
dispatcher asks the provider (`Channel.find_sent`) whether it took the message
after the claim, records it as sent if so, and sends it again only if not. The
window that remains is documented in docs/architecture.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from typing import Any, Protocol

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import RIYADH, Clock
from majlis.db import transaction
from majlis.logs import PAYLOAD_KEY as REQUEST_ID_KEY
from majlis.logs import current_request_id, request_id_set
from majlis.settings import Settings
from majlis.throttle import serialise
from notify import delivery as delivery_reports
from notify.arrival_qr import arrival_qr
from notify.channels import (
    Channels,
    Delivery,
    InlineImage,
    Outgoing,
    PermanentSendError,
    TransientSendError,
    Unresolvable,
)
from notify.invitation import audience_uid, invitation
from notify.links import AnswerLink, Links
from notify.models import MessageStatus, OutboxMessage, WhatsAppContact
from notify.send_budget import SharedRate

log = logging.getLogger(__name__)

# Messages whose body carries the answer link write this where it goes; the
# dispatcher signs the link when it sends, so no secret is kept in the outbox.
LINK = "{link}"
# And this where the arrival code goes, from the payload's appointment, for the same reason; an
# e-mail whose body carries it also gets the code as an inline QR code (notify/arrival_qr.py).
ARRIVAL = "{arrival}"
# And this where a department's link to its referral goes, from the payload's referral and generation.
REFERRAL_LINK = "{referral_link}"
# And this where a mission duty officer's link to an emergency report goes, from the payload's report and generation.
EMERGENCY_LINK = "{emergency_link}"
# And this where an applicant's link to rate a visit goes, from the payload's invitation and expiry.
RATING_LINK = "{rating_link}"
# Channels that go through Twilio and report delivery to its status callback.
TWILIO_CHANNELS = frozenset({"sms", "whatsapp", "voice"})
# Voice calls ring only in working hours, Sunday to Thursday, Riyadh time.
CALL_HOURS = (8, 16)
WORKING_DAYS = frozenset({6, 0, 1, 2, 3})  # Sunday … Thursday (Monday is 0)
WHATSAPP_WINDOW = timedelta(hours=24)


async def enqueue(
    *,
    session: AsyncSession,
    clock: Clock,
    purpose: str,
    channel: str,
    recipient: str,
    language: str,
    body: str,
    case_id: int | None = None,
    due_at: datetime | None = None,
    payload: dict[str, Any] | None = None,
    flush: bool = True,
) -> OutboxMessage:
    """Add a message to the outbox in the caller's transaction (flushed, not committed).

    A batch writer may leave the flush to its own next one (`flush=False`): one round trip for many rows.
    """
    now = clock.now()
    due = due_at or now
    extras = dict(payload or {})
    request_id = current_request_id()
    if request_id is not None:
        # The request (or job) that caused it: the dispatcher logs its send under this id (majlis.logs).
        extras.setdefault(REQUEST_ID_KEY, request_id)
    message = OutboxMessage(
        case_id=case_id,
        purpose=purpose,
        channel=channel,
        recipient=recipient,
        language=language,
        body=body,
        payload=extras,
        created_at=now,
        due_at=due,
        next_attempt_at=due,
        status=MessageStatus.PENDING,
        attempts=0,
    )
    session.add(message)
    if flush:
        await session.flush()
    return message


def referral_link_payload(*, referral_id: int, generation: int) -> dict[str, Any]:
    """The payload of a message to a department whose body carries the signed link to its referral."""
    return {"referral_link": {"referral_id": referral_id, "generation": generation}}


def emergency_link_payload(*, report_id: int, generation: int) -> dict[str, Any]:
    """The payload of a message to a mission whose body carries the signed link to an emergency report."""
    return {"emergency_link": {"report_id": report_id, "generation": generation}}


def rating_link_payload(*, invite_id: int, expires_at: datetime) -> dict[str, Any]:
    """The payload of a message to an applicant whose body (or template variables) carries the link to rate a visit."""
    return {"rating_link": {"invite_id": invite_id, "expires_at": expires_at.isoformat()}}


# A voice message whose payload says this rings at any hour, and again the same day: an emergency alert to a
# duty officer abroad, not a call to an applicant (those keep Riyadh's calling hours and one call a day).
ANY_HOUR = "any_hour"


def answer_link_payload(*, appointment_id: int, expires_at: datetime) -> dict[str, Any]:
    """The payload of a message whose body (or template) carries the signed answer link."""
    return {"answer_link": {"appointment_id": appointment_id, "expires_at": expires_at.isoformat()}}


async def messages_for_case(*, session: AsyncSession, case_id: int) -> list[OutboxMessage]:
    rows = await session.scalars(
        select(OutboxMessage).where(OutboxMessage.case_id == case_id).order_by(OutboxMessage.id)
    )
    return list(rows)


async def withdraw(*, session: AsyncSession, clock: Clock, case_id: int, purposes: Iterable[str], why: str) -> int:
    """Cancels the case's messages of these purposes that have not gone yet; gives back how many.

    One in flight (sending) is marked withdrawn: whatever its send gives, it is never queued again.
    """
    wanted = list(purposes)
    if not wanted:
        return 0
    now = clock.now()
    mine = (OutboxMessage.case_id == case_id, OutboxMessage.purpose.in_(wanted))
    await session.execute(
        update(OutboxMessage)
        .where(*mine, OutboxMessage.status.in_((MessageStatus.PENDING, MessageStatus.SENDING)))
        .values(withdrawn_at=now)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(
        update(OutboxMessage)
        .where(*mine, OutboxMessage.status == MessageStatus.PENDING)
        .values(status=MessageStatus.CANCELLED, last_error=why, delivery_updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


class Addressee(Protocol):
    """What the outbox needs of a request to write to its applicant."""

    @property
    def id(self) -> int: ...
    @property
    def phone(self) -> str: ...
    @property
    def language(self) -> str: ...


async def sms_to_applicant(
    *, session: AsyncSession, clock: Clock, case: Addressee, purpose: str, compose: Callable[[str], str]
) -> OutboxMessage:
    """An SMS to the applicant of a request, composed in the language given with it (flushed, not committed)."""
    language = str(case.language)
    return await enqueue(
        session=session,
        clock=clock,
        purpose=purpose,
        channel="sms",
        recipient=case.phone,
        language=language,
        body=compose(language),
        case_id=case.id,
    )


# --- the dispatcher ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DispatchPolicy:
    batch: int = 100
    concurrency: int = 8
    rate_per_second: float = 100.0
    claim_timeout: timedelta = timedelta(minutes=2)
    max_attempts: int = 8
    retry_base: timedelta = timedelta(seconds=30)
    retry_max: timedelta = timedelta(hours=1)

    def backoff(self, *, attempts: int, message_id: int) -> timedelta:
        """30 s, 1 min, 2 min … up to the ceiling, spread a little by message so retries do not arrive together."""
        delay: timedelta = min(self.retry_base * 2 ** max(attempts - 1, 0), self.retry_max)
        return delay * (1 + (message_id % 10) / 20)


@dataclass
class DispatchReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    # Claims of dead dispatchers: found at the provider, sent again, or left to staff.
    resolved_sent: int = 0
    resolved_again: int = 0
    uncertain: int = 0
    deferred: int = 0
    cancelled: int = 0
    # Passing failures after which the provider may have the message: asked about before any resend.
    unsure: int = 0
    # Claimed but not sent before the claim grew old: back to pending.
    given_back: int = 0

    def add(self, other: DispatchReport) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class RateLimiter:
    """Starts at most `rate` sends a second, evenly spaced (real time: this paces a provider, not the domain).

    It paces at 95 % of the provider's limit, so that jitter on the way (a busy
    event loop releasing several late sends at once) cannot bunch a hundred and
    one requests into the provider's second. The pace is one process's: the
    dispatcher itself takes its sends from notify.send_budget's shared rate, which
    holds across processes; bench/dispatch.py paces its reference with this one.
    """

    def __init__(self, rate_per_second: float) -> None:
        self._interval = 1.05 / rate_per_second
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > now:
            await asyncio.sleep(start - now)


def _riyadh_day_start(moment: datetime) -> datetime:
    local = moment.astimezone(RIYADH)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _calling_day(day: date, days_off: frozenset[date]) -> bool:
    return day.weekday() in WORKING_DAYS and day not in days_off


def next_calling_time(
    moment: datetime, *, not_today: bool = False, days_off: frozenset[date] = frozenset()
) -> datetime:
    """The first moment at or after `moment` inside calling hours (the next working morning if need be)."""
    local = moment.astimezone(RIYADH)
    opening = time_of_day(CALL_HOURS[0])
    day = local.date()
    if not_today or local.hour >= CALL_HOURS[1] or not _calling_day(day, days_off):
        day += timedelta(days=1)
        local = datetime.combine(day, opening, tzinfo=RIYADH)
    while not _calling_day(day, days_off):
        day += timedelta(days=1)
        local = datetime.combine(day, opening, tzinfo=RIYADH)
    return max(local, datetime.combine(day, opening, tzinfo=RIYADH))


# Gives the declared holidays (no calls on them); the scheduler keeps them, the app passes this in.
DaysOff = Callable[[AsyncSession], Awaitable[frozenset[date]]]


class Dispatcher:
    """Claims due messages, sends them through their channels at the provider's rate, records what happened."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        channels: Channels,
        links: Links,
        policy: DispatchPolicy | None = None,
        organizer: str = "majlis@example.gov.sa",
        days_off: DaysOff | None = None,
    ) -> None:
        self._days_off = days_off
        self._sessions = sessions
        # The ORGANIZER of calendar invitations (the address e-mail goes from) and its domain for UIDs.
        self._organizer = organizer
        self._clock = clock
        self._channels = channels
        self._links = links
        self.policy = policy or DispatchPolicy()
        # The provider's rate is per account: every dispatcher, in any process, takes its sends from one budget.
        self._rate = SharedRate(sessions=sessions, rate_per_second=self.policy.rate_per_second)

    async def run_once(self, *, max_rounds: int | None = None, stop: asyncio.Event | None = None) -> DispatchReport:
        """Resolves dead claims, then sends everything due now, batch after batch (no new batch once `stop` is set)."""
        report = DispatchReport()
        await self._rate.tidy()
        report.add(await self.resolve_stale())
        rounds = 0
        while (max_rounds is None or rounds < max_rounds) and not (stop is not None and stop.is_set()):
            rounds += 1
            claimed, skipped = await self._claim()
            report.add(skipped)
            if not claimed:
                break
            report.add(await self._send_all(claimed))
        return report

    # -- claiming ------------------------------------------------------------------------------

    async def _claim(self) -> tuple[list[Outgoing], DispatchReport]:
        skipped = DispatchReport()
        async with transaction(self._sessions) as session:
            now = self._clock.now()
            query = (
                select(OutboxMessage)
                .where(OutboxMessage.status == MessageStatus.PENDING, OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(self.policy.batch)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list(await session.scalars(query))
            if not rows:
                return [], skipped
            contacts = await self._whatsapp_contacts(session, {r.recipient for r in rows if r.channel == "whatsapp"})
            callees = sorted({r.recipient for r in rows if r.channel == "voice"})
            # Two dispatchers claiming calls to one number take turns, so both see the other's call.
            await serialise(session=session, keys=[f"majlis-call:{phone}" for phone in callees])
            called = await self._called_today(session, now, set(callees))
            days_off = await self._days_off(session) if callees and self._days_off else frozenset()
            claimed: list[Outgoing] = []
            for row in rows:
                if row.channel == "voice" and not (row.payload or {}).get(ANY_HOUR):
                    local = now.astimezone(RIYADH)
                    in_hours = CALL_HOURS[0] <= local.hour < CALL_HOURS[1] and _calling_day(local.date(), days_off)
                    if not in_hours or row.recipient in called:
                        # Never at night or on the weekend; never a second call the same day.
                        row.next_attempt_at = next_calling_time(
                            now, not_today=row.recipient in called, days_off=days_off
                        )
                        skipped.deferred += 1
                        continue
                    called.add(row.recipient)
                contact = contacts.get(row.recipient)
                if row.channel == "whatsapp" and contact is not None and contact.opted_out_at is not None:
                    row.status = MessageStatus.CANCELLED
                    row.last_error = "opted out of WhatsApp"
                    skipped.cancelled += 1
                    continue
                row.status = MessageStatus.SENDING
                row.claimed_at = now
                row.lookup_at = None
                row.attempts += 1
                session_open = (
                    contact is not None
                    and contact.last_inbound_at is not None
                    and now - contact.last_inbound_at < WHATSAPP_WINDOW
                )
                if row.channel == "whatsapp":
                    # Kept, so that after a crash the provider is asked about the right kind of message.
                    row.payload = {**(row.payload or {}), "sent_as": "session" if session_open else "template"}
                claimed.append(self._outgoing(row, whatsapp_session_open=session_open))
        return claimed, skipped

    async def _whatsapp_contacts(self, session: AsyncSession, phones: set[str]) -> dict[str, WhatsAppContact]:
        if not phones:
            return {}
        rows = await session.scalars(select(WhatsAppContact).where(WhatsAppContact.phone.in_(phones)))
        return {row.phone: row for row in rows}

    async def _called_today(self, session: AsyncSession, now: datetime, phones: set[str]) -> set[str]:
        if not phones:
            return set()
        rows = await session.scalars(
            select(OutboxMessage.recipient).where(
                OutboxMessage.channel == "voice",
                OutboxMessage.recipient.in_(phones),
                OutboxMessage.status.in_((MessageStatus.SENT, MessageStatus.SENDING, MessageStatus.UNCERTAIN)),
                OutboxMessage.claimed_at >= _riyadh_day_start(now),
            )
        )
        return set(rows)

    def _outgoing(self, row: OutboxMessage, *, whatsapp_session_open: bool | None = None) -> Outgoing:
        body = row.body
        payload: dict[str, Any] = dict(row.payload or {})
        if whatsapp_session_open is None:
            whatsapp_session_open = payload.get("sent_as") == "session"
        gather_action = ""
        images: tuple[InlineImage, ...] = ()
        link_fields = payload.get("answer_link")
        if isinstance(link_fields, dict):
            link = AnswerLink(
                appointment_id=int(link_fields["appointment_id"]),
                expires_at=datetime.fromisoformat(str(link_fields["expires_at"])),
            )
            page = self._links.answer_page(link)
            arrival = self._links.arrival_code(link.appointment_id)
            body = body.replace(LINK, page).replace(ARRIVAL, arrival)
            variables = payload.get("variables")
            if isinstance(variables, dict):
                payload["variables"] = {
                    k: str(v).replace(LINK, page).replace(ARRIVAL, arrival) for k, v in variables.items()
                }
            if row.channel == "voice" and payload.get("gather"):
                gather_action = self._links.voice_answer(link)
            if row.channel == "email" and ARRIVAL in row.body:
                # E-mail can show a picture: the code as a QR code too, made now like the code itself.
                images = (arrival_qr(arrival, language=row.language),)
        referral = payload.get("referral_link")
        if isinstance(referral, dict):
            page = self._links.referral_page(int(referral["referral_id"]), int(referral["generation"]))
            body = body.replace(REFERRAL_LINK, page)
        emergency = payload.get("emergency_link")
        if isinstance(emergency, dict):
            page = self._links.emergency_page(int(emergency["report_id"]), int(emergency["generation"]))
            body = body.replace(EMERGENCY_LINK, page)
        rating = payload.get("rating_link")
        if isinstance(rating, dict):
            page = self._links.rating_page(int(rating["invite_id"]), datetime.fromisoformat(str(rating["expires_at"])))
            body = body.replace(RATING_LINK, page)
            variables = payload.get("variables")
            if isinstance(variables, dict):
                payload["variables"] = {k: str(v).replace(RATING_LINK, page) for k, v in variables.items()}
        details = payload.get("invitation")
        if row.channel == "email" and isinstance(details, dict):
            # The calendar entry reads as the e-mail does: the code and the link written in, not their placeholders.
            payload["ics"] = self._calendar(row, details, description=body)
            payload["method"] = details["method"]
        return Outgoing(
            message_id=row.id,
            channel=row.channel,
            recipient=row.recipient,
            language=row.language,
            body=body,
            purpose=row.purpose,
            payload=payload,
            whatsapp_session_open=whatsapp_session_open,
            status_callback=self._links.status_callback() if row.channel in TWILIO_CHANNELS else "",
            gather_action=gather_action,
            images=images,
        )

    def _calendar(self, row: OutboxMessage, details: dict[str, Any], *, description: str) -> str:
        """The invitation's iCalendar text, built when it is sent; DTSTAMP is when the change happened."""
        return invitation(
            uid=audience_uid(str(details["tracking_number"]), self._organizer),
            sequence=int(details["sequence"]),
            method="CANCEL" if details["method"] == "CANCEL" else "REQUEST",
            starts_at=datetime.fromisoformat(str(details["starts_at"])),
            ends_at=datetime.fromisoformat(str(details["ends_at"])),
            summary=str(details["summary"]),
            location=str(details["location"]),
            description=description,
            organizer_email=self._organizer,
            organizer_name="Majlis",
            attendee_email=row.recipient,
            attendee_name=str(details["attendee_name"]),
            stamp=row.created_at,
        ).decode()

    # -- sending -------------------------------------------------------------------------------

    async def _send_all(self, claimed: list[Outgoing]) -> DispatchReport:
        report = DispatchReport()
        gate = asyncio.Semaphore(self.policy.concurrency)
        # A claim is handed over only while younger than half the timeout, and each send is cut
        # off then: another dispatcher will soon treat the claim as dead, and must not find it
        # still being handed over.
        deadline = time.monotonic() + self.policy.claim_timeout.total_seconds() / 2

        async def one(outgoing: Outgoing) -> None:
            # Each send is its own task (gather), so the id set here is this message's alone.
            with request_id_set(_request_id_of(outgoing)):
                async with gate:
                    await self._send_one(outgoing, report, deadline=deadline)

        await asyncio.gather(*(one(o) for o in claimed))
        return report

    async def _send_one(self, outgoing: Outgoing, report: DispatchReport, *, deadline: float) -> None:
        channel = self._channels.get(outgoing.channel)
        if channel is None:
            await self._record_failure(outgoing, f"no {outgoing.channel} channel is configured", code="no_channel")
            report.failed += 1
            return
        await self._rate.acquire()
        left = deadline - time.monotonic()
        if left <= 0:
            await self._give_back(outgoing)
            report.given_back += 1
            return
        try:
            try:
                delivery = await asyncio.wait_for(channel.send(outgoing), timeout=left)
            except TimeoutError:
                # Cut off before the claim grows old: it may have gone, so the provider is asked first.
                raise TransientSendError("the provider took too long to answer", maybe_sent=True) from None
        except PermanentSendError as exc:
            # The code only: the provider's text usually repeats the applicant's number.
            log.warning("outbox message %s refused (code %s)", outgoing.message_id, exc.code or "-")
            await self._record_failure(outgoing, str(exc), code=exc.code)
            report.failed += 1
        except TransientSendError as exc:
            if exc.maybe_sent:
                await self._record_unsure(outgoing, str(exc))
                report.unsure += 1
            elif await self._record_retry(outgoing, str(exc)):
                report.retried += 1
            else:
                report.failed += 1
        except Exception as exc:  # an unknown failure: the provider may have it; ask before sending again
            log.exception("outbox message %s: unexpected error", outgoing.message_id)
            await self._record_unsure(outgoing, f"{type(exc).__name__}: {exc}")
            report.unsure += 1
        else:
            await self._record_sent(outgoing.message_id, delivery)
            report.sent += 1
            log.info("outbox message %s sent (%s, %s)", outgoing.message_id, outgoing.channel, outgoing.purpose)

    async def _record_sent(self, message_id: int, delivery: Delivery) -> None:
        async with transaction(self._sessions) as session:
            now = self._clock.now()
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.status == MessageStatus.SENDING)
                .values(
                    status=MessageStatus.SENT,
                    sent_at=now,
                    provider_id=delivery.provider_id,
                    delivery_status=delivery.status,
                    delivery_updated_at=now,
                    last_error=None,
                )
                .execution_options(synchronize_session=False)
            )
            # A status callback may have come before this answer was recorded.
            await delivery_reports.apply_early_reports(
                session=session, clock=self._clock, provider_id=delivery.provider_id
            )

    async def _record_failure(self, outgoing: Outgoing, error: str, *, code: str) -> None:
        async with transaction(self._sessions) as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == outgoing.message_id, OutboxMessage.status == MessageStatus.SENDING)
                .values(status=MessageStatus.FAILED, last_error=error[:2000], error_code=code[:32] or None)
                .execution_options(synchronize_session=False)
            )

    async def _record_unsure(self, outgoing: Outgoing, error: str) -> None:
        """The provider may have taken it: the claim is left as it is, so once it times out the provider is
        asked (as after a crash) and the message is sent again only if the provider does not have it."""
        async with transaction(self._sessions) as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == outgoing.message_id, OutboxMessage.status == MessageStatus.SENDING)
                .values(last_error=error[:2000])
                .execution_options(synchronize_session=False)
            )

    async def _give_back(self, outgoing: Outgoing) -> None:
        """Returns a claimed message not yet handed over, without counting an attempt."""
        async with transaction(self._sessions) as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == outgoing.message_id, OutboxMessage.status == MessageStatus.SENDING)
                .values(
                    status=case(
                        (OutboxMessage.withdrawn_at.is_not(None), MessageStatus.CANCELLED), else_=MessageStatus.PENDING
                    ),
                    attempts=OutboxMessage.attempts - 1,
                )
                .execution_options(synchronize_session=False)
            )

    async def _record_retry(self, outgoing: Outgoing, error: str) -> bool:
        """Back to pending after a backoff; gives back False when that was the last attempt (failed)."""
        async with transaction(self._sessions) as session:
            row = await session.get(OutboxMessage, outgoing.message_id, populate_existing=True)
            if row is None or row.status is not MessageStatus.SENDING:
                return True
            row.last_error = error[:2000]
            if row.withdrawn_at is not None:
                row.status = MessageStatus.CANCELLED
                return True
            if row.attempts >= self.policy.max_attempts:
                row.status = MessageStatus.FAILED
                row.error_code = "gave_up"
                return False
            row.status = MessageStatus.PENDING
            row.next_attempt_at = self._clock.now() + self.policy.backoff(attempts=row.attempts, message_id=row.id)
            return True

    # -- claims of dead dispatchers ------------------------------------------------------------

    async def resolve_stale(self) -> DispatchReport:
        """Settles messages left "sending" by a dispatcher that died: asks the provider before sending again."""
        report = DispatchReport()
        async with transaction(self._sessions) as session:
            now = self._clock.now()
            query = (
                select(OutboxMessage)
                .where(
                    OutboxMessage.status == MessageStatus.SENDING,
                    func.coalesce(OutboxMessage.lookup_at, OutboxMessage.claimed_at) < now - self.policy.claim_timeout,
                )
                .order_by(OutboxMessage.id)
                .limit(self.policy.batch)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            stale: list[tuple[Outgoing, datetime]] = []
            for row in await session.scalars(query):
                assert row.claimed_at is not None
                stale.append((self._outgoing(row), row.claimed_at))
                # Take the claim over, so no other dispatcher resolves it at the same time; the
                # claim's own time stays, so a failed look-up is asked again about the same span.
                row.lookup_at = now
        for outgoing, claimed_at in stale:
            channel = self._channels.get(outgoing.channel)
            try:
                if channel is None:
                    raise Unresolvable(f"no {outgoing.channel} channel is configured")
                found = await channel.find_sent(outgoing, since=claimed_at)
            except Unresolvable as exc:
                await self._settle(outgoing.message_id, MessageStatus.UNCERTAIN, error=str(exc))
                report.uncertain += 1
                log.warning("outbox message %s: cannot tell whether it went; left to staff", outgoing.message_id)
                continue
            except (TransientSendError, PermanentSendError) as exc:
                # The provider cannot answer now: the claim stays, and is asked about again after the timeout.
                log.warning("outbox message %s: provider look-up failed: %s", outgoing.message_id, exc)
                continue
            if found is not None:
                await self._record_sent(outgoing.message_id, found)
                report.resolved_sent += 1
            else:
                await self._settle(outgoing.message_id, MessageStatus.PENDING)
                report.resolved_again += 1
        return report

    async def _settle(self, message_id: int, status: MessageStatus, *, error: str | None = None) -> None:
        async with transaction(self._sessions) as session:
            row = await session.get(OutboxMessage, message_id, populate_existing=True)
            if row is None or row.status is not MessageStatus.SENDING:
                return
            if status is MessageStatus.PENDING and row.withdrawn_at is not None:
                status = MessageStatus.CANCELLED
            row.status = status
            row.next_attempt_at = self._clock.now()
            row.lookup_at = None
            if error is not None:
                row.last_error = error

    async def close(self) -> None:
        await self._channels.close()

    async def run_forever(self, stop: asyncio.Event, *, idle_seconds: float = 1.0) -> None:
        """The worker's loop: dispatch, then wait a moment (or until stopped) when nothing was due."""
        while not stop.is_set():
            try:
                report = await self.run_once(max_rounds=10, stop=stop)
            except Exception:
                log.exception("dispatch round failed; trying again")
                report = DispatchReport()
            if report.sent or report.retried or report.failed:
                log.info("outbox: %s", report)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=idle_seconds)


def _request_id_of(outgoing: Outgoing) -> str | None:
    """The id of the request or job that enqueued the message; the dispatcher's own when none was recorded."""
    recorded = outgoing.payload.get(REQUEST_ID_KEY)
    return recorded if isinstance(recorded, str) else current_request_id()


def policy_from(settings: Settings) -> DispatchPolicy:
    """The dispatcher's policy from the settings."""
    return DispatchPolicy(
        batch=settings.outbox_batch,
        concurrency=settings.outbox_concurrency,
        rate_per_second=settings.outbox_rate_per_second,
        claim_timeout=timedelta(seconds=settings.outbox_claim_timeout_seconds),
        max_attempts=settings.outbox_max_attempts,
        retry_base=timedelta(seconds=settings.outbox_retry_base_seconds),
        retry_max=timedelta(seconds=settings.outbox_retry_max_seconds),
    )
