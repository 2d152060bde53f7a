"""The servers bench/intake.py measures beside Majlis, and Majlis's own processes on one port.

- The bare handler: the intake's shape of work without validation or database (read JSON, answer 201).
- The reference: a minimal aiohttp handler that saves the same rows an intake saves (the applicant, the case,
  its first status, the receipt in the outbox) through asyncpg, in one transaction, on the migrated Majlis
  database, with its tracking serials taken ahead in blocks as Majlis takes them (cases.tracking_serials). It
  checks nothing and renders nothing: it is how fast this machine can save an intake at all, so Majlis's
  figure against it is the cost of everything else Majlis does.
- Majlis with SO_REUSEPORT: `create_app` served on a port other processes bind too; the bench starts several
  of them when `majlis serve` has no --workers of its own.

Each runs in a process of its own, started by bench/intake.py with a flag that is not for people.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp import web

from cases.tracking import format_tracking_number

PATH = "/api/v1/requests"
# As cases.tracking_serials.BLOCK: the reference takes its serials the same way.
SERIAL_BLOCK = 100
REFERENCE_POOL = 30  # as Majlis's pool: 10 connections and 20 more under load


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


async def _health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def serve_bare(port: int, *, reuse_port: bool = False) -> None:
    app = web.Application()
    app.router.add_post(PATH, _bare_create)
    app.router.add_get("/healthz", _health)
    web.run_app(app, host="127.0.0.1", port=port, print=None, reuse_port=reuse_port)


# --- The reference: the same rows through asyncpg ----------------------------------------------------------

_APPLICANT = """
INSERT INTO applicants (kind, id_number, name, gender, phone, email, language, care_elderly, care_wheelchair,
                        care_transport, care_interpreter, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, NULL, $6, false, false, false, false, $7, $7)
ON CONFLICT (kind, id_number) DO NOTHING
RETURNING id
"""
_KNOWN_APPLICANT = "SELECT id FROM applicants WHERE kind = $1 AND id_number = $2"
_CASE = """
INSERT INTO cases (tracking_number, applicant_id, kind, subject, text, branch, channel, status, phone,
                   applicant_name, gender, language, email, care_elderly, care_wheelchair, care_transport,
                   care_interpreter, submitted_at, entered_by_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, 'received', $8, $9, $10, $11, NULL, false, false, false, false, $12, NULL)
RETURNING id
"""
_FIRST_STATUS = """
INSERT INTO status_changes (case_id, from_status, to_status, at, actor_id, note, note_key, note_params)
VALUES ($1, NULL, 'received', $2, NULL, '', '', '{}')
"""
_RECEIPT = """
INSERT INTO outbox_messages (case_id, purpose, channel, recipient, language, body, payload, created_at, due_at,
                             next_attempt_at, status, attempts)
VALUES ($1, 'receipt', 'sms', $2, $3, $4, '{}', $5, $5, $5, 'pending', 0)
"""
_TAKE_BLOCK = """
INSERT INTO tracking_counters (year, last_serial) VALUES ($1, $2)
ON CONFLICT (year) DO UPDATE SET last_serial = tracking_counters.last_serial + $2
RETURNING last_serial
"""


class _Reference:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.next_serial = 1
        self.last_serial = 0
        self.fetching = asyncio.Lock()

    async def serial(self, year: int) -> int:
        async with self.fetching:
            if self.next_serial > self.last_serial:
                self.last_serial = await self.pool.fetchval(_TAKE_BLOCK, year, SERIAL_BLOCK)
                self.next_serial = self.last_serial - SERIAL_BLOCK + 1
            self.next_serial += 1
            return self.next_serial - 1


REFERENCE: web.AppKey[_Reference] = web.AppKey("reference", _Reference)


async def _reference_create(request: web.Request) -> web.Response:
    payload: dict[str, Any] = await request.json()
    person = payload["applicant"]
    now = datetime.now(UTC)
    reference = request.app[REFERENCE]
    number = format_tracking_number(now.year, await reference.serial(now.year))
    async with reference.pool.acquire() as connection, connection.transaction():
        values = ("citizen", person["national_id"], person["name"], person["gender"], person["phone"])
        applicant_id = await connection.fetchval(_APPLICANT, *values, person["language"], now)
        if applicant_id is None:
            applicant_id = await connection.fetchval(_KNOWN_APPLICANT, "citizen", person["national_id"])
        case_id = await connection.fetchval(
            _CASE,
            number,
            applicant_id,
            payload["kind"],
            payload["subject"],
            payload["text"],
            payload["branch"],
            payload.get("channel", "portal"),
            person["phone"],
            person["name"],
            person["gender"],
            person["language"],
            now,
        )
        await connection.execute(_FIRST_STATUS, case_id, now)
        receipt = f"Request {number} received."
        await connection.execute(_RECEIPT, case_id, person["phone"], person["language"], receipt, now)
    body = {"tracking_number": number, "status": "received", "submitted_at": now.isoformat()}
    return web.json_response(body, status=201)


def serve_reference(port: int, dsn: str, *, reuse_port: bool) -> None:
    async def pool_ctx(app: web.Application) -> Any:
        pool = await asyncpg.create_pool(dsn, min_size=2, max_size=REFERENCE_POOL)
        app[REFERENCE] = _Reference(pool)
        yield
        await pool.close()

    app = web.Application()
    app.cleanup_ctx.append(pool_ctx)
    app.router.add_post(PATH, _reference_create)
    app.router.add_get("/healthz", _health)
    web.run_app(app, host="127.0.0.1", port=port, print=None, reuse_port=reuse_port)


# --- Majlis on a shared port ------------------------------------------------------------------------------


def serve_majlis_reuse_port(port: int) -> None:
    """What `majlis serve` does, binding with SO_REUSEPORT so that several of these share one port."""
    from majlis.app import create_app  # imported here: only this child needs the whole app
    from majlis.settings import load_settings
    from web.slow_clients import server_options

    settings = load_settings()
    web.run_app(
        create_app(settings), host="127.0.0.1", port=port, print=None, reuse_port=True, **server_options(settings)
    )
