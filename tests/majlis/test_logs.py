"""Structured logs: JSON lines carrying the request id, from the request into the tasks it starts, the outbox
messages it enqueues and the dispatcher's send of them; the access log by route pattern, without query strings."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from majlis import logs
from majlis.jobs import JobScheduler
from notify.models import OutboxMessage
from notify.outbox import enqueue
from tests.conftest import RecordingChannel, start_client
from tests.factories import Client, api_payload
from web.access_log import RouteAccessLogger
from web.keys import CLOCK, DB, DISPATCHER, SESSIONS

Lines = list[dict[str, Any]]
log = logging.getLogger("tests.majlis.test_logs")


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    """What the JSON handler of `majlis serve` writes while the test runs (read it back with `parsed`)."""
    stream = io.StringIO()
    handler = logs.handler_for("json", stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def parsed(stream: io.StringIO) -> Lines:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_json_line_has_the_time_in_utc_the_level_logger_message_request_id_and_extras() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tests.majlis.json_line")
    logger.addHandler(logs.handler_for("json", stream))
    logger.propagate = False
    try:
        with logs.request_id_set("req-0001-abcd"):
            logger.warning("قائمة الانتظار %d", 3, extra={"route": "/desk"})
        logger.warning("outside")
    finally:
        logger.handlers.clear()
        logger.propagate = True
    inside, outside = parsed(stream)
    assert inside["timestamp"].endswith("+00:00")
    assert (inside["level"], inside["logger"], inside["message"]) == (
        "WARNING",
        "tests.majlis.json_line",
        "قائمة الانتظار 3",
    )
    assert (inside["request_id"], inside["route"]) == ("req-0001-abcd", "/desk")
    assert outside["request_id"] is None


def test_an_incoming_id_is_taken_only_when_well_formed() -> None:
    assert logs.taken_or_new("abcdef12-3456-proxy") == "abcdef12-3456-proxy"
    for bad in (None, "", "short", "has space in it", 'quote"injection-xx', "x" * 200, "line\nbreak-0000"):
        made = logs.taken_or_new(bad)
        assert made != bad and len(made) == 32
    assert logs.job_request_id("outbox").startswith("job:outbox:")


async def test_tasks_started_under_a_request_keep_its_id() -> None:
    seen: list[str | None] = []

    async def later() -> None:
        await asyncio.sleep(0)
        seen.append(logs.current_request_id())

    with logs.request_id_set("req-task-0001"):
        task = asyncio.create_task(later())
    await task
    assert seen == ["req-task-0001"] and logs.current_request_id() is None


async def test_a_scheduled_job_runs_under_an_id_of_its_own() -> None:
    seen: list[str | None] = []
    done = asyncio.Event()

    async def sweep() -> None:
        seen.append(logs.current_request_id())
        done.set()

    scheduler = JobScheduler(timezone="Asia/Riyadh")
    scheduler.add_job(sweep, "date", id="sweep")
    scheduler.start()
    try:
        await asyncio.wait_for(done.wait(), timeout=5)
    finally:
        await scheduler.stop()
    (job_id,) = seen
    assert job_id is not None and job_id.startswith("job:sweep:") and len(job_id) == len("job:sweep:") + 32


async def handled(request: web.Request) -> web.Response:
    """A handler that logs, starts a task that logs, and enqueues a message, as real ones do."""
    log.info("handling")

    async def in_background() -> None:
        log.info("in the background")

    await asyncio.create_task(in_background())
    message = await enqueue(
        session=request[DB],
        clock=request.app[CLOCK],
        purpose="test",
        channel="sms",
        recipient="+966501234567",
        language="ar",
        body="نص",
    )
    return web.json_response({"message_id": message.id})


async def test_one_request_id_on_its_log_lines_its_answer_its_message_and_the_send(
    app: web.Application, recorder: RecordingChannel, written: io.StringIO
) -> None:
    app.router.add_get("/test/logged", handled)
    client = await start_client(app)
    try:
        response = await client.get("/test/logged")
        assert response.status == 200
        request_id = response.headers["X-Request-Id"]
        message_id = (await response.json())["message_id"]
        async with app[SESSIONS]() as session:
            message = await session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id))
        assert message is not None and message.payload == {logs.PAYLOAD_KEY: request_id}
        # The dispatcher runs later, in another context (a job's, or a worker process's).
        with logs.request_id_set("job:outbox:0000"):
            report = await app[DISPATCHER].run_once()
        assert report.sent == 1 and [o.message_id for o in recorder.sent] == [message_id]
    finally:
        await client.close()
    by_message = {line["message"]: line for line in parsed(written)}
    assert by_message["handling"]["request_id"] == request_id
    assert by_message["in the background"]["request_id"] == request_id
    assert by_message[f"outbox message {message_id} sent (sms, test)"]["request_id"] == request_id


async def test_an_incoming_request_id_is_kept_and_a_real_intake_records_it(client: Client) -> None:
    response = await client.post("/api/v1/requests", json=api_payload(), headers={"X-Request-Id": "edge-proxy-id-0001"})
    assert response.status == 201, await response.text()
    assert response.headers["X-Request-Id"] == "edge-proxy-id-0001"
    async with client.app[SESSIONS]() as session:
        messages = list(await session.scalars(select(OutboxMessage)))
    assert messages and all(m.payload[logs.PAYLOAD_KEY] == "edge-proxy-id-0001" for m in messages)
    # A malformed one is replaced, not echoed.
    page = await client.get("/", headers={"X-Request-Id": "bad id"})
    assert page.headers["X-Request-Id"] != "bad id" and len(page.headers["X-Request-Id"]) == 32


async def test_the_access_log_names_the_route_pattern_never_the_path_or_query(
    app: web.Application, written: io.StringIO
) -> None:
    # As `majlis serve` runs the app (majlis.serve: web.run_app with this access log class).
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(access_log_class=RouteAccessLogger)
    client: Client = TestClient(server)
    await client.start_server()
    try:
        response = await client.get("/a/secret-token-value?phone=%2B966501234567")
    finally:
        await client.close()
    (access,) = [line for line in parsed(written) if line["logger"] == "aiohttp.access"]
    assert access["route"] == "/a/{token}" and access["method"] == "GET"
    assert access["status"] == response.status and access["request_id"] == response.headers["X-Request-Id"]
    assert isinstance(access["duration_ms"], float)
    assert "secret-token" not in json.dumps(access) and "966501234567" not in json.dumps(access)
