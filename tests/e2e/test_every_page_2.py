"""Every page as each role of one half of the demo's roles reaches it (tests/e2e/every_page.py says what is checked
and why the roles are in two files)."""

from __future__ import annotations

import pytest

from tests.e2e.demo_server import DemoSite
from tests.e2e.every_page import SECOND_HALF, check_every_page_as, demo

pytestmark = [pytest.mark.browser, pytest.mark.long_file]

__all__ = ["demo"]


# The build and the server's start (first test), and the role's pages: the administrator's 63 pages took 2 min 22 s
# on a quiet machine, 6 to 10 min at a load of 8 to 12.
@pytest.mark.timeout(1200)
@pytest.mark.parametrize("user", SECOND_HALF, ids=lambda user: user or "visitor")
async def test_every_page_in_both_languages_at_three_widths_as(demo: DemoSite, user: str | None) -> None:
    await check_every_page_as(demo, user)
