"""`majlis serve --workers 2`: two worker processes bound to one port with SO_REUSEPORT under a supervisor that
replaces a worker that dies and stops them all on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from datetime import datetime
from pathlib import Path

import aiohttp

from tests.scale.conftest import ServedProcess, Start


def children(pid: int) -> set[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(child) for child in text.split()}


def listening_inodes(port: int) -> set[str]:
    """The inodes of the sockets listening on the port (state 0A in /proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":
            found.add(fields[9])
    return found


def sockets_of(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[len("socket:[") : -1])
    return found


def ended(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "zombie" in status.read_text()


async def wait_until(condition: object, seconds: float, why: str, served: ServedProcess) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"{why} not within {seconds} s:\n{served.log_text()[-4000:]}")
        await asyncio.sleep(0.1)


def each_listening(served: ServedProcess, workers: set[int]) -> bool:
    """Every worker holds a socket of its own listening on the port."""
    inodes = listening_inodes(served.port)
    holders = [sockets_of(worker) & inodes for worker in workers]
    return len(inodes) == len(workers) and all(len(held) == 1 for held in holders)


def exited(pid: int) -> bool:
    """Whether the process has exited: gone, or a zombie not yet reaped (its files, sockets included, closed)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


async def test_two_workers_share_the_port_and_a_dead_one_is_replaced(majlis_processes: Start) -> None:
    [served] = await majlis_processes(count=1, args=["--workers", "2"])
    supervisor = served.pid
    await wait_until(lambda: len(children(supervisor)) == 2, 20, "two workers", served)
    first = children(supervisor)
    await wait_until(lambda: each_listening(served, first), 20, "both workers listening", served)

    # A new connection for every request: a kept-alive connection belongs to the worker that accepted it, and
    # dies with it (as connections waiting in a killed worker's accept queue do); new ones go to the living.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        for _ in range(20):
            async with http.get(served.url + "/healthz") as answer:
                assert answer.status == 200

        # A worker killed outright: the supervisor starts another; the port never stops answering.
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        # Its sockets are closed once it has exited (a zombie until the supervisor reaps it, or gone).
        await wait_until(lambda: exited(victim), 10, "the killed worker to exit", served)
        async with http.get(served.url + "/healthz") as answer:
            assert answer.status == 200
        await wait_until(
            lambda: len(children(supervisor)) == 2 and victim not in children(supervisor), 20, "a new worker", served
        )
        second = children(supervisor)
        await wait_until(lambda: each_listening(served, second), 30, "the new worker listening", served)
        async with http.get(served.url + "/healthz") as answer:
            assert answer.status == 200
    assert f"worker {victim} ended (killed by SIGKILL); starting another" in served.log_text()
    # One of the workers runs the jobs, whichever it is.
    assert served.log_text().count("holds the lock and runs the periodic jobs") >= 1

    # SIGTERM to the supervisor stops every worker, gracefully, and the supervisor exits cleanly.
    served.terminate()
    assert served.process.returncode == 0, served.log_text()[-4000:]
    assert all(ended(worker) for worker in second)
    assert "all workers have stopped" in served.log_text()


def logged_at(log: str, text: str) -> float:
    """When the first line containing `text` was logged (each line of log_text starts with its ISO timestamp)."""
    for line in log.splitlines():
        if text in line:
            return datetime.fromisoformat(line.split(" ", 1)[0]).timestamp()
    raise AssertionError(f"{text!r} not logged:\n{log[-4000:]}")


async def test_a_stop_sent_to_the_whole_process_group_lets_every_worker_finish_its_cleanup(
    majlis_processes: Start,
) -> None:
    """A terminal's Ctrl+C, or a service manager killing the control group, signals every process: each worker
    gets the stop directly and forwarded by the supervisor, and here again and again while it cleans up; it stops
    once, runs its app's cleanup to the end and exits 0 (aiohttp's own handler would cut the cleanup short)."""
    [served] = await majlis_processes(count=1, args=["--workers", "2"])
    await wait_until(lambda: len(children(served.pid)) == 2, 20, "two workers", served)
    workers = children(served.pid)
    await wait_until(lambda: each_listening(served, workers), 20, "both workers listening", served)

    # The fixture starts the supervisor in a session of its own: its process group is its pid, the workers in it.
    sent: list[float] = []
    deadline = time.monotonic() + 30
    while served.alive() and time.monotonic() < deadline:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(served.pid, signal.SIGTERM)
            sent.append(time.time())
        await asyncio.sleep(0.005)
    code = await asyncio.to_thread(served.process.wait, 5)

    log = served.log_text()
    assert code == 0, log[-4000:]
    for worker in workers:
        began = logged_at(log, f"worker {worker} stopping (SIGTERM)")
        ended = logged_at(log, f"worker {worker} stopped cleanly")
        # The test did what it says: stops reached the worker during its cleanup (the log's clock is to the ms).
        assert any(began + 0.001 < moment < ended for moment in sent), (began, ended, sent[:5])
    assert "Traceback" not in log and "did not stop cleanly" not in log, log[-4000:]
    assert "all workers have stopped" in log
