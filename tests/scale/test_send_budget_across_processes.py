"""Two real `majlis serve` processes dispatch one outbox to the fake Twilio API together, and together stay under
the provider's rate (notify.send_budget): each would be within the rate alone, so without the shared budget the
two together would exceed it and be refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from majlis.clock import SystemClock
from majlis.db import create_engine, session_factory, transaction
from notify import outbox
from notify.models import OutboxMessage
from tests.fake_twilio import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, FakeTwilio
from tests.scale.conftest import Start

# The fake provider refuses a 21st create within any second.
PROVIDER_LIMIT = 20
# The rate the dispatchers are given, under the provider's limit to leave real slack for a loaded machine: at 15 a
# second, notify.send_budget's windows hold floor(15 / 1.2) = 12 slots a second, 1/12 s apart. Shared, the two send
# 12 in any second: 8 sends would have to arrive bunched from later slots (2/3 s late) to make 20. Unshared, each
# would send its own 12 a second, 24 together > 20: the fake would refuse some, so the test proves the sharing.
RATE = 15
MESSAGES = 96


@pytest.fixture
async def twilio_api() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio(rate_limit_per_second=PROVIDER_LIMIT)
    await fake.start()
    yield fake
    await fake.stop()


async def test_two_dispatchers_together_stay_under_the_providers_rate(
    majlis_processes: Start, twilio_api: FakeTwilio, scale_database_url: str
) -> None:
    env = {
        "MAJLIS_NOTIFY_BACKEND": "providers",
        "MAJLIS_TWILIO_ACCOUNT_SID": FAKE_ACCOUNT_SID,
        "MAJLIS_TWILIO_AUTH_TOKEN": FAKE_AUTH_TOKEN,
        "MAJLIS_TWILIO_API_BASE": twilio_api.base_url,
        "MAJLIS_OUTBOX_RATE_PER_SECOND": str(RATE),
        "MAJLIS_OUTBOX_INTERVAL_SECONDS": "0.2",
        # Small batches, so that both processes have claimed some while the rest wait.
        "MAJLIS_OUTBOX_BATCH": "10",
    }
    served = await majlis_processes(count=2, env=env)
    engine = create_engine(scale_database_url)
    try:
        async with transaction(session_factory(engine)) as session:
            for number in range(MESSAGES):
                await outbox.enqueue(
                    session=session,
                    clock=SystemClock(),
                    purpose=f"test:{number}",
                    channel="sms",
                    recipient=f"+9665012{number:05d}",
                    language="ar",
                    body=f"message {number}",
                    flush=False,
                )
    except BaseException:
        await engine.dispose()
        raise

    for _ in range(125):  # bounded wait: up to 25 s (96 at 12 a second take 8 s)
        if len(twilio_api.accepted) >= MESSAGES:
            break
        await asyncio.sleep(0.2)
    logs = [process.log_text() for process in served]
    assert twilio_api.rate_limited == 0 and twilio_api.max_in_any_second() <= PROVIDER_LIMIT
    async with session_factory(engine)() as session:
        errors = list(await session.scalars(select(OutboxMessage.last_error).where(OutboxMessage.attempts > 1)))
    await engine.dispose()
    assert errors == [], errors
    assert len(twilio_api.accepted) == MESSAGES, [log[-3000:] for log in logs]
    # Both processes sent their share: the rate was shared, not one dispatcher's alone.
    assert all("outbox: DispatchReport(sent=" in log for log in logs), [log[-3000:] for log in logs]
    assert len({record.params["To"] for record in twilio_api.accepted}) == MESSAGES
