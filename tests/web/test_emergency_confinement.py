"""The emergency line's role matrix on SQLite and PostgreSQL: every page and API route that names a report, and every
list, for two missions' staff (each sees and acts on its own mission's reports only, the other's is not found),
a consular supervisor (every report), an agent (what they registered and the open queue, never another's closed
report), mission staff given no mission (nothing), and a role of the Majlis (refused)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import func, select

from accounts.roles import Role
from emergency import lifecycle
from emergency.models import EmergencyReport, ReportEvent
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.emergency.arrange import Sessions, add_agent, add_missions
from tests.factories import Client, csrf_token, make_staff, sign_in
from tests.web.emergency_people import api_headers, mission_staff, registered
from web.auth import ROLES_ATTRIBUTE


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
