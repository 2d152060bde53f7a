"""WhatsApp desk benchmark: many conversations at once, one step each, through the signed webhook.

    .venv/bin/python -m bench.whatsapp [--conversations N] [--concurrency C] [--steps S]
                                       [--targets bare,sqlite,postgresql] [--log-dir DIR]

Each conversation is a different WhatsApp number. Step 1 is its first message (a greeting: the desk creates the
conversation and answers with the menu); step 2 chooses "a new request" (the desk asks for the full name); step 3
gives the name (the desk asks for the ID number). Every message of a step is sent before the clock starts and all
are in flight together up to the concurrency (1,000 by default: every conversation at once), so the figures are
those of a burst. The webhook is signed as Twilio signs it and checked by the real RequestValidator.

The reference is a bare aiohttp handler in its own process that reads the same form, checks the same signature and
answers with the same TwiML, without a database. Every server runs in a process of its own (`majlis serve`), so
client and server do not share an event loop; PostgreSQL runs with fsync off (tests.postgres_server).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped, unused-ignore]
from twilio.twiml.messaging_response import MessagingResponse  # type: ignore[import-untyped, unused-ignore]

from bench.intake import (
    _create_database,
    _wait_ready,
    code_version,
    load_average,
    machine_facts,
    majlis_command,
    majlis_env,
    postgres_version,
    process_cpu,
    running,
    upgrade,
)
from tests.postgres_server import PostgresServer, free_port

TARGETS = ("bare", "sqlite", "postgresql")
LABELS = MappingProxyType(
    {"bare": "bare aiohttp handler", "sqlite": "Majlis on SQLite", "postgresql": "Majlis on PostgreSQL"}
)
PATH = "/webhooks/twilio/whatsapp"
PUBLIC_URL = "https://majlis.bench"
AUTH_TOKEN = "bench-twilio-auth-token"  # noqa: S105 (the bench server's own, on loopback)
DESK_NUMBER = "whatsapp:+966920000000"
# What each step sends: a greeting, "1" (a new request), then a full name.
STEP_BODIES = ("السلام عليكم", "1", "عبدالله محمد العتيبي")
STEP_NAMES = ("greeting → menu", "menu choice → name asked", "name → ID asked")
REQUEST_TIMEOUT_SECONDS = 60.0
AIM_P99_MS = 100.0


def sender(n: int) -> str:
    return f"+9665{n:08d}"


def signed_message(n: int, step: int) -> tuple[bytes, str]:
    """The form Twilio would post for conversation n's message of this step, and its X-Twilio-Signature."""
    params = {
        "AccountSid": "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "Body": STEP_BODIES[step],
        "From": f"whatsapp:{sender(n)}",
        "MessageSid": f"SM{step:02d}{n:030d}",
        "NumMedia": "0",
        "ProfileName": f"bench {n}",
        "To": DESK_NUMBER,
        "WaId": sender(n).removeprefix("+"),
    }
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + PATH, params)
    return urlencode(params).encode(), str(signature)


