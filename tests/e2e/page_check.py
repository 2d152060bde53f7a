"""What a page must be at any width and in either language, read in Chromium: no horizontal overflow, no English
left on an Arabic page, and no serious or critical accessibility violation found by axe-core; and, of its HTML as
the server sent it, no error found by the Nu HTML checker (`nu_errors`).

axe-core is the npm package `make install` pins (package.json); the browser fetches it from a same-origin address
that Playwright answers from node_modules (`install_axe`), so the page's own Content-Security-Policy (script-src
'self') admits it and Majlis itself never serves a testing tool.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from playwright.async_api import BrowserContext, Page, Route

AXE: Final = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_PATH: Final = "/__page_check/axe.min.js"
# The Nu HTML checker (the W3C's validator) as the npm package vnu-jar pins it (package.json, devDependencies); it
# runs on Java (Debian's openjdk-17-jre-headless, installed by `make system-deps`).
VNU: Final = Path(__file__).resolve().parents[2] / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
NU_SECONDS: Final = 300.0
# A short run: the quick compiler and the plain collector start in half the time (1.3 s instead of 2.6 s here); the
# checker's schema needs a deeper stack than those flags leave it (it says so itself).
_JAVA: Final = ("java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss4m", "-jar")
WIDTHS: Final = (390, 820, 1366)
# Words an Arabic page may show in Latin letters: names of products and file formats people know by them.
ALLOWED_LATIN: Final = frozenset(
    {"PDF", "CSV", "XLSX", "ICS", "WhatsApp", "QR", "SMS", "API", "iCalendar", "PNG", "JPEG"}
)

# Text nodes of the body outside what is meant to be in Latin letters: an element in another language (lang="en",
# the language switch), an isolate (`|ltr`: codes, phones, e-mail addresses; `|isolate`: names and what people
# typed, in whatever script they typed it), code, the values of form fields (not text nodes), scripts and styles,
# and what is hidden.
_LATIN_WORDS_JS: Final = r"""
() => {
  const outside = 'script, style, noscript, template, code, kbd, samp, bdi, [lang]:not(html), [translate="no"], '
    + '[hidden], [aria-hidden="true"]';
  const skip = (el) => el.closest(outside);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const found = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const parent = node.parentElement;
    if (!parent || skip(parent)) continue;
    const style = getComputedStyle(parent);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    for (const word of node.textContent.match(/[A-Za-z][A-Za-z'’-]{2,}/g) || []) found.push(word);
  }
  return found;
}
"""

_AXE_RUN_JS: Final = """
async () => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
    resultTypes: ['violations'],
  });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                  targets: v.nodes.slice(0, 3).map((n) => n.target.join(' '))}));
}
"""


@dataclass
class Findings:
    """What one page at one width in one language got wrong (empty: nothing)."""

    where: str
    overflow: int = 0  # pixels wider than the viewport
    latin: list[str] = field(default_factory=list)
    violations: list[dict[str, Any]] = field(default_factory=list)
    markup: list[str] = field(default_factory=list)  # the Nu HTML checker's errors in the page as sent

    def __bool__(self) -> bool:
        return bool(self.overflow or self.latin or self.violations or self.markup)

    def __str__(self) -> str:
        parts = [self.where]
        if self.overflow:
            parts.append(f"overflows by {self.overflow} px")
        if self.latin:
            parts.append("English on the Arabic page: " + ", ".join(sorted(set(self.latin))[:12]))
        for v in self.violations:
            parts.append(f"axe {v['impact']} {v['id']} ({v['help']}) at {'; '.join(v['targets'])}")
        parts += (f"Nu: {error}" for error in self.markup)
        return " — ".join(parts)


async def install_axe(context: BrowserContext) -> None:
    """Answers AXE_PATH on any origin with the pinned axe-core from node_modules."""

    async def answer(route: Route) -> None:
        await route.fulfill(path=str(AXE), content_type="text/javascript; charset=utf-8")

    await context.route(re.compile(re.escape(AXE_PATH) + "$"), answer)


async def check_page(page: Page, *, language: str, allowed: frozenset[str] = frozenset(), axe: bool = True) -> Findings:
    """Checks the page as loaded (call install_axe on its context first); without `axe`, only its width and words."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    findings = Findings(where=f"{page.url} [{language}, {width} px]")
    scroll_width = await page.evaluate("document.documentElement.scrollWidth")
    findings.overflow = max(0, int(scroll_width) - width)
    if language == "ar":
        words = await page.evaluate(_LATIN_WORDS_JS)
        findings.latin = [w for w in words if w not in ALLOWED_LATIN | allowed]
    if not axe:
        return findings
    if not await page.evaluate("typeof axe !== 'undefined'"):
        await page.add_script_tag(url=AXE_PATH)
    findings.violations = await page.evaluate(_AXE_RUN_JS)
    return findings


def nu_errors(documents: Mapping[str, str]) -> list[Findings]:
    """The Nu HTML checker over each document (where it was read → its HTML as the server sent it), in one run of
    the checker: the documents with errors (its warnings are advice, not errors), each error with its line and the
    markup it is in. The whole document is checked, so a <select> or <img> the standard does not allow (a required
    select without its blank first choice, an image without a source) fails here with the rest."""
    with tempfile.TemporaryDirectory(prefix="nu-") as folder:
        wheres: dict[str, str] = {}
        for number, (where, html) in enumerate(documents.items()):
            path = Path(folder) / f"{number:05d}.html"
            path.write_text(html, encoding="utf-8")
            wheres[path.name] = where
        done = subprocess.run(
            [*_JAVA, str(VNU), "--format", "json", "--stdout", "--exit-zero-always", folder],
            capture_output=True,
            text=True,
            timeout=NU_SECONDS,
            check=True,
        )
    found: dict[str, Findings] = {}
    for message in json.loads(done.stdout)["messages"]:
        if message["type"] == "info":
            continue
        where = wheres.get(message.get("url", "").rsplit("/", 1)[-1], message.get("url", "?"))
        extract = " ".join(message.get("extract", "").split())
        found.setdefault(where, Findings(where=where)).markup.append(
            f"line {message.get('lastLine', '?')}: {message['message']} [{extract[:120]}]"
        )
    return list(found.values())
