"""Dispatch benchmark: confirmations all due at one instant, sent through Twilio's API at its rate limit.

    .venv/bin/python -m bench.dispatch [--messages N] [--rate R] [--batch B] [--concurrency C]
                                       [--database-url URL | --postgresql] [--crash-messages N]
                                       [--seed S] [--log-dir DIR]

Three parts, in one run:

1. Dispatch. N confirmations (by default 10,000: 5,000 applicants, each asked by
   WhatsApp template and by SMS, each carrying a signed answer link) are made due
   at the same instant. The `Dispatcher`, with the real Twilio channels pointed at
   a fake of Twilio's REST API on loopback (tests/fake_twilio.py) that answers 429
   above R creates in any second, sends them all. The figures: the time taken, how
   late each message went after its due time (sent_at − due_at, from the
   database), the most creates the provider saw in any one second, its 429s, the
   messages it accepted more than once, and the dispatcher's own counts of sends
   left unsure (asked about before any resend) and claims given back unsent.
2. Reference. The same N messages through the same channels straight to a fresh
   fake, paced by the same `RateLimiter` with the same concurrency, with no
   database: the best the dispatcher could do at that rate.
3. Crash (skipped with --crash-messages 0). A `majlis worker` subprocess sends
   2,000 messages and is killed with SIGKILL twice: first while the fake holds the
   answer to a message it has taken (at a random count: the uncertain moment),
   then at a random count with no hold. A third worker runs to the end and is
   stopped with SIGTERM. The figures: messages accepted more than once (must be 0)
   and how many messages the provider had taken while the killed worker never
   recorded it, each of which must have been found by asking the provider; and the
   unsure sends and given-back claims in the rounds the workers logged.

The fake runs in this process, on the dispatcher's event loop in part 1. The
database is a new SQLite file unless --database-url (an empty, dedicated
database: it is migrated, and its outbox is emptied between parts) or
--postgresql (a throwaway server, as bench/intake.py starts).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.intake import code_version, load_average, machine_facts, postgres_version
from majlis import migrate
from majlis.clock import SystemClock
from majlis.db import create_engine, session_factory, transaction
from notify import outbox
from notify.channels import Channels, Outgoing
from notify.links import AnswerLink, Links
from notify.models import MessageStatus, OutboxMessage
from notify.outbox import ARRIVAL, LINK, Dispatcher, DispatchPolicy, RateLimiter, answer_link_payload
from notify.texts import confirmation_sms, confirmation_whatsapp
from notify.twilio_channels import twilio_channels
from tests.fake_twilio import AcceptedCreate, FakeTwilio
from tests.postgres_server import PostgresServer

Sessions = async_sessionmaker[AsyncSession]

PUBLIC_URL = "https://majlis.example.gov.sa"
# A fresh key each run, as bench/intake.py does; the workers of the crash part get the same.
SECRET = secrets.token_urlsafe(48)
SMS_SENDER = "MAJLIS"
WHATSAPP_FROM = "+966110000000"
VOICES = {"ar": ("Polly.Zeina", "arb"), "en": ("Polly.Joanna", "en-US")}
TEMPLATES = {"confirmation_ar": "HX" + "a" * 32, "confirmation_en": "HX" + "b" * 32}
ENQUEUE_CHUNK = 2_000
# The worker of the crash part: a dead worker's claims are asked about after this long.
CLAIM_TIMEOUT_SECONDS = 5.0
# Time for the fake to finish requests a killed worker had already written to the socket.
SETTLE_SECONDS = 0.3
STOP_SECONDS = 15.0
# Creates still unanswered after this long are a lost answer, not a slow one.
REQUEST_TIMEOUT_SECONDS = 10.0


# --- The messages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """Confirmation n: applicant n // 2, by WhatsApp template (even n) or SMS (odd n)."""

    n: int
    expires_at: datetime

    @property
    def channel(self) -> str:
        return "whatsapp" if self.n % 2 == 0 else "sms"

    @property
    def applicant(self) -> int:
        return self.n // 2

    @property
    def language(self) -> str:
        return "en" if self.applicant % 3 == 0 else "ar"

    @property
    def phone(self) -> str:
        return f"+96650{self.applicant % 10**7:07d}"

    @property
    def tracking_number(self) -> str:
        return f"26-{self.applicant % 10**6:06d}-0"

    def texts(self) -> tuple[str, dict[str, object]]:
        """The body and payload the confirmation timeline would write (the link still a placeholder)."""
        when, place = "2026-11-27 10:24", "Riyadh audience hall"
        link = answer_link_payload(appointment_id=self.applicant + 1, expires_at=self.expires_at)
        facts = {"language": self.language, "tracking_number": self.tracking_number, "when": when, "place": place}
        if self.channel == "sms":
            return confirmation_sms(**facts, link=LINK, arrival=ARRIVAL), dict(link)
        body = confirmation_whatsapp(**facts, link=LINK, arrival=ARRIVAL)
        variables = {"1": self.tracking_number, "2": when, "3": place, "4": LINK, "5": ARRIVAL}
        return body, {**link, "template": f"confirmation_{self.language}", "variables": variables}

    def outgoing(self, links: Links) -> Outgoing:
        """What the dispatcher hands the channel for this message (for the reference run)."""
        body, payload = self.texts()
        page = links.answer_page(AnswerLink(appointment_id=self.applicant + 1, expires_at=self.expires_at))
        variables = payload.get("variables")
        if isinstance(variables, dict):
            payload["variables"] = {k: str(v).replace(LINK, page) for k, v in variables.items()}
        return Outgoing(
            message_id=self.n + 1,
            channel=self.channel,
            recipient=self.phone,
            language=self.language,
            body=body.replace(LINK, page),
            purpose=f"confirmation:{self.applicant}:{self.channel}",
            payload=payload,
            status_callback=links.status_callback(),
        )


