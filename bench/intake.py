"""Intake benchmark: load on POST /api/v1/requests, on PostgreSQL and SQLite, beside a bare aiohttp handler and
a reference that saves the same rows through asyncpg.

    .venv/bin/python -m bench.intake [--requests N] [--seconds T] [--concurrency C] [--workers W]
                                     [--targets bare,reference,postgresql,sqlite] [--applicants N]
                                     [--idempotency-keys] [--log-dir DIR]

Every server under test runs in processes of its own (`majlis serve`, or this
module's children from bench/intake_servers.py); this process only generates the
load, so client and server do not share an event loop. The reference and Majlis
on PostgreSQL run W processes on one port (SO_REUSEPORT; `majlis serve --workers`
when it has that option); SQLite has one writer and runs one. Each target gets a
warm-up that is not counted, then a run bounded by a number of requests and a
number of seconds, whichever comes first. Server CPU is that of every process of
the target. The table is Markdown, ready for docs/benchmarks.md, and is followed
by the issue 17 aims, each marked met or not.

BENCH_PROFILE=DIR runs each Majlis server process under cProfile and writes
DIR/<target>-<pid>.prof and .txt when it stops. Profiling slows the server
several times over: figures from such a run are for finding hotspots, not for
the record.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import platform
import pstats
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import aiohttp
import asyncpg

from bench.intake_load import WARMUP_REQUESTS, LoadConfig, Result, Servers, measure
from bench.intake_load import _wait_ready as _wait_ready  # re-exported: bench/whatsapp.py's servers
from bench.intake_load import process_cpu as process_cpu  # re-exported: bench/whatsapp.py's servers
from bench.intake_servers import serve_bare, serve_majlis_reuse_port, serve_reference
from tests.postgres_server import PostgresServer, free_port

TARGETS = ("bare", "reference", "postgresql", "sqlite")
LABELS = MappingProxyType(
    {
        "bare": "bare aiohttp handler",
        "reference": "reference: asyncpg, same rows",
        "sqlite": "Majlis on SQLite",
        "postgresql": "Majlis on PostgreSQL",
    }
)
# Issue 17's aims for Majlis on PostgreSQL with 2 workers at 100 clients, on the 2-core machine.
AIM_SHARE_OF_REFERENCE = 0.5
AIM_SERVER_CPU_MS = 1.5
AIM_PER_SECOND = 600
AIM_P99_MS = 250
STOP_SECONDS = 15.0


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
    with running_all([command], env, log_path) as servers:
        yield servers[0]


@contextmanager
def running_all(commands: Sequence[Sequence[str]], env: dict[str, str], log_path: Path) -> Iterator[Servers]:
    """Server processes whose output (access logs included) goes to log_path, stopped on the way out."""
    processes: list[subprocess.Popen[bytes]] = []
    with log_path.open("ab") as log:
        try:
            for command in commands:
                processes.append(
                    subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
                )
            yield processes
        finally:
            for process in processes:
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


def serve_has_workers() -> bool:
    """Whether `majlis serve` starts several processes itself (--workers)."""
    done = subprocess.run([_majlis_bin(), "serve", "--help"], capture_output=True, text=True, check=False)
    return "--workers" in done.stdout


def majlis_command(target: str, port: int) -> list[str]:
    """The command that serves Majlis in one process (bench/whatsapp.py's servers)."""
    return majlis_commands(target, port, 1)[0]


def majlis_commands(target: str, port: int, workers: int) -> list[list[str]]:
    """The commands that serve Majlis with this many processes on the port."""
    profile_dir = os.environ.get("BENCH_PROFILE")
    if profile_dir:
        out = str(Path(profile_dir).resolve() / target)
        return [[sys.executable, "-m", "bench.intake", "--profiled-serve", out, "--port", str(port)]] * workers
    serve = [_majlis_bin(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers == 1:
        return [serve]
    if serve_has_workers():
        return [[*serve, "--workers", str(workers)]]
    return [[sys.executable, "-m", "bench.intake", "--reuse-port-serve", "--port", str(port)]] * workers


def upgrade(env: dict[str, str], log_path: Path) -> None:
    with log_path.open("ab") as log:
        done = subprocess.run(
            [_majlis_bin(), "db", "upgrade"], env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, check=False
        )
    if done.returncode != 0:
        raise RuntimeError(f"`majlis db upgrade` exited with {done.returncode}; see {log_path}")


def run_majlis(target: str, database_url: str, config: LoadConfig, log_dir: Path, workers: int = 1) -> Result:
    env = majlis_env(database_url)
    log_path = log_dir / f"{target}.log"
    upgrade(env, log_path)
    port = free_port()
    with running_all(majlis_commands(target, port, workers), env, log_path) as servers:
        return asyncio.run(measure(f"http://127.0.0.1:{port}", target, servers, config))


def run_bare(config: LoadConfig, log_dir: Path, workers: int) -> Result:
    port = free_port()
    command = [sys.executable, "-m", "bench.intake", "--bare-server", str(port)]
    if workers > 1:
        command.append("--reuse-port")
    with running_all([command] * workers, dict(os.environ), log_dir / "bare.log") as servers:
        return asyncio.run(measure(f"http://127.0.0.1:{port}", "bare", servers, config))


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


def run_reference(server: PostgresServer, config: LoadConfig, log_dir: Path, workers: int) -> Result:
    """The reference on a migrated database of its own, on the same PostgreSQL server as Majlis."""
    asyncio.run(_create_database(server, "reference"))
    url = server.url("reference")
    log_path = log_dir / "reference.log"
    upgrade(majlis_env(url), log_path)
    port = free_port()
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    command = [sys.executable, "-m", "bench.intake", "--reference-server", dsn, "--port", str(port)]
    if workers > 1:
        command.append("--reuse-port")
    with running_all([command] * workers, dict(os.environ), log_path) as servers:
        return asyncio.run(measure(f"http://127.0.0.1:{port}", "reference", servers, config))


@contextmanager
def postgresql(notes: list[str]) -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
        notes.append(f"{postgres_version(server)}, fsync=off, synchronous_commit=off (tests.postgres_server)")
        yield server
    finally:
        server.stop()


def run_postgresql(server: PostgresServer, config: LoadConfig, log_dir: Path, workers: int) -> Result:
    asyncio.run(_create_database(server, "bench"))
    return run_majlis("postgresql", server.url("bench"), config, log_dir, workers)


# --- Servers run as children of this module -------------------------------------------------------


def serve_profiled(out_stem: Path, port: int) -> int:
    """Majlis on a shared port under cProfile; aiohttp returns from run_app on SIGTERM, so the profile gets written."""
    out = out_stem.with_name(f"{out_stem.name}-{os.getpid()}.prof")
    # CPU time, not wall time: on a small machine the server is often preempted
    # by the load generator and PostgreSQL, and wall time would charge that to
    # whatever call happened to be running (a socket send, typically).
    profiler = cProfile.Profile(time.process_time)
    try:
        profiler.runcall(serve_majlis_reuse_port, port)
    finally:
        profiler.dump_stats(out)
        with out.with_suffix(".txt").open("w") as fh:
            stats = pstats.Stats(profiler, stream=fh)
            stats.sort_stats("tottime").print_stats(40)
            stats.sort_stats("cumulative").print_stats(60)
    return 0


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


def measured_on() -> list[str]:
    """The head of a benchmark's report: the command, when, the commit, the machine and its load before the run."""
    return [
        f"command: {shlex.join(sys.orig_argv)}",
        f"date: {datetime.now(UTC).isoformat(timespec='minutes')}",
        f"code: {code_version()}",
        *machine_facts(),
        f"load average before the run: {load_average()} (a shared machine: other work ran meanwhile)",
    ]


def _share(result: Result, of: Result | None) -> str:
    return f"{100 * result.per_second / of.per_second:.1f} %" if of and of.per_second else "n/a"


def _found(results: Sequence[Result], target: str) -> Result | None:
    return next((r for r in results if r.target == target), None)


def table(results: Sequence[Result], workers: dict[str, int]) -> list[str]:
    bare, reference = _found(results, "bare"), _found(results, "reference")
    lines = [
        "| target | processes | requests | errors | req/s | p50 ms | p99 ms | vs bare | vs reference "
        "| server CPU ms | client CPU ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {LABELS[r.target]} | {workers[r.target]} | {r.requests} | {r.error_count} | {r.per_second:.0f} "
            f"| {r.percentile_ms(50):.1f} | {r.percentile_ms(99):.1f} | {_share(r, bare)} | {_share(r, reference)} "
            f"| {r.cpu_ms_per_request(r.server_cpu):.2f} | {r.cpu_ms_per_request(r.client_cpu):.2f} |"
        )
    return lines


def aims(results: Sequence[Result], config: LoadConfig) -> list[str]:
    """Issue 17's aims for Majlis on PostgreSQL, each with its figure and whether it is met."""
    majlis, reference = _found(results, "postgresql"), _found(results, "reference")
    if majlis is None:
        return []

    def line(name: str, figure: str, met: bool) -> str:
        return f"- {name}: {figure} — {'met' if met else 'NOT MET'}"

    cpu = majlis.cpu_ms_per_request(majlis.server_cpu)
    p99 = majlis.percentile_ms(99)
    lines = [f"aims (Majlis on PostgreSQL, {config.concurrency} clients):"]
    if reference is not None and reference.per_second:
        share = majlis.per_second / reference.per_second
        lines.append(line("≥ 50 % of the reference", f"{100 * share:.1f} %", share >= AIM_SHARE_OF_REFERENCE))
    lines += [
        line("server CPU ≤ 1.5 ms per intake", f"{cpu:.2f} ms", cpu <= AIM_SERVER_CPU_MS),
        line("≥ 600 intakes/s", f"{majlis.per_second:.0f}/s", majlis.per_second >= AIM_PER_SECOND),
        line("p99 < 250 ms", f"{p99:.0f} ms", p99 < AIM_P99_MS),
    ]
    if majlis.error_count:
        lines.append(f"- with {majlis.error_count} errors: no aim counts as met with errors")
    return lines


def report(
    results: Sequence[Result], config: LoadConfig, notes: Sequence[str], log_dir: Path, workers: dict[str, int]
) -> str:
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
        *table(results, workers),
        "",
        "CPU ms: CPU time per counted request, of the server's processes together and of this load-generating one.",
        "",
        *aims(results, config),
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
    p.add_argument(
        "--targets", type=_targets, default=list(TARGETS), help="comma list of bare,reference,postgresql,sqlite"
    )
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=2,
        help="server processes of bare, reference and Majlis on PostgreSQL (2); SQLite always has one",
    )
    p.add_argument(
        "--applicants",
        type=_positive_int,
        help="cycle through this many applicants (returning applicants, duplicate flags); default: a new one each",
    )
    p.add_argument("--idempotency-keys", action="store_true", help="send a fresh Idempotency-Key with each request")
    p.add_argument("--log-dir", type=Path, help="where the servers' output goes (default: a new temporary directory)")
    # Entry points of the child processes, not for people.
    p.add_argument("--bare-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    p.add_argument("--reference-server", metavar="DSN", help=argparse.SUPPRESS)
    p.add_argument("--reuse-port-serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
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
    workers = {t: 1 if t == "sqlite" else args.workers for t in TARGETS}
    results = []
    with ExitStack() as stack:
        pg: PostgresServer | None = None
        for target in args.targets:
            print(f"bench: measuring {LABELS[target]} ...", file=sys.stderr, flush=True)
            if target == "bare":
                results.append(run_bare(config, log_dir, args.workers))
            elif target == "sqlite":
                results.append(run_sqlite(config, log_dir))
            else:
                # The reference and Majlis share one PostgreSQL server, each on a database of its own.
                pg = pg or stack.enter_context(postgresql(notes))
                run_one = run_reference if target == "reference" else run_postgresql
                results.append(run_one(pg, config, log_dir, args.workers))
    return report(results, config, notes, log_dir, workers)


def main(argv: Sequence[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    if args.bare_server is not None:
        serve_bare(args.bare_server, reuse_port=args.reuse_port)
        return 0
    serves = args.reference_server is not None or args.reuse_port_serve or args.profiled_serve is not None
    if serves and args.port is None:
        cli.error("a server needs --port")
    if args.reference_server is not None:
        serve_reference(args.port, args.reference_server, reuse_port=args.reuse_port)
        return 0
    if args.reuse_port_serve:
        serve_majlis_reuse_port(args.port)
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
