"""The signalling home: the one process that runs the video calls' hub, chosen by a PostgreSQL advisory lock.

Every process tries the lock on a dedicated connection every HOME_POLL_SECONDS; the holder builds the Hub,
listens on the home channel and announces itself. When the holder dies (even by SIGKILL) its connection closes,
PostgreSQL frees the lock, and another process takes over within HOME_POLL_SECONDS plus the time PostgreSQL takes
to notice the closed connection: at once for a process that died on a machine that stays up; for a machine or
network that vanished, through the TCP keepalives the lock's connection asks PostgreSQL for (majlis.leader's: about
25 s). A cut-off home gives up within 5 × HOME_POLL_SECONDS (its SELECT 1 times out), so two homes never run together
for longer than that; the overlap of a home that lost its lock and the next one costs reconnects, not calls.
A new home starts with no live state: the edges close their sockets, the pages rejoin, and each call is read back
from the database (a call in progress resumes as reconnecting, as after a restart).
With SQLite there is one process, and it is always the home.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import Clock
from majlis.leader import KEEPALIVES
from majlis.pubsub import PubSub, Subscription
from majlis.settings import Settings
from video.bridge import MediaBridge
from video.bridge_assign import BridgeAssigner
from video.call_state import BridgePolicy, Client
from video.hub import Hub
from video.hub_transport import (
    HOME_CHANNEL,
    HOMES_CHANNEL,
    DirectOutbox,
    HubEdge,
    Lanes,
    Outbox,
    SocketElsewhere,
    edge_channel,
)
from video.ice import ice_servers_from_settings
from video.tokens import VideoTokens
from video.worker_bridge import WorkerBridge

log = logging.getLogger(__name__)

HOME_POLL_SECONDS = 1.0
# How long one query on the lock's connection may take before the connection is taken for lost.
QUERY_TIMEOUT = HOME_POLL_SECONDS * 5
# How long giving up the home may take (closing a hub whose worker died must not hold a shutdown).
STOP_TIMEOUT = 10.0
# pg_try_advisory_lock's key for the home (the job leader uses another).
HOME_LOCK_KEY = 0x6D616A6C69730001


def hub_from_settings(
    settings: Settings,
    *,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    tokens: VideoTokens,
    one_transaction_at_a_time: bool,
    pubsub: PubSub,
) -> Hub:
    """The hub as the settings want it: with a bridge where calls may be bridged or recorded — the server's own,
    or `majlis bridge` workers (settings.video_bridge_on_workers)."""
    bridge: MediaBridge | WorkerBridge | None = None
    # Recording goes through the bridge too, so allowing it needs one even where calls are not bridged.
    wanted = settings.video_bridge != "never" or settings.video_bridged_rooms or settings.video_recording_allowed
    if wanted and settings.video_bridge_on_workers:
        bridge = WorkerBridge(BridgeAssigner(pubsub, sessions, clock=clock), sessions=sessions, clock=clock)
    elif wanted:
        bridge = MediaBridge(
            max_calls=settings.video_bridge_max_calls,
            marker_release=settings.video_marker_release,
            ice_servers=ice_servers_from_settings(settings.ice_servers),
        )
    hub = Hub(
        sessions=sessions,
        clock=clock,
        tokens=tokens,
        one_transaction_at_a_time=one_transaction_at_a_time,
        bridge=bridge,
        policy=BridgePolicy(
            mode=settings.video_bridge,
            bridged_rooms=frozenset(settings.video_bridged_rooms),
            direct_timeout=settings.video_direct_timeout_seconds,
            recording_allowed=settings.video_recording_allowed,
            recordings_dir=Path(settings.video_recordings_dir),
        ),
    )
    if bridge is not None:
        bridge.on_quality = hub.quality_changed
    if isinstance(bridge, WorkerBridge):
        bridge.on_lost = hub.bridge_lost
    return hub


class SignallingHome:
    """Runs the Hub while this process holds the lock; remote sockets appear to it as SocketElsewhere links."""

    def __init__(self, pubsub: PubSub, edge: HubEdge, *, make_hub: Callable[[], Hub], database_url: str) -> None:
        self._pubsub = pubsub
        self._edge = edge
        self._make_hub = make_hub
        url = make_url(database_url)
        self._dsn = (
            None
            if url.get_backend_name() == "sqlite"
            else url.set(drivername="postgresql").render_as_string(hide_password=False)
        )
        self.hub: Hub | None = None
        self._subscription: Subscription | None = None
        self._outboxes: dict[str, Outbox | DirectOutbox] = {}
        self._clients: dict[tuple[str, int], Client] = {}
        self._consoles: dict[tuple[str, int], SocketElsewhere] = {}
        # Each remote socket's frames in order, different sockets at once (as one WebSocket handler each).
        self._lanes = Lanes()
        self._task: asyncio.Task[None] | None = None
        self._connection: asyncpg.Connection | None = None
        self._giving_up: asyncio.Future[None] | None = None

    async def start(self) -> None:
        if self._dsn is None:
            await self._become_home()
        else:
            # One try at once: a lone process (or the first of several) is the home before it serves a request.
            await self._try_once()
            self._task = asyncio.get_running_loop().create_task(self._contend(), name="video-home")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._giving_up is not None:
            with contextlib.suppress(Exception):
                await self._giving_up
        await self._stop_being_home()
        self._drop_connection()

    async def _contend(self) -> None:
        while True:
            await asyncio.sleep(HOME_POLL_SECONDS)
            await self._try_once()

    async def _try_once(self) -> None:
        try:
            if self._connection is None or self._connection.is_closed():
                self._connection = await asyncpg.connect(self._dsn, timeout=QUERY_TIMEOUT, server_settings=KEEPALIVES)
            if self.hub is None:
                locked = await self._connection.fetchval(
                    "SELECT pg_try_advisory_lock($1)", HOME_LOCK_KEY, timeout=QUERY_TIMEOUT
                )
                if locked:
                    await self._become_home()
            else:
                await self._connection.fetchval("SELECT 1", timeout=QUERY_TIMEOUT)
        except Exception:
            # The connection was lost (the lock went with it: another process may be the home already), or becoming
            # the home failed (the database restarting under the hub's first read): whatever this process holds is
            # given up and the lock freed with the connection, so the next try here or elsewhere starts clean.
            log.warning("video: this process stopped being (or could not become) the signalling home", exc_info=True)
            with contextlib.suppress(Exception):
                await self._stop_being_home()
            self._drop_connection()

    def _drop_connection(self) -> None:
        if self._connection is not None:
            # Not close(): a connection that timed out may never answer a polite goodbye; terminating frees the lock.
            self._connection.terminate()
            self._connection = None

    async def _become_home(self) -> None:
        hub = self._make_hub()
        try:
            await hub.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(hub.close(), STOP_TIMEOUT)
            raise
        self.hub = hub
        self._edge.local_hub = hub
        self._subscription = await self._pubsub.subscribe(HOME_CHANNEL, self._arrived)
        self._edge.attach_home(self._take)
        log.info("video: this process (%s) is the signalling home", self._edge.name)
        await self._pubsub.publish(HOMES_CHANNEL, {"home": self._edge.name})

    async def _stop_being_home(self) -> None:
        hub, self.hub = self.hub, None
        if hub is None:
            return
        self._edge.local_hub = None
        self._edge.attach_home(None)
        # Shielded, and awaited again by close(): cancelling the contender in the middle must not leave the hub half
        # closed.
        self._giving_up = asyncio.ensure_future(self._give_up(hub))
        await asyncio.shield(self._giving_up)

    async def _give_up(self, hub: Hub) -> None:
        try:
            if self._subscription is not None:
                await self._subscription.close()
                self._subscription = None
            await self._lanes.close()
            self._lanes = Lanes()
            try:
                # Closes every socket it knew, here and in the edges. Bounded: a bridge worker that died makes each
                # of its calls' close wait for a reply that never comes.
                await asyncio.wait_for(hub.close(), STOP_TIMEOUT)
            except TimeoutError:
                log.warning("video: the hub did not close within %s s", STOP_TIMEOUT)
        finally:
            self._clients.clear()
            self._consoles.clear()
            for outbox in self._outboxes.values():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(outbox.drain(), STOP_TIMEOUT)
            self._outboxes.clear()

    def _outbox(self, edge: str) -> Outbox | DirectOutbox:
        outbox = self._outboxes.get(edge)
        if outbox is None:
            outbox = self._outboxes[edge] = (
                DirectOutbox(self._edge.from_home)
                if edge == self._edge.name
                else Outbox(self._pubsub, edge_channel(edge), self._edge.name)
            )
        return outbox

    def _take(self, edge: str, item: dict[str, Any]) -> None:
        """An item from the edge in this process, handed over directly."""
        if self.hub is not None:
            self._apply(self.hub, edge, item)

    async def _arrived(self, message: dict[str, Any], *, own: bool) -> None:
        hub = self.hub
        edge = message.get("from")
        if hub is None or not isinstance(edge, str):
            return
        for item in message.get("items", ()):
            self._apply(hub, edge, item)

    def _apply(self, hub: Hub, edge: str, item: dict[str, Any]) -> None:
        op, key = item.get("op"), (edge, item.get("link", 0))
        lanes = self._lanes
        if op == "open":
            self._clients[key] = hub.connect(SocketElsewhere(self._outbox(edge), key[1]))
        elif op == "frame" and key in self._clients:
            client, data = self._clients[key], str(item.get("data", ""))
            lanes.put(key, lambda: hub.receive(client, data))
        elif op == "binary" and key in self._clients:
            client = self._clients[key]
            lanes.put(key, lambda: hub.refuse_frame(client))
        elif op == "gone" and key in self._clients:
            client = self._clients.pop(key)
            lanes.put(key, lambda: hub.disconnect(client))
        elif op == "console":
            if key in self._consoles:  # opened again by an edge that may have missed messages
                hub.unsubscribe(self._consoles.pop(key))
            link = self._consoles[key] = SocketElsewhere(self._outbox(edge), key[1])
            lanes.put(key, lambda: hub.subscribe(link))
        elif op == "console_gone" and key in self._consoles:
            hub.unsubscribe(self._consoles.pop(key))
        elif op == "changed":
            hub.changed()
        elif op == "consented" and isinstance(item.get("audience"), int):
            hub.consented(item["audience"])
