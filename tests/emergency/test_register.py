"""Registering a report: routed, numbered, its deadlines stored, the citizen told the number by SMS, the duty
officer alerted; a refusal leaves nothing behind."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts.models import AuditEntry
from emergency import reports, timers
from emergency.intake import ReportDetails
from emergency.models import EmergencyReport, ReportEvent, ReportEventKind, ReportSource, ReportState
from emergency.numbers import parse_report_number, serial_of
from emergency.routing import NoCentralDesk
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from notify.models import OutboxMessage
from tests.conftest import make_settings
from tests.emergency.arrange import Sessions, add_agent, add_mission, add_missions, add_shift, report_details
from tests.factories import Client
from web.keys import LINKS, SESSIONS, SETTINGS

STATUS_URL = "https://majlis.example.sa/status"
LRI, PDI = "\u2066", "\u2069"


async def register(
    client: Client, clock: FrozenClock, details: ReportDetails, actor_id: int | None = None
) -> EmergencyReport:
    async with transaction(client.app[SESSIONS]) as session:
        return await reports.register(
            session=session,
            clock=clock,
            details=details,
            actor_id=actor_id,
            source=ReportSource.AGENT,
            levels=timers.levels_from(client.app[SETTINGS]),
            links=client.app[LINKS],
            status_url=STATUS_URL,
        )


async def counts(sessions: Sessions) -> tuple[int, int, int]:
    async with sessions() as session:
        return (
            await session.scalar(select(func.count()).select_from(EmergencyReport)) or 0,
            await session.scalar(select(func.count()).select_from(ReportEvent)) or 0,
            await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
        )


async def test_a_report_is_numbered_timed_told_and_alerted(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    world = await add_missions(sessions)
    agent = await add_agent(sessions, clock)
    await add_shift(sessions, world.dubai, clock.now() - timedelta(hours=1))
    report = await register(client, clock, report_details(), actor_id=agent.id)

    assert report.number == parse_report_number(report.number) and report.number.startswith("E26-")
    assert serial_of(report.number) == 1
    assert (report.mission_id, report.covering_mission_id) == (world.dubai, None)
    assert (report.state, report.escalation_level, report.generation) == (ReportState.OPEN, 0, 1)
    assert (report.registered_by_id, report.source) == (agent.id, ReportSource.AGENT)
    # Urgent: acknowledged within 2 hours around the clock (the settings' default), the head of mission told then.
    assert report.acknowledge_due_at == clock.now() + timedelta(minutes=120)
    assert report.solve_due_at == clock.now() + timedelta(hours=72)
    assert report.next_escalation_at == report.acknowledge_due_at

    async with sessions() as session:
        sms = await session.scalar(select(OutboxMessage).where(OutboxMessage.purpose == reports.REGISTERED_SMS))
        steps = await reports.events(session=session, report_id=report.id)
        audited = await session.scalar(select(AuditEntry).where(AuditEntry.action == "emergency.register"))
    assert sms is not None
    assert (sms.channel, sms.recipient, sms.language) == ("sms", "+971501234567", "ar")
    assert f"{LRI}{report.number}{PDI}" in sms.body and STATUS_URL in sms.body
    assert "بلاغ" in sms.body and sms.payload == {"emergency_report_id": report.id}
    assert [s.kind for s in steps][:2] == [ReportEventKind.REGISTERED, ReportEventKind.ALERTED]
    assert (steps[0].actor_id, steps[0].params) == (agent.id, {"mission": "dubai"})
    assert audited is not None and audited.target_id == report.number

    second = await register(client, clock, report_details(language="en", city="Al Ain"), actor_id=agent.id)
    assert serial_of(second.number) == 2 and second.mission_id == world.abu_dhabi
    async with sessions() as session:
        english = await session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.purpose == reports.REGISTERED_SMS, OutboxMessage.recipient == second.phone)
            .order_by(OutboxMessage.id.desc())
        )
    assert english is not None and english.body.startswith(f"Your emergency report {LRI}{second.number}{PDI}")


async def test_a_report_from_a_country_not_live_goes_to_the_central_desk(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    world = await add_missions(sessions)
    report = await register(client, clock, report_details(country="GB", city="Manchester", phone="+447911123456"))
    assert (report.mission_id, report.covering_mission_id) == (world.desk, world.london)
    async with sessions() as session:
        (first, *_) = await reports.events(session=session, report_id=report.id)
    assert first.params == {"mission": "central-desk", "covering": "london"}


async def test_a_refused_report_leaves_nothing_behind(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await add_missions(sessions)
    with pytest.raises(InvalidInput) as country:
        await register(client, clock, report_details(country="FJ", city="Suva"))
    with pytest.raises(InvalidInput) as city:
        await register(client, clock, report_details(country="JP", city="Kyoto"))
    assert [e.code for e in country.value.errors + city.value.errors] == ["unknown_country", "city_not_covered"]
    assert await counts(sessions) == (0, 0, 0)


async def test_without_a_central_desk_nothing_is_saved(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await add_mission(sessions, "paris", country="FR", zone="Europe/Paris", live=False)
    with pytest.raises(NoCentralDesk):
        await register(client, clock, report_details(country="FR", city="Paris", phone="+33612345678"))
    assert await counts(sessions) == (0, 0, 0)


async def test_two_registrations_at_once_get_two_numbers(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    """The second reads the same highest number while the first is not committed; it waits for the first (the
    unique number on PostgreSQL, the write lock on SQLite) and then takes the next."""
    await add_missions(sessions)
    async with sessions() as session, session.begin():
        first = await reports.register(
            session=session,
            clock=clock,
            details=report_details(),
            actor_id=None,
            source=ReportSource.CALLBACK,
            levels=timers.levels_from(client.app[SETTINGS]),
            links=client.app[LINKS],
            status_url=STATUS_URL,
        )
        second = asyncio.create_task(register(client, clock, report_details(severity="life_threatening")))
        await asyncio.sleep(0.5)
        assert not second.done()
    assert sorted([serial_of(first.number), serial_of((await second).number)]) == [1, 2]


def test_the_settings_give_the_levels() -> None:
    levels = timers.levels_from(make_settings("sqlite+aiosqlite:///:memory:", emergency_urgent_ack_minutes=30))
    assert levels.urgent_ack_minutes == 30
