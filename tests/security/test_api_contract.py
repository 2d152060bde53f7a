"""The OpenAPI document and the API agree: every /api/ route is in the document and back, and real answers match it.

Each operation is called once with plain sample values (an unknown id, an empty
body) by a role its route admits, and a few calls succeed for real (a request
filed and looked up, a room added); openapi-core checks every answer's status,
content type and body against the document.
"""

from __future__ import annotations

import json
from typing import Any

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from majlis.app import create_app
from majlis.clock import FrozenClock
from tests.conftest import make_settings
from tests.factories import Client, api_payload
from tests.security.staff_sessions import Sessions, StaffCredentials, credentials_by_operation
from web.security import CSRF_HEADER

# Sample path values: each names nothing that exists, so the answer is a refusal the document must describe.
SAMPLES = {
    "tracking_number": "26-000001-0",
    "number": "E26-000001-0",
    "code": "no-such-code",
    "token": "no-such-token",
    "day": "2026-12-06",
}
DOCUMENTED_ELSEWHERE = {("GET", "/openapi.json")}


def api_routes() -> set[tuple[str, str]]:
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:"))
    found = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method != "HEAD" and (path.startswith("/api/") or path == "/healthz"):
            found.add((route.method, path))
    return found


def documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


async def test_every_api_route_is_in_the_document_and_back(client: Client) -> None:
    document = await (await client.get("/openapi.json")).json()
    routes = api_routes() - DOCUMENTED_ELSEWHERE
    assert routes - documented(document) == set(), "routes missing from the document"
    assert documented(document) - routes == set(), "documented operations without a route"


class Contract:
    """Calls operations and keeps every answer that the document does not describe."""

    def __init__(self, client: Client, document: dict[str, Any]) -> None:
        self.client = client
        self.host = str(client.make_url("")).rstrip("/")
        self.openapi = OpenAPI.from_dict(document)
        self.differences: list[str] = []
        self.answers = 0

    async def call(
        self,
        method: str,
        template: str,
        *,
        staff: StaffCredentials | None = None,
        query: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> tuple[int, Any]:
        path = template.format(**{name: SAMPLES.get(name, "999999") for name in _names(template)})
        headers = {"Content-Type": content_type} if body is not None else {}
        if staff is not None:
            headers[CSRF_HEADER] = staff.csrf
        data = (json.dumps(body) if content_type == "application/json" else body) if body is not None else None
        self.client.session.cookie_jar.clear()
        response = await self.client.request(
            method, path, params=query, data=data, headers=headers, cookies=staff.cookies if staff else None
        )
        raw = await response.read()
        request = MockRequest(self.host, method, path, path_pattern=template, args=query)
        answer = MockResponse(raw, status_code=response.status, content_type=response.content_type)
        try:
            self.openapi.validate_response(request, answer)
        except Exception as exc:  # openapi-core raises one of many classes; each is a difference to report
            cause = exc.__cause__ or exc
            self.differences.append(f"{method} {path} -> {response.status}: {cause} {raw[:300]!r}")
        self.answers += 1
        return response.status, json.loads(raw) if response.content_type == "application/json" else raw


def _names(template: str) -> list[str]:
    return [part[1:-1] for part in template.split("/") if part.startswith("{")]


async def test_real_answers_match_the_document(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    document = await (await client.get("/openapi.json")).json()
    staff = await credentials_by_operation(client, sessions, clock)
    contract = Contract(client, document)

    # Real successes: a request filed, looked up and its calendar asked for; a room added.
    status, created = await contract.call("POST", "/api/v1/requests", body=api_payload())
    assert status == 201
    number, phone = created["tracking_number"], api_payload()["applicant"]["phone"]
    SAMPLES["tracking_number"] = number
    try:
        assert (await contract.call("GET", "/api/v1/requests/{tracking_number}", query={"phone": phone}))[0] == 200
        await contract.call("GET", "/api/v1/requests/{tracking_number}/calendar.ics", query={"phone": phone})
    finally:
        SAMPLES["tracking_number"] = "26-000001-0"
    room = {"branch": "riyadh", "name": "قاعة", "kind": "audience_hall", "capacity": 40, "wheelchair_access": True}
    rooms = staff[("POST", "/api/v1/calendar/rooms")]
    assert (await contract.call("POST", "/api/v1/calendar/rooms", staff=rooms, body=room))[0] == 201
    # An unknown session, with a body that passes validation, so the lookup itself answers.
    cancel = "/api/v1/calendar/sessions/{session_id}/cancel"
    reason = {"reason": "Travel"}
    assert (await contract.call("POST", cancel, staff=staff[("POST", cancel)], body=reason))[0] == 404

    # Every operation once: unknown ids, empty bodies, required query values that match nothing.
    for path, item in document["paths"].items():
        for method, operation in item.items():
            query = {
                p["name"]: "0500000000" if p["name"] == "phone" else "x"
                for p in operation.get("parameters", [])
                if p["in"] == "query" and p.get("required")
            }
            content = operation.get("requestBody", {}).get("content", {})
            kind = next(iter(content), None)
            body: Any = {} if kind == "application/json" else "" if kind else None
            await contract.call(
                method.upper(),
                path,
                staff=staff.get((method.upper(), path)),
                query=query or None,
                body=body,
                content_type=kind or "application/json",
            )
    assert contract.answers > 100
    assert contract.differences == [], "\n".join(contract.differences)
