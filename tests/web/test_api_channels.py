"""The public API files requests by the portal only; a desk's channel needs the staff session of that desk.

Anonymous callers used to be able to file a request "from the call centre".
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import StaffUser
from accounts.roles import Role
from cases.models import Case, Channel
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.factories import Client, api_payload, make_staff
from tests.web.test_audience_api import switch

Sessions = async_sessionmaker[AsyncSession]
REQUESTS = "/api/v1/requests"


async def channels_saved(sessions: Sessions) -> list[Channel]:
    async with sessions() as session:
        return list(await session.scalars(select(Case.channel).order_by(Case.id)))


@pytest.mark.parametrize("channel", ["walk_in", "call_centre", "whatsapp", "email"])
async def test_the_public_cannot_file_in_a_desk_channel(client: Client, sessions: Sessions, channel: str) -> None:
    response = await client.post(REQUESTS, json=api_payload(channel=channel))
    body = await response.json()
    assert response.status == 422, body
    (problem,) = body["fields"]
    assert problem["field"] == "channel" and problem["messages"]["en"] == "Channel must be one of: portal."
    assert problem["messages"]["ar"] != problem["messages"]["en"]
    assert await channels_saved(sessions) == []


async def test_a_desk_files_in_its_channels_and_other_roles_cannot(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    assert (await client.post(REQUESTS, json=api_payload())).status == 201  # the portal, anonymously

    await make_staff(sessions, clock, Role.CALL_CENTRE, "agent")
    agent = await switch(client, "agent")
    response = await client.post(REQUESTS, headers=agent, json=api_payload(channel="call_centre", subject="بالهاتف"))
    assert response.status == 201, await response.text()

    await make_staff(sessions, clock, Role.FOLLOW_UP, "followup")
    other = await switch(client, "followup")
    refused = await client.post(REQUESTS, headers=other, json=api_payload(channel="walk_in", subject="من المكتب"))
    body = await refused.json()
    assert refused.status == 403, body
    assert body["messages"]["en"] == "Your role does not receive requests in this channel."
    assert body["messages"]["ar"] != body["messages"]["en"]
    assert await channels_saved(sessions) == [Channel.PORTAL, Channel.CALL_CENTRE]


async def test_a_desk_whose_password_was_reset_files_nothing_until_it_chooses_a_new_one(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    made = await make_staff(sessions, clock, Role.CALL_CENTRE, "agent")
    agent = await switch(client, "agent")
    async with transaction(sessions) as session:
        user = await session.get(StaffUser, made.id)
        assert user is not None
        user.must_change_password = True
    refused = await client.post(REQUESTS, headers=agent, json=api_payload(channel="call_centre"))
    body = await refused.json()
    assert refused.status == 403 and body["messages"]["en"] == "Choose a new password before anything else."
    assert await channels_saved(sessions) == []
