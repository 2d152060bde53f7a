"""Every page of the demo, as every demo role and the visitor reach it, in Arabic and English at 390, 820 and 1366 px:
no horizontal overflow, no English left on an Arabic page, no serious or critical axe-core violation
(tests/e2e/page_check.py, over the pages tests/e2e/sweep.py finds: each role's navigation and one page of each kind
linked from there); and the HTML of each page, as the server sent it, with no error from the Nu HTML checker.

The demo is the one `make run` serves, built afresh in the test's folder on SQLite (tests/e2e/demo_server.py): the
pages are what is checked here, and the demo's data is what makes them full (long lists, every state, both
sections). The databases themselves are tested by the rest of the suite on SQLite and PostgreSQL.

Every role's pages are checked as that role sees them (a page differs by role: the administrator's editable forms,
a reader's plain lists), one test per role so that a failure names its role. The roles are split over two test files
(test_every_page_1.py and _2.py), each with its own demo, so that the two workers of `make test` sweep them at the
same time: 4 min 45 s for both on a quiet two-core machine (the administrator's 63 pages 2 min 22 s of it), axe-core
at every width taking most of it. They are not marked serial: they measure nothing in time, a slow page only makes
them slower.
A test fails with every finding, one line each (the page, language and width, and what is wrong).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.demo_server import DemoSite, demo_site
from tests.e2e.sweep import sweep

# The two halves, by how many pages each role reaches in the demo (measured: the administrator 63, protocol and
# consular affairs 22 each, the manager 21, follow-up 19, the rest 3 to 11): about 230 pages each. None: the visitor.
FIRST_HALF = ("admin", "calls", "auditor", "audit", "agent", "official", "mission")
SECOND_HALF = (None, "protocol", "consular", "manager", "followup", "desk", "whatsapp", "women", "liaison")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    with demo_site(tmp_path_factory.mktemp("demo")) as site:
        yield site


async def check_every_page_as(demo: DemoSite, user: str | None) -> None:
    """Sweeps the pages `user` reaches (None: the visitor's) and fails with every finding."""
    try:
        checked, failed = await sweep(
            demo.url,
            users=[user] if user is not None else [],
            code=demo.code,
            visitor=user is None,
            progress=print,
            each_page_once=False,
        )
    except Exception as exc:  # a sign-in refused, a page that never loaded: what the server said about it
        raise AssertionError(f"the sweep stopped: {exc}\nthe server's log ends:\n{demo.log_text()[-4000:]}") from exc
    assert checked, "no page was checked"
    assert not failed, f"{len(failed)} of {checked} page views with findings:\n" + "\n".join(map(str, failed))
