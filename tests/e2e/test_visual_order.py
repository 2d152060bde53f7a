"""A tracking number inside Arabic reads left to right on the screen, in an SMS text and on the applicant's page.

Chromium lays the text out; each character's box is read back and the characters are put in the order they stand
from left to right. Without the isolates a number after an Arabic word is laid out in pieces from right to left
("26-000005-6"), which is what applicants saw.
"""

from __future__ import annotations

import html

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import FrozenClock
from notify.texts import receipt_sms
from tests.factories import Client
from tests.web.asking import answer_path, ask, placed
from web.keys import LINKS

pytestmark = pytest.mark.browser

# The characters of `number` inside the first text node under `selector` that holds it, as laid out: each with its
# left edge and its line (the top of its box).
READ_BACK = """([selector, number]) => {
  const root = document.querySelector(selector);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(number);
    if (at < 0) continue;
    const boxes = [];
    for (let i = at; i < at + number.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const box = range.getBoundingClientRect();
      boxes.push({ch: node.data[i], x: box.left, top: Math.round(box.top)});
    }
    return boxes;
  }
  return null;
}"""


async def seen(page: Page, selector: str, number: str) -> tuple[str, int]:
    """The number as it reads on the screen from left to right, and on how many lines it is laid out."""
    boxes = await page.evaluate(READ_BACK, [selector, number])
    assert boxes is not None, f"{number} is not in {selector}"
    ordered = "".join(box["ch"] for box in sorted(boxes, key=lambda box: box["x"]))
    return ordered, len({box["top"] for box in boxes})


async def test_the_tracking_number_in_an_arabic_sms_reads_left_to_right_on_one_line(browser: Browser) -> None:
    number = "6-000005-26"
    body = receipt_sms(language="ar", tracking_number=number, status_url="https://majlis.example/s/x")
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    # The text as a phone shows it: a right-to-left bubble as wide as the screen allows.
    await page.set_content(
        '<!DOCTYPE html><html lang="ar" dir="rtl"><body style="margin:0">'
        f'<p id="sms" dir="rtl" style="width:360px;font-size:17px">{html.escape(body)}</p></body></html>'
    )
    assert await seen(page, "#sms", number) == (number, 1)
    await page.close()


async def test_the_tracking_number_on_the_applicants_page_reads_left_to_right_on_one_line(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser
) -> None:
    (number,) = await placed(sessions, clock)
    item = (await ask(sessions, clock))[number]
    page = await browser.new_page(viewport={"width": 390, "height": 844}, locale="ar-SA")
    await page.goto(str(client.make_url(answer_path(client.app[LINKS], item))))
    assert await seen(page, "#tracking-number", number) == (number, 1)
    # The applicant asks for another date: the page after says "Request <number>" in one Arabic sentence.
    await page.click("form:has(input[value=rescheduled]) button")
    if await page.locator(".confirm-yes").is_visible():  # an irreversible action may ask first
        await page.click(".confirm-yes")
    await page.wait_for_selector("#request-number")
    assert await seen(page, "#request-number", number) == (number, 1)
    assert await page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    await page.close()
