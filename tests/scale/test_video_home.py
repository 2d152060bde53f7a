"""The signalling home's lock on PostgreSQL: its connection, and a takeover that fails half way.

In one process (the home's election does not need two: it is one connection and one lock); the home's hub
runs on the test's migrated PostgreSQL database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import FrozenClock
from majlis.db import create_engine, session_factory
from majlis.pubsub import PubSub, pubsub_for
from tests.video.test_hub import TOKENS
from video.bridge_assign import BridgeAssigner
from video.hub import Hub
from video.hub_transport import HubEdge
from video.signalling_home import HOME_LOCK_KEY, SignallingHome
from video.worker_bridge import WorkerBridge

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def parts(scale_database_url: str) -> AsyncIterator[tuple[PubSub, Sessions, Sessions]]:
    """The pubsub, the database's sessions, and sessions on a database that does not exist (a hub's first read
    fails with sqlalchemy's DBAPIError, as right after a PostgreSQL restart)."""
    engine = create_engine(scale_database_url)
    broken = create_engine(
        make_url(scale_database_url).set(database="majlis_no_such_database").render_as_string(hide_password=False)
    )
    pubsub = pubsub_for(scale_database_url)
    await pubsub.start()
    yield pubsub, session_factory(engine), session_factory(broken)
    await pubsub.close()
    await engine.dispose()
    await broken.dispose()


def hub_of(home: SignallingHome) -> Hub | None:
    """The home's hub as it is now (read through a call: it changes under the test's awaits)."""
    return home.hub


def plain_dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def test_a_home_that_fails_to_start_its_hub_frees_the_lock_and_becomes_home_on_a_later_try(
    scale_database_url: str, parts: tuple[PubSub, Sessions, Sessions], clock: FrozenClock
) -> None:
    pubsub, sessions, broken = parts
    made: list[Hub] = []

    def make_hub() -> Hub:
        # The first hub's bridge reads the workers from the broken database in its start(); the next ones are sound.
        bad = not made
        bridge = (
            WorkerBridge(BridgeAssigner(pubsub, broken, clock=clock), sessions=broken, clock=clock) if bad else None
        )
        hub = Hub(sessions=sessions, clock=clock, tokens=TOKENS, bridge=bridge)
        made.append(hub)
        return hub

    edge = HubEdge(pubsub)
    await edge.start()
    home = SignallingHome(pubsub, edge, make_hub=make_hub, database_url=scale_database_url)
    other = await asyncpg.connect(plain_dsn(scale_database_url))
    try:
        await home.start()  # the first try fails inside the hub's start: not raised, nobody is the home
        assert len(made) == 1 and hub_of(home) is None
        # The lock went with the failed try's connection: another process could take it now.
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", HOME_LOCK_KEY)
        assert await other.fetchval("SELECT pg_advisory_unlock($1)", HOME_LOCK_KEY)
        for _ in range(60):  # the contender lives on and tries again (every second)
            if hub_of(home) is not None:
                break
            await asyncio.sleep(0.1)
        assert hub_of(home) is made[-1] and len(made) == 2
        assert edge.local_hub is made[-1]
        # The lock's connection asks for the TCP keepalives that let PostgreSQL free the lock of a vanished machine.
        connection = home._connection
        assert connection is not None
        assert await connection.fetchval("SHOW tcp_keepalives_idle") == "10"
        assert not await other.fetchval("SELECT pg_try_advisory_lock($1)", HOME_LOCK_KEY)  # held by the home
    finally:
        await home.close()
        await edge.close()
        await other.close()
    assert hub_of(home) is None and edge.local_hub is None
