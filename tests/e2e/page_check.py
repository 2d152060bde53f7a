"""What a page must be at any width and in either language, read in Chromium: no horizontal overflow, no English
left on an Arabic page, and no serious or critical accessibility violation found by axe-core.

axe-core is the npm package `make install` pins (package.json); the browser fetches it from a same-origin address
that Playwright answers from node_modules (`install_axe`), so the page's own Content-Security-Policy (script-src
'self') admits it and Majlis itself never serves a testing tool.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from playwright.async_api import BrowserContext, Page, Route

AXE: Final = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_PATH: Final = "/__page_check/axe.min.js"
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

    def __bool__(self) -> bool:
        return bool(self.overflow or self.latin or self.violations)

    def __str__(self) -> str:
        parts = [self.where]
        if self.overflow:
            parts.append(f"overflows by {self.overflow} px")
        if self.latin:
            parts.append("English on the Arabic page: " + ", ".join(sorted(set(self.latin))[:12]))
        for v in self.violations:
            parts.append(f"axe {v['impact']} {v['id']} ({v['help']}) at {'; '.join(v['targets'])}")
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
