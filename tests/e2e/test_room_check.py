"""The pre-call check in a real headless Chromium: the room console sends Chromium's fake camera and microphone
to the server's aiortc peer and shows the verdict. The fake camera shows a moving test pattern with no face in it,
so the check fails with "no_face"; what matters here is that a verdict comes back with what was received."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from tests.e2e.test_audit_desk import sign_in
from tests.factories import Client, make_staff
from tests.rooms.test_rooms import add_room
from video import room_check_records as records

pytestmark = pytest.mark.browser

WAIT_MS = 40_000


async def test_the_room_console_runs_the_pre_call_check_and_shows_the_verdict(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser
) -> None:
    room = await add_room(sessions, clock)
    await make_staff(sessions, clock, Role.WOMEN_SECTION, "women")
    base = str(client.make_url("/")).rstrip("/")
    # A tablet held in landscape.
    context = await browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    page = await context.new_page()
    try:
        await sign_in(page, base, "women")
        await page.goto(f"{base}/rooms/{room.id}/console")
        await page.wait_for_selector("#room-check-earlier li.none", state="attached", timeout=10_000)
        await page.click("#room-check-start")
        await page.wait_for_selector("#room-check[data-check-state='running']", state="attached", timeout=5_000)
        await page.wait_for_selector("#room-check[data-check-state='done']", state="attached", timeout=WAIT_MS)

        assert await page.is_visible("#room-check-verdict.failed")
        assert (await page.text_content("#room-check-verdict") or "").strip()
        codes = await page.eval_on_selector_all("#room-check-problems li", "items => items.map(i => i.dataset.code)")
        assert "no_face" in codes
        no_face = page.locator("#room-check-problems li[data-code='no_face']")
        assert "لا يظهر وجه" in (await no_face.locator("span[lang='ar']").text_content() or "")
        assert "No face can be seen" in (await no_face.locator("span[lang='en']").text_content() or "")
        measures = await page.eval_on_selector_all("#room-check-measures dd", "items => items.map(i => i.textContent)")
        fps, resolution = float(measures[0]), measures[1]
        assert fps > 5, measures
        width, height = (int(x) for x in resolution.split("×"))
        assert width >= 160 and height >= 120, measures
        # The snapshot the server received is shown, really loaded.
        await page.wait_for_selector("#room-check-snapshot:not([hidden])", timeout=5_000)
        loaded = await page.eval_on_selector("#room-check-snapshot", "img => img.complete && img.naturalWidth")
        assert loaded and int(loaded) > 0
        # The check is kept for the room and listed among today's checks.
        await page.wait_for_selector("#room-check-earlier li.failed", timeout=5_000)
    finally:
        await context.close()
    async with sessions() as session:
        [stored] = await records.latest_checks(session=session, room_id=room.id, day=clock.now().date())
    assert not stored.passed and "no_face" in stored.reasons and stored.has_snapshot
    assert stored.measures["width"] == width and stored.measures["fps"] == fps
