"""Which process runs the periodic jobs: the one holding a PostgreSQL advisory lock.

Every `majlis serve` process, on any machine, keeps a dedicated connection and tries
`pg_try_advisory_lock(JOBS_LOCK)` on it every `interval` seconds until it gets the lock; the holder
keeps it for as long as that session lives and runs the job runner meanwhile. Nothing is written:
the lock is the session's, so PostgreSQL frees it the moment the session ends.

How long a takeover takes after the holder dies:
- the process dies (crash, SIGKILL, OOM) on a machine that stays up: its kernel closes the socket,
  PostgreSQL ends the session at once, and another process gets the lock at its next try: within
  `interval` (2 s by default);
- the holder's whole machine or network goes: PostgreSQL notices the dead connection through the TCP
  keepalives this connection asks for (10 s idle, then 3 probes 5 s apart: 25 s), or, when it was sending
  the holder a reply (which keepalives do not probe: the kernel retransmits for ~15 minutes), through
  tcp_user_timeout (25 s for unacknowledged data, PostgreSQL 12+), so within 25 s + `interval`. The cut-off
  holder checks its session every `interval` with a timeout of `interval`, so it stops its jobs within
  2 × `interval`, long before anyone else can take the lock;
- PostgreSQL ends the holder's session itself (pg_terminate_backend, a server restart): the lock is free
  at once, but the holder learns it only at its next check, so two processes may both run the jobs for up
  to `interval` (docs/architecture.md says why the jobs tolerate that).

If starting the jobs fails (on_elected raises), the process stops what did start and ends its session,
freeing the lock, so another process, or this one's next try, takes over instead of a holder that runs
nothing.

A job that was running when leadership moved finishes its own transaction (JobScheduler.stop lets it);
the jobs are written to be safe if a run overlaps another (SKIP LOCKED claims, counted lost races).

SQLite serves from one process (majlis.serve refuses more), which is therefore always the leader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

import asyncpg
from sqlalchemy.engine import make_url

from majlis.pubsub import process_name

log = logging.getLogger(__name__)

# One lock for the job runner across the database: "MAJLIS" as a 64-bit number.
JOBS_LOCK = int.from_bytes(b"MAJLIS", "big")
INTERVAL_SECONDS = 2.0
# What PostgreSQL's end of the connection uses to notice a machine that went away (all user-settable).
KEEPALIVES = {
    "tcp_keepalives_idle": "10",
    "tcp_keepalives_interval": "5",
    "tcp_keepalives_count": "3",
    # Milliseconds data sent may stay unacknowledged before the server drops the connection (PostgreSQL 12+).
    "tcp_user_timeout": "25000",
}

Callback = Callable[[], Awaitable[None]]


class Leader(Protocol):
    @property
    def leading(self) -> bool: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class SoleLeader:
    """One process on SQLite: it leads from start to close."""

    def __init__(self, *, on_elected: Callback, on_deposed: Callback) -> None:
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self.leading = False

    async def start(self) -> None:
        self.leading = True
        await self._on_elected()

    async def close(self) -> None:
        if self.leading:
            self.leading = False
            await self._on_deposed()


class AdvisoryLockLeader:
    """Leads while it holds the advisory lock on its own connection; see the module's docstring for the timings."""

    def __init__(
        self,
        database_url: str,
        *,
        on_elected: Callback,
        on_deposed: Callback,
        interval: float = INTERVAL_SECONDS,
        lock_key: int = JOBS_LOCK,
    ) -> None:
        self._dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self.interval = interval
        self._key = lock_key
        self._connection: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._told_waiting = False
        self.leading = False

    async def start(self) -> None:
        """Tries once now (so a lone process leads from its first second), then keeps trying in the background."""
        await self._round()
        self._task = asyncio.create_task(self._keep_trying(), name="job-leader")

    async def close(self) -> None:
        """Stops the jobs first, then ends the session, which frees the lock for another process at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._depose("this process is stopping")
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._connection.close(), timeout=self.interval)
            self._connection = None

    async def _keep_trying(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self._round()
            except Exception:
                # A failing callback must not end the checks while the lock is held.
                log.exception("job leader: a round failed; the next one tries again")

    async def _round(self) -> None:
        if self.leading and (self._connection is None or self._connection.is_closed()):
            # The session that held the lock has ended (PostgreSQL told it so): the lock is gone with it.
            self._connection = None
            await self._depose("its session ended")
        try:
            connection = await self._connected()
            if self.leading:
                # The lock lives as long as this session: proving the session alive proves the lock held.
                await connection.fetchval("SELECT 1", timeout=self.interval)
                return
            if await connection.fetchval("SELECT pg_try_advisory_lock($1)", self._key, timeout=self.interval):
                self.leading = True
                self._told_waiting = False
                log.info("job leader: %s holds the lock and runs the periodic jobs", process_name())
                try:
                    await self._on_elected()
                except Exception:
                    log.exception("job leader: starting the periodic jobs failed in %s", process_name())
                    await self._let_go("its periodic jobs failed to start")
            elif not self._told_waiting:
                self._told_waiting = True
                log.info(
                    "job leader: another process runs the periodic jobs; %s takes over within %.0f s of its end",
                    process_name(),
                    self.interval,
                )
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # The session is gone or unreachable, and the lock with it (or it soon will be, for PostgreSQL):
            # stop the jobs now; the next round connects again and competes like any other process.
            self._drop_connection()
            await self._depose(f"its connection failed ({type(exc).__name__}: {exc})")

    async def _connected(self) -> asyncpg.Connection:
        if self._connection is None or self._connection.is_closed():
            self._connection = await asyncpg.connect(self._dsn, timeout=self.interval * 2, server_settings=KEEPALIVES)
        return self._connection

    async def _let_go(self, why: str) -> None:
        """Stops whatever started, then ends the session so the lock is free for another process at once."""
        try:
            await self._depose(why)
        except Exception:
            log.exception("job leader: stopping the periodic jobs failed in %s", process_name())
        finally:
            self.leading = False
            self._drop_connection()

    def _drop_connection(self) -> None:
        if self._connection is not None:
            # Not close(): a connection that timed out may never answer a polite goodbye.
            self._connection.terminate()
            self._connection = None

    async def _depose(self, why: str) -> None:
        if not self.leading:
            return
        self.leading = False
        log.warning("job leader: %s stops running the periodic jobs: %s", process_name(), why)
        await self._on_deposed()


def leader_for(
    database_url: str, *, on_elected: Callback, on_deposed: Callback, interval: float = INTERVAL_SECONDS
) -> Leader:
    """The advisory-lock leader on PostgreSQL; on SQLite's one process, the sole leader."""
    if make_url(database_url).get_backend_name() == "postgresql":
        return AdvisoryLockLeader(database_url, on_elected=on_elected, on_deposed=on_deposed, interval=interval)
    return SoleLeader(on_elected=on_elected, on_deposed=on_deposed)
