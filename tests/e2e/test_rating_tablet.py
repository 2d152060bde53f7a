"""The desk tablet's rating screen in real Chromium at tablet width, in Arabic: idle until the desk takes a walk-in's
request, then (by its own polling) five faces right to left naming the staff member; a tap and a comment save the
rating, a thank-you follows. At phone width the faces wrap and nothing runs off the side."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from majlis.clock import FrozenClock
from majlis.db import transaction
from quality import tablets
from quality.models import Rating, Visit
from tests.e2e.test_audience_day import PAGE_WAIT_MS, TABLET, fits_across
from tests.factories import Client, details, make_staff

pytestmark = pytest.mark.browser

# The screen asks every 3 s: a new visit shows within two rounds and a margin.
POLL_WAIT_MS = 10_000
# Each drawn face (web/templates/_face.html): its score and its size on the screen.
FACE_SIZES = (
    "faces => faces.map(f => [f.dataset.score, f.getBoundingClientRect().width, f.getBoundingClientRect().height])"
)


async def test_the_tablet_shows_five_faces_right_to_left_and_saves_a_tap_and_a_comment(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser
) -> None:
    desk = await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    async with transaction(sessions) as session:
        tablet, token = await tablets.enrol(
            session=session, clock=clock, branch_code="riyadh", name="Desk 1", actor_id=None
        )
        await tablets.pair(session=session, clock=clock, tablet_id=tablet.id, staff_id=desk.id)
    base = str(client.make_url("/")).rstrip("/")
    context = await browser.new_context(viewport=TABLET, locale="ar-SA")
    try:
        page = await context.new_page()
        await page.goto(f"{base}/rate-tablet/enrol/{token}")
        assert page.url == base + "/rate-tablet"
        await expect(page.locator("#rate-idle")).to_be_visible(timeout=PAGE_WAIT_MS)
        async with transaction(sessions) as session:
            await cases.submit(
                session=session,
                clock=clock,
                details=details(channel="walk_in"),
                status_url=base + "/status",
                entered_by_id=desk.id,
            )
        faces = page.locator("label.face")
        await expect(faces).to_have_count(5, timeout=POLL_WAIT_MS)
        assert await page.get_attribute("html", "dir") == "rtl"
        await expect(page.locator("#rate-staff")).to_contain_text(desk.full_name)
        # Right to left: the first face (very dissatisfied) stands to the right of the fifth.
        first, fifth = await faces.nth(0).bounding_box(), await faces.nth(4).bounding_box()
        assert first is not None and fifth is not None and first["x"] > fifth["x"]
        assert first["height"] >= 44 and first["width"] >= 44  # large touch targets
        # Each face is drawn as an SVG (not an emoji a tablet's fonts may lack) and shows at a size one can see.
        drawn = await page.locator("label.face .face-mark svg").evaluate_all(FACE_SIZES)
        assert [score for score, _, _ in drawn] == ["1", "2", "3", "4", "5"]
        assert all(width >= 32 and height >= 32 for _, width, height in drawn), drawn
        await expect(page.get_by_label("راضٍ جدًا")).to_have_count(1)
        assert await fits_across(page)
        # At phone width the faces wrap rather than run off the side.
        await page.set_viewport_size({"width": 390, "height": 844})
        assert await fits_across(page)
        await page.set_viewport_size(TABLET)

        await faces.nth(3).click()
        await page.fill("#rate-comment", "خدمة سريعة ولطيفة")
        await page.click("#rate-send")
        await expect(page.locator("#rate-thanks")).to_be_visible(timeout=PAGE_WAIT_MS)
        async with sessions() as session:
            rating = (await session.scalars(select(Rating))).one()
        assert (rating.score, rating.comment, rating.staff_id, rating.visit) == (
            4, "خدمة سريعة ولطيفة", desk.id, Visit.INTAKE
        )  # fmt: skip
    finally:
        await context.close()