def messages(count: int) -> list[Message]:
    expires_at = datetime.now(UTC) + timedelta(days=3)
    return [Message(n, expires_at) for n in range(count)]


def identity(create: AcceptedCreate) -> tuple[str, str, str]:
    """What makes a create one message: its recipient and its text (a template's variables carry the link)."""
    return create.params.get("To", ""), create.params.get("Body", ""), create.params.get("ContentVariables", "")


def sent_twice(fake: FakeTwilio) -> int:
    return sum(1 for times in Counter(identity(c) for c in fake.accepted).values() if times > 1)


def make_channels(fake: FakeTwilio) -> Channels:
    return Channels(
        twilio_channels(
            account_sid=fake.account_sid,
            auth_token=fake.auth_token,
            api_base=fake.base_url,
            sms_sender=SMS_SENDER,
            whatsapp_from=WHATSAPP_FROM,
            voice_from=WHATSAPP_FROM,
            voices=VOICES,
            whatsapp_templates=TEMPLATES,
        )
    )


def links() -> Links:
    return Links(public_url=PUBLIC_URL, secret=SECRET)


# --- The database ---------------------------------------------------------------------------------


async def enqueue(sessions: Sessions, batch: Sequence[Message]) -> None:
    """Writes the messages in transactions of ENQUEUE_CHUNK, due now."""
    clock = SystemClock()
    for start in range(0, len(batch), ENQUEUE_CHUNK):
        async with transaction(sessions) as session:
            for message in batch[start : start + ENQUEUE_CHUNK]:
                body, payload = message.texts()
                await outbox.enqueue(
                    session=session,
                    clock=clock,
                    purpose=f"confirmation:{message.applicant}:{message.channel}",
                    channel=message.channel,
                    recipient=message.phone,
                    language=message.language,
                    body=body,
                    payload=payload,
                )


