"""A status enquiry does the same work for a wrong phone on an existing number as for an unknown number, so its
time tells a guesser nothing; checked on the statements each path sends to the database, not on a clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases import service
from cases.tracking import format_tracking_number
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.factories import Client, csrf_token, details

Sessions = async_sessionmaker[AsyncSession]
POLICY = service.LookupPolicy(max_misses=20, window=timedelta(minutes=15))
PHONE = "0501234567"


@contextmanager
def statements_sent(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements (without their values) sent while the block runs."""
    sent: list[str] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", keep)


async def enquiry(sessions: Sessions, clock: FrozenClock, number: str, phone: str) -> tuple[bool, list[str]]:
    """Whether the enquiry found the request, and the statements it sent."""
    async with transaction(sessions) as session:
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        with statements_sent(engine) as sent:
            found = await service.find_for_applicant(
                session=session, clock=clock, tracking_number=number, phone=phone, address="10.0.0.1", policy=POLICY
            )
    return found is not None, sent


async def test_a_wrong_phone_and_an_unknown_number_do_the_same_work(sessions: Sessions, clock: FrozenClock) -> None:
    async with transaction(sessions) as session:
        case = (await service.submit(session=session, clock=clock, details=details(), status_url="/status")).case
    unknown = format_tracking_number(clock.now().year, 9999)
    wrong_phone = await enquiry(sessions, clock, case.tracking_number, "0559999999")
    assert wrong_phone == await enquiry(sessions, clock, unknown, PHONE)
    # Not even a tracking number (its check digit fails): still the same statements.
    assert wrong_phone == await enquiry(sessions, clock, case.tracking_number[:-1] + "x", PHONE)
    found, sent = wrong_phone
    assert not found and any("FROM cases" in statement for statement in sent)
    # The right phone does find it (and only then is the request itself loaded).
    right, sent_right = await enquiry(sessions, clock, case.tracking_number, PHONE)
    assert right and len(sent_right) > len(sent)


async def test_the_status_page_answers_both_alike(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    async with transaction(sessions) as session:
        case = (await service.submit(session=session, clock=clock, details=details(), status_url="/status")).case
    unknown = format_tracking_number(clock.now().year, 9999)

    async def answer(number: str) -> tuple[int, str]:
        token = await csrf_token(client, "/status")
        response = await client.post(
            "/status", data={"tracking_number": number, "phone": "0559999999", "csrf_token": token}
        )
        # The page repeats the number typed; apart from it, nothing may differ.
        return response.status, (await response.text()).replace(number, "NUMBER")

    assert await answer(case.tracking_number) == await answer(unknown)
