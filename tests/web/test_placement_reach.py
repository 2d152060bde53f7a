"""The request's staff page explains its placements within the reader's need to know: the older request it passed
is named only to a reader who may see that one (both databases)."""

from __future__ import annotations

from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.db import transaction
from priority import service as triage
from tests.factories import Client, make_staff, sign_in
from tests.fairness.test_explain import older_and_newer
from tests.fairness.test_record import one_seat_sundays
from tests.scheduler.test_runs import run
from tests.web.test_audit_pages import Sessions, anchor_path, app

__all__ = ["anchor_path", "app"]

COURT = "جلسة محكمة بعد عشرة أيام"


async def test_the_passed_request_is_named_only_to_who_may_see_it(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await one_seat_sundays(sessions, clock, weeks=1)
    desk, older, newer = await older_and_newer(sessions, clock)
    async with transaction(sessions) as session:
        await triage.move_up(
            session=session, clock=clock, tracking_number=newer, actor_id=desk, points=50,
            change_reason="legal_deadline", change_text=COURT,
        )  # fmt: skip
    await run(sessions, clock)

    # The audit desk reaches every request: the one passed is named, with the raise's words.
    await sign_in(client, "auditor")  # the audit desk's account made by older_and_newer
    await client.get("/lang/en")
    page = await (await client.get(f"/cases?tracking_number={newer}")).text()
    assert "Older requests it passed" in page and older in page and COURT in page

    # The intake desk reaches this request (it has an appointment), not the older one still waiting.
    await make_staff(sessions, clock, Role.INTAKE_DESK, "desk2")
    await sign_in(client, "desk2")
    await client.get("/lang/en")
    response = await client.get(f"/cases?tracking_number={newer}")
    page = await response.text()
    assert response.status == 200 and "Older requests it passed" in page
    assert older not in page and "Not shown" in page
    # The raise was written on this request: its words stay.
    assert COURT in page
