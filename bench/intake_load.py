"""The load side of bench/intake.py: request bodies, clients in a closed loop, and the CPU the servers spend.

Every client posts one request after another, as a waiting user would; request numbers never repeat, so every body
is distinct. A target's server CPU is that of all its processes, the forked workers of a `majlis serve --workers`
included.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.intake_servers import PATH
from cases.identity import luhn_check_digit

WARMUP_REQUESTS = 200
READY_SECONDS = 30.0
READY_GRACE_SECONDS = 3.0
# A request slower than this counts as an error rather than stalling the run.
REQUEST_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class LoadConfig:
    requests: int
    seconds: float
    concurrency: int
    warmup: int
    idempotency_keys: bool
    # None: every request comes from a new person, as in a burst of public
    # intake. A number: requests cycle through that many people, which adds the
    # returning-applicant update and, since their texts are alike, duplicate
    # flags. Requests in flight are consecutive numbers, so with more people
    # than clients no two concurrent requests share an applicant row lock.
    applicants: int | None = None


@dataclass
class Result:
    target: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    # CPU seconds used during the counted run by the server process and by this
    # (client) process: tells a CPU-bound server from one that waits on locks.
    server_cpu: float = math.nan
    client_cpu: float = math.nan

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.error_count

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds > 0 else 0.0

    def cpu_ms_per_request(self, seconds: float) -> float:
        return 1000 * seconds / self.requests if self.requests else math.nan

    def percentile_ms(self, p: float) -> float:
        """Nearest-rank percentile of the successful requests' latencies, in milliseconds."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        return ordered[rank - 1] * 1000


# --- Request bodies -------------------------------------------------------------------------------


def national_id(n: int) -> str:
    """A valid Saudi national ID: 1, eight digits from n, and the Luhn check digit."""
    body = f"1{n % 10**8:08d}"
    return body + luhn_check_digit(body)


def mobile(n: int) -> str:
    """A valid Saudi mobile number (+96650 and seven digits)."""
    return f"+96650{n % 10**7:07d}"


def request_body(n: int, applicants: int | None = None) -> bytes:
    """Request number n, with a subject of its own, from person n (or n modulo applicants)."""
    person = n if applicants is None else n % applicants
    body = {
        "applicant": {
            "kind": "citizen",
            "national_id": national_id(person + 1),
            "name": f"مقدم الطلب {person}",
            "gender": "female" if person % 2 else "male",
            "phone": mobile(1_000_000 + person),
            "language": "en" if person % 3 == 0 else "ar",
        },
        "kind": "audience_video" if n % 2 else "petition",
        "subject": f"طلب مقابلة رقم {n}",
        "text": "أرجو مقابلة المسؤول بخصوص قضية أسرية.",
        "branch": "jeddah" if n % 4 == 0 else "riyadh",
        "channel": "portal",
    }
    return json.dumps(body, ensure_ascii=False).encode()


# --- The load generator ---------------------------------------------------------------------------


class Tickets:
    """Hands out request numbers until the count is used up or the deadline has passed."""

    def __init__(self, first: int, count: int, seconds: float) -> None:
        self._next = first
        self._end = first + count
        self._deadline = time.perf_counter() + seconds

    def take(self) -> int | None:
        if self._next >= self._end or time.perf_counter() >= self._deadline:
            return None
        self._next += 1
        return self._next - 1


async def _post(session: aiohttp.ClientSession, url: str, n: int, config: LoadConfig, result: Result) -> None:
    headers = {"Content-Type": "application/json"}
    if config.idempotency_keys:
        headers["Idempotency-Key"] = f"bench-{n}-{secrets.token_hex(8)}"
    data = request_body(n, config.applicants)  # built before the clock starts: encoding is the client's cost
    started = time.perf_counter()
    try:
        async with session.post(url, data=data, headers=headers) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        result.errors[type(exc).__name__] += 1
        return
    if status == 201:
        result.latencies.append(time.perf_counter() - started)
    else:
        result.errors[f"HTTP {status}"] += 1


async def _client(
    session: aiohttp.ClientSession, url: str, tickets: Tickets, config: LoadConfig, result: Result
) -> None:
    """One client: posts one request after another, as a waiting user would, until out of tickets."""
    while (n := tickets.take()) is not None:
        await _post(session, url, n, config, result)


async def _phase(session: aiohttp.ClientSession, url: str, target: str, tickets: Tickets, config: LoadConfig) -> Result:
    result = Result(target)
    started = time.perf_counter()
    await asyncio.gather(*(_client(session, url, tickets, config, result) for _ in range(config.concurrency)))
    result.seconds = time.perf_counter() - started
    return result


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.extend(int(child) for child in task.read_text().split())
        except OSError:
            continue
    return found


def tree_cpu(pids: Sequence[int]) -> float:
    """The CPU seconds of these processes and every process they started (the forked workers of a serve)."""
    total, seen, todo = 0.0, set(), list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += process_cpu(pid)
        todo.extend(_children(pid))
    return total


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far, from /proc (NaN where there is none)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return math.nan
    # The command name may hold spaces; the fields after its closing parenthesis
    # start at field 3 of proc_pid_stat(5), so utime (14) and stime (15) are at 11 and 12.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


Servers = Sequence[subprocess.Popen[bytes]]


async def _wait_ready(
    session: aiohttp.ClientSession, base_url: str, servers: subprocess.Popen[bytes] | Servers
) -> None:
    """Until /healthz answers 200 (and every process has had time to bind); fails at once if one has exited."""
    if isinstance(servers, subprocess.Popen):
        servers = [servers]
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        exited = next((s for s in servers if s.poll() is not None), None)
        if exited is not None:
            raise RuntimeError(f"a server at {base_url} exited with {exited.returncode} while starting")
        try:
            async with session.get(base_url + "/healthz") as response:
                if response.status == 200:
                    if len(servers) > 1:
                        # The first to bind answers; the others are still loading the app.
                        await asyncio.sleep(READY_GRACE_SECONDS)
                    return
        except aiohttp.ClientError:
            pass  # not listening yet
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the server at {base_url} was not ready within {READY_SECONDS:.0f} s")


async def measure(base_url: str, target: str, servers: Servers, config: LoadConfig) -> Result:
    """Warm up, then the counted run; request numbers never repeat, so every body is distinct."""
    connector = aiohttp.TCPConnector(limit=config.concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await _wait_ready(session, base_url, servers)
        url = base_url + PATH
        warmup = await _phase(session, url, target, Tickets(0, config.warmup, config.seconds), config)
        if warmup.error_count:
            print(f"bench: {target}: warm-up errors {dict(warmup.errors)}", file=sys.stderr)
        pids = [s.pid for s in servers]
        server_before, client_before = tree_cpu(pids), time.process_time()
        result = await _phase(session, url, target, Tickets(config.warmup, config.requests, config.seconds), config)
        result.server_cpu = tree_cpu(pids) - server_before
        result.client_cpu = time.process_time() - client_before
        return result
