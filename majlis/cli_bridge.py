"""`majlis bridge [--name NAME] [--capacity N]`: a media bridge worker that the hubs give bridged calls to.

Run any number, on this machine or others, against the same PostgreSQL database: each registers in
bridge_workers and the hubs assign each bridged call to the least loaded one (video/bridge_assign.py).
It runs until SIGTERM or SIGINT, then closes its calls (recordings written) and leaves the table.
PostgreSQL only: the hubs reach it through majlis.pubsub, which crosses processes only there.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from majlis.clock import SystemClock
from majlis.db import create_engine, session_factory
from majlis.pubsub import process_name, pubsub_for
from majlis.settings import Settings
from video.bridge import MediaBridge
from video.bridge_worker import BridgeWorkerService
from video.ice import ice_servers_from_settings

COMMAND = "bridge"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(COMMAND, help="carry bridged video calls for the hubs (a media bridge worker)")
    command.add_argument("--name", help="the worker's name in bridge_workers (default: host and process id)")
    command.add_argument(
        "--capacity", type=int, help="the most places (calls; a recording call takes two) it carries at once"
    )


async def _serve(settings: Settings, *, name: str, capacity: int) -> None:
    engine = create_engine(settings.database_url_value)
    pubsub = pubsub_for(settings.database_url_value)
    bridge = MediaBridge(
        max_calls=capacity,
        marker_release=settings.video_marker_release,
        ice_servers=ice_servers_from_settings(settings.ice_servers),
    )
    worker = BridgeWorkerService(pubsub, session_factory(engine), bridge, name=name, clock=SystemClock())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await pubsub.start()
        await worker.start()
        print(f"majlis bridge {name}: carrying up to {capacity} calls", flush=True)
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await worker.close()
        await pubsub.close()
        await engine.dispose()


def run(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.is_postgresql:
        # The hubs reach a worker through majlis.pubsub, which crosses processes only on PostgreSQL.
        print(
            "majlis bridge needs PostgreSQL: the hubs reach bridge workers through PostgreSQL's LISTEN/NOTIFY, "
            "which SQLite has not. Set MAJLIS_DATABASE_URL to a postgresql+asyncpg:// database; on SQLite the "
            "serve process carries bridged calls itself (MAJLIS_VIDEO_BRIDGE_ON_WORKERS=false).",
            file=sys.stderr,
            flush=True,
        )
        return 2
    capacity = args.capacity if args.capacity is not None else settings.video_bridge_max_calls
    if capacity < 1:
        print("majlis bridge: --capacity must be at least 1", flush=True)
        return 2
    asyncio.run(_serve(settings, name=(args.name or process_name())[:64], capacity=capacity))
    return 0
