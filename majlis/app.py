"""The app factory: settings, database, job runner and every route, wired once per app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from cases import tracking_serials
from followup.attachments import AttachmentStore
from majlis import jobs
from majlis.clock import Clock, SystemClock
from majlis.db import create_engine, session_factory
from majlis.i18n import shipped_catalogs
from majlis.leader import leader_for
from majlis.pubsub import pubsub_for
from majlis.settings import Settings, load_settings
from notify.channels import Channels
from notify.outbox import Dispatcher, policy_from
from notify.providers import channels_for, links_for, media_fetcher_for
from scheduler import calendar
from video.hub_transport import HubEdge
from video.room_check import CONNECT_TIMEOUT, RoomChecks
from video.room_check_runs import StoredCheckRuns, longest_check
from video.signalling_home import SignallingHome, hub_from_settings
from web import routes
from web.keys import (
    ATTACHMENTS,
    CATALOGS,
    CHANNELS,
    CLOCK,
    DISPATCHER,
    ENGINE,
    LINKS,
    MEDIA_FETCHER,
    METRICS,
    PUBSUB,
    ROOM_CHECKS,
    SESSIONS,
    SETTINGS,
    VIDEO_HUB,
    VIDEO_TOKENS,
)
from web.metrics_registry import AppMetrics


async def pubsub_ctx(app: web.Application) -> AsyncIterator[None]:
    """Publish/subscribe across processes, started before (and closed after) everything that uses it."""
    pubsub = pubsub_for(app[SETTINGS].database_url_value, clock=app[CLOCK])
    await pubsub.start()
    app[PUBSUB] = pubsub
    yield
    await pubsub.close()


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    engine = create_engine(app[SETTINGS].database_url_value, echo=app[SETTINGS].database_echo)
    app[ENGINE] = engine
    # Tracking serials taken ahead in blocks by this process (PostgreSQL), handed to every session it opens.
    serial_blocks = tracking_serials.serial_blocks_for(engine)
    info = {tracking_serials.SERIAL_BLOCKS: serial_blocks} if serial_blocks is not None else None
    app[SESSIONS] = session_factory(engine, info=info)
    app[DISPATCHER] = Dispatcher(
        sessions=app[SESSIONS],
        clock=app[CLOCK],
        channels=app[CHANNELS],
        links=app[LINKS],
        policy=policy_from(app[SETTINGS]),
        organizer=app[SETTINGS].mail_from,
        days_off=calendar.days_off,
    )
    yield
    await app[CHANNELS].close()
    fetcher = app[MEDIA_FETCHER]
    if fetcher is not None:
        await fetcher.close()
    if serial_blocks is not None:
        await serial_blocks.close()
    await engine.dispose()


async def jobs_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if not settings.jobs_enabled:
        yield
        return
    runner: jobs.JobScheduler | None = None

    # Every process competes; only the leader runs the jobs, so each runs once across processes and machines.
    async def elected() -> None:
        nonlocal runner
        runner = jobs.start(
            settings=settings,
            sessions=app[SESSIONS],
            clock=app[CLOCK],
            attachments=app[ATTACHMENTS],
            allocation_ran=app[METRICS].allocation_ran,
        )

    async def deposed() -> None:
        nonlocal runner
        if runner is not None:
            stopping, runner = runner, None
            await stopping.stop()

    dispatching = jobs.start_dispatching(settings=settings, dispatcher=app[DISPATCHER])
    leader = leader_for(settings.database_url_value, on_elected=elected, on_deposed=deposed)
    await leader.start()
    yield
    await leader.close()
    await dispatching.stop()


async def room_checks_ctx(app: web.Application) -> AsyncIterator[None]:
    """The pre-call checks' peers (closed with their peer connections when the app stops); their state is in the
    database, so any process answers a check's poll."""
    settings = app[SETTINGS]
    runs = StoredCheckRuns(
        sessions=app[SESSIONS],
        clock=app[CLOCK],
        longest=longest_check(connect_timeout=CONNECT_TIMEOUT, seconds=settings.video_check_seconds),
    )
    checks = RoomChecks(
        runs=runs,
        seconds=settings.video_check_seconds,
        max_concurrent=settings.video_check_max_concurrent,
        ice_servers=settings.ice_servers,
    )
    app[ROOM_CHECKS] = checks
    yield
    await checks.close()


async def video_hub_ctx(app: web.Application) -> AsyncIterator[None]:
    """Video signalling: this process's edge (its sockets and consoles), and the hub while it is the home."""
    settings = app[SETTINGS]
    edge = HubEdge(app[PUBSUB])
    home = SignallingHome(
        app[PUBSUB],
        edge,
        make_hub=lambda: hub_from_settings(
            settings,
            sessions=app[SESSIONS],
            clock=app[CLOCK],
            tokens=app[VIDEO_TOKENS],
            one_transaction_at_a_time=app[ENGINE].dialect.name == "sqlite",
            pubsub=app[PUBSUB],
        ),
        database_url=settings.database_url_value,
    )
    await edge.start()
    app[VIDEO_HUB] = edge
    await home.start()
    yield
    await home.close()
    await edge.close()


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    channels: Channels | None = None,
) -> web.Application:
    """A ready-to-run Majlis application; tests pass their own settings, clock and channels."""
    settings = settings or load_settings()
    # Routes that take attachments read up to settings.upload_body_bytes instead (web/uploads.py).
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[CLOCK] = clock or SystemClock()
    app[CHANNELS] = channels or channels_for(settings)
    app[LINKS] = links_for(settings)
    # Made from the settings' Twilio account (tests point twilio_api_base at tests/fake_twilio.py).
    app[MEDIA_FETCHER] = media_fetcher_for(settings)
    app[CATALOGS] = shipped_catalogs()
    # Its own registry: many apps live in one test process, and the global registry would refuse the second.
    app[METRICS] = AppMetrics()
    app[ATTACHMENTS] = AttachmentStore(
        Path(settings.attachments_dir),
        max_bytes=settings.attachment_max_bytes,
        max_files=settings.attachment_max_files,
    )
    app.cleanup_ctx.append(pubsub_ctx)
    app.cleanup_ctx.append(database_ctx)
    app.cleanup_ctx.append(jobs_ctx)
    app.cleanup_ctx.append(room_checks_ctx)
    app.cleanup_ctx.append(video_hub_ctx)
    routes.setup(app)
    return app
