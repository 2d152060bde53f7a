"""`make shape`: the deployment's shape (docs/deploy.md) on this machine, on a throwaway PostgreSQL.

A PostgreSQL server of its own (tests/postgres_server.py finds Debian's binaries and starts one on a free
loopback port, in a temporary directory), migrated and given the demo data; then the processes that systemd
runs in a deployment: `majlis serve --workers 2`, one `majlis worker` and one `majlis bridge`, each with its
output prefixed by its name. Ctrl-C (or SIGTERM) stops them, then the server, and removes the directory.

`--check` starts the shape, checks that it answers (the sign-in page from the served port, the bridge
worker's row in bridge_workers), and stops: the shape's smoke test. Run from the repository's root.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import asyncpg

from tests.postgres_server import PostgresServer

ROOT = Path(__file__).resolve().parents[1]
MAJLIS = [sys.executable, "-m", "majlis.cli"]
STARTUP_SECONDS = 60.0
STOP_SECONDS = 20.0


def _prefixed(name: str, stream: IO[bytes]) -> None:
    for line in iter(stream.readline, b""):
        sys.stdout.write(f"{name:>7} | {line.decode(errors='replace')}")
        sys.stdout.flush()


class Shape:
    """The processes of the shape, started in order and stopped in reverse."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []

    def run_once(self, *args: str) -> None:
        # Our own command with arguments written here.
        subprocess.run([*MAJLIS, *args], env=self.env, cwd=ROOT, check=True)  # noqa: S603

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(  # noqa: S603 (our own command with arguments written here)
            [*MAJLIS, *args], env=self.env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert process.stdout is not None
        threading.Thread(target=_prefixed, args=(name, process.stdout), daemon=True).start()
        self.processes.append((name, process))
        return process

    def exited(self) -> list[str]:
        return [f"{name} (exit {process.returncode})" for name, process in self.processes if process.poll() is not None]

    def stop(self) -> None:
        """SIGTERM to each, as systemd stops a unit; SIGKILL to any still running after STOP_SECONDS."""
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for name, process in reversed(self.processes):
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"shape: {name} did not stop in {STOP_SECONDS:.0f} s; killed", file=sys.stderr)
                process.kill()
                process.wait()


def _answers(url: str, shape: Shape) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if shape.exited():
            raise RuntimeError(f"exited while starting: {', '.join(shape.exited())}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 (http on loopback, built here)
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {STARTUP_SECONDS:.0f} s")


async def _create_database(server: PostgresServer, name: str) -> None:
    conn = await asyncpg.connect(server.url("postgres").replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()


async def _bridge_workers(database_url: str) -> int:
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM bridge_workers"))
    finally:
        await conn.close()


def _check(shape: Shape, url: str, database_url: str) -> None:
    """The served port answers every request (the kernel spreads them over both workers), a bridge registered."""
    for _ in range(20):
        with urllib.request.urlopen(url + "/login", timeout=10) as answer:  # noqa: S310 (as above)
            assert answer.status == 200, answer.status
    deadline = time.monotonic() + STARTUP_SECONDS
    while (found := asyncio.run(_bridge_workers(database_url))) < 1:
        if time.monotonic() > deadline or shape.exited():
            raise RuntimeError(f"no bridge worker registered (exited: {', '.join(shape.exited()) or 'none'})")
        time.sleep(0.5)
    print(f"shape: {url} answers; {found} bridge worker(s) registered; stopping")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make shape", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-demo", action="store_true", help="an empty database (no demo staff and requests)")
    parser.add_argument("--check", action="store_true", help="start, check that it answers, stop")
    args = parser.parse_args(argv)

    server = PostgresServer()
    files = Path(tempfile.mkdtemp(prefix="majlis-shape-"))
    server.start()
    shape: Shape | None = None
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        asyncio.run(_create_database(server, "majlis"))
        database_url = server.url("majlis")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAJLIS_")}
        env |= {
            "MAJLIS_DATABASE_URL": database_url,
            "MAJLIS_PORT": str(args.port),
            "MAJLIS_PUBLIC_URL": f"http://127.0.0.1:{args.port}",
            "MAJLIS_ATTACHMENTS_DIR": str(files / "attachments"),
            "MAJLIS_VIDEO_RECORDINGS_DIR": str(files / "recordings"),
            "PYTHONUNBUFFERED": "1",
        }
        shape = Shape(env)
        shape.run_once("db", "upgrade")
        if not args.no_demo:
            shape.run_once("demo")
        shape.start("serve", "serve", "--host", "127.0.0.1", "--workers", str(args.workers))
        shape.start("worker", "worker")
        shape.start("bridge", "bridge")
        url = f"http://127.0.0.1:{args.port}"
        _answers(url + "/login", shape)
        if args.check:
            _check(shape, url, database_url)
            return 0
        print(f"shape: Majlis at {url} ({args.workers} workers), PostgreSQL at {database_url}; Ctrl-C stops it")
        while not stop.wait(1.0):
            if gone := shape.exited():
                print(f"shape: {', '.join(gone)}; stopping", file=sys.stderr)
                return 1
        return 0
    except (RuntimeError, AssertionError, subprocess.CalledProcessError) as exc:
        print(f"shape: {exc}", file=sys.stderr)
        return 1
    finally:
        if shape is not None:
            shape.stop()
        server.stop()
        shutil.rmtree(files, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