async def make_due(sessions: Sessions, moment: datetime) -> None:
    """Every message due at the same instant."""
    async with transaction(sessions) as session:
        await session.execute(update(OutboxMessage).values(due_at=moment, next_attempt_at=moment))


async def clear_outbox(sessions: Sessions) -> None:
    async with transaction(sessions) as session:
        await session.execute(delete(OutboxMessage))


async def outbox_size(sessions: Sessions) -> int:
    async with transaction(sessions) as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def unsettled(sessions: Sessions) -> int:
    """Messages not yet sent and not stopped."""
    async with transaction(sessions) as session:
        query = select(func.count()).where(OutboxMessage.status.in_((MessageStatus.PENDING, MessageStatus.SENDING)))
        return int(await session.scalar(query) or 0)


async def all_rows(sessions: Sessions) -> list[OutboxMessage]:
    async with transaction(sessions) as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


# --- Figures --------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


@dataclass
class DispatchResult:
    messages: int
    seconds: float = 0.0
    lateness: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    max_in_second: int = 0
    rate_limited: int = 0
    duplicates: int = 0
    accepted: int = 0
    retried: int = 0
    # Sends that failed after the request may have gone out (left claimed, the provider asked before any
    # resend), claims given back unsent because they grew old, and how the claims asked about were settled.
    unsure: int = 0
    given_back: int = 0
    resolved_sent: int = 0
    resolved_again: int = 0
    uncertain: int = 0
    cpu_seconds: float = 0.0


@dataclass
class ReferenceResult:
    seconds: float = 0.0
    max_in_second: int = 0
    rate_limited: int = 0
    errors: Counter[str] = field(default_factory=Counter)


@dataclass
class CrashResult:
    messages: int
    kills: list[str] = field(default_factory=list)
    seconds: float = 0.0
    accepted: int = 0
    duplicates: int = 0
    # Left "sending" by a killed worker: the provider had taken it, or had not.
    taken_unrecorded: int = 0
    not_taken: int = 0
    found_by_asking: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    stop_seconds: float = math.nan
    exit_code: int | None = None
    # Summed from the rounds the workers logged (a killed worker's unfinished round is not logged).
    logged_unsure: int = 0
    logged_given_back: int = 0


# --- Part 1: the dispatcher -----------------------------------------------------------------------


async def run_dispatch(sessions: Sessions, args: argparse.Namespace) -> DispatchResult:
    batch = messages(args.messages)
    print(f"bench: writing {len(batch)} messages to the outbox ...", file=sys.stderr, flush=True)
    await enqueue(sessions, batch)
    fake = FakeTwilio(rate_limit_per_second=args.rate)
    await fake.start()
    dispatcher = Dispatcher(
        sessions=sessions,
        clock=SystemClock(),
        channels=make_channels(fake),
        links=links(),
        policy=DispatchPolicy(batch=args.batch, concurrency=args.concurrency, rate_per_second=args.rate),
    )
    result = DispatchResult(len(batch))
    print(f"bench: dispatching at {args.rate:g}/s ...", file=sys.stderr, flush=True)
    try:
        due = SystemClock().now()
        await make_due(sessions, due)
        started, cpu_before = time.perf_counter(), time.process_time()
        deadline = started + 3 * len(batch) / args.rate + 120
        while True:
            report = await dispatcher.run_once()
            result.retried += report.retried
            result.unsure += report.unsure
            result.given_back += report.given_back
            result.resolved_sent += report.resolved_sent
            result.resolved_again += report.resolved_again
            result.uncertain += report.uncertain
            if not await unsettled(sessions):
                break
            if time.perf_counter() > deadline:
                raise RuntimeError(
                    f"{await unsettled(sessions)} messages still unsent after {deadline - started:.0f} s"
                )
            await asyncio.sleep(0.2)  # a passing failure waits out its backoff
        result.seconds = time.perf_counter() - started
        result.cpu_seconds = time.process_time() - cpu_before
    finally:
        await dispatcher.close()
        await fake.stop()
    for row in await all_rows(sessions):
        result.statuses[row.status.value] += 1
        if row.sent_at is not None:
            result.lateness.append((row.sent_at - row.due_at).total_seconds())
    result.max_in_second = fake.max_in_any_second()
    result.rate_limited = fake.rate_limited
    result.duplicates = sent_twice(fake)
    result.accepted = len(fake.accepted)
    return result


