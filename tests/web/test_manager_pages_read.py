"""The manager's and the auditor's pages read right on a phone and in Arabic (issue 20): categories as cards with a
notice after each change, codes and examples set apart from the Arabic, wide report tables as focusable regions."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from tests.factories import Client, csrf_token, make_staff, sign_in

Sessions = async_sessionmaker[AsyncSession]


async def test_a_category_change_says_it_was_done_and_the_list_is_cards(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    await sign_in(client, "manager")
    token = await csrf_token(client, "/manage/categories")
    added = await client.post(
        "/manage/categories",
        data={
            "code": "consumer_rights",
            "name_ar": "حقوق المستهلك",
            "name_en": "Consumer rights",
            "weight": "5",
            "implied_urgency": "normal",
            "csrf_token": token,
        },
        allow_redirects=False,
    )
    assert added.status == 303 and added.headers["Location"] == "/manage/categories"
    page = await (await client.get("/manage/categories")).text()
    assert "أُضيف التصنيف." in page
    assert '<table id="categories" class="stack listing">' in page
    assert '<span lang="en">Consumer rights</span>' in page
    assert "<bdi>حقوق المستهلك</bdi>" in page
    # The code's example is set apart from the Arabic hint, not left bare in it.
    assert '<bdi dir="ltr" class="ltr">consumer_rights</bdi>' in page
    again = await (await client.get("/manage/categories")).text()
    assert "أُضيف التصنيف." not in again  # said once
    out = await client.post(
        "/manage/categories/consumer_rights/active", data={"active": "0", "csrf_token": token}, allow_redirects=False
    )
    assert out.status == 303
    assert "أُوقف استخدام التصنيف." in await (await client.get("/manage/categories")).text()
    back = await client.post(
        "/manage/categories/consumer_rights/active", data={"active": "1", "csrf_token": token}, allow_redirects=False
    )
    assert back.status == 303
    assert "أُعيد التصنيف إلى الاستخدام." in await (await client.get("/manage/categories?lang=ar")).text()
    # A code that is not there changes nothing and says nothing.
    missing = await client.post(
        "/manage/categories/no_such/active", data={"active": "0", "csrf_token": token}, allow_redirects=False
    )
    assert missing.status == 404


def _scrolling_boxes(html: str) -> list[str]:
    return re.findall(r'<div class="table-(?:wide|scroll)"[^>]*>', html)


async def test_wide_report_tables_scroll_in_a_focusable_named_region(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    await sign_in(client, "manager")
    for path in ("/reports/fairness", "/reports/statistics", "/reports/emergency", "/audit/placements"):
        response = await client.get(path)
        assert response.status == 200, path
        boxes = _scrolling_boxes(await response.text())
        assert boxes, path
        for box in boxes:
            assert 'role="region"' in box and 'tabindex="0"' in box, (path, box)
            assert re.search(r'aria-label(ledby)?="[^"]+"', box), (path, box)


async def test_formats_and_examples_in_arabic_text_are_set_apart(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    await sign_in(client, "manager")
    statistics = await (await client.get("/reports/statistics")).text()
    assert '(<bdi dir="ltr" class="ltr">YYYY-MM-DD</bdi>)' in statistics
    fairness = await (await client.get("/reports/fairness")).text()
    assert "bootstrap" not in fairness
    chain = await (await client.get("/audit/chain")).text()
    assert '<bdi dir="ltr" class="ltr">SEQ:HASH</bdi>' in chain
