"""Intake benchmark: load on POST /api/v1/requests, on SQLite and PostgreSQL, beside a bare aiohttp handler.

    .venv/bin/python -m bench.intake [--requests N] [--seconds T] [--concurrency C]
                                     [--targets bare,sqlite,postgresql] [--applicants N]
                                     [--idempotency-keys] [--log-dir DIR]

Every server under test runs in a process of its own (`majlis serve`, or this
module with --bare-server); this process only generates the load, so client and
server do not share an event loop. Each target gets a warm-up that is not
counted, then a run bounded by a number of requests and a number of seconds,
whichever comes first. The table is Markdown, ready for docs/benchmarks.md.

BENCH_PROFILE=DIR runs each Majlis server under cProfile and writes
DIR/<target>.prof and DIR/<target>.txt when it stops. Profiling slows the server
several times over: figures from such a run are for finding hotspots, not for
the record.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import math
import os
import platform
import pstats
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import aiohttp
import asyncpg
from aiohttp import web

from cases.identity import luhn_check_digit
from tests.postgres_server import PostgresServer, free_port

TARGETS = ("bare", "sqlite", "postgresql")
LABELS = MappingProxyType(
    {"bare": "bare aiohttp handler", "sqlite": "Majlis on SQLite", "postgresql": "Majlis on PostgreSQL"}
)
PATH = "/api/v1/requests"
WARMUP_REQUESTS = 200
READY_SECONDS = 30.0
# A request slower than this counts as an error rather than stalling the run.
REQUEST_TIMEOUT_SECONDS = 10.0
STOP_SECONDS = 15.0


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


async def _wait_ready(session: aiohttp.ClientSession, base_url: str, server: subprocess.Popen[bytes]) -> None:
    """Until /healthz answers 200; fails at once if the server has exited."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server at {base_url} exited with {server.returncode} while starting")
        try:
            async with session.get(base_url + "/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass  # not listening yet
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the server at {base_url} was not ready within {READY_SECONDS:.0f} s")


async def measure(base_url: str, target: str, server: subprocess.Popen[bytes], config: LoadConfig) -> Result:
    """Warm up, then the counted run; request numbers never repeat, so every body is distinct."""
    connector = aiohttp.TCPConnector(limit=config.concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await _wait_ready(session, base_url, server)
        url = base_url + PATH
        warmup = await _phase(session, url, target, Tickets(0, config.warmup, config.seconds), config)
        if warmup.error_count:
            print(f"bench: {target}: warm-up errors {dict(warmup.errors)}", file=sys.stderr)
        server_before, client_before = process_cpu(server.pid), time.process_time()
        result = await _phase(session, url, target, Tickets(config.warmup, config.requests, config.seconds), config)
        result.server_cpu = process_cpu(server.pid) - server_before
        result.client_cpu = time.process_time() - client_before
        return result


# --- The servers ----------------------------------------------------------------------------------


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM first, so aiohttp shuts down cleanly (and a profile gets written); SIGKILL if it hangs."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running(command: Sequence[str], env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A server process whose output (access log included) goes to log_path, stopped on the way out."""
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            _stop(process)


def majlis_env(database_url: str) -> dict[str, str]:
    """The environment of a production-like Majlis: no console SMS, no background jobs.

    The caller's own MAJLIS_* variables are dropped so that a stray setting
    (a MAJLIS_CONFIG, say) cannot change what is measured.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAJLIS_")}
    env.update(
        MAJLIS_DATABASE_URL=database_url,
        MAJLIS_ENVIRONMENT="production",
        MAJLIS_EMERGENCY_CONSULAR_DEPUTY_EMAIL="deputy@mofa.example.sa",
        MAJLIS_EMERGENCY_CONSULAR_DEPUTY_PHONE="+966501234567",
        MAJLIS_SECRET_KEY=secrets.token_urlsafe(48),
        MAJLIS_NOTIFY_BACKEND="null",
        MAJLIS_JOBS_ENABLED="false",
    )
    return env


def _majlis_bin() -> str:
    return str(Path(sys.executable).parent / "majlis")


def majlis_command(target: str, port: int) -> list[str]:
    profile_dir = os.environ.get("BENCH_PROFILE")
    if profile_dir:
        out = Path(profile_dir).resolve() / f"{target}.prof"
        return [sys.executable, "-m", "bench.intake", "--profiled-serve", str(out), "--port", str(port)]
    return [_majlis_bin(), "serve", "--host", "127.0.0.1", "--port", str(port)]


def upgrade(env: dict[str, str], log_path: Path) -> None:
    with log_path.open("ab") as log:
        done = subprocess.run(
            [_majlis_bin(), "db", "upgrade"], env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, check=False
        )
    if done.returncode != 0:
        raise RuntimeError(f"`majlis db upgrade` exited with {done.returncode}; see {log_path}")


def run_majlis(target: str, database_url: str, config: LoadConfig, log_dir: Path) -> Result:
    env = majlis_env(database_url)
    log_path = log_dir / f"{target}.log"
    upgrade(env, log_path)
    port = free_port()
    with running(majlis_command(target, port), env, log_path) as server:
        return asyncio.run(measure(f"http://127.0.0.1:{port}", target, server, config))


def run_bare(config: LoadConfig, log_dir: Path) -> Result:
    port = free_port()
    command = [sys.executable, "-m", "bench.intake", "--bare-server", str(port)]
    with running(command, dict(os.environ), log_dir / "bare.log") as server:
        return asyncio.run(measure(f"http://127.0.0.1:{port}", "bare", server, config))


def run_sqlite(config: LoadConfig, log_dir: Path) -> Result:
    with tempfile.TemporaryDirectory(prefix="majlis-bench-sqlite-") as tmp:
        return run_majlis("sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db", config, log_dir)


async def _create_database(server: PostgresServer, name: str) -> None:
    connection = await asyncpg.connect(host="127.0.0.1", port=server.port, user=server.user, database="postgres")
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def postgres_version(server: PostgresServer) -> str:
    done = subprocess.run([str(server.bin / "postgres"), "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def run_postgresql(config: LoadConfig, log_dir: Path, notes: list[str]) -> Result:
    server = PostgresServer()
    try:
        server.start()
        notes.append(f"{postgres_version(server)}, fsync=off, synchronous_commit=off (tests.postgres_server)")
        asyncio.run(_create_database(server, "bench"))
        return run_majlis("postgresql", server.url("bench"), config, log_dir)
    finally:
        server.stop()


# --- Servers run as children of this module -------------------------------------------------------


async def _bare_create(request: web.Request) -> web.Response:
    """The same shape of work as the intake minus validation and database: read JSON, answer 201 with JSON."""
    payload = await request.json()
    subject = payload.get("subject", "") if isinstance(payload, dict) else ""
    body = {
        "tracking_number": "26-000001-0",
        "status": "received",
        "submitted_at": datetime.now(UTC).isoformat(),
        "subject_length": len(subject),
    }
    return web.json_response(body, status=201)


async def _bare_health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def serve_bare(port: int) -> None:
    app = web.Application()
    app.router.add_post(PATH, _bare_create)
    app.router.add_get("/healthz", _bare_health)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


def serve_profiled(out: Path, port: int) -> int:
    """`majlis serve` under cProfile; aiohttp returns from run_app on SIGTERM, so the profile gets written."""
    from majlis import cli  # imported here: only the profiled server needs the whole app

    # CPU time, not wall time: on a small machine the server is often preempted
    # by the load generator and PostgreSQL, and wall time would charge that to
    # whatever call happened to be running (a socket send, typically).
    profiler = cProfile.Profile(time.process_time)
    try:
        code: int = profiler.runcall(cli.main, ["serve", "--host", "127.0.0.1", "--port", str(port)])
    finally:
        profiler.dump_stats(out)
        with out.with_suffix(".txt").open("w") as fh:
            stats = pstats.Stats(profiler, stream=fh)
            stats.sort_stats("tottime").print_stats(40)
            stats.sort_stats("cumulative").print_stats(60)
    return code


# --- Report ---------------------------------------------------------------------------------------


def code_version() -> str:
    """The commit measured, and whether the working tree differs from it (figures belong to a commit)."""
    # --no-optional-locks: never write the index, which others may be using.
    git = ["git", "--no-optional-locks"]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    if head.returncode != 0:
        return "not a git checkout"
    status = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True, check=False)
    return head.stdout.strip() + (" with uncommitted changes" if status.stdout.strip() else "")


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def machine_facts() -> list[str]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [
        f"nproc: {len(os.sched_getaffinity(0))} ({cpu})",
        f"python: {platform.python_version()} ({platform.python_implementation()}), aiohttp {aiohttp.__version__}",
        f"os: {platform.platform()}",
    ]


def table(results: Sequence[Result]) -> list[str]:
    bare = next((r for r in results if r.target == "bare"), None)
    lines = [
        "| target | requests | errors | req/s | p50 ms | p99 ms | req/s vs bare | server CPU ms | client CPU ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        ratio = f"{100 * r.per_second / bare.per_second:.1f} %" if bare and bare.per_second else "n/a"
        lines.append(
            f"| {LABELS[r.target]} | {r.requests} | {r.error_count} | {r.per_second:.0f} "
            f"| {r.percentile_ms(50):.1f} | {r.percentile_ms(99):.1f} | {ratio} "
            f"| {r.cpu_ms_per_request(r.server_cpu):.2f} | {r.cpu_ms_per_request(r.client_cpu):.2f} |"
        )
    return lines


def report(results: Sequence[Result], config: LoadConfig, notes: Sequence[str], log_dir: Path) -> str:
    lines = [
        f"command: {shlex.join(sys.orig_argv)}",
        f"date: {datetime.now(UTC).date().isoformat()}",
        f"code: {code_version()}",
        *machine_facts(),
        *notes,
        f"load: {config.concurrency} concurrent clients, {config.warmup} warm-up requests not counted, "
        f"then up to {config.requests} requests or {config.seconds:g} s"
        + (", a fresh Idempotency-Key on each" if config.idempotency_keys else "")
        + (f", from {config.applicants} applicants in turn" if config.applicants else ", each from a new applicant"),
        "",
        *table(results),
        "",
        "CPU ms: CPU time per counted request, of the server process and of this load-generating process.",
    ]
    for r in results:
        if r.errors:
            lines.append(f"errors on {LABELS[r.target]}: {dict(r.errors)}")
    profile_dir = os.environ.get("BENCH_PROFILE")
    if profile_dir:
        lines.append(f"PROFILED RUN (BENCH_PROFILE): figures are not comparable; profiles in {profile_dir}")
    lines.append(f"server logs: {log_dir}")
    return "\n".join(lines)


# --- Command line ---------------------------------------------------------------------------------


def _targets(value: str) -> list[str]:
    chosen = [t.strip() for t in value.split(",") if t.strip()]
    unknown = [t for t in chosen if t not in TARGETS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"targets are a comma list of {', '.join(TARGETS)}")
    return chosen


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return number


def _positive_float(value: str) -> float:
    number = float(value)
    if not number > 0:  # also refuses NaN
        raise argparse.ArgumentTypeError("must be a positive number")
    return number


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.intake", description=__doc__.split("\n\n")[0] if __doc__ else "")
    p.add_argument("--requests", type=_positive_int, default=3000, help="counted requests per target (3000)")
    p.add_argument("--seconds", type=_positive_float, default=30.0, help="time limit per target, seconds (30)")
    p.add_argument("--concurrency", type=_positive_int, default=100, help="concurrent clients (100)")
    p.add_argument("--targets", type=_targets, default=list(TARGETS), help="comma list of bare,sqlite,postgresql")
    p.add_argument(
        "--applicants",
        type=_positive_int,
        help="cycle through this many applicants (returning applicants, duplicate flags); default: a new one each",
    )
    p.add_argument("--idempotency-keys", action="store_true", help="send a fresh Idempotency-Key with each request")
    p.add_argument("--log-dir", type=Path, help="where the servers' output goes (default: a new temporary directory)")
    # Entry points of the child processes, not for people.
    p.add_argument("--bare-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    p.add_argument("--profiled-serve", type=Path, metavar="OUT", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    return p


def run(args: argparse.Namespace) -> str:
    config = LoadConfig(
        args.requests, args.seconds, args.concurrency, WARMUP_REQUESTS, args.idempotency_keys, args.applicants
    )
    log_dir: Path = args.log_dir or Path(tempfile.mkdtemp(prefix="majlis-bench-logs-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    # Other work on the machine skews the figures; the report says how busy it was.
    notes = [f"load average before the run: {load_average()}"]
    results = []
    for target in args.targets:
        print(f"bench: measuring {LABELS[target]} ...", file=sys.stderr, flush=True)
        if target == "bare":
            results.append(run_bare(config, log_dir))
        elif target == "sqlite":
            results.append(run_sqlite(config, log_dir))
        else:
            results.append(run_postgresql(config, log_dir, notes))
    return report(results, config, notes, log_dir)


def main(argv: Sequence[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    if args.bare_server is not None:
        serve_bare(args.bare_server)
        return 0
    if args.profiled_serve is not None:
        if args.port is None:
            cli.error("--profiled-serve needs --port")
        return serve_profiled(args.profiled_serve, args.port)
    try:
        print(run(args))
    except RuntimeError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
