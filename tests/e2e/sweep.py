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
import time
from collections.abc import Callable, Mapping, Sequence, Set
from urllib.parse import urlsplit

from playwright.async_api import Browser, Page, async_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.page_check import WIDTHS, Findings, check_page, install_axe, nu_errors

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
# A visitor's pages that need no link of their own: the request form, the status and "my requests" forms, sign-in.
# (The rating tablet and the kiosk answer 403 until enrolled by their one-time link, so they are not here.)
VISITOR_PAGES = ("/", "/status", "/status/mine", "/login")


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
    # Otherwise the sweep would check the sign-in page in that role's stead and pass.
    if urlsplit(page.url).path.startswith("/login"):
        raise RuntimeError(f"could not sign in as {username}: still at {page.url}")


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


def detail_pages(
    base: str, paths: Sequence[str], hrefs: Sequence[str], *, most: int = 25, known: Set[str] = frozenset()
) -> list[str]:
    """One page of each kind among the links found in the main part of the given pages (a request, a referral, a
    report…), in the order found, but none of the kinds of those pages nor of `known` (shapes)."""
    seen = {shape(p) for p in paths} | known
    found: list[str] = []
    for href in hrefs:
        parts = urlsplit(href)
        if not href.startswith(base) or _NOT_PAGES.search(parts.path) or shape(parts.path) in seen:
            continue
        seen.add(shape(parts.path))
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        if len(found) >= most:
            break
    return found


async def sweep_pages(
    browser: Browser,
    base: str,
    paths: Sequence[str],
    *,
    languages: Sequence[str],
    widths: Sequence[int],
    page: Page,
    axe_at: Mapping[str, int] | None = None,
    documents: dict[str, str] | None = None,
    links: list[str] | None = None,
) -> list[Findings]:
    """Each page in each language at each width; into `documents`, each page's HTML as the server sent it in each
    language (the same at any width), for the Nu HTML checker; into `links`, the links of each page's main part.

    A page is loaded once per language, at the first width, and checked at the others after the window is resized:
    the pages' layout at a width is their stylesheets' alone (no script of Majlis reads the window's size), and the
    browser lays a page out again for the new width as it would have laid it out loaded at that width."""
    failed: list[Findings] = []
    for path in paths:
        for language in languages:
            response = None
            for number, width in enumerate(widths):
                await page.set_viewport_size({"width": width, "height": 900})
                if number == 0:
                    separator = "&" if "?" in path else "?"
                    address = f"{base}{path}{separator}lang={language}"
                    response = await page.goto(address)
                    if documents is not None and response is not None and address not in documents:
                        documents[address] = await response.text()
                    if links is not None and language == languages[0]:
                        links += await page.eval_on_selector_all("main a[href]", "els => els.map(e => e.href)")
                axe = axe_at is None or axe_at.get(language) == width
                findings = await check_page(page, language=language, axe=axe)
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
    axe_at: Mapping[str, int] | None = None,
    progress: Callable[[str], None] | None = None,
    each_page_once: bool = False,
    markup: bool = True,
) -> tuple[int, list[Findings]]:
    """Checks every page; gives back how many page views were checked and the ones that failed.

    axe-core runs at every width, or with `axe_at` only at the width given for each language (overflow and English
    are still checked at every width): axe takes most of a page view's time, and what it finds rarely depends on
    the width alone. With `each_page_once`, a page another role reached before is not checked again (its main part
    is the same page; each role's start page always is). `progress` is told of each role as it is done. With
    `markup`, the HTML of every page in each language goes through the Nu HTML checker at the end (one run)."""
    failed: list[Findings] = []
    checked = 0
    documents: dict[str, str] = {}
    swept: set[str] = set()  # the kinds of page checked so far (shapes)
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
                    if each_page_once:
                        # The start page is the role's own home; the rest only when no role before reached it.
                        paths = paths[:1] + [p for p in paths[1:] if shape(p) not in swept]
                assert paths is not None
                began = time.monotonic()
                sent: dict[str, str] = {}
                hrefs: list[str] = []

                async def check(pages: Sequence[str], links: list[str] | None = None) -> list[Findings]:
                    return await sweep_pages(
                        browser,
                        base,
                        pages,
                        languages=languages,
                        widths=widths,
                        page=page,  # noqa: B023 (called before the loop moves on)
                        axe_at=axe_at,
                        documents=sent if markup else None,  # noqa: B023
                        links=links,
                    )

                # The navigation's pages first, their links gathered as they are checked; then one page of each
                # kind those link to (for a role; the visitor's pages are all named).
                found = await check(paths, links=hrefs)
                if user is not None:
                    details = detail_pages(base, paths, hrefs, known=swept if each_page_once else frozenset())
                    found += await check(details)
                    paths = paths + details
                swept.update(shape(p) for p in paths[1:])
                checked += len(paths) * len(languages) * len(widths)
                documents.update((f"{address} (as {user or 'a visitor'})", html) for address, html in sent.items())
                failed += found
                await context.close()
                if progress is not None:
                    views = len(paths) * len(languages) * len(widths)
                    took = time.monotonic() - began
                    progress(
                        f"{user or 'visitor'}: {len(paths)} pages, {views} views, {len(found)} failed, {took:.0f} s"
                    )
        finally:
            await browser.close()
    if documents:
        began = time.monotonic()
        found = await asyncio.to_thread(nu_errors, documents)
        failed += found
        if progress is not None:
            took = time.monotonic() - began
            progress(f"Nu HTML checker: {len(documents)} documents, {len(found)} with errors, {took:.0f} s")
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
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    )
    for findings in failed:
        print(findings)
    print(f"{checked} page views checked, {len(failed)} with findings")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