@dataclass
class StepResult:
    step: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    server_cpu: float = 0.0

    def percentile_ms(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


@dataclass
class Result:
    target: str
    steps: list[StepResult] = field(default_factory=list)


async def _send(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    signature: str,
    gate: asyncio.Semaphore,
    into: StepResult,
    delay: float = 0.0,
) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    if delay:
        await asyncio.sleep(delay)
    async with gate:
        started = time.perf_counter()
        try:
            async with session.post(url, data=body, headers=headers) as response:
                text = await response.text()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            into.errors[type(exc).__name__] += 1
            return
        elapsed = time.perf_counter() - started
    if status == 200 and "<Message>" in text:
        into.latencies.append(elapsed)
    else:
        into.errors[f"HTTP {status}" if status != 200 else "no reply"] += 1


async def measure(base_url: str, server: subprocess.Popen[bytes], args: argparse.Namespace, target: str) -> Result:
    result = Result(target)
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await _wait_ready(session, base_url, server)
        # Not counted: the first requests pay for imports, pools and caches. Numbers above the measured ones.
        warm = StepResult(-1)
        gate = asyncio.Semaphore(args.concurrency)
        for step in range(args.steps):
            forms = [signed_message(args.conversations + n, step) for n in range(50)]
            await asyncio.gather(*(_send(session, base_url + PATH, b, s, gate, warm) for b, s in forms))
        for step in range(args.steps):
            forms = [signed_message(n, step) for n in range(args.conversations)]  # built before the clock starts
            into = StepResult(step)
            cpu_before = process_cpu(server.pid)
            started = time.perf_counter()
            # A rate spreads the step's messages evenly (people typing); none sends them all at once (a burst).
            spacing = 1 / args.rate if args.rate else 0.0
            await asyncio.gather(
                *(_send(session, base_url + PATH, b, s, gate, into, i * spacing) for i, (b, s) in enumerate(forms))
            )
            into.seconds = time.perf_counter() - started
            into.server_cpu = process_cpu(server.pid) - cpu_before
            result.steps.append(into)
    return result


def _env(database_url: str) -> dict[str, str]:
    env = majlis_env(database_url)
    env.update(
        MAJLIS_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        MAJLIS_PUBLIC_URL=PUBLIC_URL,
        # The rate limit is per sender; a bench sender sends one message a step.
        MAJLIS_WHATSAPP_RATE_PER_MINUTE="600",
    )
    return env


def run_majlis(target: str, database_url: str, args: argparse.Namespace, log_dir: Path) -> Result:
    env = _env(database_url)
    log_path = log_dir / f"{target}.log"
    upgrade(env, log_path)
    port = free_port()
    # BENCH_PROFILE=DIR runs the server under cProfile, as bench.intake does (figures then not for the record).
    with running(majlis_command(target, port), env, log_path) as server:
        return asyncio.run(measure(f"http://127.0.0.1:{port}", server, args, target))


def run_bare(args: argparse.Namespace, log_dir: Path) -> Result:
    port = free_port()
    command = [sys.executable, "-m", "bench.whatsapp", "--bare-server", str(port)]
    with running(command, dict(os.environ), log_dir / "bare.log") as server:
        return asyncio.run(measure(f"http://127.0.0.1:{port}", server, args, "bare"))


def run_postgresql(args: argparse.Namespace, log_dir: Path, notes: list[str]) -> Result:
    server = PostgresServer()
    try:
        server.start()
        notes.append(f"{postgres_version(server)}, fsync=off, synchronous_commit=off (tests.postgres_server)")
        asyncio.run(_create_database(server, "bench"))
        return run_majlis("postgresql", server.url("bench"), args, log_dir)
    finally:
        server.stop()


# --- The reference server -------------------------------------------------------------------------


async def _bare_webhook(request: web.Request) -> web.Response:
    """The webhook's share of work without a database: read the form, check the signature, answer TwiML."""
    form = await request.post()
    fields = {name: str(value) for name, value in form.items()}
    signature = request.headers.get("X-Twilio-Signature", "")
    if not RequestValidator(AUTH_TOKEN).validate(PUBLIC_URL + request.raw_path, fields, signature):
        return web.Response(status=403, text="not signed")
    reply = MessagingResponse()
    reply.message(f"أهلاً بك. {fields.get('Body', '')[:20]}\n1 طلب جديد\n2 شكوى\n3 متابعة طلب\n4 التحدث إلى موظف")
    return web.Response(text=str(reply), content_type="text/xml", charset="utf-8")


async def _bare_health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def serve_bare(port: int) -> None:
    app = web.Application()
    app.router.add_post(PATH, _bare_webhook)
    app.router.add_get("/healthz", _bare_health)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


# --- Report ---------------------------------------------------------------------------------------


def table(results: Sequence[Result]) -> list[str]:
    bare = next((r for r in results if r.target == "bare"), None)
    lines = [
        "| target | step | messages | errors | msg/s | p50 ms | p99 ms | p99 vs bare | server CPU ms/msg |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        for s in r.steps:
            count = len(s.latencies)
            rate = count / s.seconds if s.seconds else 0.0
            reference = bare.steps[s.step] if bare and len(bare.steps) > s.step else None
            ratio = f"{s.percentile_ms(99) / reference.percentile_ms(99):.1f}×" if reference else "n/a"
            cpu = 1000 * s.server_cpu / count if count else float("nan")
            lines.append(
                f"| {LABELS[r.target]} | {STEP_NAMES[s.step]} | {count} | {sum(s.errors.values())} | {rate:.0f} "
                f"| {s.percentile_ms(50):.1f} | {s.percentile_ms(99):.1f} | {ratio} | {cpu:.2f} |"
            )
    return lines


def report(results: Sequence[Result], args: argparse.Namespace, notes: Sequence[str], log_dir: Path) -> str:
    lines = [
        f"command: {shlex.join(sys.orig_argv)}",
        f"date: {datetime.now(UTC).date().isoformat()}",
        f"code: {code_version()}",
        *machine_facts(),
        *notes,
        f"load: {args.conversations} conversations, {args.steps} step(s) each, up to {args.concurrency} messages "
        "in flight, "
        + (f"{args.rate:g} messages a second, evenly spaced" if args.rate else "each step's messages sent at once")
        + "; 50 more conversations warm each server up, not counted",
        "",
        *table(results),
        "",
        f"aim: p99 under {AIM_P99_MS:.0f} ms on PostgreSQL.",
    ]
    for r in results:
        for s in r.steps:
            if s.errors:
                lines.append(f"errors on {LABELS[r.target]}, {STEP_NAMES[s.step]}: {dict(s.errors)}")
    lines.append(f"server logs: {log_dir}")
    return "\n".join(lines)


def _targets(value: str) -> list[str]:
    chosen = [t.strip() for t in value.split(",") if t.strip()]
    if not chosen or any(t not in TARGETS for t in chosen):
        raise argparse.ArgumentTypeError(f"targets are a comma list of {', '.join(TARGETS)}")
    return chosen


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return number


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.whatsapp", description=__doc__.split("\n\n")[0] if __doc__ else ""
    )
    p.add_argument("--conversations", type=_positive_int, default=1000, help="conversations (1000)")
    p.add_argument("--concurrency", type=_positive_int, default=1000, help="messages in flight at once (1000)")
    p.add_argument(
        "--rate", type=float, default=0.0, help="messages per second, spread evenly (default: all at once, a burst)"
    )
    p.add_argument("--steps", type=int, choices=(1, 2, 3), default=3, help="steps of each conversation (3)")
    p.add_argument("--targets", type=_targets, default=list(TARGETS), help="comma list of bare,sqlite,postgresql")
    p.add_argument("--log-dir", type=Path, help="where the servers' output goes (default: a new temporary directory)")
    p.add_argument("--bare-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.bare_server is not None:
        serve_bare(args.bare_server)
        return 0
    log_dir: Path = args.log_dir or Path(tempfile.mkdtemp(prefix="majlis-bench-logs-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    notes = [f"load average before the run: {load_average()}"]
    results = []
    try:
        for target in args.targets:
            print(f"bench: measuring {LABELS[target]} ...", file=sys.stderr, flush=True)
            if target == "bare":
                results.append(run_bare(args, log_dir))
            elif target == "sqlite":
                with tempfile.TemporaryDirectory(prefix="majlis-bench-sqlite-") as tmp:
                    results.append(run_majlis("sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db", args, log_dir))
            else:
                results.append(run_postgresql(args, log_dir, notes))
    except RuntimeError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    print(report(results, args, notes, log_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