# --- Part 2: the reference ------------------------------------------------------------------------


async def run_reference(args: argparse.Namespace) -> ReferenceResult:
    """The same messages straight to the provider, paced the same way, without the database."""
    signer = links()
    batch = [m.outgoing(signer) for m in messages(args.messages)]
    fake = FakeTwilio(rate_limit_per_second=args.rate)
    await fake.start()
    channels = make_channels(fake)
    limiter = RateLimiter(args.rate)
    gate = asyncio.Semaphore(args.concurrency)
    result = ReferenceResult()

    async def one(message: Outgoing) -> None:
        channel = channels.get(message.channel)
        assert channel is not None
        async with gate:
            await limiter.acquire()
            try:
                await channel.send(message)
            except Exception as exc:  # counted and shown: the reference should have none
                result.errors[type(exc).__name__] += 1

    print(f"bench: reference, {len(batch)} creates straight to the fake ...", file=sys.stderr, flush=True)
    try:
        started = time.perf_counter()
        await asyncio.gather(*(one(m) for m in batch))
        result.seconds = time.perf_counter() - started
    finally:
        await channels.close()
        await fake.stop()
    result.max_in_second = fake.max_in_any_second()
    result.rate_limited = fake.rate_limited
    return result


# --- Part 3: killed workers -----------------------------------------------------------------------


def worker_env(database_url: str, fake: FakeTwilio, args: argparse.Namespace, config: Path) -> dict[str, str]:
    """`majlis worker` against the fake; the caller's MAJLIS_* variables are dropped."""
    config.write_text("[whatsapp_templates]\n" + "".join(f'{name} = "{sid}"\n' for name, sid in TEMPLATES.items()))
    env = {name: value for name, value in os.environ.items() if not name.startswith("MAJLIS_")}
    env.update(
        MAJLIS_CONFIG=str(config),
        MAJLIS_DATABASE_URL=database_url,
        MAJLIS_ENVIRONMENT="production",
        MAJLIS_EMERGENCY_CONSULAR_DEPUTY_EMAIL="deputy@mofa.example.sa",
        MAJLIS_EMERGENCY_CONSULAR_DEPUTY_PHONE="+966501234567",
        MAJLIS_SECRET_KEY=SECRET,
        MAJLIS_PUBLIC_URL=PUBLIC_URL,
        MAJLIS_JOBS_ENABLED="false",
        MAJLIS_NOTIFY_BACKEND="providers",
        MAJLIS_TWILIO_ACCOUNT_SID=fake.account_sid,
        MAJLIS_TWILIO_AUTH_TOKEN=fake.auth_token,
        MAJLIS_TWILIO_API_BASE=fake.base_url,
        MAJLIS_TWILIO_WHATSAPP_FROM=WHATSAPP_FROM,
        MAJLIS_SMS_SENDER=SMS_SENDER,
        MAJLIS_OUTBOX_CLAIM_TIMEOUT_SECONDS=str(CLAIM_TIMEOUT_SECONDS),
        MAJLIS_OUTBOX_RATE_PER_SECOND=str(args.rate),
        MAJLIS_OUTBOX_BATCH=str(args.batch),
        MAJLIS_OUTBOX_CONCURRENCY=str(args.concurrency),
        MAJLIS_OUTBOX_INTERVAL_SECONDS="0.5",
    )
    return env


