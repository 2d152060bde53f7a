"""POST then redirect for the two intake forms: the receipt is a page of its own, shown again on a refresh, and only
to the browser (the portal) or the member of staff (the desk) that sent the request. SQLite and PostgreSQL."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases.models import Case
from majlis.clock import FrozenClock
from tests.factories import Client, csrf_token, form_data, make_staff, sign_in

Sessions = async_sessionmaker[AsyncSession]
TRACKING = re.compile(r'id="tracking-number"><bdi dir="ltr" class="ltr">([0-9-]+)<')


async def count(sessions: Sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Case)) or 0)


async def test_the_portal_answers_with_a_redirect_to_its_receipt(client: Client, sessions: Sessions) -> None:
    token = await csrf_token(client, "/")
    sent = await client.post("/requests", data={**form_data(), "csrf_token": token}, allow_redirects=False)
    assert sent.status == 303 and sent.headers["Location"] == "/requests/received"
    first = await client.get("/requests/received")
    again = await client.get("/requests/received")  # a refresh: the same receipt, nothing posted
    found = TRACKING.search(await first.text())
    assert first.status == 200 and found is not None and found.group(1) in await again.text()
    assert await count(sessions) == 1

    # A browser without the receipt's cookie (another one, or this one later) is sent to follow it by its number.
    client.session.cookie_jar.clear()
    elsewhere = await client.get("/requests/received", allow_redirects=False)
    assert elsewhere.status == 303 and elsewhere.headers["Location"] == "/status"


async def test_the_desk_answers_with_a_redirect_to_its_own_receipt(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    await make_staff(sessions, clock, Role.INTAKE_DESK, "desk2")
    await sign_in(client, "desk")
    token = await csrf_token(client, "/desk")
    data = {**form_data(), "channel": "walk_in", "csrf_token": token, "idempotency_key": "one"}
    sent = await client.post("/desk/requests", data=data, allow_redirects=False)
    location = sent.headers["Location"]
    assert sent.status == 303 and location.startswith("/desk/saved/")
    receipt = await client.get(location)
    found = TRACKING.search(await receipt.text())
    assert receipt.status == 200 and found is not None and location.endswith(found.group(1))
    assert await count(sessions) == 1

    await sign_in(client, "desk2")  # another desk's receipt is not theirs to reopen
    assert (await client.get(location)).status == 404
