"""People and reports of the emergency line's page tests: mission staff bound to their mission, reports registered
through the domain as an agent would, and pages read as text."""

from __future__ import annotations

from accounts.models import StaffUser
from accounts.roles import Role
from emergency import reports, timers
from emergency.models import EmergencyReport, ReportSource
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.emergency.arrange import Sessions, report_details
from tests.factories import Client, make_staff
from web.keys import LINKS, SESSIONS, SETTINGS

STATUS_URL = "https://majlis.example.sa/status"


async def mission_staff(sessions: Sessions, clock: FrozenClock, username: str, mission_id: int | None) -> StaffUser:
    """A member of a mission's staff, confined to `mission_id` (None: an account given no mission yet)."""
    user = await make_staff(sessions, clock, Role.MISSION_STAFF, username)
    async with transaction(sessions) as session:
        row = await session.get(StaffUser, user.id)
        assert row is not None
        row.mission_id = mission_id
    return user


async def registered(client: Client, clock: FrozenClock, agent_id: int | None = None, **fields: str) -> EmergencyReport:
    """A report registered as the agent's page does, in its own committed transaction."""
    async with transaction(client.app[SESSIONS]) as session:
        return await reports.register(
            session=session,
            clock=clock,
            details=report_details(**fields),
            actor_id=agent_id,
            source=ReportSource.AGENT,
            levels=timers.levels_from(client.app[SETTINGS]),
            links=client.app[LINKS],
            status_url=STATUS_URL,
        )


async def report(sessions: Sessions, report_id: int) -> EmergencyReport:
    async with sessions() as session:
        found = await session.get(EmergencyReport, report_id)
    assert found is not None
    return found


def link_path(client: Client, found: EmergencyReport) -> str:
    return f"/e/{client.app[LINKS].emergency_token(found.id, found.generation)}"


async def api_headers(client: Client) -> dict[str, str]:
    """The header a signed-in API client sends with each change."""
    return {"X-CSRF-Token": (await (await client.get("/api/v1/session")).json())["csrf_token"]}
