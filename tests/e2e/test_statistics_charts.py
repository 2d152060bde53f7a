"""The statistics dashboard in real Chromium, in Arabic: every chart drawn by Chart.js (served by Majlis itself,
under the strict Content-Security-Policy) with something on its canvas, its categories and legend running right to
left, and nothing wider than a phone's window, a tablet's or a laptop's."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, ViewportSize, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.e2e.test_audience_day import PAGE_WAIT_MS, fits_across
from tests.e2e.test_audit_desk import sign_in
from tests.factories import Client, make_staff
from tests.quality.test_statistics import generate, store
from web.statistics_tables import CHART_KEYS

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}
WIDER: tuple[ViewportSize, ...] = ({"width": 820, "height": 1180}, {"width": 1366, "height": 900})

# Per chart: the instance Chart.js keeps for the canvas, its drawn pixels, and where its first and last categories
# stand on the x axis.
DRAWN = """canvas => {
  const chart = Chart.getChart(canvas);
  if (!chart) { return null; }
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) { inked += 1; } }
  const last = chart.data.labels.length - 1;
  return {
    inked: inked,
    values: chart.data.datasets.flatMap(d => d.data).filter(v => v !== null && v > 0).length,
    reverse: chart.options.scales.x.reverse,
    yRight: chart.scales.y.position === "right",
    legendRtl: chart.options.plugins.legend.rtl,
    first: chart.scales.x.getPixelForValue(0),
    last: chart.scales.x.getPixelForValue(last),
    labels: chart.data.labels.length,
  };
}"""


async def test_the_dashboard_draws_its_charts_right_to_left_in_arabic(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser
) -> None:
    async with transaction(sessions) as session:
        await store(session, generate(19, 200))
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    base = str(client.make_url("/")).rstrip("/")
    context = await browser.new_context(viewport=PHONE)
    try:
        page = await context.new_page()
        refused: list[str] = []
        page.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)
        await sign_in(page, base, "manager", clock)
        await page.goto(base + "/reports/statistics?period=month&value=2026-11")
        await expect(page.locator("h1")).to_contain_text("الإحصاءات", timeout=PAGE_WAIT_MS)
        assert await page.get_attribute("html", "dir") == "rtl"
        await page.wait_for_function("() => typeof Chart !== 'undefined' && Chart.getChart('chart-waits')")
        for key in CHART_KEYS:
            drawn = await page.locator(f"#chart-{key}").evaluate(DRAWN)
            assert drawn is not None, key
            assert drawn["inked"] > 500 and drawn["values"] > 0, (key, drawn)
            # Mirrored: the first category stands to the right of the last, the values' axis on the right.
            assert drawn["reverse"] and drawn["yRight"] and drawn["legendRtl"], (key, drawn)
            if drawn["labels"] > 1:
                assert drawn["first"] > drawn["last"], (key, drawn)
        # A count of 1 to 4 reads "fewer than 5" in the table beside its chart; a withheld one says so.
        assert await page.locator('td.suppressed[data-hidden="fewer_than_5"]').count() > 0
        await expect(page.locator('td.suppressed[data-hidden="fewer_than_5"]').first).to_have_text("أقل من 5")
        withheld = page.locator('td.suppressed[data-hidden="withheld"]')
        if await withheld.count():
            await expect(withheld.first).to_have_text("محجوب لحماية الخصوصية")
        assert await fits_across(page), "wider than 390 px"
        for size in WIDER:
            await page.set_viewport_size(size)
            assert await fits_across(page), size
        assert not [m for m in refused if "Content Security Policy" in m], refused
    finally:
        await context.close()
