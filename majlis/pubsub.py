"""Publish and subscribe across processes and machines: PostgreSQL LISTEN/NOTIFY, or one process's own loop.

What the video hub and the bridge workers tell each other goes through here, so that a call's two sides, its
consoles and its bridge may sit in different processes. No server besides PostgreSQL is needed.

Guarantees (PostgresPubSub):
- **Order.** Messages published by one process arrive, on every listener, in the order that process published
  them: they are sent one at a time on one connection, and PostgreSQL delivers notifications of one session in
  commit order. Messages of different processes are not ordered with respect to each other.
- **At most once.** A listener that loses its connection misses what was published meanwhile; it reconnects and
  calls the `on_reconnect` callbacks, which re-read the state they need from the database. Nothing is replayed.
- **Own messages** come back to the publishing process too (marked `own=True`), so a handler can treat every
  message alike or skip its own.
- **Size.** NOTIFY payloads are limited to 8,000 bytes. A longer message (an SDP offer with many candidates) is
  written to `pubsub_payloads` and the notify carries the row's id; listeners read the row. Rows are kept a
  minute (every listener reads them within that time or has missed the message anyway), then deleted by the
  process that wrote them.

SQLite runs in one process, so LocalPubSub delivers in the same loop, with the same order and `own` marking.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Protocol

import asyncpg
from sqlalchemy.engine import make_url

from majlis.clock import Clock, SystemClock

log = logging.getLogger(__name__)

# NOTIFY refuses payloads of 8,000 bytes or more; the envelope's own keys take a few dozen.
INLINE_LIMIT = 7_800
PAYLOAD_KEPT = timedelta(minutes=1)
PRUNE_EVERY = 30.0
# A statement on the publishing connection that takes longer than this is taken as a dead connection.
STATEMENT_SECONDS = 5.0
# What a connection ended under us raises: asyncpg may report a backend killed mid-way as an InternalClientError
# ("another operation is in progress") before it notices the connection is closed.
PUBLISHER_ERRORS = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
)
# How often the listening connection is checked: a connection that died silently is noticed within this time.
KEEPALIVE_SECONDS = 5.0
RECONNECT_SECONDS = 1.0
_PREFIX = "majlis_"


class Handler(Protocol):
    def __call__(self, message: dict[str, Any], *, own: bool) -> Awaitable[None]: ...


Reconnected = Callable[[], Awaitable[None]]


def process_name() -> str:
    """This process's name in messages and logs: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _channel_name(channel: str) -> str:
    if not channel or len(_PREFIX + channel) > 63 or not channel.replace("_", "").isalnum() or not channel.isascii():
        raise ValueError(f"not a pubsub channel name: {channel!r}")
    return _PREFIX + channel


class Subscription:
    def __init__(self, owner: PubSub, channel: str, handler: Handler) -> None:
        self._owner = owner
        self.channel = channel
        self.handler = handler

    async def close(self) -> None:
        await self._owner._unsubscribe(self)


class PubSub:
    """The common part: subscriptions by channel, one delivery task so handlers see messages in arrival order."""

    def __init__(self) -> None:
        self.name = process_name()
        self._subscriptions: dict[str, list[Subscription]] = {}
        self.on_reconnect: list[Reconnected] = []
        # A message, or the task reading a long one from pubsub_payloads: kept in arrival order either way.
        self._inbox: asyncio.Queue[tuple[str, dict[str, Any] | asyncio.Task[dict[str, Any] | None], bool] | None] = (
            asyncio.Queue()
        )
        self._deliverer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._deliverer = asyncio.get_running_loop().create_task(self._deliver(), name="pubsub-deliver")

    async def close(self) -> None:
        if self._deliverer is not None:
            self._inbox.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await self._deliverer
            self._deliverer = None

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        raise NotImplementedError

    async def subscribe(self, channel: str, handler: Handler) -> Subscription:
        _channel_name(channel)
        subscription = Subscription(self, channel, handler)
        first = channel not in self._subscriptions
        self._subscriptions.setdefault(channel, []).append(subscription)
        if first:
            await self._listen(channel)
        return subscription

    async def _unsubscribe(self, subscription: Subscription) -> None:
        found = self._subscriptions.get(subscription.channel, [])
        if subscription in found:
            found.remove(subscription)
        if not found and subscription.channel in self._subscriptions:
            del self._subscriptions[subscription.channel]
            await self._unlisten(subscription.channel)

    async def _listen(self, channel: str) -> None:
        """Starts receiving the channel (nothing to do in one process)."""

    async def _unlisten(self, channel: str) -> None:
        """Stops receiving the channel (nothing to do in one process)."""

    def _arrived(self, channel: str, message: dict[str, Any] | asyncio.Task[dict[str, Any] | None], own: bool) -> None:
        self._inbox.put_nowait((channel, message, own))

    async def _deliver(self) -> None:
        while (item := await self._inbox.get()) is not None:
            channel, arrived, own = item
            try:
                message = arrived if isinstance(arrived, dict) else await arrived
            except Exception:  # a long message that could not be read is lost; delivery goes on
                log.exception("pubsub: a long message on %s could not be read", channel)
                continue
            if message is None:
                continue
            for subscription in list(self._subscriptions.get(channel, ())):
                try:
                    await subscription.handler(message, own=own)
                except Exception:  # one handler's bug must not stop delivery to the others
                    log.exception("pubsub handler for %s failed", channel)


