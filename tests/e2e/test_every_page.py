"""Every page of the demo, as every demo role and the visitor reach it, in Arabic and English at 390, 820 and 1366 px:
no horizontal overflow, no English left on an Arabic page, no serious or critical axe-core violation
(tests/e2e/page_check.py, over the pages tests/e2e/sweep.py finds: each role's navigation and one page of each kind
linked from there).

The demo is the one `make run` serves, built afresh in the test's folder on SQLite (tests/e2e/demo_server.py): the
pages are what is checked here, and the demo's data is what makes them full (long lists, every state, both
sections). The databases themselves are tested by the rest of the suite on SQLite and PostgreSQL.

Time: axe-core takes most of a page view's time, so it runs at one width per language (AXE_AT); overflow and English
are checked at all three widths. Every role's pages are checked as that role sees them (a page differs by role: the
administrator's editable forms, a reader's plain lists). On a quiet two-core machine: the demo builds and serves in
about 30 s and the 1,428 page views take about 4.5 min; the timeout bounds the whole.
It is not marked serial: it measures nothing in time, a slow page only makes it slower.
It fails with every finding, one line each (the page, language and width, and what is wrong).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.demo_server import DemoSite, demo_site
from tests.e2e.sweep import DEMO_USERS, sweep

pytestmark = pytest.mark.browser

# axe-core at one width per language (the phone's in Arabic, the desk's in English); overflow and English at all three.
AXE_AT = {"ar": 390, "en": 1366}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    with demo_site(tmp_path_factory.mktemp("demo")) as site:
        yield site


# The build, the server's start and the sweep, with room for a loaded machine.
@pytest.mark.timeout(900)
async def test_every_page_of_every_role_in_both_languages_at_three_widths(demo: DemoSite) -> None:
    try:
        checked, failed = await sweep(
            demo.url,
            users=DEMO_USERS,
            code=demo.code,
            visitor=True,
            axe_at=AXE_AT,
            progress=print,
            each_page_once=False,
        )
    except Exception as exc:  # a sign-in refused, a page that never loaded: what the server said about it
        raise AssertionError(f"the sweep stopped: {exc}\nthe server's log ends:\n{demo.log_text()[-4000:]}") from exc
    assert not failed, f"{len(failed)} of {checked} page views with findings:\n" + "\n".join(map(str, failed))
