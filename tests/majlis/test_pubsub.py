"""majlis.pubsub: order, own messages, long messages through the table, two processes' listeners, reconnects."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from majlis import pubsub as pubsub_module
from majlis.pubsub import INLINE_LIMIT, LocalPubSub, PostgresPubSub, PubSub, pubsub_for


class Inbox:
    def __init__(self) -> None:
        self.got: list[tuple[dict[str, Any], bool]] = []
        self.changed = asyncio.Event()

    async def __call__(self, message: dict[str, Any], *, own: bool) -> None:
        self.got.append((message, own))
        self.changed.set()

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(10):
            while len(self.got) < count:
                self.changed.clear()
                await self.changed.wait()


def _raw(url: str) -> str:
    return url.replace("postgresql+asyncpg", "postgresql")


async def test_sqlite_gets_the_one_process_pubsub(database_url: str) -> None:
    pubsub = pubsub_for(database_url)
    assert isinstance(pubsub, PostgresPubSub if database_url.startswith("postgresql") else LocalPubSub)


async def test_messages_arrive_in_order_marked_own_and_long_ones_whole(database_url: str) -> None:
    pubsub = pubsub_for(database_url)
    await pubsub.start()
    try:
        inbox, other = Inbox(), Inbox()
        await pubsub.subscribe("video", inbox)
        await pubsub.subscribe("elsewhere", other)
        long_text = "ض" * INLINE_LIMIT  # two bytes a letter: twice NOTIFY's limit
        for number in range(20):
            body = {"n": number, "sdp": long_text} if number % 7 == 3 else {"n": number}
            await pubsub.publish("video", body)
        await inbox.wait_for(20)
        assert [message["n"] for message, _ in inbox.got] == list(range(20))
        assert all(own for _, own in inbox.got)
        assert inbox.got[3][0]["sdp"] == long_text
        assert other.got == []
    finally:
        await pubsub.close()


async def test_an_unsubscribed_handler_hears_nothing_more(database_url: str) -> None:
    pubsub = pubsub_for(database_url)
    await pubsub.start()
    try:
        kept, dropped = Inbox(), Inbox()
        await pubsub.subscribe("video", kept)
        subscription = await pubsub.subscribe("video", dropped)
        await pubsub.publish("video", {"n": 1})
        await kept.wait_for(1)
        await dropped.wait_for(1)
        await subscription.close()
        await pubsub.publish("video", {"n": 2})
        await kept.wait_for(2)
        assert [m["n"] for m, _ in dropped.got] == [1]
    finally:
        await pubsub.close()


def test_channel_names_are_checked() -> None:
    pubsub: PubSub = LocalPubSub()
    with pytest.raises(ValueError, match="not a pubsub channel name"):
        asyncio.run(pubsub.publish("video; DROP TABLE x", {}))
    with pytest.raises(ValueError, match="not a pubsub channel name"):
        asyncio.run(pubsub.publish("x" * 60, {}))


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_two_processes_hear_each_other_and_a_lost_listener_comes_back(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The keepalive checks the listening connection every 0.2 s here (5 s in production).
    monkeypatch.setattr(pubsub_module, "KEEPALIVE_SECONDS", 0.2)
    first, second = PostgresPubSub(database_url), PostgresPubSub(database_url)
    # Two processes' names: the same pid here, so tell them apart as two hosts would be.
    second.name = first.name + "-second"
    await first.start()
    await second.start()
    try:
        heard_by_first, heard_by_second = Inbox(), Inbox()
        await first.subscribe("video", heard_by_first)
        await second.subscribe("video", heard_by_second)
        await first.publish("video", {"from": "first"})
        await second.publish("video", {"from": "second", "sdp": "x" * (INLINE_LIMIT + 1)})
        await heard_by_first.wait_for(2)
        await heard_by_second.wait_for(2)
        assert sorted((m["from"], own) for m, own in heard_by_first.got) == [("first", True), ("second", False)]
        assert sorted((m["from"], own) for m, own in heard_by_second.got) == [("first", False), ("second", True)]

        reconnected = asyncio.Event()

        async def resync() -> None:
            reconnected.set()

        second.on_reconnect.append(resync)
        listener = second._listener
        assert listener is not None
        admin = await asyncpg.connect(_raw(database_url))
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", listener.get_server_pid())
        finally:
            await admin.close()
        # Nothing tells the process: its keepalive notices the lost connection, reconnects and calls back.
        await asyncio.wait_for(reconnected.wait(), 10)
        assert second._listener is not None and second._listener is not listener
        await first.publish("video", {"from": "first", "after": True})
        await heard_by_second.wait_for(3)
        assert heard_by_second.got[-1][0] == {"from": "first", "after": True}

        # A publishing connection ended under it: the next publish goes out on a new one, nothing raised.
        publisher = first._publisher
        assert publisher is not None
        admin = await asyncpg.connect(_raw(database_url))
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", publisher.get_server_pid())
        finally:
            await admin.close()
        await first.publish("video", {"from": "first", "again": True})
        await heard_by_second.wait_for(4)
        assert heard_by_second.got[-1][0] == {"from": "first", "again": True}
    finally:
        await first.close()
        await second.close()
