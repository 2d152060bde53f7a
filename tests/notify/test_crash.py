"""A message is never sent twice, even when the worker is killed (SIGKILL) at the worst moment.

`majlis worker` runs as a real subprocess against the test's database and a fake
of Twilio's REST API on loopback. The fake accepts the 26th message and holds its
answer back, which is the one uncertain moment: the provider has the message and
the worker never hears so. The worker is killed there, killed again later at an
ordinary moment, and restarted; the restarted worker must ask the provider about
the messages left "sending" and send only those the provider does not have.
SIGTERM, by contrast, lets the worker finish the batch in hand and claim no other.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import SystemClock
from majlis.db import create_engine, session_factory, transaction
from notify import outbox
from notify.models import MessageStatus, OutboxMessage
from tests.conftest import TEST_SECRET
from tests.fake_twilio import FakeTwilio

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 60
# The fake answers 25 creates, then takes the 26th and holds its answer.
HELD = 25
# The second worker is killed once this many creates have been accepted in all.
SECOND_KILL_AT = 45
# Slow enough that the second kill lands while messages are still going out.
RATE_PER_SECOND = 40
BATCH = 10
WAIT_SECONDS = 30.0
STOP_SECONDS = 15.0

Sessions = async_sessionmaker[AsyncSession]


def body_of(n: int) -> str:
    return f"crash test message {n:03d}"


def worker_env(database_url: str, fake: FakeTwilio) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("MAJLIS_")}
    env.update(
        MAJLIS_DATABASE_URL=database_url,
        MAJLIS_SECRET_KEY=TEST_SECRET,
        MAJLIS_ENVIRONMENT="test",
        MAJLIS_JOBS_ENABLED="false",
        MAJLIS_NOTIFY_BACKEND="providers",
        MAJLIS_TWILIO_ACCOUNT_SID=fake.account_sid,
        MAJLIS_TWILIO_AUTH_TOKEN=fake.auth_token,
        MAJLIS_TWILIO_API_BASE=fake.base_url,
        MAJLIS_OUTBOX_CLAIM_TIMEOUT_SECONDS="1",
        MAJLIS_OUTBOX_RATE_PER_SECOND=str(RATE_PER_SECOND),
        MAJLIS_OUTBOX_BATCH=str(BATCH),
        MAJLIS_OUTBOX_CONCURRENCY="4",
        MAJLIS_OUTBOX_INTERVAL_SECONDS="0.2",
    )
    return env


class Workers:
    """`majlis worker` processes, all writing to one log; any still running is killed on the way out."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self._env = env
        self.log_path = log_path
        self._started: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "majlis.cli", "worker"],
                env=self._env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._started.append(process)
        return process

    def log(self) -> str:
        """The workers' last lines, without the twilio library's log of every request."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join([line for line in lines if " twilio." not in line][-40:])

    async def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL: no handler runs, nothing is flushed or committed."""
        assert process.poll() is None, f"the worker exited before it could be killed:\n{self.log()}"
        os.kill(process.pid, signal.SIGKILL)
        await until(lambda: process.poll() is not None, what="the killed worker to go", log=self.log)
        assert process.returncode == -signal.SIGKILL

    def close(self) -> None:
        for process in self._started:
            if process.poll() is None:
                process.kill()
            process.wait()


@contextmanager
def workers(env: dict[str, str], log_path: Path) -> Iterator[Workers]:
    running = Workers(env, log_path)
    try:
        yield running
    finally:
        running.close()


async def until(
    condition: Callable[[], bool], *, what: str, log: Callable[[], str], seconds: float = WAIT_SECONDS
) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds:.0f} s for {what}:\n{log()}"
        await asyncio.sleep(0.01)


async def enqueue_all(sessions: Sessions, count: int = MESSAGES) -> None:
    async with transaction(sessions) as session:
        for n in range(count):
            await outbox.enqueue(
                session=session,
                clock=SystemClock(),
                purpose=f"crash:{n}",
                channel="sms",
                recipient=f"+966500000{n:03d}",
                language="ar",
                body=body_of(n),
            )


