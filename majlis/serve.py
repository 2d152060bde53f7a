"""`majlis serve --workers N`: N processes answering on one port, each binding it with SO_REUSEPORT.

Why forked processes with SO_REUSEPORT and not gunicorn's aiohttp worker (docs/architecture.md has the
longer account): every worker is exactly the one-process `majlis serve` — the app factory with its
contexts, aiohttp's slow-client options, its graceful stop on SIGTERM — with no second configuration
language and no new dependency; and the kernel (Linux 3.9+) spreads new connections over the workers'
sockets instead of letting whichever loop wakes first accept them all.

The parent only supervises: it forks the workers before any event loop or connection exists, forwards
SIGTERM and SIGINT to them, starts a new worker when one dies (at once the first time, then after a
delay that doubles while deaths keep coming), and gives up (exit 1) when workers keep dying as they start
(a port taken by another program, a database refused), instead of spinning.

A worker stops on the first SIGTERM or SIGINT and ignores the ones after it (SIG_IGN): a stop
often reaches it twice (the supervisor's forward and the signal to the whole process group, from a terminal's
Ctrl+C or a service manager), and aiohttp's own handler would take the second as another GracefulExit, raised
in the middle of the app's cleanup, cutting its contexts' stop short (jobs, leader, media, connections).

Several workers need PostgreSQL: SQLite takes one writer at a time, and the jobs' leader, the throttles
and the signalling between processes are built on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
import traceback
from types import FrameType

from aiohttp import web
from sqlalchemy.engine import make_url

from majlis.app import create_app
from majlis.settings import Settings
from web.access_log import RouteAccessLogger
from web.slow_clients import server_options

log = logging.getLogger(__name__)

# A worker that dies sooner than this after its start counts as failing to start.
EARLY_DEATH_SECONDS = 10.0
# This many early deaths in a row and the supervisor stops everything instead of restarting forever.
EARLY_DEATHS_ALLOWED = 5
# How long workers have to finish after SIGTERM before they are killed (the app's own stop takes ~10 s at most).
STOP_SECONDS = 30.0
# A worker that dies is replaced at once; one that dies again within CALM_SECONDS of the last death waits
# RESTART_DELAY_FIRST, and each further death in a row doubles the wait, up to RESTART_DELAY_MOST.
CALM_SECONDS = 60.0
RESTART_DELAY_FIRST = 1.0
RESTART_DELAY_MOST = 30.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class WorkersRefused(Exception):
    """The number of workers cannot be served with these settings."""


def default_workers(settings: Settings) -> int:
    """The cores this process may use in production on PostgreSQL; one otherwise (development, tests, SQLite)."""
    if settings.environment != "production" or not uses_postgresql(settings):
        return 1
    return max(1, len(os.sched_getaffinity(0)))


def uses_postgresql(settings: Settings) -> bool:
    return make_url(settings.database_url_value).get_backend_name() == "postgresql"


def check_workers(settings: Settings, workers: int) -> None:
    """Refuses more than one worker on SQLite, with the way out."""
    if workers < 1:
        raise WorkersRefused(f"--workers must be at least 1, not {workers}")
    if workers > 1 and not uses_postgresql(settings):
        raise WorkersRefused(
            f"--workers {workers} needs PostgreSQL: SQLite takes one writer at a time and serves from one process. "
            "Set MAJLIS_DATABASE_URL to a postgresql+asyncpg:// database, or serve with --workers 1."
        )


def serve(settings: Settings, *, workers: int) -> int:
    """Serves until stopped; one worker runs in this process, several under a supervising parent."""
    check_workers(settings, workers)
    if workers == 1:
        run_worker(settings, reuse_port=False)
        return 0
    return Supervisor(settings, workers).run()


def run_worker(settings: Settings, *, reuse_port: bool) -> None:
    """Serves until the first SIGTERM or SIGINT, then runs the app's whole cleanup (further stops are ignored)."""
    loop = asyncio.new_event_loop()

    def stop_once(signum: signal.Signals) -> None:
        log.info(
            "worker %d stopping (%s); further SIGTERM/SIGINT are ignored until it has stopped", os.getpid(), signum.name
        )
        # Ignored by the kernel from now on, not by a handler of the loop: the loop's handlers are reset to the
        # default when run_app closes it, and a stop arriving then would kill the process before it exits cleanly.
        # remove_signal_handler puts the default back (SIGTERM kills) before SIG_IGN is set: the stops are held
        # back meanwhile, and those that came are dropped once ignored.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            for other in STOP_SIGNALS:
                loop.remove_signal_handler(other)
                signal.signal(other, signal.SIG_IGN)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        raise web.GracefulExit()

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop_once, signum)
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        print=None,
        reuse_port=reuse_port,
        handle_signals=False,
        loop=loop,
        # One structured line a request, its route's pattern for the path (web.access_log).
        access_log_class=RouteAccessLogger,
        **server_options(settings),
    )
    # Only reached when the app's cleanup has run to its end (a failing or cancelled one raises out of run_app).
    log.info("worker %d stopped cleanly", os.getpid())