class LocalPubSub(PubSub):
    """One process (SQLite, a test): what is published is delivered in the same loop, marked as its own."""

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        _channel_name(channel)
        # Through JSON as across processes: a handler gets its own copy, and what cannot travel fails here too.
        copied: dict[str, Any] = json.loads(json.dumps(message))
        if channel in self._subscriptions:
            self._arrived(channel, copied, True)


class PostgresPubSub(PubSub):
    """LISTEN/NOTIFY on two dedicated asyncpg connections: one listens, one publishes (one message at a time)."""

    def __init__(self, database_url: str, *, clock: Clock | None = None) -> None:
        super().__init__()
        url = make_url(database_url)
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._clock = clock or SystemClock()
        self._listener: asyncpg.Connection | None = None
        self._publisher: asyncpg.Connection | None = None
        self._publishing = asyncio.Lock()
        self._keepalive: asyncio.Task[None] | None = None
        self._closing = False
        # Long messages written since the last prune, and when that was (monotonic): pruning is one more round
        # trip, so it runs at most every PRUNE_EVERY seconds, and only after long messages were written.
        self._wrote_payloads = False
        self._pruned_at = 0.0
        # The listening connection runs one operation at a time: LISTEN, UNLISTEN and the keepalive's query.
        self._listening = asyncio.Lock()

    async def start(self) -> None:
        await super().start()
        self._listener = await self._connect_listener()
        self._publisher = await asyncpg.connect(self._dsn)
        self._keepalive = asyncio.get_running_loop().create_task(self._keep_listening(), name="pubsub-keepalive")

    async def close(self) -> None:
        self._closing = True
        if self._keepalive is not None:
            self._keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive
        for connection in (self._listener, self._publisher):
            if connection is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.close(), 5)
        self._listener = self._publisher = None
        await super().close()

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Sends the message; one retry on a new connection if the publishing connection failed or hung.

        Raises what the retry raised: callers treat a message that could not be published as lost (at most once).
        """
        name = _channel_name(channel)
        body = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
        async with self._publishing:
            try:
                await self._publish_on(await self._ready_publisher(), channel, name, body)
            except PUBLISHER_ERRORS:
                log.warning("pubsub: the publishing connection failed; publishing again on a new one")
                self._drop_publisher()
                await self._publish_on(await self._ready_publisher(), channel, name, body)

    async def _publish_on(self, publisher: asyncpg.Connection, channel: str, name: str, body: str) -> None:
        envelope = json.dumps({"o": self.name, "m": body}, separators=(",", ":"), ensure_ascii=False)
        if len(envelope.encode()) > INLINE_LIMIT:
            row_id = await publisher.fetchval(
                "INSERT INTO pubsub_payloads (channel, body, created_at) VALUES ($1, $2, $3) RETURNING id",
                channel,
                body,
                self._clock.now(),
                timeout=STATEMENT_SECONDS,
            )
            self._wrote_payloads = True
            envelope = json.dumps({"o": self.name, "r": row_id}, separators=(",", ":"))
        await publisher.execute("SELECT pg_notify($1, $2)", name, envelope, timeout=STATEMENT_SECONDS)
        if self._wrote_payloads and time.monotonic() - self._pruned_at >= PRUNE_EVERY:
            self._wrote_payloads = False
            self._pruned_at = time.monotonic()
            await publisher.execute(
                "DELETE FROM pubsub_payloads WHERE created_at < $1",
                self._clock.now() - PAYLOAD_KEPT,
                timeout=STATEMENT_SECONDS,
            )

    async def _ready_publisher(self) -> asyncpg.Connection:
        if self._publisher is None or self._publisher.is_closed():
            self._publisher = await asyncio.wait_for(asyncpg.connect(self._dsn), STATEMENT_SECONDS)
        return self._publisher

    def _drop_publisher(self) -> None:
        """Forgets a publishing connection that failed or hung (a half-open TCP connection would hang for minutes)."""
        if self._publisher is not None:
            with contextlib.suppress(Exception):
                self._publisher.terminate()
        self._publisher = None

    async def _connect_listener(self) -> asyncpg.Connection:
        connection = await asyncpg.connect(self._dsn)
        # A copy: a subscribe() meanwhile adds its channel, and LISTENs on the new connection itself.
        for channel in list(self._subscriptions):
            await connection.add_listener(_channel_name(channel), self._on_notify)
        return connection

    async def _listen(self, channel: str) -> None:
        async with self._listening:
            if self._listener is not None and not self._listener.is_closed():
                await self._listener.add_listener(_channel_name(channel), self._on_notify)

    async def _unlisten(self, channel: str) -> None:
        async with self._listening:
            if self._listener is not None and not self._listener.is_closed():
                await self._listener.remove_listener(_channel_name(channel), self._on_notify)

    def _on_notify(self, connection: object, pid: int, name: str, payload: str) -> None:
        channel = name.removeprefix(_PREFIX)
        try:
            envelope = json.loads(payload)
        except json.JSONDecodeError:
            log.warning("pubsub: a notify on %s that is not JSON was ignored", name)
            return
        own = envelope.get("o") == self.name
        if "r" in envelope:
            reading = asyncio.get_running_loop().create_task(self._read_long(channel, int(envelope["r"])))
            self._arrived(channel, reading, own)
            return
        self._arrived(channel, json.loads(envelope["m"]), own)

    async def _read_long(self, channel: str, row_id: int) -> dict[str, Any] | None:
        """A long message's body; the delivery task waits for it in its place, so order is kept."""
        try:
            async with self._publishing:
                publisher = await self._ready_publisher()
                body = await publisher.fetchval(
                    "SELECT body FROM pubsub_payloads WHERE id = $1", row_id, timeout=STATEMENT_SECONDS
                )
        except PUBLISHER_ERRORS:
            log.warning("pubsub: message %d on %s could not be read", row_id, channel)
            self._drop_publisher()
            return None
        if body is None:
            log.warning("pubsub: message %d on %s was already deleted", row_id, channel)
            return None
        found: dict[str, Any] = json.loads(body)
        return found

    async def _keep_listening(self) -> None:
        while not self._closing:
            await asyncio.sleep(KEEPALIVE_SECONDS)
            try:
                async with self._listening:
                    assert self._listener is not None
                    await asyncio.wait_for(self._listener.fetchval("SELECT 1"), KEEPALIVE_SECONDS)
                continue
            except (*PUBLISHER_ERRORS, AssertionError):
                log.warning("pubsub: the listening connection was lost; reconnecting")
            try:
                await self._reconnect()
            except Exception:  # the keepalive must outlive any one failure, or nothing is heard again
                log.exception("pubsub: reconnecting failed; trying again")

    async def _reconnect(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                self._listener.terminate()
        self._listener = None
        while not self._closing:
            try:
                async with self._listening:
                    self._listener = await asyncio.wait_for(self._connect_listener(), STATEMENT_SECONDS)
                break
            except PUBLISHER_ERRORS:
                await asyncio.sleep(RECONNECT_SECONDS)
        for callback in list(self.on_reconnect):
            try:
                await callback()
            except Exception:
                log.exception("pubsub: a reconnect callback failed")


def pubsub_for(database_url: str, *, clock: Clock | None = None) -> PubSub:
    """PostgreSQL's LISTEN/NOTIFY for a PostgreSQL database; one process's own delivery for SQLite."""
    if database_url.startswith("postgresql"):
        return PostgresPubSub(database_url, clock=clock)
    return LocalPubSub()


__all__ = ["Handler", "LocalPubSub", "PostgresPubSub", "PubSub", "Subscription", "pubsub_for"]
