"""Every page each role reaches from its navigation, in Arabic and English, at 390, 820 and 1366 px, checked by
tests/e2e/page_check.py against a running Majlis with the demo data.

By hand, against `make run` (or any demo server):
    .venv/bin/python -m tests.e2e.sweep http://127.0.0.1:8080 [--roles desk,audit] [--widths 390] [--languages ar]
It prints one line for each page that fails and a summary; the exit code is 1 when any failed.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from playwright.async_api import Browser, Page, async_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.page_check import WIDTHS, Findings, check_page, install_axe

DEMO_PASSWORD = "majlis-demo-2026"
# The demo's staff (majlis/demo.py) by role, and what a visitor sees.
DEMO_USERS = (
    "desk",
    "calls",
    "audit",
    "protocol",
    "women",
    "official",
    "followup",
    "manager",
    "admin",
    "auditor",
    "liaison",
    "whatsapp",
    "agent",
    "mission",
    "consular",
)
VISITOR_PAGES = ("/", "/status", "/login")


def demo_code() -> str:
    """The demo accounts' current second-step code, from the command line (development only)."""
    done = subprocess.run(
        [sys.executable, "-m", "majlis.cli", "two-factor", "demo-code"], capture_output=True, text=True, check=True
    )
    return done.stdout.strip().split()[-1]


async def sign_in(page: Page, base: str, username: str, code: Callable[[], str]) -> None:
    await page.goto(f"{base}/login?lang=en")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", DEMO_PASSWORD)
    await page.click("form button[type=submit]")
    await page.wait_for_load_state()
    if "/login/code" in page.url:
        await page.fill("input[name=code]", code())
        await page.click("form button[type=submit]")
        await page.wait_for_load_state()


async def navigation(page: Page, base: str) -> list[str]:
    """The role's start page and every page its navigation links to (same origin, in order, once each)."""
    hrefs: list[str] = await page.eval_on_selector_all(".site-nav a[href]", "els => els.map(e => e.href)")
    start = urlsplit(page.url)
    paths = [start.path + (f"?{start.query}" if start.query else "")]
    for href in hrefs:
        parts = urlsplit(href)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if href.startswith(base) and not parts.path.startswith("/lang/") and path not in paths:
            paths.append(path)
    return paths


# Links to files (downloads, calendars, attachments) and to what is not a page.
_NOT_PAGES = re.compile(r"(\.(csv|xlsx|ics|pdf|png|jpg|json)$)|^/(static|files|attachments|api|logout|lang)/|/download")


def shape(path: str) -> str:
    """A page's kind: its path with numbers (ids, tracking numbers, dates) made alike, its query left out."""
    return re.sub(r"[0-9][0-9-]*", "N", urlsplit(path).path)


async def detail_pages(page: Page, base: str, paths: Sequence[str], *, most: int = 25) -> list[str]:
    """One page of each kind linked from the main part of the given pages (a request, a referral, a report…)."""
    seen = {shape(p) for p in paths}
    found: list[str] = []
    for path in paths:
        await page.goto(f"{base}{path}")
        hrefs: list[str] = await page.eval_on_selector_all("main a[href]", "els => els.map(e => e.href)")
        for href in hrefs:
            parts = urlsplit(href)
            if not href.startswith(base) or _NOT_PAGES.search(parts.path) or shape(parts.path) in seen:
                continue
            seen.add(shape(parts.path))
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
            if len(found) >= most:
                return found
    return found


async def sweep_pages(
    browser: Browser,
    base: str,
    paths: Sequence[str],
    *,
    languages: Sequence[str],
    widths: Sequence[int],
    page: Page,
) -> list[Findings]:
    failed: list[Findings] = []
    for path in paths:
        for language in languages:
            for width in widths:
                await page.set_viewport_size({"width": width, "height": 900})
                separator = "&" if "?" in path else "?"
                response = await page.goto(f"{base}{path}{separator}lang={language}")
                findings = await check_page(page, language=language)
                if response is not None and response.status >= 400:
                    findings.violations.insert(
                        0,
                        {
                            "id": f"http-{response.status}",
                            "impact": "critical",
                            "help": "the page failed",
                            "targets": [],
                        },
                    )
                if findings:
                    failed.append(findings)
    return failed


async def sweep(
    base: str,
    *,
    users: Sequence[str] = DEMO_USERS,
    languages: Sequence[str] = ("ar", "en"),
    widths: Sequence[int] = WIDTHS,
    code: Callable[[], str] = demo_code,
    visitor: bool = True,
) -> tuple[int, list[Findings]]:
    """Checks every page; gives back how many page views were checked and the ones that failed."""
    failed: list[Findings] = []
    checked = 0
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            plans: list[tuple[str | None, list[str] | None]] = [(None, list(VISITOR_PAGES))] if visitor else []
            plans += [(user, None) for user in users]
            for user, paths in plans:
                context = await browser.new_context()
                await install_axe(context)
                page = await context.new_page()
                if user is not None:
                    await sign_in(page, base, user, code)
                    paths = await navigation(page, base)
                    paths += await detail_pages(page, base, paths)
                assert paths is not None
                checked += len(paths) * len(languages) * len(widths)
                failed += await sweep_pages(browser, base, paths, languages=languages, widths=widths, page=page)
                await context.close()
        finally:
            await browser.close()
    return checked, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("base")
    parser.add_argument("--roles", default=",".join(DEMO_USERS), help="demo usernames, comma-separated")
    parser.add_argument("--languages", default="ar,en")
    parser.add_argument("--widths", default=",".join(map(str, WIDTHS)))
    parser.add_argument("--no-visitor", action="store_true")
    args = parser.parse_args()
    checked, failed = asyncio.run(
        sweep(
            args.base.rstrip("/"),
            users=[u for u in args.roles.split(",") if u],
            languages=args.languages.split(","),
            widths=[int(w) for w in args.widths.split(",")],
            visitor=not args.no_visitor,
        )
    )
    for findings in failed:
        print(findings)
    print(f"{checked} page views checked, {len(failed)} with findings")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
