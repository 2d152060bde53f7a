"""Headers of every answer (no-store, Server without versions, Allow on 405) and the WebSocket origin check."""

from __future__ import annotations

import pytest
from aiohttp import WSServerHandshakeError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from tests.factories import Client, api_payload, make_staff, sign_in
from web.keys import SETTINGS

Sessions = async_sessionmaker[AsyncSession]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_staff_pages_and_personal_answers_are_not_stored(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    created = await (await client.post("/api/v1/requests", json=api_payload())).json()
    status = await client.get(
        f"/api/v1/requests/{created['tracking_number']}", params={"phone": api_payload()["applicant"]["phone"]}
    )
    assert status.status == 200 and status.headers["Cache-Control"] == "no-store"
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    page = await client.get("/audit")
    assert page.status == 200 and page.headers["Cache-Control"] == "no-store"
    # Static files are named by their content's hash: they may be kept.
    stylesheet = await client.get("/static/majlis.css")
    assert stylesheet.status == 200 and "no-store" not in stylesheet.headers.get("Cache-Control", "")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_the_server_header_names_no_software_and_405_says_what_is_allowed(client: Client) -> None:
    for response in (await client.get("/"), await client.get("/no-such-page"), await client.get("/healthz")):
        assert response.headers["Server"] == "Majlis"
    refused = await client.post("/openapi.json")
    assert refused.status == 405
    assert set(refused.headers["Allow"].split(", ")) == {"GET", "HEAD"}
    api = await client.delete("/api/v1/requests")
    assert api.status == 405 and api.headers["Allow"] == "POST"
    assert (await api.json())["error"] == "method_not_allowed"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_websocket_from_another_site_is_refused(client: Client) -> None:
    for path in ("/ws/video", "/ws/consoles"):
        with pytest.raises(WSServerHandshakeError) as refused:
            await client.ws_connect(path, origin="https://evil.example")
        assert refused.value.status == 403
    # The public URL's own pages, and the address the server was reached at, are this site.
    public_url = client.app[SETTINGS].public_url
    for origin in (public_url, str(client.make_url("/")).rstrip("/")):
        socket = await client.ws_connect("/ws/video", origin=origin)
        await socket.close()
    # No Origin: not a browser, so no page of another site opened it.
    socket = await client.ws_connect("/ws/video")
    await socket.close()
