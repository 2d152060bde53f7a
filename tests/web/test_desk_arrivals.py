"""The desk's arrivals page: which reception centre it opens on."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient

from accounts.roles import Role
from majlis.clock import FrozenClock
from tests.audience_day.arrange import Sessions, at, booked_day
from tests.factories import make_staff, sign_in

Client = TestClient[web.Request, web.Application]


async def test_the_desk_opens_on_the_centre_with_audiences_today(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    [booked] = await booked_day(sessions, clock, count=1)
    await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    clock.set(at(29, 9, 50))
    await sign_in(client, "desk")
    # Jeddah comes first in the list, but today's audiences are in Riyadh: the desk opens there.
    page = await (await client.get("/desk/arrivals")).text()
    assert '<option value="riyadh" selected' in page and booked.tracking_number in page
    chosen = await (await client.get("/desk/arrivals", params={"branch": "jeddah"})).text()
    assert '<option value="jeddah" selected' in chosen and booked.tracking_number not in chosen