async def outbox_rows(sessions: Sessions) -> list[OutboxMessage]:
    async with transaction(sessions) as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_a_worker_killed_mid_send_never_sends_a_message_twice(database_url: str, tmp_path: Path) -> None:
    fake = FakeTwilio()
    await fake.start()
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        await enqueue_all(sessions)
        with workers(worker_env(database_url, fake), tmp_path / "worker.log") as running:
            # 1. Killed while the provider holds the answer to a message it has taken.
            fake.hold_after(HELD)
            first = running.start()
            await until(fake.holding.is_set, what="the fake to hold an answer", log=running.log)
            await running.kill(first)
            fake.release()
            held = fake.accepted[HELD]
            # The provider has it; the database still says the worker was handing it over.
            left = {row.body: row.status for row in await outbox_rows(sessions)}
            assert left[held.params["Body"]] is MessageStatus.SENDING

            # 2. Killed at an ordinary moment, with messages going out.
            second = running.start()
            await until(lambda: len(fake.accepted) >= SECOND_KILL_AT, what="more messages", log=running.log)
            await running.kill(second)

            # 3. Runs to the end, then stops cleanly on SIGTERM.
            third = running.start()
            sent: list[OutboxMessage] = []

            async def all_sent() -> bool:
                nonlocal sent
                sent = await outbox_rows(sessions)
                return all(row.status is MessageStatus.SENT for row in sent)

            deadline = time.monotonic() + WAIT_SECONDS
            while not await all_sent():
                assert third.poll() is None, f"the worker exited with {third.returncode}:\n{running.log()}"
                assert time.monotonic() < deadline, (
                    f"not all sent after {WAIT_SECONDS:.0f} s: {Counter(row.status for row in sent)}\n{running.log()}"
                )
                await asyncio.sleep(0.1)
            third.send_signal(signal.SIGTERM)
            await until(
                lambda: third.poll() is not None,
                what="the worker to stop on SIGTERM",
                log=running.log,
                seconds=STOP_SECONDS,
            )
            assert third.returncode == 0, running.log()

        accepted = Counter(create.params.get("Body") for create in fake.accepted)
        sids = {create.params["Body"]: create.sid for create in fake.accepted}
    finally:
        await engine.dispose()
        await fake.stop()

    # Every message reached the provider exactly once.
    assert accepted == Counter({body_of(n): 1 for n in range(MESSAGES)})
    # Each row carries the provider's id of its one create; nothing failed or was left to staff.
    assert [row.status for row in sent] == [MessageStatus.SENT] * MESSAGES
    assert {row.body: row.provider_id for row in sent} == sids
    # The held message was found by asking the provider, not sent again: claimed once, the fake's sid.
    held_row = next(row for row in sent if row.body == held.params["Body"])
    assert held_row.provider_id == held.sid
    assert held_row.attempts == 1


async def test_sigterm_stops_the_worker_after_the_batch_in_hand(database_url: str, tmp_path: Path) -> None:
    fake = FakeTwilio()
    await fake.start()
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        # Five seconds of sending at the worker's rate: SIGTERM comes in the second batch.
        await enqueue_all(sessions, 200)
        with workers(worker_env(database_url, fake), tmp_path / "worker.log") as running:
            worker = running.start()
            await until(lambda: len(fake.accepted) >= 15, what="messages to go out", log=running.log)
            worker.send_signal(signal.SIGTERM)
            signalled = len(fake.accepted)
            started = time.monotonic()
            await until(
                lambda: worker.poll() is not None, what="the worker to stop on SIGTERM", log=running.log, seconds=5.0
            )
            stopped_in = time.monotonic() - started
            assert worker.returncode == 0, running.log()
        after = len(fake.accepted) - signalled
        left = await outbox_rows(sessions)
    finally:
        await engine.dispose()
        await fake.stop()

    # It finished the batch in hand (at most one) and claimed no other.
    assert after <= BATCH, f"{after} messages went out after SIGTERM, in {stopped_in:.1f} s"
    statuses = Counter(row.status for row in left)
    assert statuses == {MessageStatus.SENT: len(fake.accepted), MessageStatus.PENDING: 200 - len(fake.accepted)}