class Supervisor:
    """The parent of the workers: starts them, forwards the stop, replaces a worker that dies."""

    def __init__(self, settings: Settings, workers: int) -> None:
        self._settings = settings
        self._count = workers
        # Worker pid → when it started (monotonic).
        self._workers: dict[int, float] = {}
        # When each replacement waiting out its delay is due to start (monotonic).
        self._replacements: list[float] = []
        self._stopping = False
        self._early_deaths = 0
        self._last_death: float | None = None
        self._restart_delay = 0.0
        # Workers that did not end cleanly once the stop began (an error in their cleanup, killed at the deadline).
        self._unclean_stops = 0

    def run(self) -> int:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._stop)
        log.info(
            "serving on %s:%d with %d workers (SO_REUSEPORT); supervisor pid %d",
            self._settings.host,
            self._settings.port,
            self._count,
            os.getpid(),
        )
        for _ in range(self._count):
            self._start_worker()
        failed = False
        stop_deadline: float | None = None
        while self._workers or (self._replacements and not self._stopping):
            self._start_due_replacements()
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                if self._replacements and not self._stopping:
                    time.sleep(0.1)
                    continue
                break
            if pid == 0:
                if self._stopping:
                    stop_deadline = stop_deadline or time.monotonic() + STOP_SECONDS
                    if time.monotonic() > stop_deadline:
                        self._signal_all(signal.SIGKILL)
                time.sleep(0.1)
                continue
            started = self._workers.pop(pid, None)
            if started is None:
                continue
            if self._stopping:
                # Killed by the stop itself is clean only for a worker not yet serving (its handlers not installed).
                if os.waitstatus_to_exitcode(status) not in (0, -signal.SIGTERM, -signal.SIGINT):
                    self._unclean_stops += 1
                    log.error("worker %d did not stop cleanly (%s)", pid, _how(status))
                continue
            self._early_deaths = self._early_deaths + 1 if time.monotonic() - started < EARLY_DEATH_SECONDS else 0
            if self._early_deaths >= EARLY_DEATHS_ALLOWED:
                log.warning("worker %d ended (%s)", pid, _how(status))
                log.error(
                    "%d workers in a row died as they started; stopping (see their errors above)", EARLY_DEATHS_ALLOWED
                )
                failed = True
                self._stop(signal.SIGTERM, None)
                continue
            delay = self._next_restart_delay(time.monotonic())
            if delay:
                log.warning("worker %d ended (%s); starting another in %.0f s", pid, _how(status), delay)
            else:
                log.warning("worker %d ended (%s); starting another", pid, _how(status))
            self._replacements.append(time.monotonic() + delay)
        # Nothing is left to stop; and Python resets its own handlers to the default as it exits, when a late stop
        # (a second Ctrl+C) would kill it and lose the exit code.
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        if self._unclean_stops:
            log.error("%d worker(s) did not stop cleanly", self._unclean_stops)
        log.info("all workers have stopped")
        return 1 if failed or self._unclean_stops else 0

    def _next_restart_delay(self, now: float) -> float:
        """For a death at `now` (monotonic): 0 after a calm spell; then RESTART_DELAY_FIRST, doubling while deaths
        keep coming."""
        if self._last_death is None or now - self._last_death > CALM_SECONDS:
            self._restart_delay = 0.0
        else:
            self._restart_delay = min(RESTART_DELAY_MOST, max(RESTART_DELAY_FIRST, self._restart_delay * 2))
        self._last_death = now
        return self._restart_delay

    def _start_due_replacements(self) -> None:
        if self._stopping:
            self._replacements.clear()
            return
        now = time.monotonic()
        due = [at for at in self._replacements if at <= now]
        self._replacements = [at for at in self._replacements if at > now]
        for _ in due:
            self._start_worker()

    def _start_worker(self) -> None:
        pid = os.fork()
        if pid:
            self._workers[pid] = time.monotonic()
            return
        # The worker: the parent's handlers are not its own; run_worker installs its graceful stop.
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        code = 0
        try:
            run_worker(self._settings, reuse_port=True)
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        if not self._stopping:
            log.info("stopping the workers (%s)", signal.Signals(signum).name)
        self._stopping = True
        self._signal_all(signal.SIGTERM)

    def _signal_all(self, signum: int) -> None:
        for pid in list(self._workers):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                self._workers.pop(pid, None)


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
