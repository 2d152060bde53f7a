"""Screenshots of Majlis's main pages in Arabic, for README.md and docs/screenshots/, taken in Chromium from a demo
of its own (tests/e2e/demo_server.py: the demo `make run` serves, built afresh in a temporary folder).

    .venv/bin/python -m tests.e2e.screenshots [--out docs/screenshots]

Each shot is the window only (1366 x 860, or a phone's 390 x 844), never a whole long page, so a PNG stays well
under 300 KB. The applicant's pages are reached as the applicant does: the status tracker by the tracking number and
phone the demo prints, "my requests" by the phone and the code texted to it (read from the demo's outbox, as the
phone would receive it).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.demo_server import ROOT, DemoSite, demo_site
from tests.e2e.sweep import sign_in

DESKTOP = 1366
PHONE = 390
HEIGHTS = {DESKTOP: 860, PHONE: 844}
MOST_BYTES = 300_000


@dataclass(frozen=True)
class Shot:
    name: str
    user: str | None  # a demo staff username, or None for the visitor
    path: str
    widths: tuple[int, ...] = (DESKTOP,)
    # Gets from the page at `path` to the page to take (a form to fill, a link to follow).
    then: Callable[[Page, DemoSite], Awaitable[None]] | None = None


async def _status_tracker(page: Page, site: DemoSite) -> None:
    tracking_number, phone = site.applicant_waiting
    await page.fill("#tracking_number", tracking_number)
    await page.fill("#phone", phone)
    await page.click("main form button[type=submit]")
    await page.wait_for_load_state()


async def _my_requests(page: Page, site: DemoSite) -> None:
    phone = site.applicant_waiting[1]
    await page.fill("input[name=phone]", phone)
    await page.click("main form button[type=submit]")
    await page.wait_for_load_state()
    await page.fill("input[name=code]", await asyncio.to_thread(_texted_code, site, phone))
    await page.click("main form button[type=submit]")
    await page.wait_for_load_state()


def _texted_code(site: DemoSite, phone: str) -> str:
    """The code in the last SMS to `phone`, as the phone shows it (the jobs are off: it waits in the outbox)."""
    database = site.env["MAJLIS_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(database) as db:
        row = db.execute(
            "SELECT body FROM outbox_messages WHERE recipient = ? ORDER BY id DESC LIMIT 1", (phone,)
        ).fetchone()
    found = re.search(r"\b\d{4,8}\b", row[0] if row else "")
    if found is None:
        raise RuntimeError(f"no code texted to {phone}")
    return found.group()


def _follow(prefix: str) -> Callable[[Page, DemoSite], Awaitable[None]]:
    """Follows the first link in the page's main part whose path starts with `prefix`."""

    async def follow(page: Page, site: DemoSite) -> None:
        link = page.locator(f'main a[href^="{prefix}"]').first
        href = await link.get_attribute("href")
        if href is None:
            raise RuntimeError(f"no link to {prefix}… on {page.url}")
        await page.goto(site.url + href.split("?")[0] + "?lang=ar")

    return follow


SHOTS = (
    Shot("request-form", None, "/", (DESKTOP, PHONE)),
    Shot("status-tracker", None, "/status", (DESKTOP, PHONE), _status_tracker),
    Shot("my-requests", None, "/status/mine", (PHONE,), _my_requests),
    Shot("desk", "desk", "/desk"),
    Shot("triage", "audit", "/audit", (DESKTOP,), _follow("/audit/cases/")),
    Shot("protocol-week", "protocol", "/protocol"),
    Shot("protocol-month", "protocol", "/protocol/month"),
    Shot("official", "official", "/official"),
    Shot("followup", "followup", "/followup", (DESKTOP, PHONE)),
    Shot("statistics", "manager", "/reports/statistics"),
    Shot("whatsapp-inbox", "whatsapp", "/whatsapp", (DESKTOP, PHONE)),
    Shot("emergency-agent", "agent", "/emergency/agent"),
)


async def take(site: DemoSite, out: Path, shots: tuple[Shot, ...] = SHOTS) -> list[Path]:
    """Writes each shot's PNGs into `out` (a folder that exists); gives back their paths."""
    written: list[Path] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            contexts: dict[str | None, BrowserContext] = {}
            for shot in shots:
                context = contexts.get(shot.user) or await _signed_in(browser, site, shot.user)
                contexts[shot.user] = context
                for width in shot.widths:
                    written.append(await _shoot(context, site, shot, width, out))
        finally:
            await browser.close()
    return written


async def _signed_in(browser: Browser, site: DemoSite, user: str | None) -> BrowserContext:
    context = await browser.new_context()
    if user is not None:
        page = await context.new_page()
        await sign_in(page, site.url, user, site.code)
        await page.close()
    return context


async def _shoot(context: BrowserContext, site: DemoSite, shot: Shot, width: int, out: Path) -> Path:
    page = await context.new_page()
    try:
        await page.set_viewport_size({"width": width, "height": HEIGHTS[width]})
        await page.goto(f"{site.url}{shot.path}?lang=ar")
        if shot.then is not None:
            await shot.then(page, site)
        await page.wait_for_load_state("networkidle")
        path = out / f"{shot.name}-{width}.png"
        await page.screenshot(path=str(path), full_page=False, animations="disabled", caret="hide")
    finally:
        await page.close()
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="majlis-shots-") as folder, demo_site(Path(folder)) as site:
        written = asyncio.run(take(site, out))
    too_big = 0
    for path in written:
        size = path.stat().st_size
        too_big += size > MOST_BYTES
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  {size:,} bytes")
    if too_big:
        print(f"{too_big} screenshots over {MOST_BYTES:,} bytes: take less of the page")
    return 1 if too_big else 0


if __name__ == "__main__":
    raise SystemExit(main())