@contextmanager
def worker_processes(env: dict[str, str], log_path: Path) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Starts `majlis worker` processes on demand; any still running is killed on the way out."""
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "majlis.cli", "worker"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
            process.wait()


async def wait_until(condition: Callable[[], bool], what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"waited {seconds:.0f} s for {what}")
        await asyncio.sleep(0.005)


async def kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        raise RuntimeError(f"the worker exited with {process.returncode} before it was killed")
    os.kill(process.pid, signal.SIGKILL)
    await wait_until(lambda: process.poll() is not None, "the killed worker to go", STOP_SECONDS)
    await asyncio.sleep(SETTLE_SECONDS)


async def run_crash(sessions: Sessions, database_url: str, args: argparse.Namespace, log_dir: Path) -> CrashResult:
    count = args.crash_messages
    rng = random.Random(args.seed)
    batch = messages(count)
    await enqueue(sessions, batch)
    fake = FakeTwilio(rate_limit_per_second=args.rate)
    await fake.start()
    result = CrashResult(count)
    env = worker_env(database_url, fake, args, log_dir / "crash-worker.toml")
    wait = 3 * count / args.rate + 60
    # Rows left "sending" at a kill, as (id, attempts then): the provider had taken them, or had not.
    # A row still "sending" at the next kill with the same attempts is the same case, counted once.
    uncertain: set[tuple[int, int]] = set()
    not_taken: set[tuple[int, int]] = set()
    print(f"bench: crash part, {count} messages, workers logging to {log_dir} ...", file=sys.stderr, flush=True)
    try:
        with worker_processes(env, log_dir / "crash-worker.log") as start:
            started = time.perf_counter()
            first_at = rng.randint(count // 10, 4 * count // 10)
            second_at = rng.randint(55 * count // 100, 85 * count // 100)

            fake.hold_after(first_at)
            first = start()
            await wait_until(fake.holding.is_set, "the fake to hold an answer", wait)
            await kill(first)
            fake.release()
            result.kills.append(f"SIGKILL while the answer to create {first_at + 1} was held")
            had, had_not = await classify(sessions, fake)
            uncertain |= had
            not_taken |= had_not

            second = start()
            await wait_until(lambda: len(fake.accepted) >= second_at, "more messages to go out", wait)
            await kill(second)
            result.kills.append(f"SIGKILL once {second_at} creates had been accepted")
            had, had_not = await classify(sessions, fake)
            uncertain |= had
            not_taken |= had_not

            third = start()
            deadline = time.monotonic() + wait
            while await unsettled(sessions):
                if third.poll() is not None:
                    raise RuntimeError(f"the last worker exited with {third.returncode}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"messages still unsent after {wait:.0f} s")
                await asyncio.sleep(0.1)
            result.seconds = time.perf_counter() - started
            third.send_signal(signal.SIGTERM)
            stopping = time.perf_counter()
            await wait_until(lambda: third.poll() is not None, "the worker to stop on SIGTERM", STOP_SECONDS)
            result.stop_seconds = time.perf_counter() - stopping
            result.exit_code = third.returncode
    finally:
        await fake.stop()
    sids: dict[tuple[str, str, str], list[str]] = {}
    for create in fake.accepted:
        sids.setdefault(identity(create), []).append(create.sid)
    first_sid = {key[0]: found[0] for key, found in sids.items()}
    for row in await all_rows(sessions):
        result.statuses[row.status.value] += 1
        address = row.recipient if row.channel == "sms" else f"whatsapp:{row.recipient}"
        if (row.id, row.attempts) in uncertain and row.provider_id == first_sid.get(address):
            result.found_by_asking += 1
    result.taken_unrecorded, result.not_taken = len(uncertain), len(not_taken)
    result.accepted = len(fake.accepted)
    result.duplicates = sent_twice(fake)
    result.rate_limited = fake.rate_limited
    result.logged_unsure, result.logged_given_back = logged_counts(log_dir / "crash-worker.log")
    return result


def logged_counts(log_path: Path) -> tuple[int, int]:
    """The unsure sends and given-back claims in the `DispatchReport`s the workers logged."""
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    return (
        sum(int(n) for n in re.findall(r"\bunsure=(\d+)", text)),
        sum(int(n) for n in re.findall(r"\bgiven_back=(\d+)", text)),
    )


async def classify(sessions: Sessions, fake: FakeTwilio) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """After a kill, the rows left "sending" as (id, attempts): those the provider had taken, and the others."""
    taken = {create.params.get("To", "") for create in fake.accepted}
    had: set[tuple[int, int]] = set()
    had_not: set[tuple[int, int]] = set()
    async with transaction(sessions) as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.status == MessageStatus.SENDING))
        for row in rows:
            address = row.recipient if row.channel == "sms" else f"whatsapp:{row.recipient}"
            (had if address in taken else had_not).add((row.id, row.attempts))
    return had, had_not


# --- Report ---------------------------------------------------------------------------------------


def _s(seconds: float) -> str:
    return f"{seconds:.1f} s"


def report(
    args: argparse.Namespace,
    notes: Sequence[str],
    dispatch: DispatchResult,
    reference: ReferenceResult,
    crash: CrashResult | None,
    log_dir: Path,
) -> str:
    n, rate = dispatch.messages, args.rate
    ideal = [i / rate for i in range(n)]
    lines = [
        f"command: {shlex.join(sys.orig_argv)}",
        f"date: {datetime.now(UTC).date().isoformat()}",
        f"code: {code_version()}",
        *machine_facts(),
        *notes,
        f"dispatcher: batch {args.batch}, concurrency {args.concurrency}, rate {rate:g}/s (paced at 95 %); "
        f"fake Twilio answers 429 above {rate:g} creates in any second",
        "",
        f"## Dispatch: {n} messages due at one instant",
        "",
        f"- total time: {_s(dispatch.seconds)} ({n / dispatch.seconds:.1f} messages/s; "
        f"CPU of this process {_s(dispatch.cpu_seconds)})",
        f"- statuses: {dict(dispatch.statuses)}; passing failures retried: {dispatch.retried}",
        f"- sends unsure (left claimed, the provider asked before any resend): {dispatch.unsure}; "
        f"claims given back unsent: {dispatch.given_back}",
        f"- claims asked about: found at the provider {dispatch.resolved_sent}, "
        f"sent again {dispatch.resolved_again}, left to staff {dispatch.uncertain}",
        "",
        "| lateness after due time | p50 | p95 | p99 | max |",
        "| --- | ---: | ---: | ---: | ---: |",
        "| dispatcher | " + " | ".join(_s(percentile(dispatch.lateness, p)) for p in (50, 95, 99, 100)) + " |",
        f"| ideal at {rate:g}/s (message i at i/{rate:g} s) | "
        + " | ".join(_s(percentile(ideal, p)) for p in (50, 95, 99, 100))
        + " |",
        "",
        f"- provider's most creates in any one second: {dispatch.max_in_second} (limit {rate:g})",
        f"- 429 answers: {dispatch.rate_limited}",
        f"- creates accepted: {dispatch.accepted}; messages sent twice: {dispatch.duplicates}",
        "",
        "## Reference: the same creates straight through the Twilio channels, same pacing, no database",
        "",
        f"- time: {_s(reference.seconds)} (most in one second {reference.max_in_second}, "
        f"429s {reference.rate_limited}, errors {dict(reference.errors) or 0})",
        f"- ideal {n}/{rate:g}: {_s(n / rate)}",
        f"- dispatcher / reference: {dispatch.seconds / reference.seconds:.3f}; "
        f"dispatcher / ideal: {dispatch.seconds / (n / rate):.3f}",
    ]
    if crash is not None:
        lines += [
            "",
            f"## Crash: {crash.messages} messages, `majlis worker` killed twice and restarted",
            "",
            *(f"- kill {i}: {what}" for i, what in enumerate(crash.kills, 1)),
            f"- all sent after {_s(crash.seconds)}; statuses {dict(crash.statuses)}; 429s {crash.rate_limited}",
            f'- left "sending" by the kills: {crash.taken_unrecorded + crash.not_taken} '
            f"({crash.taken_unrecorded} the provider had taken, {crash.not_taken} it had not)",
            f"- of those it had taken, found by asking the provider (its sid recorded, not claimed again): "
            f"{crash.found_by_asking}",
            f"- creates accepted: {crash.accepted}; messages sent twice: {crash.duplicates}",
            f"- in the rounds the workers logged: sends unsure {crash.logged_unsure}, "
            f"claims given back unsent {crash.logged_given_back}",
            f"- the last worker stopped on SIGTERM in {_s(crash.stop_seconds)}, exit code {crash.exit_code}",
        ]
    lines.append(f"logs: {log_dir}")
    return "\n".join(lines)


# --- Command line ---------------------------------------------------------------------------------


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return number


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be a whole number, 0 or more")
    return number


def _positive_float(value: str) -> float:
    number = float(value)
    if not number > 0:  # also refuses NaN
        raise argparse.ArgumentTypeError("must be a positive number")
    return number


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.dispatch", description=__doc__.split("\n\n")[0] if __doc__ else ""
    )
    p.add_argument("--messages", type=_positive_int, default=10_000, help="messages due at one instant (10000)")
    p.add_argument("--rate", type=_positive_float, default=100.0, help="the provider's limit, creates a second (100)")
    p.add_argument("--batch", type=_positive_int, default=100, help="messages claimed per round (100)")
    p.add_argument("--concurrency", type=_positive_int, default=8, help="sends in flight at once (8)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--database-url", help="an empty database made for the bench (default: a new SQLite file)")
    where.add_argument("--postgresql", action="store_true", help="a throwaway PostgreSQL server")
    p.add_argument(
        "--crash-messages", type=_count, default=2_000, help="messages of the kill-and-restart part; 0 skips it (2000)"
    )
    p.add_argument("--seed", type=int, default=2026, help="chooses the kill moments (2026)")
    p.add_argument("--log-dir", type=Path, help="where the workers' output goes (default: a new temporary directory)")
    return p


async def measure(args: argparse.Namespace, database_url: str, notes: list[str], log_dir: Path) -> str:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        sessions = session_factory(engine)
        if await outbox_size(sessions):
            raise RuntimeError("the database's outbox is not empty: give the bench a database of its own")
        dispatch = await run_dispatch(sessions, args)
        reference = await run_reference(args)
        crash = None
        if args.crash_messages:
            await clear_outbox(sessions)
            crash = await run_crash(sessions, database_url, args, log_dir)
        await clear_outbox(sessions)
    finally:
        await engine.dispose()
    return report(args, notes, dispatch, reference, crash, log_dir)


def run(args: argparse.Namespace) -> str:
    log_dir: Path = args.log_dir or Path(tempfile.mkdtemp(prefix="majlis-bench-dispatch-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    notes = [f"load average before the run: {load_average()}"]
    if args.database_url:
        notes.append("database: the one given (--database-url)")
        return asyncio.run(measure(args, args.database_url, notes, log_dir))
    if args.postgresql:
        server = PostgresServer()
        try:
            server.start()
            notes.append(f"database: {postgres_version(server)}, fsync=off, synchronous_commit=off")
            return asyncio.run(measure(args, server.url("postgres"), notes, log_dir))
        finally:
            server.stop()
    with tempfile.TemporaryDirectory(prefix="majlis-bench-dispatch-db-") as tmp:
        notes.append("database: a new SQLite file (WAL)")
        return asyncio.run(measure(args, f"sqlite+aiosqlite:///{tmp}/bench.db", notes, log_dir))


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        print(run(args))
    except RuntimeError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
