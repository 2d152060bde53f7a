"""A demo Majlis of its own, as `make run` serves it, for the page sweep (every_page.py) and the screenshots
(screenshots.py): a fresh SQLite database in a folder, `majlis db upgrade` and `majlis demo` run as subprocesses,
then `majlis serve` on a free loopback port, stopped when the `with` block ends.

Everything the processes write (the database, attachments, recordings, the fairness chain's anchors, the server's
log) goes into that folder, never into the project's var/, and none of the caller's MAJLIS_* settings reach them.
The periodic jobs are off: the pages show the demo as it was loaded, and a weekly allocation or an outbox run
halfway through a sweep cannot change what the last pages show (nor load the machine while they are checked).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.postgres_server import free_port

ROOT = Path(__file__).resolve().parents[2]
MAJLIS = [sys.executable, "-m", "majlis.cli"]
# Measured on the shared two-core machine under load: upgrade 5-10 s, demo 11-40 s, serve up in 5-10 s.
BUILD_SECONDS = 180.0
STARTUP_SECONDS = 60.0
STOP_SECONDS = 15.0


@dataclass(frozen=True)
class DemoSite:
    url: str
    env: dict[str, str]
    log_path: Path
    demo_output: str  # what `majlis demo` printed: its logins, links and tracking numbers

    @property
    def applicant_waiting(self) -> tuple[str, str]:
        """The tracking number and phone of the demo's request waiting for its applicant's documents."""
        found = re.search(r"answers at \S+/status: (\S+) with the phone (\+\d+)", self.demo_output)
        if found is None:
            raise RuntimeError("majlis demo no longer prints its applicant's tracking number and phone")
        return found.group(1), found.group(2)

    def code(self) -> str:
        """The demo accounts' second-step code now: `majlis two-factor demo-code` in the server's environment, on
        the same (system) clock the server checks it against (majlis/demo_two_factor.py)."""
        done = subprocess.run(
            [*MAJLIS, "two-factor", "demo-code"],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return done.stdout.strip().split()[-1]

    def log_text(self) -> str:
        """The server's log as lines people read (each JSON record as "level logger: message")."""
        raw = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(_readable(line) for line in raw.splitlines())


def demo_env(folder: Path) -> dict[str, str]:
    """The processes' environment: a database and files in `folder`, development settings, jobs off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAJLIS_")}
    env.update(
        MAJLIS_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'demo.db'}",
        MAJLIS_ATTACHMENTS_DIR=str(folder / "attachments"),
        MAJLIS_VIDEO_RECORDINGS_DIR=str(folder / "recordings"),
        MAJLIS_FAIRNESS_ANCHOR_FILE=str(folder / "fairness-anchors.jsonl"),
        MAJLIS_JOBS_ENABLED="false",
        PYTHONUNBUFFERED="1",
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([*MAJLIS, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=BUILD_SECONDS)
    if done.returncode != 0:
        raise RuntimeError(f"majlis {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


@contextmanager
def demo_site(folder: Path) -> Iterator[DemoSite]:
    """Builds the demo database in `folder` and serves it until the block ends (SIGTERM, then SIGKILL)."""
    folder.mkdir(parents=True, exist_ok=True)
    env = demo_env(folder)
    _run(["db", "upgrade"], env)
    printed = _run(["demo"], env)
    port = free_port()
    site = DemoSite(url=f"http://127.0.0.1:{port}", env=env, log_path=folder / "serve.log", demo_output=printed)
    with site.log_path.open("wb") as log:
        process = subprocess.Popen(
            [*MAJLIS, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_answering(site, process)
        yield site
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_SECONDS)


def _wait_answering(site: DemoSite, process: subprocess.Popen[bytes]) -> None:
    # A bounded wait on a process starting up (real time, not the application's clock: nothing here is measured).
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"majlis serve exited ({process.returncode}):\n{site.log_text()[-4000:]}")
        try:
            with urllib.request.urlopen(site.url + "/", timeout=5) as answer:  # noqa: S310 (our own loopback URL)
                if answer.status < 500:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"majlis serve did not answer within {STARTUP_SECONDS:.0f} s:\n{site.log_text()[-4000:]}")


def _readable(line: str) -> str:
    try:
        record = json.loads(line)
    except ValueError:
        return line
    if not isinstance(record, dict) or "message" not in record:
        return line
    return f"{record.get('level', '')} {record.get('logger', '')}: {record['message']}"
