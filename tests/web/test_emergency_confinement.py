"""The emergency line's role matrix on SQLite and PostgreSQL: every page and API route that names a report, and every
list, for two missions' staff (each sees and acts on its own mission's reports only, the other's is not found),
a consular supervisor (every report), an agent (what they registered and the open queue, never another's closed
report), mission staff given no mission (nothing), and a role of the Majlis (refused)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from aiohttp import ClientResponse, web
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.roles import Role
from emergency import lifecycle, timers
from emergency.models import EmergencyReport, ReportEvent, ReportEventKind, ReportState
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.emergency.arrange import Sessions, add_agent, add_missions
from tests.factories import Client, csrf_token, make_staff, sign_in
from tests.web.emergency_people import api_headers, mission_staff, registered
from web.auth import ROLES_ATTRIBUTE
from web.keys import LINKS, SETTINGS


@dataclass(frozen=True)
class Route:
    method: str
    canonical: str
    roles: frozenset[Role]

    @property
    def api(self) -> bool:
        return self.canonical.startswith("/api/")

    @property
    def step(self) -> str:
        return self.canonical.rsplit("/", 1)[-1] if self.method == "POST" else ""


def report_routes(app: web.Application) -> list[Route]:
    """Every guarded route that names an emergency report by its number, pages and API alike."""
    found = []
    for route in app.router.routes():
        roles = getattr(route.handler, ROLES_ATTRIBUTE, None)
        canonical = route.resource.canonical if route.resource is not None else ""
        if roles is not None and route.method != "HEAD" and "{number}" in canonical:
            found.append(Route(route.method, canonical, frozenset(roles)))
    return found


async def snapshot(sessions: Sessions) -> list[tuple[object, ...]]:
    async with sessions() as session:
        rows = await session.scalars(select(EmergencyReport).order_by(EmergencyReport.id))
        events = await session.scalar(select(func.count()).select_from(ReportEvent))
        return [(r.number, r.state, r.generation, r.mission_id, r.acknowledged_at) for r in rows] + [("events", events)]


async def probe(client: Client, route: Route, number: str, token: str, headers: dict[str, str]) -> int:
    path = route.canonical.format(number=number)
    if route.method == "GET":
        return (await client.get(path, allow_redirects=False)).status
    if route.api:
        return (await client.post(path, json={}, headers=headers, allow_redirects=False)).status
    return (await client.post(path, data={"csrf_token": token}, allow_redirects=False)).status


async def test_each_reader_reaches_only_the_reports_of_their_reach(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    world = await add_missions(sessions)
    agent = await add_agent(sessions, clock, "agent")
    colleague = await add_agent(sessions, clock, "colleague")
    await mission_staff(sessions, clock, "dubai", world.dubai)
    await mission_staff(sessions, clock, "sydney", world.sydney)
    await mission_staff(sessions, clock, "nowhere", None)
    await make_staff(sessions, clock, Role.CONSULAR_SUPERVISOR, "supervisor")
    await make_staff(sessions, clock, Role.FOLLOW_UP, "followup")
    dubai = await registered(client, clock, agent.id)
    sydney = await registered(client, clock, colleague.id, country="AU", city="Sydney", phone="+61412345678")
    done = await registered(client, clock, colleague.id, country="AU", city="Sydney", phone="+61412345679")
    async with transaction(sessions) as session:
        await lifecycle.solve(
            session=session,
            clock=clock,
            report_id=done.id,
            outcome="Passport issued.",
            handed_over=False,
            by="Sydney staff",
            actor_id=None,
            status_url="https://majlis.example.sa/status",
        )
    # Who may see which report, written out from the issue (not from the code under test).
    reach = {
        "dubai": {dubai.number},
        "sydney": {sydney.number, done.number},
        "supervisor": {dubai.number, sydney.number, done.number},
        "agent": {dubai.number, sydney.number},  # their own, and the open queue; not a colleague's closed one
        "colleague": {sydney.number, done.number, dubai.number},  # their own two, and the open queue
        "nowhere": set(),
        "followup": set(),
    }
    roles = {
        "dubai": Role.MISSION_STAFF,
        "sydney": Role.MISSION_STAFF,
        "supervisor": Role.CONSULAR_SUPERVISOR,
        "agent": Role.EMERGENCY_AGENT,
        "colleague": Role.EMERGENCY_AGENT,
        "nowhere": Role.MISSION_STAFF,
        "followup": Role.FOLLOW_UP,
    }
    routes = report_routes(client.app)
    # The report's page and its steps, and the same over the API.
    assert {(r.method, r.step) for r in routes} >= {
        ("GET", ""),
        ("POST", "acknowledge"),
        ("POST", "update"),
        ("POST", "updates"),
        ("POST", "solve"),
        ("POST", "reassign"),
    }
    before = await snapshot(sessions)
    for username, role in roles.items():
        client.session.cookie_jar.clear()
        await sign_in(client, username)
        token = await csrf_token(client, "/staff")
        headers = await api_headers(client)
        for route in routes:
            for number in (dubai.number, sydney.number, done.number):
                status = await probe_unless_it_would_act(
                    client, route, number, token, headers, number in reach[username]
                )
                if status is None:
                    continue
                if role not in route.roles:
                    expected = {403}
                elif number not in reach[username]:
                    expected = {404}
                elif route.method == "GET":
                    expected = {200}
                else:
                    # An empty step on a report within reach is refused for what it lacks (or for its state).
                    expected = {409, 422}
                assert status in expected, (username, route.method, route.canonical, number, status)
    # Nothing the probes sent changed any report.
    assert await snapshot(sessions) == before


async def probe_unless_it_would_act(
    client: Client, route: Route, number: str, token: str, headers: dict[str, str], within_reach: bool
) -> int | None:
    """Probes the route, except an acknowledgement of a report within reach (it needs no field, so it would act)."""
    if within_reach and route.step == "acknowledge":
        return None
    return await probe(client, route, number, token, headers)


async def test_lists_show_each_reader_their_reach_and_a_hidden_report_answers_as_none_does(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    world = await add_missions(sessions)
    agent = await add_agent(sessions, clock, "agent")
    colleague = await add_agent(sessions, clock, "colleague")
    await mission_staff(sessions, clock, "dubai", world.dubai)
    await mission_staff(sessions, clock, "sydney", world.sydney)
    await make_staff(sessions, clock, Role.CONSULAR_SUPERVISOR, "supervisor")
    dubai = await registered(client, clock, agent.id)
    sydney = await registered(client, clock, colleague.id, country="AU", city="Sydney", phone="+61412345678")
    done = await registered(client, clock, colleague.id, country="AU", city="Sydney", phone="+61412345679")
    async with transaction(sessions) as session:
        await lifecycle.solve(
            session=session,
            clock=clock,
            report_id=done.id,
            outcome="Passport issued.",
            handed_over=True,
            by="Sydney staff",
            actor_id=None,
            status_url="https://majlis.example.sa/status",
        )

    async def listed(path: str) -> set[str]:
        return {r["number"] for r in (await (await client.get(path)).json())["reports"]}

    async def page(path: str) -> str:
        return await (await client.get(path)).text()

    every = {dubai.number, sydney.number, done.number}
    await sign_in(client, "dubai")
    assert await listed("/api/v1/emergency-reports") == {dubai.number}
    assert await listed("/api/v1/emergency-reports?open=1") == {dubai.number}
    shown = await page("/emergency/mission")
    assert dubai.number in shown and sydney.number not in shown and done.number not in shown
    hidden = await client.get(f"/api/v1/emergency-reports/{sydney.number}")
    missing = await client.get("/api/v1/emergency-reports/E26-999999-0")
    assert hidden.status == missing.status == 404 and await hidden.json() == await missing.json()
    # The page differs only by the number in its language switch's link.
    hidden_page = (await page(f"/emergency/reports/{sydney.number}")).replace(sydney.number, "N")
    assert hidden_page == (await page("/emergency/reports/E26-999999-0")).replace("E26-999999-0", "N")

    client.session.cookie_jar.clear()
    await sign_in(client, "sydney")
    assert await listed("/api/v1/emergency-reports") == {sydney.number, done.number}
    assert await listed("/api/v1/emergency-reports?open=1") == {sydney.number}
    shown = await page("/emergency/mission")
    assert sydney.number in shown and done.number in shown and dubai.number not in shown

    client.session.cookie_jar.clear()
    await sign_in(client, "supervisor")
    assert await listed("/api/v1/emergency-reports") == every
    shown = await page("/emergency/supervision")
    assert dubai.number in shown and sydney.number in shown and done.number not in shown  # open ones

    client.session.cookie_jar.clear()
    await sign_in(client, "agent")
    assert await listed("/api/v1/emergency-reports?mine=1") == {dubai.number}
    assert await listed("/api/v1/emergency-reports?open=1") == {dubai.number, sydney.number}
    assert await listed("/api/v1/emergency-reports") == {dubai.number, sydney.number}
    shown = await page("/emergency/agent")
    assert dubai.number in shown and sydney.number in shown and done.number not in shown


# --- a step racing a supervisor's reassignment --------------------------------------------------------------

STATUS_URL = "https://majlis.example.sa/status"
ACTED = (ReportEventKind.ACKNOWLEDGED, ReportEventKind.UPDATE, ReportEventKind.SOLVED, ReportEventKind.HANDED_OVER)


async def reassign(session: AsyncSession, client: Client, clock: FrozenClock, report_id: int, mission_id: int) -> None:
    await lifecycle.reassign(
        session=session,
        clock=clock,
        report_id=report_id,
        mission_id=mission_id,
        reason="The citizen has moved.",
        actor_id=None,
        levels=timers.levels_from(client.app[SETTINGS]),
        links=client.app[LINKS],
    )


async def acted(sessions: Sessions, report_id: int) -> list[ReportEventKind]:
    async with sessions() as session:
        query = select(ReportEvent.kind).where(ReportEvent.report_id == report_id, ReportEvent.kind.in_(ACTED))
        return list(await session.scalars(query))


async def test_a_mission_step_on_a_report_sent_elsewhere_since_it_was_read_is_not_found(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    """Staff read the report as their mission's, a supervisor sends it to another mission, then the staff's step
    reaches the domain naming their mission: the locked report is no longer theirs, so it is not found."""
    world = await add_missions(sessions)
    found = await registered(client, clock)
    async with sessions() as session:
        read = await session.get(EmergencyReport, found.id)
        assert read is not None and read.mission_id == world.dubai  # the staff's unlocked read
    async with transaction(sessions) as session:
        await reassign(session, client, clock, found.id, world.abu_dhabi)
    before = await snapshot(sessions)

    steps: list[Callable[[AsyncSession, int], Awaitable[object]]] = [
        lambda session, mission: lifecycle.acknowledge(
            session=session,
            clock=clock,
            report_id=found.id,
            generation=None,
            by="Dubai staff",
            actor_id=None,
            mission_id=mission,
        ),
        lambda session, mission: lifecycle.post_update(
            session=session,
            clock=clock,
            report_id=found.id,
            note="News.",
            by="Dubai staff",
            actor_id=None,
            mission_id=mission,
        ),
        lambda session, mission: lifecycle.solve(
            session=session,
            clock=clock,
            report_id=found.id,
            outcome="Done.",
            handed_over=False,
            by="Dubai staff",
            actor_id=None,
            status_url=STATUS_URL,
            mission_id=mission,
        ),
    ]
    for step in steps:
        with pytest.raises(lifecycle.ReportNotFound):
            async with transaction(sessions) as session:
                await step(session, world.dubai)
    assert await snapshot(sessions) == before
    # The mission it was sent to acts on it.
    async with transaction(sessions) as session:
        await steps[0](session, world.abu_dhabi)
    assert await acted(sessions, found.id) == [ReportEventKind.ACKNOWLEDGED]


async def waiting_on_a_lock(sessions: Sessions) -> bool:
    async with sessions() as session:
        query = text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return bool(await session.scalar(query))


async def test_a_step_racing_a_reassignment_on_postgresql_is_refused_and_changes_nothing(
    client: Client, sessions: Sessions, clock: FrozenClock, backend: str
) -> None:
    """The supervisor's reassignment holds the report's row; Dubai's staff post a step, whose read still sees
    the report as Dubai's and whose lock waits; the reassignment commits: the step answers as for another
    mission's report (404, on the page and over the API), and nothing of it is kept."""
    if backend == "sqlite":
        pytest.skip("SQLite lets one writer in at a time: no read can come between a reassignment's lock and commit")
    world = await add_missions(sessions)
    await mission_staff(sessions, clock, "dubai", world.dubai)
    found = await registered(client, clock)
    await sign_in(client, "dubai")
    path = f"/emergency/reports/{found.number}"
    api = f"/api/v1/emergency-reports/{found.number}"
    token = await csrf_token(client, path)
    headers = await api_headers(client)
    posts: list[Callable[[], Awaitable[ClientResponse]]] = [
        lambda: client.post(f"{path}/acknowledge", data={"csrf_token": token}, allow_redirects=False),
        lambda: client.post(f"{path}/update", data={"note": "News.", "csrf_token": token}, allow_redirects=False),
        lambda: client.post(f"{api}/acknowledge", headers=headers),
        lambda: client.post(f"{api}/solve", json={"outcome": "Done.", "handed_over": False}, headers=headers),
    ]
    for post in posts:
        async with transaction(sessions) as session:
            await reassign(session, client, clock, found.id, world.abu_dhabi)
            racing = asyncio.ensure_future(post())
            for _ in range(200):
                if await waiting_on_a_lock(sessions) or racing.done():
                    break
                await asyncio.sleep(0.025)
            assert not racing.done(), "the step should wait for the reassignment's lock"
        answer = await racing
        assert answer.status == 404, await answer.text()
        async with sessions() as session:
            now = await session.get(EmergencyReport, found.id)
        assert now is not None and (now.mission_id, now.state) == (world.abu_dhabi, ReportState.OPEN)
        assert await acted(sessions, found.id) == []
        # Back with Dubai (committed) for the next step's race.
        async with transaction(sessions) as session:
            await reassign(session, client, clock, found.id, world.dubai)
