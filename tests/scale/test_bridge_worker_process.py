"""A real `majlis bridge` process on PostgreSQL carries a call the test's assigner gives it, over LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from majlis.clock import SystemClock
from majlis.db import create_engine, session_factory, transaction
from majlis.pubsub import PostgresPubSub
from tests.scale.conftest import ROOT, STOP_SECONDS, base_env
from tests.video.test_bridge import Endpoint, until
from tests.video.test_bridge_workers import connect_through_worker
from video.bridge_assign import BridgeAssigner
from video.models import BridgeWorker

STARTUP_SECONDS = 30.0


def start_bridge(database_url: str, tmp_path: Path, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "majlis.cli", "bridge", "--name", "bridge-one", "--capacity", "4"],
            env=base_env(database_url, tmp_path),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def test_a_bridge_worker_process_registers_carries_a_call_and_leaves_on_sigterm(
    scale_database_url: str, tmp_path: Path
) -> None:
    log_path = tmp_path / "bridge.log"
    process = start_bridge(scale_database_url, tmp_path, log_path)
    engine = create_engine(scale_database_url)
    sessions = session_factory(engine)
    pubsub = PostgresPubSub(scale_database_url)
    assigner = BridgeAssigner(pubsub, sessions, clock=SystemClock())
    stopped: list[tuple[str, list[int]]] = []

    async def on_stopped(name: str, audiences: list[int]) -> None:
        stopped.append((name, audiences))

    assigner.on_worker_stopped = on_stopped
    room, official = Endpoint(), Endpoint()

    async def registered() -> list[BridgeWorker]:
        async with transaction(sessions) as session:
            return list((await session.execute(select(BridgeWorker))).scalars())

    try:
        await pubsub.start()
        await assigner.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not await registered():
            assert process.poll() is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline, "the worker did not register:\n" + log_path.read_text(errors="replace")
            await asyncio.sleep(0.2)
        [row] = await registered()
        assert (row.name, row.capacity, row.calls) == ("bridge-one", 4, 0)

        name = await assigner.assign(11)
        assert name == "bridge-one"

        await connect_through_worker(assigner, name, 11, official, "official")
        await connect_through_worker(assigner, name, 11, room, "room")
        await until(lambda: official.frames >= 30 and room.frames >= 30, "frames both ways through the worker")
        assert (await registered())[0].calls == 1

        process.send_signal(signal.SIGTERM)
        await asyncio.get_running_loop().run_in_executor(None, process.wait, STOP_SECONDS)
        assert process.returncode == 0, log_path.read_text(errors="replace")
        await until(lambda: bool(stopped), "the hubs told the worker stopped", wait=5.0)
        assert stopped == [("bridge-one", [11])]
        assert await registered() == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(STOP_SECONDS)
        await room.close()
        await official.close()
        await assigner.close()
        await pubsub.close()
        await engine.dispose()
