"""The app factory wires the job runner: the receipt leaves through the outbox without anyone calling it."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from majlis.app import create_app
from majlis.clock import FrozenClock
from notify.models import MessageStatus, OutboxMessage
from tests.conftest import RecordingChannel, make_settings, start_client
from tests.factories import api_payload
from web.keys import SESSIONS


async def test_the_job_runner_sends_the_receipt(database_url: str, clock: FrozenClock) -> None:
    recorder = RecordingChannel()
    settings = make_settings(database_url, jobs_enabled=True, outbox_interval_seconds=0.2)
    client = await start_client(create_app(settings, clock=clock, channels=recorder.channels()))
    try:
        created = await (await client.post("/api/v1/requests", json=api_payload())).json()
        for _ in range(100):  # bounded wait: up to 10 s
            if recorder.sent:
                break
            await asyncio.sleep(0.1)
        assert [m.purpose for m in recorder.sent] == ["receipt"]
        assert created["tracking_number"] in recorder.sent[0].body
        async with client.app[SESSIONS]() as session:
            message = await session.scalar(select(OutboxMessage))
        assert message is not None and message.status is MessageStatus.SENT
        assert message.provider_id == f"test-{message.id}"
    finally:
        await client.close()
