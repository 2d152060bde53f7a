"""/desk/tablet on SQLite and PostgreSQL: every centre's tablets grouped by centre, the desk's own pairing marked."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.db import transaction
from quality import tablets
from tests.factories import Client, csrf_token, make_staff, sign_in

Sessions = async_sessionmaker[AsyncSession]


async def test_tablets_are_grouped_by_centre_and_ones_own_is_marked(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    other = await make_staff(sessions, clock, Role.INTAKE_DESK, "other")
    async with transaction(sessions) as session:
        mine, _ = await tablets.enrol(session=session, clock=clock, branch_code="riyadh", name="Desk 1", actor_id=None)
        theirs, _ = await tablets.enrol(
            session=session, clock=clock, branch_code="riyadh", name="Desk 2", actor_id=None
        )
        await tablets.enrol(session=session, clock=clock, branch_code="jeddah", name="Desk 9", actor_id=None)
        await tablets.pair(session=session, clock=clock, tablet_id=theirs.id, staff_id=other.id)
    await sign_in(client, "desk")
    token = await csrf_token(client, "/desk/tablet")
    paired = await client.post("/desk/tablet", data={"tablet": str(mine.id), "csrf_token": token})
    assert paired.status == 200  # followed to the page
    html = await (await client.get("/desk/tablet?lang=en")).text()
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', html, re.S)
    assert [label for label, _ in groups] == ["Jeddah", "Riyadh"]
    jeddah, riyadh = (body for _, body in groups)
    assert "Desk 9" in jeddah and "Desk 1" not in jeddah
    assert re.search(r"selected>Desk 1 \(paired with you\)</option>", riyadh)
    assert "Desk 2 (in use by another desk)" in riyadh
